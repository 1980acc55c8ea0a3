/**
 * The workers a node publishes with its heartbeat (`nodes.workers`), for the other nodes'
 * dashboards: the dashboard's own WorkerStats, as JSON text, decoded on the way back in like
 * every stored row (another node's row is data, never trusted as typed).
 */
import { Type } from '@sinclair/typebox';
import { createTextDecoder } from '@tabgrid/protocol/codec';
import { WorkerStats } from '@tabgrid/protocol/dashboard';

/** Workers one node lists at most (a dashboard lists that many; the count stays exact). */
export const MAX_PUBLISHED_WORKERS = 2000;

const decode = createTextDecoder(
  Type.Array(WorkerStats, { maxItems: MAX_PUBLISHED_WORKERS }),
  'nodes.workers',
);

export function encodeNodeWorkers(workers: readonly WorkerStats[]): string {
  return JSON.stringify(workers.slice(0, MAX_PUBLISHED_WORKERS));
}

/** A node's published workers; none when its row does not decode (it says so once per read). */
export function decodeNodeWorkers(text: string): WorkerStats[] {
  try {
    return decode(text);
  } catch (err) {
    console.error('tabgrid: a node published workers that do not decode:', err);
    return [];
  }
}
