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
    migrate(db, path);
  } catch (err) {
    db.close();
    throw err;
  }
  tighten(path);
  return db;
}
