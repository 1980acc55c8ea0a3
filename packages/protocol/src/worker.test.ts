import { describe, expect, it } from 'vitest';
import { encodeBinaryFrame } from './binary-frame.js';
import { BYTES_TAG } from './bytes.js';
import { WORKER_LIMITS, decodeWorkerToServer, workerPageCsp } from './worker.js';

/** The directives of a policy, by name. */
function directives(policy: string): Map<string, string[]> {
  return new Map(
    policy.split(';').map((part) => {
      const [name = '', ...values] = part.trim().split(/\s+/);
      return [name, values];
    }),
  );
}

describe('the worker page policy', () => {
  it("lets job threads start from data: URLs and compile code, and connect only to 'self'", () => {
    const policy = directives(workerPageCsp());
    expect(policy.get('connect-src')).toEqual(["'self'"]);
    expect(policy.get('worker-src')).toEqual(["'self'", 'data:']);
    expect(policy.get('script-src')).toEqual(["'self'", "'unsafe-eval'"]);
  });

  it("adds only inline scripts and styles for Vite's dev server, never network", () => {
    const prod = directives(workerPageCsp());
    const dev = directives(workerPageCsp(true));
    expect(dev.get('connect-src')).toEqual(prod.get('connect-src'));
    expect(dev.get('script-src')).toEqual([...prod.get('script-src')!, "'unsafe-inline'"]);
    expect(dev.get('style-src')).toEqual([...prod.get('style-src')!, "'unsafe-inline'"]);
  });
});

describe('worker frames of the task model', () => {
  const failed = (error: Record<string, unknown>) =>
    JSON.stringify({
      type: 'outcomes',
      credit: 1,
      items: [
        {
          jobId: 'j',
          index: 0,
          ms: 1,
          ok: false,
          error: { name: 'E', message: 'm', stack: '', ...error },
        },
      ],
    });

  it("take a failure in Setup (phase 'setup'), and no other phase", () => {
    expect(() => decodeWorkerToServer(failed({ phase: 'setup', timedOut: true }))).not.toThrow();
    expect(() => decodeWorkerToServer(failed({ phase: 'teardown' }))).toThrow(
      /Invalid worker frame/,
    );
  });

  it('cut stacks to 4 KB before storing, but decode up to 64 KB (a hostile page skips the cut)', () => {
    expect(WORKER_LIMITS.maxStackLength).toBe(4_096);
    const stack = 's'.repeat(WORKER_LIMITS.maxErrorStackLength);
    expect(() => decodeWorkerToServer(failed({ stack }))).not.toThrow();
    expect(() => decodeWorkerToServer(failed({ stack: `${stack}s` }))).toThrow();
  });

  it('refuse an unknown frame type, naming the new ones', () => {
    expect(() => decodeWorkerToServer('{"type":"telemetry"}')).toThrow(/report, sample/);
  });
});

describe('binary outcome frames', () => {
  const frame = (kind: string, bytes: number) =>
    encodeBinaryFrame(
      JSON.stringify({
        type: 'outcomes',
        credit: 1,
        items: [
          {
            jobId: 'j',
            index: 0,
            ms: 1,
            ok: true,
            value: { v: { [BYTES_TAG]: kind, base64: Buffer.alloc(bytes, 7).toString('base64') } },
          },
        ],
      }),
    );

  it('decode to the socket form (views of the bytes), and still refuse a kind or a byte count that cannot decode', () => {
    const msg = decodeWorkerToServer(frame('Float32Array', 8));
    expect(msg).toMatchObject({ items: [{ value: { v: { data: new Uint8Array(8).fill(7) } } }] });
    expect(() => decodeWorkerToServer(frame('Float32Array', 6))).toThrow(
      /6 bytes are not a whole number of Float32Array elements/,
    );
    expect(() => decodeWorkerToServer(frame('Float16Array', 8))).toThrow(/unknown kind/);
  });
});
