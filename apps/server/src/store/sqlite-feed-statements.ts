import type Database from 'better-sqlite3';

type Statement = Database.Statement<unknown[], unknown>;

/** The statements of one lines table (job_logs, job_events): append, find the start, read on. */
export interface LinesStatements {
  readonly insert: Statement;
  /** The first seq of the row that may hold a seq (the last row starting at or before it). */
  readonly start: Statement;
  readonly from: Statement;
  readonly deleteJob: Statement;
}

/** The feed tables' statements (schema version 3), by what they do. */
export interface FeedStatements {
  readonly logs: LinesStatements;
  readonly events: LinesStatements;
  readonly insertSeries: Statement;
  readonly insertLabel: Statement;
  readonly seriesStart: Statement;
  readonly seriesFrom: Statement;
  readonly labels: Statement;
  readonly deleteSeries: Statement;
  readonly deleteLabels: Statement;
  readonly insertMessage: Statement;
  readonly findMessage: Statement;
  readonly messages: Statement;
  readonly deleteMessages: Statement;
  readonly insertNote: Statement;
  readonly trimNotes: Statement;
  readonly notesOf: Statement;
  readonly allNotes: Statement;
  readonly latestByName: Statement;
  readonly latestByNameOfAny: Statement;
}

function linesStatements(db: Database.Database, table: 'job_logs' | 'job_events'): LinesStatements {
  return {
    insert: db.prepare(`INSERT INTO ${table} (job_id, first_seq, lines) VALUES (?, ?, ?)`),
    start: db
      .prepare(
        `SELECT first_seq FROM ${table} WHERE job_id = ? AND first_seq <= ? ORDER BY first_seq DESC LIMIT 1`,
      )
      .pluck(),
    from: db.prepare(
      `SELECT first_seq AS firstSeq, lines FROM ${table} WHERE job_id = ? AND first_seq >= ? ORDER BY first_seq`,
    ),
    deleteJob: db.prepare(`DELETE FROM ${table} WHERE job_id = ?`),
  };
}

/** The newest job of an owner by name (exported for the test that it uses jobs_by_name). */
export const LATEST_BY_NAME_SQL =
  'SELECT record FROM jobs WHERE owner = ? AND name = ? ORDER BY created DESC, rowid DESC LIMIT 1';

/** Prepares the feed tables' statements; columns aliased to the protocol's stored shapes. */
export function prepareFeedStatements(db: Database.Database): FeedStatements {
  const noteColumns = 'owner, at, text';
  // The newest `limit` notes since a time, returned oldest first (rowid breaks ties of `at`).
  const notes = (where: string) =>
    db.prepare(
      `SELECT ${noteColumns} FROM (SELECT rowid AS r, ${noteColumns} FROM notes WHERE ${where}
         ORDER BY at DESC, rowid DESC LIMIT ?) ORDER BY at, r`,
    );
  return {
    logs: linesStatements(db, 'job_logs'),
    events: linesStatements(db, 'job_events'),
    insertSeries: db.prepare(
      'INSERT INTO series_batches (job_id, label, first_seq, lines) VALUES (?, ?, ?, ?)',
    ),
    insertLabel: db.prepare('INSERT OR IGNORE INTO series_labels (job_id, label) VALUES (?, ?)'),
    seriesStart: db
      .prepare(
        'SELECT first_seq FROM series_batches WHERE job_id = ? AND label = ? AND first_seq <= ? ORDER BY first_seq DESC LIMIT 1',
      )
      .pluck(),
    seriesFrom: db.prepare(
      'SELECT first_seq AS firstSeq, lines FROM series_batches WHERE job_id = ? AND label = ? AND first_seq >= ? ORDER BY first_seq',
    ),
    labels: db
      .prepare('SELECT label FROM series_labels WHERE job_id = ? ORDER BY label LIMIT ?')
      .pluck(),
    deleteSeries: db.prepare('DELETE FROM series_batches WHERE job_id = ?'),
    deleteLabels: db.prepare('DELETE FROM series_labels WHERE job_id = ?'),
    insertMessage: db.prepare(
      'INSERT OR IGNORE INTO job_messages (job_id, seq, message_id, data, at) VALUES (?, ?, ?, ?, ?)',
    ),
    findMessage: db
      .prepare('SELECT seq FROM job_messages WHERE job_id = ? AND message_id = ?')
      .pluck(),
    messages: db.prepare(
      'SELECT seq, message_id AS messageId, data, at FROM job_messages WHERE job_id = ? AND seq > ? ORDER BY seq LIMIT ?',
    ),
    deleteMessages: db.prepare('DELETE FROM job_messages WHERE job_id = ?'),
    insertNote: db.prepare('INSERT INTO notes (owner, at, text) VALUES (?, ?, ?)'),
    trimNotes: db.prepare(
      `DELETE FROM notes WHERE rowid IN (SELECT rowid FROM notes WHERE owner = ?
         ORDER BY at DESC, rowid DESC LIMIT -1 OFFSET ?)`,
    ),
    notesOf: notes('owner = ? AND at >= ?'),
    allNotes: notes('at >= ?'),
    latestByName: db.prepare(LATEST_BY_NAME_SQL).pluck(),
    latestByNameOfAny: db
      .prepare('SELECT record FROM jobs WHERE name = ? ORDER BY created DESC, rowid DESC LIMIT 1')
      .pluck(),
  };
}
