/**
 * A fresh temp directory for each test, removed after it, as one vitest line: the store and auth
 * tests' data dirs. Kept apart from vitest.ts so a store test does not load the whole app.
 */
import { afterEach, beforeEach } from 'vitest';
import { tempDir, type TempDir } from './temp-dir.js';

/** `dir.path` is the running test's directory (read it inside a test or hook). */
export function tempDirPerTest(prefix?: string): { readonly path: string } {
  let current: TempDir | undefined;
  beforeEach(() => {
    current = tempDir(prefix);
  });
  afterEach(() => {
    current?.remove();
    current = undefined;
  });
  return {
    get path(): string {
      if (!current) throw new Error('The temp dir exists only inside a test or hook.');
      return current.path;
    },
  };
}
