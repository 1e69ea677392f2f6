/**
 * Names of batches and jobs. They become Kubernetes object names, label values, file
 * names and URL segments, so every name is a DNS-1123 label of at most 63 characters.
 */

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
export const MAX_NAME_LENGTH = 63;
export const SUFFIX_LENGTH = 8;
export const SUFFIX_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';

/** `batch-` + component + `-yyyymmddhhmmss-` + 8 + `-` + 8 for the job: 39 characters around the component. */
export const MAX_COMPONENT_NAME_LENGTH = MAX_NAME_LENGTH - 'batch--yyyymmddhhmmss--'.length - 2 * SUFFIX_LENGTH;

export function isDns1123Label(name: string): boolean {
  return name.length <= MAX_NAME_LENGTH && DNS1123_LABEL.test(name);
}

/** Why a component name is unusable, or undefined when it is fine. */
export function componentNameProblem(name: string): string | undefined {
  if (!DNS1123_LABEL.test(name)) return 'must be lower case letters, digits and "-", starting and ending with a letter or digit';
  if (name.length > MAX_COMPONENT_NAME_LENGTH) return `must be at most ${MAX_COMPONENT_NAME_LENGTH} characters, so that job names fit in 63`;
  return undefined;
}

/** The last second compacted: every batch accepted in the same second has the same text. */
let lastSecond = NaN;
let lastText = '';

/** `yyyymmddhhmmss` in UTC. */
export function compactTimestamp(at: Date): string {
  const second = Math.floor(at.getTime() / 1000);
  if (second !== lastSecond) {
    lastText = at.toISOString().replace(/[-:T]/g, '').slice(0, 14);
    lastSecond = second;
  }
  return lastText;
}

export function batchName(component: string, at: Date, suffix: string): string {
  return `batch-${component}-${compactTimestamp(at)}-${suffix}`;
}

export function jobName(batch: string, suffix: string): string {
  return `${batch}-${suffix}`;
}
