/**
 * Decoders of the PostgreSQL store's own row shapes (one row per task and per outcome; the rows
 * it shares with SQLite decode with ../stored-rows.ts). Every row read back goes through one: a
 * damaged or foreign row fails loudly, naming its table, instead of flowing on as a lie.
 */
import { Type, type TSchema } from '@sinclair/typebox';
import { createDecoder } from '@tabgrid/protocol/codec';
import type { CarriedValue, OutcomeProvenance } from '../job-store.js';
import { PACKED_MARK } from '../packed-column.js';
import { corruptRow, forTable } from '../stored-rows.js';

const Count = Type.Integer({ minimum: 0 });
const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);

/** Version 3's bytea columns: a packed value's bytes, its text column holding the mark. */
const PackedBytes = Type.Optional(Nullable(Type.Uint8Array()));

const OutcomeRow = Type.Object({
  seq: Type.Integer({ minimum: 1 }),
  index: Count,
  ok: Type.Boolean(),
  payload: Type.String(),
  payloadBytes: PackedBytes,
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
  inputBytes: PackedBytes,
  submittedAt: Nullable(Type.Number()),
});

const TaskInputRow = Type.Object({ input: Type.String(), inputBytes: PackedBytes });

/** A value from its text column and bytea column (pg-migrations version 3): bytes when set. */
function carried(text: string, bytes: Uint8Array | null | undefined, table: string): CarriedValue {
  if (bytes === null || bytes === undefined) {
    if (text === PACKED_MARK) throw corruptRow(table, 'a packed value has no bytes');
    return text;
  }
  return bytes;
}

export interface OutcomeRow {
  seq: number;
  index: number;
  ok: boolean;
  payload: CarriedValue;
}

const decodeOutcomeColumns = forTable('outcomes', createDecoder(OutcomeRow, 'row of outcomes'));

/** An `outcomes` row as `seq, index, ok, payload, payload_bytes` (OUTCOME_COLUMNS). */
export function decodeOutcomeRow(row: unknown): OutcomeRow {
  const o = decodeOutcomeColumns(row);
  return {
    seq: o.seq,
    index: o.index,
    ok: o.ok,
    payload: carried(o.payload, o.payloadBytes, 'outcomes'),
  };
}

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

const decodeQueuedColumns = forTable('tasks', createDecoder(QueuedRow, 'row of tasks'));
const decodeInputColumns = forTable('tasks', createDecoder(TaskInputRow, 'row of tasks'));

/** A `tasks` row as `index, input, inputBytes, submittedAt` (TASK_INPUT for the input). */
export function decodeQueuedRow(row: unknown): {
  index: number;
  input: CarriedValue;
  submittedAt: number | null;
} {
  const t = decodeQueuedColumns(row);
  return {
    index: t.index,
    input: carried(t.input, t.inputBytes, 'tasks'),
    submittedAt: t.submittedAt,
  };
}

/** A `tasks` row's input (TASK_INPUT). */
export function decodeTaskInputRow(row: unknown): { input: CarriedValue } {
  const t = decodeInputColumns(row);
  return { input: carried(t.input, t.inputBytes, 'tasks') };
}
