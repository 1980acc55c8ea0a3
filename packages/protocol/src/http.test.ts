import { describe, expect, it } from 'vitest';
import { ErrorCode, TabgridError, errorFromBody } from './errors.js';
import {
  decodeErrorBody,
  decodeErrorLine,
  decodeHealth,
  decodeJobView,
  decodeResultWithMeta,
  decodeUploadCount,
} from './http.js';
import { decodeSdkAck } from './sdk.js';

const job = {
  id: 'j1',
  name: 'n',
  group: null,
  state: 'open',
  total: 0,
  finished: 0,
  failed: 0,
  inFlight: 0,
  queued: 0,
  computeMs: 0,
  created: '2026-01-01T00:00:00.000Z',
  modified: '2026-01-01T00:00:00.000Z',
  lastResult: null,
  timeoutMs: 60_000,
  maxAttempts: 3,
  retryErrors: 0,
  redundancy: 1,
  maxReplicas: 3,
  disagreements: 0,
  priority: 0,
  paused: null,
};

function protocolError(decode: () => unknown): TabgridError {
  try {
    decode();
  } catch (error) {
    if (error instanceof TabgridError) return error;
  }
  throw new Error('expected a TabgridError');
}

describe('REST answer decoders', () => {
  it('decode what the server sends', () => {
    expect(decodeJobView({ ...job, status: 'open', bid: 0, browserHours: 0 }).status).toBe('open');
    expect(decodeUploadCount({ count: 3 })).toEqual({ count: 3 });
    expect(decodeResultWithMeta({ index: 0, value: [1] })).toEqual({ index: 0, value: [1] });
    const line = { index: 2, name: 'Error', message: 'm', stack: '', type: 'program' };
    expect(decodeErrorLine(line)).toEqual(line);
    const health = {
      ok: true,
      workers: 1,
      duplicates: 0,
      dropped: 0,
      forged: 0,
      sandboxFaults: 0,
      excludedWorkers: 0,
      eventLoopDelayMs: { p50: 0, p99: 1.5, max: 2 },
      rssMb: 80,
    };
    expect(decodeHealth(health)).toEqual(health);
    const body = { error: { code: ErrorCode.JOB_NOT_FOUND, message: 'No job j1.' } };
    expect(errorFromBody(decodeErrorBody(body))).toMatchObject({
      code: ErrorCode.JOB_NOT_FOUND,
      status: 404,
    });
  });

  it('refuse what deviates, with TG_ERR_PROTOCOL naming the problem', () => {
    expect(protocolError(() => decodeUploadCount({ count: -1 })).code).toBe(ErrorCode.PROTOCOL);
    expect(protocolError(() => decodeJobView(job)).message).toMatch(/status|bid|browserHours/);
    expect(
      protocolError(() => decodeErrorBody({ error: { code: 'NOPE', message: 'x' } })).code,
    ).toBe(ErrorCode.PROTOCOL);
    expect(protocolError(() => decodeErrorBody({ message: 'x' })).code).toBe(ErrorCode.PROTOCOL);
    expect(protocolError(() => decodeErrorLine({ index: 1, type: 'program' })).code).toBe(
      ErrorCode.PROTOCOL,
    );
  });
});

describe('decodeSdkAck', () => {
  it('decodes answers and error answers', () => {
    expect(decodeSdkAck['jobs:delete']({ ok: true, data: { deleted: 2 } })).toEqual({
      ok: true,
      data: { deleted: 2 },
    });
    expect(
      decodeSdkAck['job:submit']({ ok: true, data: { firstIndex: 0, count: 5 } }),
    ).toMatchObject({
      ok: true,
    });
    const refused = { ok: false, error: { code: ErrorCode.FORBIDDEN, message: 'viewer' } };
    expect(decodeSdkAck['job:close'](refused)).toEqual(refused);
    expect(decodeSdkAck['jobs:list']({ ok: true, data: [job] })).toMatchObject({ ok: true });
  });

  it('refuses a malformed acknowledgement, naming the event', () => {
    for (const [event, answer] of [
      ['jobs:delete', { ok: true, data: { deleted: 'two' } }],
      ['jobs:delete', { ok: true }],
      ['job:get', { ok: true, data: { id: 'j1' } }],
      ['job:submit', { ok: true, data: { firstIndex: -1, count: 1 } }],
      ['job:close', { ok: false, error: { message: 'no code' } }],
      ['jobs:list', null],
    ] as const) {
      const error = protocolError(() => decodeSdkAck[event](answer));
      expect(error.code, event).toBe(ErrorCode.PROTOCOL);
      expect(error.message, event).toContain(`${event} answer`);
    }
  });
});
