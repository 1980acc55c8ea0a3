/**
 * The task-model routes (logs, events, series, messages, the latest job of a name, workers,
 * notes) called with `app.inject()` in success and error cases, each answer checked against
 * the OpenAPI document the server serves (openapi-check.conformance.ts). A raw worker holds
 * the job's tasks and reports on them as a tab does.
 */
import { describe, expect, it } from 'vitest';
import { ADMIN_TOKEN } from '../testing/test-server.js';
import { until } from '../testing/until.js';
import { serverPerFile } from '../testing/vitest.js';
import { NodeWorker } from '../testing/node-worker.js';
import { TASK_MODEL_PATHS, conformance } from './openapi-check.conformance.js';

const listening = serverPerFile({ authThrottle: { maxFailures: 1000 } });
const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };
const { call, expectCovered } = conformance(listening);

describe('the task-model routes answer as their schemas document', () => {
  let client: { authorization: string };
  let viewer: { authorization: string };

  it('with a client key and its viewer', async () => {
    const made = await call('POST', '/api/keys', '/api/keys', {
      headers: admin,
      payload: { name: 'bob', role: 'client' },
    });
    client = { authorization: `Bearer ${made.json<{ secret: string }>().secret}` };
    const seeing = await call('POST', '/api/keys', '/api/keys', {
      headers: admin,
      payload: { name: 'bob-view', role: 'viewer', owner: 'bob' },
    });
    viewer = { authorization: `Bearer ${seeing.json<{ secret: string }>().secret}` };
  });

  it('logs, events, series, messages, latest job, workers and notes', async () => {
    const created = await call('POST', '/api/jobs', '/api/jobs', {
      headers: client,
      payload: { program: 'function Run(d) { return d }', name: 'task-model' },
    });
    const id = created.json<{ id: string }>().id;
    await call('POST', `/api/jobs/${id}/tasks`, '/api/jobs/{id}/tasks', {
      headers: { ...client, 'content-type': 'application/x-ndjson' },
      payload: '1\n2\n',
    });
    await call('POST', `/api/jobs/${id}/close`, '/api/jobs/{id}/close', { headers: client });
    const held: number[] = [];
    const worker = new NodeWorker(listening.wsUrl, {
      beforeTask: (_jobId, index) => {
        held.push(index);
        return false;
      },
    });
    await worker.opened;
    worker.hello();
    await until(() => held.length === 2, { what: 'the worker to hold both tasks' });
    const at = Date.now();
    worker.send({
      type: 'report',
      items: [
        {
          jobId: id,
          index: 0,
          progress: 0.5,
          logs: [{ level: 'warn', message: 'hot', count: 3, at }],
          events: [{ name: 'best', data: { loss: 1 }, at }],
        },
        { jobId: id, index: null, logs: [{ level: 'log', message: 'setup', count: 1, at }] },
      ],
    });
    const messages = '/api/jobs/{id}/messages';
    const post = (payload: unknown, headers: Record<string, string> = client) =>
      call('POST', `/api/jobs/${id}/messages`, messages, { headers, payload });
    expect((await post({ go: 1 })).statusCode).toBe(201);
    expect(
      (await post({ go: 2 }, { ...client, 'idempotency-key': 'k' })).json<{ seq: number }>(),
    ).toEqual({ seq: 2 });
    expect((await post({ go: 2 }, { ...client, 'idempotency-key': 'k' })).statusCode).toBe(201);
    for (const [payload, status] of [
      ['', 400],
      ['{', 400],
      [JSON.stringify('x'.repeat(70_000)), 413],
    ] as const) {
      expect(
        (await post(payload, { ...client, 'content-type': 'application/json' })).statusCode,
      ).toBe(status);
    }
    expect((await post({ go: 1 }, viewer)).statusCode).toBe(403);
    expect(
      (await call('POST', '/api/jobs/nope/messages', messages, { headers: client, payload: {} }))
        .statusCode,
    ).toBe(404);

    worker.send({
      type: 'outcomes',
      credit: 2,
      items: held.map((index) => ({
        jobId: id,
        index,
        ms: 1,
        ok: true,
        value: index,
        series: [{ label: 'loss', values: [index, 0.5] }],
      })),
    });
    await until(
      async () => {
        const res = await listening.server.app.inject({
          method: 'GET',
          url: `/api/jobs/${id}`,
          headers: client,
        });
        return res.json<{ state: string }>().state === 'done';
      },
      { timeoutMs: 10_000, what: 'the job to be done' },
    );
    worker.close();
    expect((await post({ go: 3 })).statusCode).toBe(409);

    for (const feed of ['logs', 'events'] as const) {
      const path = `/api/jobs/{id}/${feed}`;
      const all = await call('GET', `/api/jobs/${id}/${feed}`, path, { headers: viewer });
      expect(all.statusCode).toBe(200);
      expect(all.body.trim().split('\n')).toHaveLength(feed === 'logs' ? 2 : 1);
      expect(
        (await call('GET', `/api/jobs/${id}/${feed}?from=1`, path, { headers: client })).body
          .trim()
          .split('\n')
          .filter(Boolean),
      ).toHaveLength(feed === 'logs' ? 1 : 0);
      expect(
        (await call('GET', `/api/jobs/${id}/${feed}?from=-1`, path, { headers: client }))
          .statusCode,
      ).toBe(400);
      expect(
        (await call('GET', `/api/jobs/nope/${feed}`, path, { headers: client })).statusCode,
      ).toBe(404);
    }
    const labels = await call('GET', `/api/jobs/${id}/series`, '/api/jobs/{id}/series', {
      headers: client,
    });
    expect(labels.json<string[]>()).toEqual(['loss']);
    expect(
      (await call('GET', '/api/jobs/nope/series', '/api/jobs/{id}/series', { headers: client }))
        .statusCode,
    ).toBe(404);
    const series = '/api/jobs/{id}/series/{label}';
    const lines = await call('GET', `/api/jobs/${id}/series/loss`, series, { headers: viewer });
    expect(lines.body.trim().split('\n')).toHaveLength(2);
    expect(
      (
        await call('GET', `/api/jobs/${id}/series/loss?stream&from=0`, series, { headers: client })
      ).body
        .trim()
        .split('\n'),
    ).toHaveLength(2);
    expect(
      (await call('GET', `/api/jobs/${id}/series/loss?from=x`, series, { headers: client }))
        .statusCode,
    ).toBe(400);
    expect(
      (await call('GET', '/api/jobs/nope/series/loss', series, { headers: client })).statusCode,
    ).toBe(404);
    // A label outside the label pattern; one with a slash, URL-encoded, is a label like any other.
    expect(
      (await call('GET', `/api/jobs/${id}/series/bad%24label`, series, { headers: client }))
        .statusCode,
    ).toBe(400);
    expect(
      (await call('GET', `/api/jobs/${id}/series/a%2Fb`, series, { headers: client })).body,
    ).toBe('');

    const latest = await call('GET', '/api/jobs?name=task-model&latest=1', '/api/jobs', {
      headers: client,
    });
    expect(latest.json<{ id: string }>().id).toBe(id);
    expect(
      (await call('GET', '/api/jobs?name=nope&latest=1', '/api/jobs', { headers: client }))
        .statusCode,
    ).toBe(404);
    expect(
      (await call('GET', '/api/jobs?latest=1', '/api/jobs', { headers: client })).statusCode,
    ).toBe(400);
    expect(
      (await call('GET', '/api/jobs?name=task-model', '/api/jobs', { headers: client })).json<
        unknown[]
      >(),
    ).toHaveLength(1);

    expect((await call('GET', '/api/workers', '/api/workers', { headers: admin })).statusCode).toBe(
      200,
    );
    expect(
      (await call('GET', '/api/workers', '/api/workers', { headers: client })).statusCode,
    ).toBe(200);
    expect((await call('GET', '/api/workers', '/api/workers')).statusCode).toBe(401);
    const note = await call('POST', '/api/notes', '/api/notes', {
      headers: client,
      payload: { text: 'phase 2' },
    });
    expect(note.statusCode).toBe(201);
    expect(note.json<{ text: string }>().text).toBe('phase 2');
    for (const payload of ['{', { text: '' }, { text: 'x'.repeat(501) }]) {
      expect(
        (await call('POST', '/api/notes', '/api/notes', { headers: client, payload })).statusCode,
      ).toBe(400);
    }
    expect(
      (await call('POST', '/api/notes', '/api/notes', { headers: viewer, payload: { text: 'x' } }))
        .statusCode,
    ).toBe(403);
  });

  it('every task-model operation was called with a success and with an error', () => {
    expectCovered((path) => TASK_MODEL_PATHS.has(path));
  });
});
