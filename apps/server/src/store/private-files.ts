import { chmodSync, closeSync, existsSync, mkdirSync, openSync } from 'node:fs';

/** Suffixes of the files SQLite keeps beside a WAL-mode database. */
const SIDE_FILES = ['-wal', '-shm', '-journal'];

/**
 * Makes `path` (a SQLite database) and its side files readable by this user only (0600), and
 * its directory 0700 when it creates it. Call before opening: SQLite gives the -wal and -shm
 * files it creates later the database file's mode. Files that already exist (from a version
 * that left them 0644) are tightened too.
 */
export function makeDatabasePrivate(dataDir: string, path: string): void {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  if (!existsSync(path)) closeSync(openSync(path, 'a', 0o600));
  tighten(path);
}

/** After opening: the side files SQLite has created meanwhile get 0600 as well. */
export function tighten(path: string): void {
  for (const file of [path, ...SIDE_FILES.map((suffix) => path + suffix)]) {
    if (existsSync(file)) chmodSync(file, 0o600);
  }
}
