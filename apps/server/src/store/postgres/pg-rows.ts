/**
 * Decoders of the PostgreSQL store's own row shapes (one row per task and per outcome; the rows
 * it shares with SQLite decode with ../stored-rows.ts). Every row read back goes through one: a
 * damaged or foreign row fails loudly, naming its table, instead of flowing on as a lie.
 */
import { Type, type TSchema } from '@sinclair/typebox';
import { createDecoder } from '@tabgrid/protocol/codec';
import type { OutcomeProvenance } from '../job-store.js';
import { forTable } from '../stored-rows.js';

const Count = Type.Integer({ minimum: 0 });
const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);

const OutcomeRow = Type.Object({
  seq: Type.Integer({ minimum: 1 }),
  index: Count,
  ok: Type.Boolean(),
  payload: Type.String(),
});

const ProvenanceRow = Type.Object({
  workerId: Nullable(Type.String()),
  attempt: Nullable(Count),
  runMs: Nullable(Type.Number({ minimum: 0 })),
  queuedMs: Nullable(Type.Number({ minimum: 0 })),
});

const QueuedRow = Type.Object({
  index: Count,
  input: Type.String(),
  submittedAt: Nullable(Type.Number()),
});

const TaskInputRow = Type.Object({ input: Type.String() });

export interface OutcomeRow {
  seq: number;
  index: number;
  ok: boolean;
  payload: string;
}

/** An `outcomes` row as `seq, index, ok, payload`. */
export const decodeOutcomeRow: (row: unknown) => OutcomeRow = forTable(
  'outcomes',
  createDecoder(OutcomeRow, 'row of outcomes'),
);

const decodeProvenanceColumns = forTable(
  'outcomes',
  createDecoder(ProvenanceRow, 'provenance of outcomes'),
);

/** The provenance columns of an `outcomes` row; undefined for one stored without provenance. */
export function decodeProvenanceRow(row: unknown): OutcomeProvenance | undefined {
  const p = decodeProvenanceColumns(row);
  if (p.attempt === null) return undefined;
  return { workerId: p.workerId, attempt: p.attempt, runMs: p.runMs, queuedMs: p.queuedMs };
}

/** A `tasks` row as `index, input, submittedAt`. */
export const decodeQueuedRow = forTable('tasks', createDecoder(QueuedRow, 'row of tasks'));

/** A `tasks` row's input. */
export const decodeTaskInputRow = forTable('tasks', createDecoder(TaskInputRow, 'row of tasks'));
