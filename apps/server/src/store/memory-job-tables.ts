/** What a MemoryJobStore keeps per job, and how it copies outcomes in and out. */
import type { CarriedValue, JobCode, JobRecord, StoredOutcome, TaskTries } from './job-store.js';

export interface MemoryBatch {
  firstIndex: number;
  batchId: string;
  inputs: readonly CarriedValue[];
  submittedAt: number | undefined;
}

/** Everything stored under one job id (tasks and outcomes may exist without a job row, as in SQLite). */
export interface JobTables {
  /** `order`: creation order, SQLite's rowid (the later of two jobs created at one time). */
  job: { record: JobRecord; code: JobCode; order: number } | undefined;
  /** By firstIndex, ascending. */
  batches: MemoryBatch[];
  batchIds: Map<string, MemoryBatch>;
  /** By seq, ascending; failures also in `errors`. */
  outcomes: StoredOutcome[];
  errors: StoredOutcome[];
  settled: Set<number>;
  tries: Map<number, TaskTries>;
}

export const seqOf = (o: StoredOutcome): number => o.seq;
export const firstIndexOf = (b: MemoryBatch): number => b.firstIndex;
/** A copy without its provenance (what plain reads return). */
export const copyOutcome = (o: StoredOutcome): StoredOutcome => ({
  seq: o.seq,
  index: o.index,
  ok: o.ok,
  payload: copyCarried(o.payload),
});
/** A value the store keeps, sharing no bytes with the caller's (as a file's rows would not). */
export const copyCarried = (value: CarriedValue): CarriedValue =>
  typeof value === 'string' ? value : value.slice();
/** A copy with its provenance, when it has one (what writes keep and provenance reads return). */
export const copyWithProvenance = (o: StoredOutcome): StoredOutcome =>
  o.provenance === undefined
    ? copyOutcome(o)
    : { ...copyOutcome(o), provenance: { ...o.provenance } };
