import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { SqliteJobStore } from './sqlite-job-store.js';
import { tempDirPerTest } from '../testing/temp-dir-per-test.js';

const CHILD = fileURLToPath(new URL('./fixtures/settle-until-killed.mjs', import.meta.url));

/** Runs the child until it has acknowledged `seq` ≥ `until`, then SIGKILLs it; the last acknowledged seq. */
function settleThenKill(dir: string, until: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CHILD, dir], { stdio: ['ignore', 'pipe', 'pipe'] });
    let acked = 0;
    let pending = '';
    let errors = '';
    child.stderr.on('data', (chunk: Buffer) => (errors += chunk.toString()));
    child.stdout.on('data', (chunk: Buffer) => {
      pending += chunk.toString();
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) acked = Math.max(acked, Number(line));
      if (acked >= until && child.exitCode === null) child.kill('SIGKILL');
    });
    child.on('exit', (code, signal) => {
      if (signal === 'SIGKILL') resolve(acked);
      else reject(new Error(`the child ended by itself (${code}): ${errors}`));
    });
  });
}

describe('SqliteJobStore through a SIGKILL', () => {
  const dir = tempDirPerTest('tabgrid-crash-');

  it('keeps every acknowledged outcome with its series, and never one without the other', async () => {
    for (let round = 1; round <= 3; round++) {
      const acked = await settleThenKill(dir.path, round * 4_000);
      const store = new SqliteJobStore(dir.path);
      try {
        const outcomes = await store.readOutcomes('crash', 0, 'all', 1e9);
        const series = await store.readSeries('crash', 'v', 0, 1e9);
        const seqs = outcomes.map((o) => o.seq);
        expect(seqs.length).toBeGreaterThanOrEqual(acked);
        expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => i + 1));
        expect(series.map((s) => s.seq)).toEqual(seqs);
        expect(series.every((s, i) => s.index === outcomes[i]!.index)).toBe(true);
        expect(await store.seriesLabels('crash', 10)).toEqual(['v']);
      } finally {
        await store.close();
      }
    }
  }, 120_000);
});
