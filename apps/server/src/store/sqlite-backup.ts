/**
 * The online backup: `VACUUM INTO` a new file, through a connection of its own. It reads in one
 * transaction, so the copy is the database as it was at one commit, whatever the server writes
 * meanwhile (WAL lets both go on); unlike the page-by-page backup API it never restarts when the
 * source changes. The copy is compact, 0600 (it holds tasks, results and key hashes), and appears
 * under its name only once complete.
 */
import Database from 'better-sqlite3';
import { chmodSync, existsSync, renameSync, rmSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ErrorCode, TabgridError } from '@tabgrid/protocol/errors';
import { DATABASE_FILE } from './sqlite-database.js';

export interface BackupResult {
  file: string;
  bytes: number;
  schemaVersion: number;
  jobs: number;
}

/** Copies the data directory's database to `file` (which must not exist yet). */
export function backupDatabase(dataDir: string, file: string): BackupResult {
  const source = join(dataDir, DATABASE_FILE);
  const target = resolve(file);
  if (!existsSync(source)) {
    throw new TabgridError(
      ErrorCode.INVALID_REQUEST,
      `No database at ${source}: set TABGRID_DATA_DIR to the server's data directory.`,
    );
  }
  if (existsSync(target)) {
    throw new TabgridError(
      ErrorCode.INVALID_REQUEST,
      `${target} exists already: a backup never overwrites a file. Name a new one.`,
    );
  }
  const partial = `${target}.partial`;
  rmSync(partial, { force: true }); // left by an interrupted backup
  const db = new Database(source, { fileMustExist: true });
  try {
    db.pragma('busy_timeout = 10000');
    db.prepare('VACUUM INTO ?').run(partial);
  } finally {
    db.close();
  }
  chmodSync(partial, 0o600);
  const check = new Database(partial, { readonly: true });
  let schemaVersion: number;
  let jobs: number;
  try {
    // A copy that does not pass SQLite's own check is no backup: keep none.
    const ok: unknown = check.pragma('quick_check', { simple: true });
    if (ok !== 'ok') throw new Error(`the copy failed SQLite's quick_check: ${String(ok)}`);
    schemaVersion = Number(check.pragma('user_version', { simple: true }));
    jobs = Number(check.prepare('SELECT count(*) FROM jobs').pluck().get());
  } catch (err) {
    check.close();
    rmSync(partial, { force: true });
    throw err;
  }
  check.close();
  renameSync(partial, target);
  return { file: target, bytes: statSync(target).size, schemaVersion, jobs };
}
