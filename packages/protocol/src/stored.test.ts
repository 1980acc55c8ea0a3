import { describe, expect, it } from 'vitest';
import { ErrorCode } from './errors.js';
import { Value } from '@sinclair/typebox/value';
import {
  StoredEventLine,
  StoredJobRecord,
  StoredJobRecordV2,
  StoredJobRecordV3,
  StoredLogLine,
  StoredSeriesRow,
  decodeStoredOutcome,
  storedFailure,
  storedValue,
} from './stored.js';

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected a throw');
}

const failure = { name: 'Error', message: 'bad', stack: 'Error: bad\n  at Run', type: 'program' };

describe('stored outcome payloads', () => {
  it('decode values and failures', () => {
    expect(storedValue('{"k":[1]}')).toEqual({ k: [1] });
    expect(storedFailure(JSON.stringify(failure))).toEqual(failure);
    expect(decodeStoredOutcome({ seq: 3, index: 1, ok: true, payload: '5' })).toEqual({
      seq: 3,
      index: 1,
      ok: true,
      value: 5,
    });
    expect(
      decodeStoredOutcome({ seq: 4, index: 2, ok: false, payload: JSON.stringify(failure) }),
    ).toEqual({ seq: 4, index: 2, ok: false, error: failure });
  });

  it('refuse what is neither, with TG_ERR_INTERNAL saying where', () => {
    const internal = { code: ErrorCode.INTERNAL };
    expect(thrown(() => storedValue('{'))).toMatchObject(internal);
    expect(thrown(() => storedFailure('{"message":"m"}'))).toMatchObject({
      ...internal,
      message: expect.stringMatching(/stored task failure/),
    });
    expect(
      thrown(() => storedFailure(JSON.stringify({ ...failure, type: 'meltdown' }))),
    ).toMatchObject(internal);
    expect(
      thrown(() => decodeStoredOutcome({ seq: 9, index: 4, ok: false, payload: '"nope"' })),
    ).toMatchObject({
      ...internal,
      message: expect.stringMatching(/task 4 \(seq 9\).*Read from seq 9 on to skip it/),
    });
    expect(
      thrown(() => decodeStoredOutcome({ seq: 2, index: 0, ok: true, payload: 'undefined' })),
    ).toMatchObject({ ...internal, message: expect.stringMatching(/not JSON/) });
  });
});

describe('stored rows of schema version 3', () => {
  const v2 = {
    id: 'j',
    owner: 'admin',
    name: 'n',
    group: null,
    state: 'open',
    timeoutMs: 1000,
    maxAttempts: 3,
    retryErrors: 0,
    redundancy: 1,
    maxReplicas: 3,
    disagreements: 0,
    priority: 0,
    total: 0,
    finished: 0,
    failed: 0,
    computeMs: 0,
    created: 1,
    modified: 1,
    lastResult: null,
    lastSeq: 0,
    paused: null,
    crashedTasks: 0,
  };
  const v3 = {
    ...v2,
    setupTimeoutMs: 1000,
    progressTimeoutMs: null,
    setups: { count: 0, totalMs: 0, maxMs: 0 },
    logSeq: 0,
    logsDropped: 0,
    eventSeq: 0,
    eventsDropped: 0,
    seriesBytes: 0,
    seriesDropped: 0,
    messageSeq: 0,
    cpuMs: 0,
    peakHeapBytes: null,
  };

  const v4 = { ...v3, programHash: 'ab'.repeat(32), maxFailures: null, cancelReason: null };

  it('a version 2 record is not a version 3 one until migrated, and a version 3 one is both', () => {
    expect(Value.Check(StoredJobRecordV2, v2)).toBe(true);
    expect(Value.Check(StoredJobRecordV3, v2)).toBe(false);
    expect(Value.Check(StoredJobRecordV3, v3)).toBe(true);
    expect(Value.Check(StoredJobRecordV3, { ...v3, setups: { count: 1 } })).toBe(false);
    expect(Value.Check(StoredJobRecordV3, { ...v3, setupTimeoutMs: 0 })).toBe(false);
  });

  it('a version 3 record is not a current (version 4) one until migrated', () => {
    expect(Value.Check(StoredJobRecord, v3)).toBe(false);
    expect(Value.Check(StoredJobRecord, v4)).toBe(true);
    expect(Value.Check(StoredJobRecordV3, v4)).toBe(true);
    expect(Value.Check(StoredJobRecord, { ...v4, programHash: 'AB'.repeat(32) })).toBe(false);
    expect(Value.Check(StoredJobRecord, { ...v4, programHash: 'ab' })).toBe(false);
    expect(Value.Check(StoredJobRecord, { ...v4, maxFailures: 0 })).toBe(false);
    expect(Value.Check(StoredJobRecord, { ...v4, maxFailures: 5, cancelReason: 'why' })).toBe(true);
  });

  it('log lines, events and series rows hold what the store reads back', () => {
    const line = { index: null, level: 'warn', message: 'm', count: 2, workerId: 'w', at: 5 };
    expect(Value.Check(StoredLogLine, line)).toBe(true);
    expect(Value.Check(StoredLogLine, { ...line, level: 'shout' })).toBe(false);
    expect(Value.Check(StoredLogLine, { ...line, count: 0 })).toBe(false);
    expect(Value.Check(StoredEventLine, { index: 3, name: 'e', data: [1], at: 5 })).toBe(true);
    expect(Value.Check(StoredEventLine, { index: 3, name: '', data: 1, at: 5 })).toBe(false);
    expect(Value.Check(StoredSeriesRow, { seq: 1, index: 0, values: '[1]' })).toBe(true);
    expect(Value.Check(StoredSeriesRow, { seq: 0, index: 0, values: '[1]' })).toBe(false);
  });
});
