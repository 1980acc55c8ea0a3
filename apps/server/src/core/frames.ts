/**
 * Encoders for server → worker frames. Task inputs are kept as JSON text from submission to
 * dispatch, so a tasks frame is assembled from strings instead of re-encoding every input.
 * The shapes are `ServerToWorker` from @tabgrid/protocol/worker; frames.test.ts decodes them
 * with the protocol's own decoder to prove it.
 */
import { PROTOCOL_VERSION } from '@tabgrid/protocol/version';
import type { JobCode, StoredTask } from '../store/job-store.js';

export function welcomeFrame(workerId: string): string {
  return JSON.stringify({ type: 'welcome', protocol: PROTOCOL_VERSION, workerId });
}

export function jobFrame(jobId: string, code: JobCode, timeoutMs: number): string {
  return `{"type":"job","jobId":${JSON.stringify(jobId)},"program":${JSON.stringify(code.program)},"args":${code.argsJson},"timeoutMs":${timeoutMs}}`;
}

export function tasksFrame(jobId: string, tasks: StoredTask[]): string {
  let items = '';
  for (const task of tasks) {
    items += `${items ? ',' : ''}{"index":${task.index},"input":${task.input}}`;
  }
  return `{"type":"tasks","jobId":${JSON.stringify(jobId)},"items":[${items}]}`;
}

export function cancelFrame(jobId: string): string {
  return JSON.stringify({ type: 'cancel', jobId });
}
