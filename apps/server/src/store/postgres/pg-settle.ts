/** The settle path of PgJobStore: settles merged by the group commit, stored as one. */
import type pg from 'pg';
import type { StoredSeriesLines } from '../job-store.js';
import { corruptRow } from '../stored-rows.js';
import type { PgFeedStore } from './pg-feed-store.js';
import {
  INSERT_OUTCOMES,
  outcomeColumns,
  outcomeValues,
  type OutcomeColumns,
} from './pg-job-statements.js';

/** A settle waiting for its commit. */
export interface PendingSettle {
  jobId: string;
  columns: OutcomeColumns;
  series?: StoredSeriesLines[];
}

/**
 * Settles queued one after another, in one INSERT (issue order: the first outcome for
 * (job, index) wins), then the series of each, of the outcomes that went in.
 */
export async function insertSettles(
  client: pg.PoolClient,
  feeds: PgFeedStore,
  settles: PendingSettle[],
): Promise<void> {
  let columns = settles[0]!.columns;
  if (settles.length > 1) {
    columns = outcomeColumns();
    for (const s of settles) {
      for (const key of Object.keys(columns) as (keyof OutcomeColumns)[]) {
        const into = columns[key] as unknown[];
        for (const value of s.columns[key]) into.push(value);
      }
    }
  }
  const fresh = new Map<string, Set<number>>();
  if (columns.idx.length > 0) {
    const { rows } = await client.query<Record<string, unknown>>(
      INSERT_OUTCOMES,
      outcomeValues(columns),
    );
    for (const row of rows) {
      const { jobId, seq } = row;
      if (typeof jobId !== 'string' || typeof seq !== 'number') {
        throw corruptRow('outcomes', 'an insert returned no job id or seq');
      }
      let set = fresh.get(jobId);
      if (!set) fresh.set(jobId, (set = new Set()));
      set.add(seq);
    }
  }
  // Only a settle that carries series pays for them: the plain path stops above.
  for (const s of settles) {
    if (s.series !== undefined) {
      await feeds.insertSeries(client, s.jobId, s.series, fresh.get(s.jobId) ?? new Set());
    }
  }
}
