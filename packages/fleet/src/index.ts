/**
 * `@tabgrid/fleet`: a fleet of synthetic Tabgrid workers in Node, for tests, benchmarks and
 * trying your jobs against a local server. Each worker speaks the real worker protocol over a
 * real WebSocket and can be scripted to be slow, hang, die mid-task, lie, throw, or drop and
 * reconnect in storms. Programs run with `new Function`: **trusted code only, not a sandbox.**
 *
 * @example
 * import { Fleet, workerSocketUrl } from '@tabgrid/fleet';
 *
 * const fleet = new Fleet({ url: workerSocketUrl('http://127.0.0.1:8080'), workers: 50 });
 * await fleet.start();
 * fleet.workers[0]!.behave({ hang: true });
 * fleet.storm({ durationMs: 30_000, dropRate: 0.1 });
 * // … run your job with @tabgrid/sdk …
 * console.log(fleet.stats());
 * await fleet.stop();
 */
export { Fleet, type FleetOptions, type FleetStats } from './fleet.js';
export { SimWorker, type SimWorkerOptions, type SimWorkerEvent } from './sim-worker.js';
export type { SimWorkerState, CloseCause, DropMode } from './connection-states.js';
export type { Behavior, DieMidTask, WrongResults } from './behavior.js';
export { Storm, type StormOptions, type StormReport } from './storm.js';
export type { SimWorkerStats } from './stats.js';
export type { TaskRef } from './task-executor.js';
export type { Range } from './random.js';
export { ProgramCache, type CompiledProgram, type RunFunction } from './program-cache.js';
export { corrupt, lieSeed } from './lies.js';
export { workerSocketUrl } from './worker-socket-url.js';
export { FLEET_VERSION } from './version.js';
