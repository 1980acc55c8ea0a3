import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ErrorCode, TabgridError } from '@tabgrid/protocol/errors';
import { memoryLog } from '../testing/memory-log.js';
import { startTestServer, type TestServer } from '../testing/test-server.js';
import { until } from '../testing/until.js';
import { createLogger, routeConsole } from './logging.js';
import { WorkerCountLog } from './worker-count-log.js';

describe('the JSON log', () => {
  it('writes one JSON object a line: level by name, ISO time, msg, and the code of an error', () => {
    const log = memoryLog('info');
    log.logger.debug({ hidden: true }, 'below the level');
    log.logger.info({ job: 'j1' }, 'job created');
    log.logger.error({ code: ErrorCode.INTERNAL }, 'it broke');
    const lines = log.lines();
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({ level: 'info', msg: 'job created', job: 'j1' });
    expect(new Date(String(lines[0]!.time)).toISOString()).toBe(lines[0]!.time);
    expect(lines[1]).toMatchObject({ level: 'error', msg: 'it broke', code: 'TG_ERR_INTERNAL' });
  });

  it('is one readable line, not JSON, on a terminal', async () => {
    const out = new PassThrough();
    let text = '';
    out.on('data', (chunk: Buffer) => (text += chunk.toString()));
    const log = createLogger({ level: 'info', pretty: true, destination: out });
    log.warn({ job: 'j1' }, 'job paused');
    await until(() => text.includes('\n'));
    expect(text).toMatch(/^\[\d\d:\d\d:\d\d\] WARN: job paused \{"job":"j1"\}\n$/);
  });

  it('turns console lines into log lines, an Error among them into its type, code and stack', () => {
    const log = memoryLog('info');
    const restore = routeConsole(log.logger);
    try {
      console.error(
        'tabgrid: could not store outcomes of job j1:',
        new TabgridError(ErrorCode.INTERNAL, 'disk full'),
      );
      console.log('plain %d', 3);
    } finally {
      restore();
    }
    const [error, info] = log.lines();
    expect(error).toMatchObject({
      level: 'error',
      msg: 'could not store outcomes of job j1:',
      err: { type: 'TabgridError', code: 'TG_ERR_INTERNAL', message: 'disk full' },
    });
    expect(String((error!.err as { stack: string }).stack)).toMatch(/disk full\n\s+at /);
    expect(info).toMatchObject({ level: 'info', msg: 'plain 3' });
  });
});

describe('what the server logs', () => {
  let site: TestServer | undefined;
  afterEach(async () => {
    await site?.close();
    site = undefined;
  });

  it('every refused request with its code (no query string), a job’s lifecycle', async () => {
    const log = memoryLog('info');
    site = await startTestServer({ listen: false, loggerInstance: log.logger });
    const { app } = site.server;
    expect((await app.inject({ url: '/api/jobs?token=sekrit' })).statusCode).toBe(401);
    expect((await app.inject({ url: '/nowhere', headers: site.auth })).statusCode).toBe(404);
    const created = await app.inject({
      method: 'POST',
      url: '/api/jobs',
      headers: site.auth,
      payload: { name: 'squares', program: 'function Run(d) { return d * d }' },
    });
    expect(created.statusCode).toBe(201);
    const { id } = created.json<{ id: string }>();
    await app.inject({ method: 'POST', url: `/api/jobs/${id}/close`, headers: site.auth });
    await app.inject({ method: 'DELETE', url: `/api/jobs/${id}`, headers: site.auth });
    const lines = log.lines();
    const refused = lines.filter((l) => l.msg === 'request refused');
    expect(refused).toEqual([
      expect.objectContaining({
        level: 'info',
        status: 401,
        path: '/api/jobs',
        code: 'TG_ERR_UNAUTHORIZED',
      }),
      expect.objectContaining({ status: 404, path: '/nowhere', code: 'TG_ERR_NOT_FOUND' }),
    ]);
    expect(JSON.stringify(lines)).not.toContain('sekrit');
    const lifecycle = lines.filter((l) => typeof l.job === 'string').map((l) => l.msg);
    expect([...lifecycle].sort()).toEqual(['job closed', 'job created', 'job deleted', 'job done']);
    expect(lifecycle[0]).toBe('job created');
    expect(lifecycle.at(-1)).toBe('job deleted');
    expect(lines.find((l) => l.msg === 'job created')).toMatchObject({
      name: 'squares',
      by: 'admin',
    });
  });

  it('an internal error with TG_ERR_INTERNAL and its stack', async () => {
    const log = memoryLog('info');
    site = await startTestServer({ listen: false, loggerInstance: log.logger });
    const { app, grid } = site.server;
    vi.spyOn(grid, 'listJobs').mockImplementation(() => {
      throw new Error('kaboom');
    });
    const res = await app.inject({ url: '/api/jobs', headers: site.auth });
    expect(res.statusCode).toBe(500);
    const line = log.lines().find((l) => l.msg === 'request failed');
    expect(line).toMatchObject({ level: 'error', code: 'TG_ERR_INTERNAL', route: '/api/jobs' });
    expect(String((line!.err as { stack: string }).stack)).toMatch(/kaboom/);
  });
});

describe('WorkerCountLog', () => {
  it('writes counts per interval, only when they changed', () => {
    const counts = { workers: 0, threads: 0, workersJoined: 0, workersLeft: 0 };
    const lines: [object, string][] = [];
    const log = new WorkerCountLog(() => counts, { info: (d, m) => lines.push([d, m]) });
    log.tick();
    expect(lines).toEqual([]);
    Object.assign(counts, { workers: 1200, threads: 4800, workersJoined: 1250, workersLeft: 50 });
    log.tick();
    log.tick(); // nothing changed
    Object.assign(counts, { workers: 1190, threads: 4760, workersJoined: 1260, workersLeft: 70 });
    log.tick();
    expect(lines).toEqual([
      [
        { workers: 1200, threads: 4800, joined: 1250, left: 50 },
        'workers 1200 (+1250 joined, -50 left), threads 4800',
      ],
      [
        { workers: 1190, threads: 4760, joined: 10, left: 20 },
        'workers 1190 (+10 joined, -20 left), threads 4760',
      ],
    ]);
  });
});
