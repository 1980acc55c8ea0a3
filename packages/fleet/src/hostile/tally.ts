/**
 * What the attack sent, counted where it is sent: the suite asserts these counts, so it can
 * never pass by quietly sending less than it claims.
 */
export type Target = 'worker' | 'sdk' | 'rest';

export class Tally {
  /** Frames (worker socket), messages (socket.io) or requests (REST), by target. */
  readonly byTarget: Record<Target, number> = { worker: 0, sdk: 0, rest: 0 };
  /** The same, by attack family. */
  readonly byFamily = new Map<string, number>();
  /** Answers that were a 500 / TG_ERR_INTERNAL: malformed input must get a 4xx-class error. */
  readonly internalErrors = new Map<string, number>();
  /** Free-form observations per family (close codes seen, acks refused, …). */
  readonly notes = new Map<string, Map<string, number>>();

  count(family: string, target: Target, n = 1): void {
    this.byTarget[target] += n;
    this.byFamily.set(family, (this.byFamily.get(family) ?? 0) + n);
  }

  internal(family: string): void {
    this.internalErrors.set(family, (this.internalErrors.get(family) ?? 0) + 1);
  }

  note(family: string, what: string): void {
    let notes = this.notes.get(family);
    if (!notes) this.notes.set(family, (notes = new Map<string, number>()));
    notes.set(what, (notes.get(what) ?? 0) + 1);
  }
}
