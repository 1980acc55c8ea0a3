import { ErrorCode, TabgridError } from '@tabgrid/protocol/errors';

/**
 * A request body as JSON, whatever its Content-Type says: CrowdProcess's Python client sends
 * none. An empty body is `{}`.
 */
export function jsonBody(raw: unknown): unknown {
  if (typeof raw !== 'string') return raw ?? {};
  if (raw.trim() === '') return {};
  try {
    return JSON.parse(raw);
  } catch {
    throw new TabgridError(ErrorCode.INVALID_REQUEST, 'The request body is not valid JSON.');
  }
}
