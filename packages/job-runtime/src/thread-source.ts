/**
 * The job thread's script, as text: {@link threadMain} and its parts (captured-natives.ts,
 * realm-hardening.ts, task-failures.ts, result-json.ts, task-api.ts, task-messages.ts, task-format.ts,
 * task-gpu.ts, outcome-texts.ts), each a self-contained function shipped
 * through Function.prototype.toString, called with this build's flush interval, protections and
 * outcome limits as literals. `@tabgrid/job-runtime/thread-source` (the e2e probes) is this file.
 */
import { OUTCOME_LIMITS, type OutcomeLimits } from './outcome-limits.js';
import { TASK_LIMITS, type TaskLimits } from './task-limits.js';
import { captureNatives } from './captured-natives.js';
import { ALL_PROTECTIONS, type Protections } from './protections.js';
import { hardenRealm } from './realm-hardening.js';
import { resultJson } from './result-json.js';
import { faithfulJson } from '@tabgrid/protocol/faithful-json';
import { taskApi } from './task-api.js';
import { taskFormat } from './task-format.js';
import { taskMessages } from './task-messages.js';
import { taskFailures } from './task-failures.js';
import { taskGpu } from './task-gpu.js';
import { outcomeTexts } from './outcome-texts.js';
import { threadMain } from './thread-main.js';

export { ALL_PROTECTIONS, type Protections } from './protections.js';

/** Flush results to the page after a task once this long has passed since the last flush. */
export const THREAD_FLUSH_INTERVAL_MS = 10;

/** The parts as an object literal's source: `{ captureNatives: function captureNatives(…) {…}, … }`. */
function partsSource(): string {
  const parts = {
    captureNatives,
    hardenRealm,
    taskFailures,
    resultJson,
    faithfulJson,
    taskApi,
    taskMessages,
    taskFormat,
    taskGpu,
    outcomeTexts,
  };
  return `{ ${Object.entries(parts)
    .map(([name, part]) => `${name}: ${part.toString()}`)
    .join(',\n')} }`;
}

/**
 * The thread's script for these protections (tests only ever pass anything but all of them) and
 * outcome limits (tests pass smaller ones, to probe them without 16 MB values).
 */
export function threadSource(
  protections: Readonly<Protections> = ALL_PROTECTIONS,
  limits: Readonly<OutcomeLimits> = OUTCOME_LIMITS,
  taskLimits: Readonly<TaskLimits> = TASK_LIMITS,
): string {
  const directive = protections.strict ? '"use strict";\n' : '';
  return `${directive}(${threadMain.toString()})(${partsSource()}, ${THREAD_FLUSH_INTERVAL_MS}, ${JSON.stringify(protections)}, ${JSON.stringify(limits)}, ${JSON.stringify(taskLimits)});`;
}

/** The thread's source, as the page starts it (web-worker-thread-host.ts): every protection on. */
export const SANDBOX_WORKER_SOURCE = threadSource();
