import { Type, type Static } from '@sinclair/typebox';

/**
 * Every error that crosses the wire has a code from this registry, a message that says
 * what to do, and (for HTTP) a status. Server and SDK share it, so a code means the same
 * thing on both sides.
 */
export const ErrorCode = {
  UNAUTHORIZED: 'TG_ERR_UNAUTHORIZED',
  FORBIDDEN: 'TG_ERR_FORBIDDEN',
  JOB_NOT_FOUND: 'TG_ERR_JOB_NOT_FOUND',
  KEY_NOT_FOUND: 'TG_ERR_KEY_NOT_FOUND',
  JOB_NOT_OPEN: 'TG_ERR_JOB_NOT_OPEN',
  INVALID_PROGRAM: 'TG_ERR_INVALID_PROGRAM',
  INVALID_REQUEST: 'TG_ERR_INVALID_REQUEST',
  INVALID_TASK: 'TG_ERR_INVALID_TASK',
  PROTOCOL: 'TG_ERR_PROTOCOL',
  PROTOCOL_VERSION: 'TG_ERR_PROTOCOL_VERSION',
  TASKS_FAILED: 'TG_ERR_TASKS_FAILED',
  JOB_CANCELLED: 'TG_ERR_JOB_CANCELLED',
  DISCONNECTED: 'TG_ERR_DISCONNECTED',
  INTERNAL: 'TG_ERR_INTERNAL',
  /** No such route (or method on it). */
  NOT_FOUND: 'TG_ERR_NOT_FOUND',
  /** A body over the documented size limit. */
  PAYLOAD_TOO_LARGE: 'TG_ERR_PAYLOAD_TOO_LARGE',
  UNSUPPORTED_MEDIA_TYPE: 'TG_ERR_UNSUPPORTED_MEDIA_TYPE',
  URI_TOO_LONG: 'TG_ERR_URI_TOO_LONG',
  HEADERS_TOO_LARGE: 'TG_ERR_HEADERS_TOO_LARGE',
  /** Too many failed authentications, uploads at once, …: wait `Retry-After` seconds. */
  RATE_LIMITED: 'TG_ERR_RATE_LIMITED',
  /** A socket holds the most stream subscriptions it may: unsubscribe one first. */
  TOO_MANY_SUBSCRIPTIONS: 'TG_ERR_TOO_MANY_SUBSCRIPTIONS',
  /** The request (headers or body) did not arrive within the server's request timeout. */
  REQUEST_TIMEOUT: 'TG_ERR_REQUEST_TIMEOUT',
  /** A message (`job.tell`) to a job that is done or cancelled: messages reach only running jobs. */
  JOB_FINISHED: 'TG_ERR_JOB_FINISHED',
  /** A per-job or per-owner count is used up (messages per job, notes). */
  LIMIT_REACHED: 'TG_ERR_LIMIT_REACHED',
  /**
   * A task, args or result JSON cannot carry faithfully (undefined, NaN, a Date, a Map, a cycle,
   * …): the message names the path and what to send instead (faithful-json.ts).
   */
  UNFAITHFUL_VALUE: 'TG_ERR_UNFAITHFUL_VALUE',
  /** One task of a pool call failed (`pool.map`, `imap`, …): the error names its index and stack. */
  TASK_FAILED: 'TG_ERR_TASK_FAILED',
  /** A wait with a time limit (`handle.get({ timeoutMs })`) ran out; what it waited for goes on. */
  WAIT_TIMEOUT: 'TG_ERR_WAIT_TIMEOUT',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** The HTTP status that goes with each code. */
export const ERROR_STATUS: Record<ErrorCode, number> = {
  TG_ERR_UNAUTHORIZED: 401,
  TG_ERR_FORBIDDEN: 403,
  TG_ERR_JOB_NOT_FOUND: 404,
  TG_ERR_KEY_NOT_FOUND: 404,
  TG_ERR_JOB_NOT_OPEN: 409,
  TG_ERR_INVALID_PROGRAM: 400,
  TG_ERR_INVALID_REQUEST: 400,
  TG_ERR_INVALID_TASK: 400,
  TG_ERR_PROTOCOL: 400,
  TG_ERR_PROTOCOL_VERSION: 400,
  TG_ERR_TASKS_FAILED: 422,
  TG_ERR_JOB_CANCELLED: 409,
  TG_ERR_DISCONNECTED: 503,
  TG_ERR_INTERNAL: 500,
  TG_ERR_NOT_FOUND: 404,
  TG_ERR_PAYLOAD_TOO_LARGE: 413,
  TG_ERR_UNSUPPORTED_MEDIA_TYPE: 415,
  TG_ERR_URI_TOO_LONG: 414,
  TG_ERR_HEADERS_TOO_LARGE: 431,
  TG_ERR_RATE_LIMITED: 429,
  TG_ERR_TOO_MANY_SUBSCRIPTIONS: 429,
  TG_ERR_REQUEST_TIMEOUT: 408,
  TG_ERR_JOB_FINISHED: 409,
  TG_ERR_LIMIT_REACHED: 409,
  TG_ERR_UNFAITHFUL_VALUE: 400,
  TG_ERR_TASK_FAILED: 422,
  TG_ERR_WAIT_TIMEOUT: 408,
};

/** Every code of {@link ErrorCode} as a schema. */
export const ErrorCodeSchema = Type.Union(
  Object.values(ErrorCode).map((code) => Type.Literal(code)),
  { description: 'Which error this is (see the README); one code always means the same thing.' },
);

/** The `error` of an {@link ErrorBody}. */
export const ErrorDetail = Type.Object({
  code: ErrorCodeSchema,
  message: Type.String({ description: 'What went wrong and what to do about it.' }),
});

/**
 * The JSON body of every error answer (REST, and the `error` of a socket.io ack).
 * Decode a received one with `decodeErrorBody` (`@tabgrid/protocol/http`).
 *
 * @example
 * { "error": { "code": "TG_ERR_JOB_NOT_FOUND", "message": "No job j1: list your jobs with tg.jobs()." } }
 */
export const ErrorBody = Type.Object(
  { error: ErrorDetail },
  { description: 'The body of every error answer.' },
);
export type ErrorBody = Static<typeof ErrorBody>;

/**
 * An error body as a client receives it: the code is any `TG_ERR_…` word, so a client older
 * than the server still reads a code added since (as TG_ERR_INTERNAL, with the server's message
 * and code quoted: see {@link errorFromBody}). What the server sends is {@link ErrorBody}.
 */
export const ReceivedErrorDetail = Type.Object({
  code: Type.String({ pattern: '^TG_ERR_[A-Z0-9_]+$', maxLength: 100 }),
  message: Type.String(),
});
export const ReceivedErrorBody = Type.Object({ error: ReceivedErrorDetail });
export type ReceivedErrorBody = Static<typeof ReceivedErrorBody>;

/**
 * An error with a code from {@link ErrorCode}. Thrown by the server's handlers and by the SDK.
 *
 * @example
 * throw new TabgridError(ErrorCode.JOB_NOT_FOUND, `No job ${id}: list your jobs with tg.jobs().`);
 */
export class TabgridError extends Error {
  override name = 'TabgridError';
  readonly status: number;
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
    this.status = ERROR_STATUS[code];
  }

  toBody(): ErrorBody {
    return { error: { code: this.code, message: this.message } };
  }
}

/**
 * `error` if it is a {@link TabgridError}, else one with `code` and its message: for `catch`
 * blocks around a decoder, which throws only TabgridErrors, without a cast.
 */
export function asTabgridError(error: unknown, code: ErrorCode = ErrorCode.INTERNAL): TabgridError {
  if (error instanceof TabgridError) return error;
  return new TabgridError(code, error instanceof Error ? error.message : String(error));
}

const KNOWN_CODES: ReadonlySet<string> = new Set(Object.values(ErrorCode));

function isErrorCode(code: string): code is ErrorCode {
  return KNOWN_CODES.has(code);
}

/**
 * Rebuilds a {@link TabgridError} from an error body received over the wire. A code this
 * client does not know (a newer server) becomes TG_ERR_INTERNAL quoting it: upgrade the client.
 */
export function errorFromBody(body: ReceivedErrorBody): TabgridError {
  const { code, message } = body.error;
  if (isErrorCode(code)) return new TabgridError(code, message);
  return new TabgridError(
    ErrorCode.INTERNAL,
    `${message} (server error code ${code}, unknown to this client: upgrade @tabgrid/sdk)`,
  );
}
