/**
 * The error answers of each route, for its `schema.response`: one ErrorBody schema for every
 * error status, each described with the codes it may carry. The statuses every route can answer
 * (opaque origin, URL or headers too large, too slow, a bug) come with every route.
 */
import { ERROR_STATUS, ErrorCode } from '@tabgrid/protocol/errors';
import { ERROR_BODY_REF } from './shared-schemas.js';

/** The statuses an error answer may have: those of the protocol's codes. */
export type ErrorStatus = 400 | 401 | 403 | 404 | 408 | 409 | 413 | 414 | 429 | 431 | 500;

/**
 * What a route adds to its error answers: per status, why, and the codes it may carry (default:
 * every code of that status).
 */
export type RouteErrors = Partial<Record<ErrorStatus, string | [string, ...ErrorCode[]]>>;

/** Answered for any route, whether it needs credentials or not. */
const ANY_ROUTE: RouteErrors = {
  403: [
    'Requests from an opaque origin (`Origin: null`: job code, a file:// page) are refused.',
    ErrorCode.FORBIDDEN,
  ],
  408: 'The request (headers and body) did not arrive within the request timeout (120 s by default).',
  414: 'The URL is over 8 KB: send large values in the body.',
  431: 'The request line and headers are over 16 KB.',
  500: 'A bug: the server log says more.',
};

/** Answered for every route that needs credentials. */
const AUTHENTICATED: RouteErrors = {
  401: 'Missing or invalid credentials.',
  429: [
    'Too many failed authentications from this address lately: wait `Retry-After` seconds.',
    ErrorCode.RATE_LIMITED,
  ],
};

/** Answered for routes that read a body. */
const WITH_BODY: RouteErrors = {
  413: ['The body is over 16 MB.', ErrorCode.PAYLOAD_TOO_LARGE],
};

/** Every code of `status`, for a reason that does not name its own. */
function codesOf(status: number): ErrorCode[] {
  return Object.values(ErrorCode).filter((code) => ERROR_STATUS[code] === status);
}

export interface ErrorResponseOptions {
  /** Needs credentials (every `/api/` route but the OpenAPI document). Default true. */
  authenticated?: boolean;
  /** Reads a body (POST, DELETE). Default false. */
  body?: boolean;
}

/** `schema.response` entries for the errors of a route: `errors` plus the common ones. */
export function errorResponses(
  errors: RouteErrors,
  { authenticated = true, body = false }: ErrorResponseOptions = {},
): Record<string, { description: string; $ref: string }> {
  const parts: RouteErrors[] = [errors, ...(authenticated ? [AUTHENTICATED] : [])];
  if (body) parts.push(WITH_BODY);
  parts.push(ANY_ROUTE);
  const why = new Map<number, string[]>();
  const codes = new Map<number, Set<ErrorCode>>();
  for (const part of parts) {
    for (const [key, entry] of Object.entries(part)) {
      const status = Number(key);
      const [text, ...named] = typeof entry === 'string' ? [entry] : entry;
      why.set(status, [...(why.get(status) ?? []), text]);
      const set = codes.get(status) ?? new Set<ErrorCode>();
      for (const code of named.length > 0 ? named : codesOf(status)) set.add(code);
      codes.set(status, set);
    }
  }
  const out: Record<string, { description: string; $ref: string }> = {};
  for (const status of [...why.keys()].sort((a, b) => a - b)) {
    const list = [...codes.get(status)!].map((code) => `\`${code}\``).join(', ');
    out[status] = {
      description: `${why.get(status)!.join(' Or: ')} Codes: ${list}.`,
      $ref: ERROR_BODY_REF,
    };
  }
  return out;
}
