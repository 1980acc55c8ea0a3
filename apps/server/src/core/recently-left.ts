/**
 * The jobs a connection lost the program of in the last {@link LEFT_GRACE_MS}: Teardown runs
 * after the job retired (done, cancelled, deleted), and its lines (index null) are still
 * welcome for that long; after that, or for a job it never had, they are forgeries.
 */

/** How long after a job retired its Teardown lines are accepted from a connection. */
export const LEFT_GRACE_MS = 30_000;
/** Jobs remembered per connection (the oldest is forgotten first). */
export const MAX_LEFT = 64;

export class RecentlyLeft {
  /** Job id → when it left (epoch ms), oldest first (a Map keeps insertion order). */
  private readonly left = new Map<string, number>();

  /** The connection dropped `jobId`'s program at `now`. */
  add(jobId: string, now: number): void {
    this.left.delete(jobId);
    this.left.set(jobId, now);
    if (this.left.size > MAX_LEFT) this.left.delete(this.left.keys().next().value!);
  }

  /** Whether it dropped `jobId` less than {@link LEFT_GRACE_MS} before `now`. */
  has(jobId: string, now: number): boolean {
    const at = this.left.get(jobId);
    if (at === undefined) return false;
    if (now - at < LEFT_GRACE_MS) return true;
    this.left.delete(jobId);
    return false;
  }
}
