/**
 * The connection pool of the PostgreSQL stores (node-postgres), and the migration every open
 * waits for. One place decides how values come back (BIGINT as a number: seqs and counts stay far
 * below 2^53) and how a connection fails (an error that names the server, never its password).
 */
import pg from 'pg';
import { ErrorCode, TabgridError } from '@tabgrid/protocol/errors';
import { migratePg, quoteIdent } from './pg-migrations.js';

export interface PgStoreOptions {
  /** `postgresql://user:password@host:port/database` (TABGRID_DATABASE_URL). */
  url: string;
  /** The schema holding Tabgrid's tables (created if missing); default `public`. */
  schema?: string;
  /** Connections at most (default 4: one commits, the others read). */
  maxConnections?: number;
  /**
   * One of several nodes on this database (issue 15): job counters and state change only through
   * PgJobStore.cluster's statements, never by a record written whole. Off for a store used alone.
   */
  cluster?: boolean;
}

/** BIGINT (oid 20) as a JS number: seqs and counts stay far below 2^53. */
function parseBigint(text: string): number {
  return Number(text);
}

/** The parser of a type pg knows (its own are typed `any`: each returns what its type parses to). */
const builtinParser = pg.types.getTypeParser as (oid: number, format: 'text' | 'binary') => unknown;

/** pg's parsers, but BIGINT's, for these pools only (pg's global parsers stay untouched). */
const types: pg.CustomTypesConfig = {
  getTypeParser: (oid: number, format?: 'text' | 'binary'): unknown =>
    oid === 20 && format !== 'binary' ? parseBigint : builtinParser(oid, format ?? 'text'),
};

/** The URL without its password, to name the server in errors and logs. */
export function describeUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(an unparsable TABGRID_DATABASE_URL)';
  }
}

/** The error of a store whose database could not be opened: where, why, what to do. */
export function unreachable(url: string, err: unknown): TabgridError {
  if (err instanceof TabgridError) return err;
  const why = err instanceof Error ? err.message : String(err);
  return new TabgridError(
    ErrorCode.INTERNAL,
    `Cannot open the PostgreSQL database ${describeUrl(url)} (${why}). Start PostgreSQL and create the database (README, "Several nodes"), fix TABGRID_DATABASE_URL, or unset it to use the embedded SQLite store.`,
  );
}

/** A pool and its migration: `ready` settles once the schema is current (or cannot be made so). */
export interface OpenedPool {
  readonly pool: pg.Pool;
  readonly ready: Promise<void>;
}

export function openPool(options: PgStoreOptions): OpenedPool {
  const schema = options.schema ?? 'public';
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.maxConnections ?? 4,
    application_name: 'tabgrid',
    // Every connection reads and writes this schema's tables, unqualified.
    options: `-c search_path=${quoteIdent(schema)}`,
    types,
    connectionTimeoutMillis: 10_000,
  });
  // An idle connection the server dropped: the pool discards it, the next query reconnects.
  pool.on('error', () => undefined);
  const ready = (async () => {
    let client: pg.PoolClient;
    try {
      client = await pool.connect();
    } catch (err) {
      throw unreachable(options.url, err);
    }
    try {
      await migratePg(client, schema, describeUrl(options.url));
    } finally {
      client.release();
    }
  })();
  // Awaited by every operation; this keeps a store nobody used from an unhandled rejection.
  ready.catch(() => undefined);
  return { pool, ready };
}
