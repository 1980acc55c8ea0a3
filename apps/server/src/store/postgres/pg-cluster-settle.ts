/**
 * The settle of several nodes (./pg-cluster.ts): settles issued in one turn merged into one
 * commit, each job's seqs taken from its row (locked in id order, so two nodes' commits never
 * wait for each other in a ring) in commit order, one INSERT where the first outcome for
 * (job, index) wins, then each job's counters and state, and the series of what went in.
 */
import type pg from 'pg';
import type { StoredOutcome, StoredSeriesLines } from '../job-store.js';
import type { PgFeedStore } from './pg-feed-store.js';
import {
  INSERT_OUTCOMES,
  addOutcomes,
  outcomeColumns,
  outcomeValues,
} from './pg-job-statements.js';
import {
  TALLY,
  decodeFirst,
  decodeInserted,
  decodeTally,
  type JobTally,
} from './pg-cluster-rows.js';

/** The returned columns the settle needs (the plain store's INSERT returns fewer). */
const INSERT_RETURNING = INSERT_OUTCOMES.replace(
  'RETURNING job_id AS "jobId", seq',
  'RETURNING job_id AS "jobId", idx AS "index", seq, ok',
);

/** A settle waiting for its commit, and the tally its job had after it (set by the commit). */
export interface PendingClusterSettle {
  jobId: string;
  outcomes: StoredOutcome[];
  series?: StoredSeriesLines[];
  tally?: JobTally;
}

export async function insertClusterSettles(
  feeds: PgFeedStore,
  client: pg.PoolClient,
  settles: PendingClusterSettle[],
): Promise<void> {
  const byJob = new Map<string, PendingClusterSettle[]>();
  for (const s of settles) {
    const list = byJob.get(s.jobId);
    if (list) list.push(s);
    else byJob.set(s.jobId, [s]);
  }
  const columns = outcomeColumns();
  // Rows of jobs locked in id order: two nodes' commits never wait for each other in a ring.
  const jobIds = [...byJob.keys()].sort();
  for (const jobId of jobIds) {
    const list = byJob.get(jobId)!;
    let n = 0;
    for (const s of list) n += s.outcomes.length;
    if (n === 0) continue;
    const { rows } = await client.query(
      'UPDATE jobs SET next_seq = next_seq + $2 WHERE id = $1 RETURNING next_seq - $2 AS first',
      [jobId, n],
    );
    if (rows.length === 0) continue; // deleted meanwhile: nothing to store
    let seq = decodeFirst(rows[0]).first;
    for (const s of list) {
      addOutcomes(
        columns,
        jobId,
        s.outcomes.map((o) => ({ ...o, seq: seq++ })),
      );
    }
  }
  const fresh = new Map<string, Map<number, number>>(); // job → index → seq
  const counts = new Map<string, { finished: number; failed: number }>();
  if (columns.idx.length > 0) {
    const { rows } = await client.query(INSERT_RETURNING, outcomeValues(columns));
    for (const row of rows) {
      const { jobId, index, seq, ok } = decodeInserted(row);
      let m = fresh.get(jobId);
      if (!m) fresh.set(jobId, (m = new Map<number, number>()));
      m.set(index, seq);
      let c = counts.get(jobId);
      if (!c) counts.set(jobId, (c = { finished: 0, failed: 0 }));
      if (ok) c.finished++;
      else c.failed++;
    }
  }
  for (const jobId of jobIds) {
    const c = counts.get(jobId) ?? { finished: 0, failed: 0 };
    const { rows } = await client.query(
      `UPDATE jobs SET finished = finished + $2, failed = failed + $3,
         state = CASE WHEN state = 'closed' AND finished + failed + $2 + $3 >= total THEN 'done' ELSE state END
       WHERE id = $1 RETURNING ${TALLY}`,
      [jobId, c.finished, c.failed],
    );
    const tally = rows[0] === undefined ? undefined : decodeTally(rows[0]);
    for (const s of byJob.get(jobId)!) {
      if (tally) s.tally = tally;
      if (s.series) {
        const seqs = fresh.get(jobId) ?? new Map<number, number>();
        await feeds.insertSeries(client, jobId, reseq(s.series, seqs), new Set(seqs.values()));
      }
    }
  }
}

/**
 * Series lines (`"seq,index,values"`) with the seqs the database gave their outcomes; lines of
 * outcomes that did not go in (duplicates) are dropped with them.
 */
function reseq(
  series: readonly StoredSeriesLines[],
  seqs: ReadonlyMap<number, number>,
): StoredSeriesLines[] {
  return series.map(({ label, lines }) => {
    const out: string[] = [];
    for (const line of lines) {
      const a = line.indexOf(',');
      const b = line.indexOf(',', a + 1);
      const seq = seqs.get(Number(line.slice(a + 1, b)));
      if (seq !== undefined) out.push(`${seq}${line.slice(a)}`);
    }
    return { label, lines: out };
  });
}
