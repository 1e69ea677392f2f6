/** Binary and decimal suffixes of a Kubernetes quantity, as multipliers. */
const SUFFIXES: Record<string, number> = {
  '': 1, m: 1e-3, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18,
  Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60,
};

const QUANTITY = /^([+-]?(?:\d+\.?\d*|\.\d+))(?:([eE][+-]?\d+)|(Ki|Mi|Gi|Ti|Pi|Ei|m|k|M|G|T|P|E)?)$/;

/**
 * The value of a Kubernetes quantity (`256Mi`, `1G`, `500m`, `1e9`), or undefined when it is not one. Memory
 * quantities are bytes; a fraction of a byte rounds up, as the kubelet does.
 */
export function quantityValue(text: string): number | undefined {
  const match = QUANTITY.exec(text.trim());
  if (!match) return undefined;
  const [, number, exponent, suffix] = match;
  const value = exponent ? Number(`${number}${exponent}`) : Number(number) * SUFFIXES[suffix ?? '']!;
  return Number.isFinite(value) ? value : undefined;
}
