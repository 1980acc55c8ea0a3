/**
 * Outcomes waiting to go to the server, plus the slots to grant with them. Outcomes arrive as
 * finished JSON texts (built inside the threads), so a frame is one string concatenation: the
 * page never re-serialises task results on its hot path.
 */
export class OutcomeBuffer {
  private items: string[] = [];
  private credit = 0;

  /** Outcomes waiting. */
  get size(): number {
    return this.items.length;
  }

  add(outcomes: readonly string[]): void {
    for (const outcome of outcomes) this.items.push(outcome);
  }

  addCredit(slots: number): void {
    this.credit += slots;
  }

  /** Removes and returns the credit not sent yet (pausing keeps it back). */
  takeCredit(): number {
    const credit = this.credit;
    this.credit = 0;
    return credit;
  }

  /**
   * The next frame to send, emptying the buffer: an `outcomes` frame carrying the credit, a
   * bare `credit` frame when there are no outcomes, or undefined when there is nothing to say.
   */
  takeFrame(): string | undefined {
    const credit = this.takeCredit();
    if (this.items.length > 0) {
      const items = this.items;
      this.items = [];
      return `{"type":"outcomes","credit":${credit},"items":[${items.join(',')}]}`;
    }
    return credit > 0 ? JSON.stringify({ type: 'credit', slots: credit }) : undefined;
  }

  clear(): void {
    this.items = [];
    this.credit = 0;
  }
}
