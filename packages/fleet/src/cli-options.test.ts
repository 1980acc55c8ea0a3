import { describe, expect, it } from 'vitest';
import { UsageError, parseCli } from './cli-options.js';
import { workerSocketUrl } from './worker-socket-url.js';

describe('workerSocketUrl', () => {
  it('derives the worker socket from a server address', () => {
    expect(workerSocketUrl('http://127.0.0.1:8080')).toBe('ws://127.0.0.1:8080/ws/worker');
    expect(workerSocketUrl('https://grid.example/')).toBe('wss://grid.example/ws/worker');
    expect(workerSocketUrl('http://host/prefix')).toBe('ws://host/prefix/ws/worker');
    expect(workerSocketUrl('ws://host:1/ws/worker')).toBe('ws://host:1/ws/worker');
    expect(workerSocketUrl('wss://host')).toBe('wss://host/ws/worker');
    expect(() => workerSocketUrl('ftp://host')).toThrow(TypeError);
  });
});

describe('parseCli', () => {
  it('has defaults for everything', () => {
    const plan = parseCli([], {});
    expect(plan).toMatchObject({
      fleet: { url: 'ws://127.0.0.1:8080/ws/worker', workers: 10, threads: 1, credit: 64 },
      special: [],
      storm: undefined,
      durationMs: undefined,
      statsEveryMs: 2000,
      help: false,
    });
  });

  it('reads behaviors, special workers, storms and durations', () => {
    const plan = parseCli(
      [
        '--url=http://10.0.0.1:9000',
        '--workers=20',
        '--delay=5-50',
        '--throw-rate=0.01',
        '--liars=2',
        '--collude',
        '--hangers=1',
        '--dying=3',
        '--die-rate=0.5',
        '--storm=0.2',
        '--duration=30',
        '--quiet',
      ],
      {},
    );
    expect(plan.fleet).toMatchObject({
      url: 'ws://10.0.0.1:9000/ws/worker',
      workers: 20,
      behavior: { delayMs: [5, 50], throwRate: 0.01 },
    });
    expect(plan.special).toEqual([
      { from: 0, count: 2, behavior: { wrongResults: { collude: 'tabgrid-fleet-cli' } } },
      { from: 2, count: 1, behavior: { hang: true } },
      {
        from: 3,
        count: 3,
        behavior: { dieMidTask: { probability: 0.5, reconnectAfterMs: [500, 2000] } },
      },
    ]);
    expect(plan.storm).toEqual({ dropRate: 0.2, reconnectAfterMs: [50, 500] });
    expect(plan.durationMs).toBe(30_000);
    expect(plan.statsEveryMs).toBeUndefined();
  });

  it('takes the server from TABGRID_URL', () => {
    expect(parseCli([], { TABGRID_URL: 'http://h:1' }).fleet.url).toBe('ws://h:1/ws/worker');
  });

  it('refuses bad options with a usage error naming them', () => {
    expect(() => parseCli(['--workers=0'], {})).toThrow(/--workers/);
    expect(() => parseCli(['--delay=9-1'], {})).toThrow(/--delay/);
    expect(() => parseCli(['--throw-rate=2'], {})).toThrow(/--throw-rate/);
    expect(() => parseCli(['--workers=2', '--liars=3'], {})).toThrow(/more than --workers/);
    expect(() => parseCli(['--nope'], {})).toThrow(UsageError);
    expect(() => parseCli(['--url=localhost:8080'], {})).toThrow(/--url/);
  });
});
