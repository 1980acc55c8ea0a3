/**
 * Giving disk space back. SQLite keeps the pages of deleted rows in the file for reuse, so a data
 * directory never shrank after its jobs were deleted. With `auto_vacuum = INCREMENTAL` those
 * pages can be cut off the end of the file in small steps (`PRAGMA incremental_vacuum(N)`) while
 * the server serves, and a WAL checkpoint then truncates the WAL too.
 */
import type Database from 'better-sqlite3';

/** Pages freed per step: 1,024 pages of 4 KB, a few ms of work, then the event loop runs. */
const PAGES_PER_STEP = 1_024;

const AUTO_VACUUM_INCREMENTAL = 2;

function pragmaNumber(db: Database.Database, name: string): number {
  const value: unknown = db.pragma(name, { simple: true });
  if (typeof value !== 'number') throw new Error(`PRAGMA ${name} returned no number`);
  return value;
}

/**
 * Puts the database in incremental auto-vacuum mode. A new file takes the setting at once; a file
 * written by a release before it (auto_vacuum off) is rebuilt once with VACUUM (as long as
 * copying the file takes; said in the log by the caller's migration line), never again after.
 */
export function useIncrementalVacuum(db: Database.Database): void {
  if (pragmaNumber(db, 'auto_vacuum') === AUTO_VACUUM_INCREMENTAL) return;
  db.pragma('auto_vacuum = INCREMENTAL');
  // An empty file (page_count 0) has just taken it; a file with tables needs the rebuild.
  if (pragmaNumber(db, 'auto_vacuum') !== AUTO_VACUUM_INCREMENTAL) db.exec('VACUUM');
}

/** The bytes of the database's pages (the main file's size once the WAL is checkpointed). */
export function databaseBytes(db: Database.Database): number {
  return pragmaNumber(db, 'page_count') * pragmaNumber(db, 'page_size');
}

/**
 * Frees every page on the free list, {@link PAGES_PER_STEP} per turn of the event loop, then
 * checkpoints the WAL and truncates it; resolves to the bytes the file shrank by.
 */
export async function reclaimFreePages(db: Database.Database): Promise<number> {
  const before = databaseBytes(db);
  while (db.open && pragmaNumber(db, 'freelist_count') > 0) {
    db.pragma(`incremental_vacuum(${PAGES_PER_STEP})`);
    await new Promise((resolve) => setImmediate(resolve));
  }
  if (!db.open) return 0;
  // A reader of another connection may hold the WAL: then it is truncated at a later checkpoint.
  db.pragma('wal_checkpoint(TRUNCATE)');
  return Math.max(0, before - databaseBytes(db));
}

/** Time after the last deletion before its space is given back (deletions come in bursts). */
export const RECLAIM_DELAY_MS = 2_000;

/**
 * A store's reclaims: {@link soon} after each deletion (once the burst is over), {@link now} for
 * retention; one at a time, whoever asks.
 */
export class SpaceReclaimer {
  private timer: ReturnType<typeof setTimeout> | undefined;
  private running: Promise<number> | undefined;

  constructor(private readonly db: Database.Database) {}

  now(): Promise<number> {
    this.running ??= reclaimFreePages(this.db).finally(() => (this.running = undefined));
    return this.running;
  }

  soon(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.now().catch((err: unknown) =>
        console.error('tabgrid: could not give the space of deleted jobs back:', err),
      );
    }, RECLAIM_DELAY_MS);
    this.timer.unref();
  }

  stop(): void {
    clearTimeout(this.timer);
  }
}
