import Database from 'better-sqlite3';
import { join } from 'node:path';
import { migrate } from './migrations.js';
import { makeDatabasePrivate, tighten } from './private-files.js';
import { useIncrementalVacuum } from './sqlite-space.js';

/** The one database file of a data directory; jobs and keys open their own connection to it. */
export const DATABASE_FILE = 'tabgrid.sqlite';

/**
 * Opens the data directory's database (0600, WAL) and migrates it to the current schema
 * version. `synchronous = NORMAL` (the job store's choice) survives a process crash in WAL mode;
 * only an OS crash or power loss can drop the last commits.
 */
export function openDatabase(
  dataDir: string,
  { synchronous = 'FULL' }: { synchronous?: 'NORMAL' | 'FULL' } = {},
): Database.Database {
  const path = join(dataDir, DATABASE_FILE);
  makeDatabasePrivate(dataDir, path); // tasks, results and keys: readable by this user only
  const db = new Database(path);
  try {
    useIncrementalVacuum(db); // first: a new file takes it as it is created, before any table
    db.pragma('journal_mode = WAL');
    db.pragma(`synchronous = ${synchronous}`);
    db.pragma('busy_timeout = 5000');
    // Typed arrays are stored raw (BLOBs, schema 5): a 4 MB value is a thousand pages. With the
    // defaults (a 2 MB page cache, a checkpoint, and so an fsync, every 1,000 pages of WAL) each
    // such commit spilled the cache mid-transaction and checkpointed; 64 MB of each does not.
    db.pragma('cache_size = -65536');
    db.pragma('wal_autocheckpoint = 16384');
    migrate(db, path);
  } catch (err) {
    db.close();
    throw err;
  }
  tighten(path);
  return db;
}
