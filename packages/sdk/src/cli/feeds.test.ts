/**
 * The CLI's `logs` and `series` output, and how it finds the job (id, else latest of that
 * name), against a real HTTP server that answers as the REST API documents. The same commands
 * against a real Tabgrid server: apps/server/src/routes/cli-feeds.test.ts.
 */
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ErrorCode } from '@tabgrid/protocol/errors';
import { csvRows, formatLogLine, printLogs, printSeries } from './feeds.js';
import { RestClient } from '../rest.js';

describe('formatLogLine', () => {
  it('prints [index] level ×count message, ×count only for collapsed lines', () => {
    const line = { index: 7, level: 'warn', count: 50, message: 'slow pixel' };
    expect(formatLogLine(line)).toBe('[7] warn ×50 slow pixel');
    expect(formatLogLine({ ...line, count: 1 })).toBe('[7] warn slow pixel');
    expect(formatLogLine({ ...line, index: null, level: 'error', count: 1 })).toBe(
      '[-] error slow pixel',
    );
  });
});

describe('csvRows', () => {
  it('one row per value: index,step,value; numbers as they are, the rest JSON-quoted', () => {
    expect(csvRows({ index: 3, values: [0.5, -2, 1e21] })).toEqual([
      '3,0,0.5',
      '3,1,-2',
      '3,2,1e+21',
    ]);
    expect(
      csvRows({
        index: 0,
        values: ['a "b"', { x: [1, 2] }, null, new Float32Array([1.5, 2]), NaN],
      }),
    ).toEqual([
      '0,0,"""a \\""b\\"""""',
      '0,1,"{""x"":[1,2]}"',
      '0,2,"null"',
      '0,3,"[1.5,2]"',
      '0,4,"null"',
    ]);
    expect(csvRows({ index: 1, values: [] })).toEqual([]);
  });
});

describe('finding the job over REST', () => {
  let http: HttpServer;
  let rest: RestClient;
  let requests: string[];
  let answer: (url: string) => { status: number; body: string };

  beforeEach(async () => {
    requests = [];
    http = createServer((req, res) => {
      requests.push(req.url ?? '');
      const { status, body } = answer(req.url ?? '');
      res.writeHead(status, { 'content-type': 'application/json' }).end(body);
    });
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    rest = new RestClient(`http://127.0.0.1:${(http.address() as AddressInfo).port}`, 't');
  });

  afterEach(async () => {
    await new Promise<void>((resolve) => http.close(() => resolve()));
  });

  const notFound = {
    status: 404,
    body: JSON.stringify({ error: { code: ErrorCode.JOB_NOT_FOUND, message: 'No job.' } }),
  };

  it('tries the id, then the latest job of that name, and says neither exists', async () => {
    answer = () => notFound;
    let out = '';
    await expect(printLogs(rest, 'my exp', false, (t) => (out += t))).rejects.toMatchObject({
      code: ErrorCode.JOB_NOT_FOUND,
      message: expect.stringContaining('"my exp"'),
    });
    expect(requests).toEqual(['/api/jobs/my%20exp', '/api/jobs?name=my%20exp&latest=1']);
    expect(out).toBe('');
  });

  it('does not paper over a failure that is not "no such job" with the name lookup', async () => {
    answer = () => ({ status: 502, body: '<html>Bad gateway</html>' });
    let out = '';
    await expect(printSeries(rest, 'j1', 'loss', true, (t) => (out += t))).rejects.toMatchObject({
      code: ErrorCode.INTERNAL,
      message: expect.stringContaining('HTTP 502'),
    });
    expect(requests).toEqual(['/api/jobs/j1']);
    expect(out).toBe('');
  });
});
