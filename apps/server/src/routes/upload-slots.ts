import { RateLimitedError } from '../auth/auth-throttle.js';

/** Uploads one key may run at once (four 60 MB JSON arrays at once used to reach the heap limit). */
export const UPLOADS_PER_KEY = 2;
/** Uploads the whole server runs at once, whoever sends them. */
export const UPLOADS_TOTAL = 16;
/** What a refused upload is told to wait, in seconds (`Retry-After`). */
export const UPLOAD_RETRY_AFTER_S = 1;

/** Counts running task uploads per key, so one key cannot hold the server's memory. */
export class UploadSlots {
  private readonly byKey = new Map<string, number>();
  private total = 0;

  constructor(
    private readonly perKey = UPLOADS_PER_KEY,
    private readonly overall = UPLOADS_TOTAL,
  ) {}

  /** Takes a slot for `key`, or throws TG_ERR_RATE_LIMITED; call the returned function when done. */
  acquire(key: string): () => void {
    const mine = this.byKey.get(key) ?? 0;
    if (mine >= this.perKey || this.total >= this.overall) {
      throw new RateLimitedError(
        UPLOAD_RETRY_AFTER_S,
        mine >= this.perKey
          ? `This key already runs ${this.perKey} uploads: wait for one to finish (Retry-After), or send more tasks per upload.`
          : `The server already runs ${this.overall} uploads: retry after ${UPLOAD_RETRY_AFTER_S} s.`,
      );
    }
    this.byKey.set(key, mine + 1);
    this.total++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.total--;
      const left = (this.byKey.get(key) ?? 1) - 1;
      if (left > 0) this.byKey.set(key, left);
      else this.byKey.delete(key);
    };
  }
}
