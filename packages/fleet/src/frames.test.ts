import { describe, expect, it } from 'vitest';
import { PROTOCOL_VERSION } from '@tabgrid/protocol/version';
import { decodeWorkerToServer, type WorkerOutcome } from '@tabgrid/protocol/worker';
import { creditFrame, helloFrame, outcomesFrame, releaseFrame } from './frames.js';
import { FLEET_VERSION } from './version.js';
import { readFileSync } from 'node:fs';

describe('frames', () => {
  it('are valid WorkerToServer messages', () => {
    const items: WorkerOutcome[] = [
      { jobId: 'j', index: 0, ms: 1.5, ok: true, value: { a: [1] } },
      { jobId: 'j', index: 1, ms: 0, ok: false, error: { name: 'E', message: 'm', stack: '' } },
    ];
    expect(decodeWorkerToServer(helloFrame(2, 64, 'ua'))).toEqual({
      type: 'hello',
      protocol: PROTOCOL_VERSION,
      threads: 2,
      userAgent: 'ua',
      credit: 64,
    });
    expect(decodeWorkerToServer(creditFrame(3))).toEqual({ type: 'credit', slots: 3 });
    expect(decodeWorkerToServer(releaseFrame([{ jobId: 'j', index: 4 }]))).toEqual({
      type: 'release',
      tasks: [{ jobId: 'j', index: 4 }],
    });
    const frame = outcomesFrame(
      2,
      items.map((i) => JSON.stringify(i)),
    );
    expect(decodeWorkerToServer(frame)).toEqual({ type: 'outcomes', credit: 2, items });
    expect(frame).toBe(JSON.stringify({ type: 'outcomes', credit: 2, items }));
  });

  it('announce the package version', () => {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
      version: string;
    };
    expect(FLEET_VERSION).toBe(pkg.version);
  });
});
