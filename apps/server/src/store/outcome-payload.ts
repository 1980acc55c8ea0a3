/**
 * Reading a stored outcome's payload back: a value's JSON (ok) or a TaskFailure's JSON (not ok).
 * The core and telemetry use these instead of `JSON.parse(payload) as …`.
 */
import { createDecoder } from '@tabgrid/protocol/codec';
import { TaskFailure, type Outcome } from '@tabgrid/protocol/jobs';
import type { StoredOutcome } from './job-store.js';
import { corruptRow } from './stored-rows.js';

const decodeFailure = createDecoder(TaskFailure, 'stored task failure');

/** The payload's value; throws a plain Error saying what is wrong (callers add where). */
function parse(payload: string): unknown {
  try {
    return JSON.parse(payload);
  } catch {
    throw new Error(`the payload is not JSON: ${JSON.stringify(payload.slice(0, 40))}`);
  }
}

function failure(payload: string): TaskFailure {
  return decodeFailure(parse(payload));
}

const problem = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/** The value of an ok outcome. Throws TG_ERR_INTERNAL when the payload is not JSON. */
export function storedValue(payload: string): unknown {
  try {
    return parse(payload);
  } catch (err) {
    throw corruptRow('outcomes', problem(err));
  }
}

/** The TaskFailure of a failed outcome, decoded. Throws TG_ERR_INTERNAL when it is not one. */
export function storedFailure(payload: string): TaskFailure {
  try {
    return failure(payload);
  } catch (err) {
    throw corruptRow('outcomes', problem(err));
  }
}

/**
 * A stored outcome as streams deliver it. Throws TG_ERR_INTERNAL, naming the task and seq,
 * when the row does not decode.
 */
export function decodeOutcomePayload(row: StoredOutcome): Outcome {
  try {
    return row.ok
      ? { seq: row.seq, index: row.index, ok: true, value: parse(row.payload) }
      : { seq: row.seq, index: row.index, ok: false, error: failure(row.payload) };
  } catch (err) {
    throw corruptRow(
      'outcomes',
      `task ${row.index}, seq ${row.seq}: ${problem(err)}; read from seq ${row.seq} on to skip it`,
    );
  }
}

/**
 * The `message` a failure's payload carries, or '' when it has none: what the error views group
 * by (as SQLite's `json_extract(payload, '$.message')`). Never throws.
 */
export function errorMessage(payload: string): string {
  let failure: unknown;
  try {
    failure = JSON.parse(payload);
  } catch {
    return '';
  }
  if (typeof failure !== 'object' || failure === null || !('message' in failure)) return '';
  return typeof failure.message === 'string' ? failure.message : '';
}
