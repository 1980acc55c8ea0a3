import { describe, expect, it } from 'vitest';
import { ErrorCode } from './errors.js';
import { decodeStoredOutcome, storedFailure, storedValue } from './stored.js';

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
