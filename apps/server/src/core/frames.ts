/**
 * Encoders for server → worker frames. Task inputs are kept as JSON text from submission to
 * dispatch, so a tasks frame is assembled from strings instead of re-encoding every input;
 * messages (`job.tell`) likewise keep their data as JSON text from the store to the frame.
 * The shapes are `ServerToWorker` from @tabgrid/protocol/worker; frames.test.ts decodes them
 * with the protocol's own decoder to prove it.
 */
import { PROTOCOL_VERSION } from '@tabgrid/protocol/version';
import type { JobPublic, JobRequirements, OperatorInfo } from '@tabgrid/protocol/jobs';
import { MAX_BYTES_TAGS, assembleFrame } from '@tabgrid/protocol/binary-frame';
import { carriesBytes, framePiece } from '@tabgrid/protocol/packed-value';
import type { JobCode, StoredTask } from '../store/job-store.js';

/** Why a job's program is dropped by the workers that have it (ServerCancel.reason). */
export type CancelReason = 'cancelled' | 'deleted' | 'done';

/** A message as a frame carries it: `data` is its JSON text. */
export interface MessageText {
  seq: number;
  data: string;
}

/** `operator`: who runs the grid (server configuration), shown on the worker page. */
export function welcomeFrame(workerId: string, operator?: OperatorInfo): string {
  return JSON.stringify(
    operator === undefined
      ? { type: 'welcome', protocol: PROTOCOL_VERSION, workerId }
      : { type: 'welcome', protocol: PROTOCOL_VERSION, workerId, operator },
  );
}

/**
 * The job's program. `setupTimeoutMs` bounds one Setup (the job's `timeoutMs` unless it set
 * one); `progressTimeoutMs` is sent only when the job has one (the page then reports `started`).
 */
export function jobFrame(
  jobId: string,
  code: JobCode,
  timeoutMs: number,
  setupTimeoutMs: number = timeoutMs,
  progressTimeoutMs: number | null = null,
  /** The job's public name, description and link (volunteers' pages show them). */
  shown?: JobPublic,
  /** The job's requirements: the page lets only a job requiring WebGPU call `tabgrid.gpu()`. */
  requirements?: JobRequirements,
): string {
  const progress = progressTimeoutMs === null ? '' : `,"progressTimeoutMs":${progressTimeoutMs}`;
  const face = shown === undefined ? '' : `,"public":${JSON.stringify(shown)}`;
  const needs = requirements === undefined ? '' : `,"requirements":${JSON.stringify(requirements)}`;
  return `{"type":"job","jobId":${JSON.stringify(jobId)},"program":${JSON.stringify(code.program)},"args":${code.argsJson},"timeoutMs":${timeoutMs},"setupTimeoutMs":${setupTimeoutMs}${progress}${face}${needs}}`;
}

/** A frame as the worker socket sends it: JSON text, or a binary frame (typed arrays in it). */
export type OutFrame = string | Uint8Array;

/**
 * The tasks frames for `tasks`: one JSON text frame when no input holds bytes (the plain path),
 * else binary frames laid straight from the packed inputs (header JSON plus their bytes, see
 * @tabgrid/protocol/packed-value: nothing base64'd, no input parsed but its small header),
 * cut so none holds more than MAX_BYTES_TAGS typed arrays.
 */
export function tasksFrames(jobId: string, tasks: readonly StoredTask[]): OutFrame[] {
  const head = `{"type":"tasks","jobId":${JSON.stringify(jobId)},"items":[`;
  if (!tasks.some((task) => carriesBytes(task.input))) {
    let items = '';
    for (const task of tasks) {
      items += `${items ? ',' : ''}{"index":${task.index},"input":${task.input as string}}`;
    }
    return [`${head}${items}]}`];
  }
  const frames: OutFrame[] = [];
  let items = '';
  let parts: Uint8Array[] = [];
  let size = 0;
  let tags = 0;
  for (const task of tasks) {
    let piece = framePiece(task.input, size);
    if (items && tags + piece.tags > MAX_BYTES_TAGS) {
      frames.push(assembleFrame(`${head}${items}]}`, parts, size));
      items = '';
      parts = [];
      size = 0;
      tags = 0;
      piece = framePiece(task.input, 0);
    }
    items += `${items ? ',' : ''}{"index":${task.index},"input":${piece.json}}`;
    if (piece.bytes.length > 0) parts.push(piece.bytes);
    size += piece.bytes.length;
    tags += piece.tags;
  }
  frames.push(assembleFrame(`${head}${items}]}`, parts, size));
  return frames;
}

/** The job retired: the page drops its queued tasks, tears its threads down, forgets the program. */
export function cancelFrame(jobId: string, reason?: CancelReason): string {
  return JSON.stringify(
    reason === undefined ? { type: 'cancel', jobId } : { type: 'cancel', jobId, reason },
  );
}

/** Messages of `job.tell`, in seq order (the caller keeps a frame to ≤ 1,000 of them). */
export function messagesFrame(jobId: string, items: readonly MessageText[]): string {
  let text = '';
  for (const item of items) text += `${text ? ',' : ''}{"seq":${item.seq},"data":${item.data}}`;
  return `{"type":"messages","jobId":${JSON.stringify(jobId)},"items":[${text}]}`;
}

/** The job's series reached `maxBytes`: its threads' `collect` throws from now on. */
export function limitFrame(jobId: string, maxBytes: number): string {
  return JSON.stringify({ type: 'limit', jobId, what: 'series', maxBytes });
}
