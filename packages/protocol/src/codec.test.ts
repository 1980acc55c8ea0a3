import { describe, expect, it } from 'vitest';
import { WORKER_LIMITS, decodeWorkerToServer, decodeServerToWorker } from './worker.js';
import { decodeOutcomesPush, decodeSdkRequest } from './sdk.js';
import { LIMITS } from './jobs.js';
import { ErrorCode, TabgridError } from './errors.js';
import { MAX_DEPTH, MAX_VALUE_DEPTH } from './limits.js';
import { BYTES_TAG } from './bytes.js';

/** The error `run` throws (the test fails if it throws none). */
function thrownBy(run: () => unknown): TabgridError {
  try {
    run();
  } catch (err) {
    if (err instanceof TabgridError) return err;
    throw err;
  }
  throw new Error('expected a TabgridError, nothing was thrown');
}

/** An outcome whose value nests `depth` arrays deep, as JSON text. */
const deepValue = (depth: number) => '['.repeat(depth) + '0' + ']'.repeat(depth);
const outcomesWith = (value: string) =>
  `{"type":"outcomes","credit":1,"items":[{"jobId":"j","index":0,"ms":1,"ok":true,"value":${value}}]}`;
const hello = (fields: object) =>
  JSON.stringify({ type: 'hello', protocol: 1, threads: 1, userAgent: 'x', credit: 1, ...fields });
const outcome = (fields: object) =>
  JSON.stringify({
    type: 'outcomes',
    credit: 1,
    items: [{ jobId: 'j', index: 0, ms: 1, ok: true, value: 1, ...fields }],
  });
const failure = (error: object) =>
  outcome({ ok: false, value: undefined, error: { name: 'E', message: 'm', stack: '', ...error } });

describe('worker frames', () => {
  it('accepts a valid outcomes batch', () => {
    const frame = JSON.stringify({
      type: 'outcomes',
      credit: 2,
      items: [
        { jobId: 'j1', index: 0, ms: 0.1, ok: true, value: 2 },
        {
          jobId: 'j1',
          index: 1,
          ms: 3,
          ok: false,
          error: { name: 'Error', message: 'boom', stack: 'at Run' },
        },
      ],
    });
    const msg = decodeWorkerToServer(frame);
    expect(msg.type).toBe('outcomes');
  });

  it('refuses unknown message types, naming the problem', () => {
    expect(() => decodeWorkerToServer('{"type":"nope"}')).toThrow(TabgridError);
    expect(() => decodeWorkerToServer('{"type":"nope"}')).toThrow(/Invalid worker frame/);
    // A hostile type is quoted short: messages go into close reasons and logs.
    const long = thrownBy(() => decodeWorkerToServer(JSON.stringify({ type: 'y'.repeat(1e6) })));
    expect(long.message).toMatch(/unknown message type "y{40}"\.\.\.; expected one of hello/);
    expect(long.message.length).toBeLessThan(200);
    expect(thrownBy(() => decodeWorkerToServer('{"type":[1]}')).message).toMatch(/type an array/);
  });

  it('refuses text that is not JSON, a malformed binary frame, and anything else', () => {
    expect(() => decodeWorkerToServer('{oops')).toThrow(/not JSON/);
    expect(() => decodeWorkerToServer(new Uint8Array([1]))).toThrow(/Invalid binary frame/);
    expect(() => decodeWorkerToServer(42)).toThrow(/text frame/);
  });

  it('refuses negative indexes and missing fields', () => {
    const bad = {
      type: 'outcomes',
      credit: 1,
      items: [{ jobId: 'j', index: -1, ms: 0, ok: true, value: 1 }],
    };
    expect(() => decodeWorkerToServer(JSON.stringify(bad))).toThrow(/index/);
    expect(() => decodeServerToWorker('{"type":"tasks","jobId":"j"}')).toThrow(/items/);
  });
});

describe('worker frames from a hostile worker', () => {
  it('refuse a value nested 10,000 deep with TG_ERR_PROTOCOL, before anything walks it', () => {
    const error = thrownBy(() => decodeWorkerToServer(outcomesWith(deepValue(10_000))));
    expect(error.code).toBe(ErrorCode.PROTOCOL);
    expect(error.message).toMatch(
      /Invalid worker frame \(a result\): nested deeper than 100 levels/,
    );
  });

  it('refuse deep nesting anywhere else in a frame (the schema never walks into it)', () => {
    const deep = JSON.stringify(deepValue(10_000));
    for (const frame of [
      `{"type":"outcomes","credit":1,"items":[${deep}]}`,
      `{"type":${deep}}`,
      `{"type":"release","tasks":${deep}}`,
      `{"type":"outcomes","credit":1,"items":[{"jobId":"j","index":0,"ms":1,"ok":false,"error":${deep}}]}`,
    ]) {
      expect(thrownBy(() => decodeWorkerToServer(frame)).code).toBe(ErrorCode.PROTOCOL);
    }
  });

  it(`take results nested up to ${MAX_VALUE_DEPTH} levels, and no deeper`, () => {
    expect(decodeWorkerToServer(outcomesWith(deepValue(MAX_VALUE_DEPTH))).type).toBe('outcomes');
    expect(() => decodeWorkerToServer(outcomesWith(deepValue(MAX_VALUE_DEPTH + 1)))).toThrow(
      /deeper than/,
    );
  });

  it('refuse ms: 1e308 and other times no task takes', () => {
    for (const ms of [1e308, WORKER_LIMITS.maxTaskMs + 1, -1]) {
      expect(thrownBy(() => decodeWorkerToServer(outcome({ ms }))).message).toMatch(
        /\/items\/0\/ms: Expected number to be/,
      );
      const failed = failure({}).replace('"ms":1', `"ms":${ms}`);
      expect(() => decodeWorkerToServer(failed)).toThrow(/Invalid worker frame/);
    }
    expect(decodeWorkerToServer(outcome({ ms: WORKER_LIMITS.maxTaskMs })).type).toBe('outcomes');
    expect(decodeWorkerToServer(failure({})).type).toBe('outcomes');
  });

  it('cap threads, credit and slots', () => {
    const { maxThreads, maxCredit } = WORKER_LIMITS;
    expect(decodeWorkerToServer(hello({ threads: maxThreads, credit: maxCredit })).type).toBe(
      'hello',
    );
    expect(() => decodeWorkerToServer(hello({ threads: maxThreads + 1 }))).toThrow(/threads/);
    expect(() => decodeWorkerToServer(hello({ threads: 1024 }))).toThrow(/threads/);
    expect(() => decodeWorkerToServer(hello({ credit: maxCredit + 1 }))).toThrow(/credit/);
    expect(() => decodeWorkerToServer(hello({ protocol: 1e300 }))).toThrow(/protocol/);
    expect(() =>
      decodeWorkerToServer(JSON.stringify({ type: 'credit', slots: maxCredit + 1 })),
    ).toThrow(/slots/);
    expect(() =>
      decodeWorkerToServer(outcome({}).replace('"credit":1', `"credit":${maxCredit + 1}`)),
    ).toThrow(/credit/);
    expect(() => decodeWorkerToServer(outcome({ index: 1e300 }))).toThrow(/index/);
  });

  it('cap the items of an outcomes batch and of a release', () => {
    const item = { jobId: 'j', index: 0, ms: 0, ok: true, value: 0 };
    const items = Array.from({ length: WORKER_LIMITS.maxItems + 1 }, () => item);
    expect(() =>
      decodeWorkerToServer(JSON.stringify({ type: 'outcomes', credit: 0, items })),
    ).toThrow(/items/);
    const tasks = Array.from({ length: WORKER_LIMITS.maxItems + 1 }, () => ({
      jobId: 'j',
      index: 0,
    }));
    expect(() => decodeWorkerToServer(JSON.stringify({ type: 'release', tasks }))).toThrow(/tasks/);
    tasks.pop();
    expect(decodeWorkerToServer(JSON.stringify({ type: 'release', tasks })).type).toBe('release');
  });

  it('cap the error name, message and stack, and the user agent', () => {
    const { maxErrorNameLength, maxErrorMessageLength, maxErrorStackLength } = WORKER_LIMITS;
    expect(decodeWorkerToServer(failure({ message: 'm'.repeat(maxErrorMessageLength) })).type).toBe(
      'outcomes',
    );
    expect(() =>
      decodeWorkerToServer(failure({ name: 'n'.repeat(maxErrorNameLength + 1) })),
    ).toThrow(/name/);
    expect(() =>
      decodeWorkerToServer(failure({ message: 'm'.repeat(maxErrorMessageLength + 1) })),
    ).toThrow(/message/);
    expect(() =>
      decodeWorkerToServer(failure({ stack: 's'.repeat(maxErrorStackLength + 1) })),
    ).toThrow(/stack/);
    expect(() =>
      decodeWorkerToServer(hello({ userAgent: 'u'.repeat(WORKER_LIMITS.maxUserAgentLength + 1) })),
    ).toThrow(/userAgent/);
  });
});

describe('bytes in worker results', () => {
  const withTag = (tag: object) => outcome({ value: { samples: tag } });
  const tag = (kind: unknown, base64: unknown) => ({ [BYTES_TAG]: kind, base64 });

  it('must decode to their typed array, or the frame is refused', () => {
    expect(decodeWorkerToServer(withTag(tag('Float64Array', 'AAAAAAAA8D8=')))).toMatchObject({
      items: [{ value: { samples: { base64: 'AAAAAAAA8D8=' } } }],
    });
    expect(decodeWorkerToServer(withTag(tag('Uint8Array', 'AQI'))).type).toBe('outcomes');
    const refused: [object, RegExp][] = [
      [tag('Weird', 'AAAA'), /unknown kind \(Weird\)/],
      [tag({ x: 1 }, 'AAAA'), /unknown kind \(object\)/],
      [tag('Uint8Array', 12), /without base64 bytes/],
      [tag('Uint8Array', 'A$$$'), /base64 is malformed/],
      [tag('Uint8Array', 'AAAAA'), /base64 is malformed/],
      [tag('Float64Array', 'AQID'), /3 bytes are not a whole number of Float64Array elements/],
    ];
    for (const [bad, why] of refused) {
      const error = thrownBy(() => decodeWorkerToServer(withTag(bad)));
      expect(error.code).toBe(ErrorCode.PROTOCOL);
      expect(error.message).toMatch(why);
    }
  });

  it('are checked in binary frames too', () => {
    const head = Buffer.from(outcome({ value: { [BYTES_TAG]: 'Float32Array', at: 0, length: 3 } }));
    const frame = Buffer.concat([Buffer.alloc(4), head, Buffer.from([1, 2, 3])]);
    frame.writeUInt32LE(head.length, 0);
    expect(() => decodeWorkerToServer(frame)).toThrow(/not a whole number of Float32Array/);
  });
});

describe('server frames', () => {
  it('take inputs nested deeper than a worker may answer, so no accepted value is refused', () => {
    const tasks = `{"type":"tasks","jobId":"j","items":[{"index":0,"input":${deepValue(MAX_DEPTH)}}]}`;
    expect(decodeServerToWorker(tasks).type).toBe('tasks');
    const tooDeep = `{"type":"tasks","jobId":"j","items":[{"index":0,"input":${deepValue(10_000)}}]}`;
    expect(thrownBy(() => decodeServerToWorker(tooDeep)).code).toBe(ErrorCode.PROTOCOL);
  });
});

describe('sdk requests', () => {
  it('refuse a payload nested 10,000 deep (parsed already, as socket.io hands it over)', () => {
    let tasks: unknown = 1;
    for (let i = 0; i < 10_000; i++) tasks = [tasks];
    const error = thrownBy(() =>
      decodeSdkRequest['job:submit']({ jobId: 'j', batchId: 'b', tasks: [tasks] }),
    );
    expect(error.code).toBe(ErrorCode.PROTOCOL);
    expect(error.status).toBe(400);
    expect(error.message).toMatch(/deeper than 128 levels/);
  });

  it('validates a submit batch', () => {
    expect(
      decodeSdkRequest['job:submit']({ jobId: 'j', batchId: 'b1', tasks: [1, 2] }).tasks,
    ).toEqual([1, 2]);
    expect(() => decodeSdkRequest['job:submit']({ jobId: 'j', tasks: [] })).toThrow(/batchId/);
  });

  it('requires a program to create a job', () => {
    expect(() => decodeSdkRequest['job:create']({ name: 'x' })).toThrow(/program/);
    expect(
      decodeSdkRequest['job:create']({ program: 'function Run(d){return d}' }).program,
    ).toContain('Run');
  });

  it('bounds maxFailures', () => {
    const create = (maxFailures: unknown) =>
      decodeSdkRequest['job:create']({ program: 'function Run(d){return d}', maxFailures });
    expect(create(5).maxFailures).toBe(5);
    expect(create(LIMITS.maxFailures).maxFailures).toBe(LIMITS.maxFailures);
    for (const bad of [0, -1, 2.5, LIMITS.maxFailures + 1, '5'])
      expect(() => create(bad)).toThrow(/maxFailures/);
  });

  it('takes a provenance flag on a subscribe, a boolean only', () => {
    const subscribe = (provenance: unknown) =>
      decodeSdkRequest['job:subscribe']({
        jobId: 'j',
        subscriptionId: 's',
        kind: 'all',
        from: 0,
        provenance,
      });
    expect(subscribe(true).provenance).toBe(true);
    expect(() => subscribe('yes')).toThrow(/provenance/);
  });
});

describe('outcome pushes with provenance', () => {
  const provenance = {
    workerId: 'w-1',
    attempt: 1,
    runMs: 2.5,
    queuedMs: 10,
    programHash: 'a'.repeat(64),
  };
  const push = (p: unknown) => ({
    subscriptionId: 's',
    jobId: 'j',
    items: [{ seq: 1, index: 0, ok: true, value: 1, provenance: p }],
  });

  it('decode a bounded provenance, and outcomes without one', () => {
    expect(decodeOutcomesPush(push(provenance)).items[0]?.provenance).toEqual(provenance);
    const nulls = { ...provenance, workerId: null, attempt: 0, runMs: null, queuedMs: null };
    expect(decodeOutcomesPush(push(nulls)).items[0]?.provenance).toEqual(nulls);
    expect(
      decodeOutcomesPush({
        subscriptionId: 's',
        jobId: 'j',
        items: [{ seq: 1, index: 0, ok: true, value: 1 }],
      }).items[0],
    ).not.toHaveProperty('provenance');
  });

  it('refuse a provenance out of its bounds', () => {
    for (const bad of [
      { ...provenance, programHash: 'x' },
      { ...provenance, workerId: 'w'.repeat(101) },
      { ...provenance, attempt: -1 },
      { ...provenance, runMs: -1 },
      { ...provenance, queuedMs: Number.MAX_VALUE },
      { ...provenance, extra: undefined, attempt: 1.5 },
    ])
      expect(() => decodeOutcomesPush(push(bad))).toThrow(TabgridError);
  });
});
