import { ErrorCode, TabgridError } from '@tabgrid/protocol/errors';
import { checkBodyDepth } from './bounds.js';

/**
 * A request body as JSON, whatever its Content-Type says: CrowdProcess's Python client sends
 * none. An empty body is `{}`. Nesting is bounded before parsing (see bounds.ts).
 */
export function jsonBody(raw: unknown): unknown {
  if (typeof raw !== 'string') return raw ?? {};
  if (raw.trim() === '') return {};
  checkBodyDepth(raw);
  try {
    return JSON.parse(raw);
  } catch {
    throw new TabgridError(ErrorCode.INVALID_REQUEST, 'The request body is not valid JSON.');
  }
}
