import type { FastifyRequest } from 'fastify';
import { ErrorCode, TabgridError } from '@tabgrid/protocol/errors';
import type { AuthThrottle } from '../auth/auth-throttle.js';
import type { KeyRing } from '../auth/key-ring.js';
import type { Caller } from '../core/grid.js';

/** The secret (and, for Basic, the key's name) from `Token`, `Bearer` or `Basic` authorization. */
export function credentialsFromHeader(
  header: string | undefined,
): { secret: string; name?: string } | undefined {
  const match = /^(Bearer|Token|Basic)\s+(\S+)$/i.exec(header ?? '');
  if (!match) return undefined;
  const [, scheme, value] = match as unknown as [string, string, string];
  if (scheme.toLowerCase() !== 'basic') return { secret: value };
  const decoded = Buffer.from(value, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  return { name: decoded.slice(0, colon), secret: decoded.slice(colon + 1) };
}

/**
 * The caller an Authorization header belongs to, or TG_ERR_UNAUTHORIZED; an `address` that
 * failed too often lately gets TG_ERR_RATE_LIMITED instead, whatever it sends.
 */
export function authenticate(
  keys: KeyRing,
  header: string | undefined,
  throttle: AuthThrottle,
  address: string,
): Caller {
  throttle.check(address);
  const credentials = credentialsFromHeader(header);
  const caller = credentials && keys.verify(credentials.secret, credentials.name);
  if (!caller) {
    throttle.failed(address);
    throw unauthorized();
  }
  return caller;
}

/** The authenticated caller; refuses (rather than seeing everything) if the auth hook was skipped. */
export function callerOf(request: FastifyRequest): Caller {
  if (!request.caller) throw unauthorized();
  return request.caller;
}

export function unauthorized(): TabgridError {
  return new TabgridError(
    ErrorCode.UNAUTHORIZED,
    'Missing or invalid credentials: send "Authorization: Bearer <secret>" (or "Token <secret>", or Basic NAME:SECRET). The admin token is printed by `npm start` and saved in the data dir.',
  );
}

export function viewerCannotChange(): TabgridError {
  return new TabgridError(
    ErrorCode.FORBIDDEN,
    'This key is a viewer: it can read but not change anything. Use a client or admin key.',
  );
}

export function adminOnly(): TabgridError {
  return new TabgridError(ErrorCode.FORBIDDEN, 'Only an admin key can manage keys.');
}
