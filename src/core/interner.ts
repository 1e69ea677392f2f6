/**
 * Equal values share one object: what many jobs hold alike (a label set, a transition key) is kept once. The
 * table is bounded: past `max` distinct values it starts over, since only memory is at stake. Pure.
 */
export class Interner<T> {
  private readonly known = new Map<string, T>();

  /** @param textOf what makes two values equal (the value itself for strings) */
  constructor(private readonly max: number, private readonly textOf: (value: T) => string) {}

  shared(value: T): T {
    const text = this.textOf(value);
    const known = this.known.get(text);
    if (known !== undefined) return known;
    if (this.known.size >= this.max) this.known.clear();
    this.known.set(text, value);
    return value;
  }

  clear(): void {
    this.known.clear();
  }
}
