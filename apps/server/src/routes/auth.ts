import { timingSafeEqual } from 'node:crypto';
import { ErrorCode, TabgridError } from '@tabgrid/protocol/errors';
import type { Caller } from '../scheduler/scheduler.js';

/** Decides who a token belongs to. The API-keys work replaces this with a key table. */
export interface Authenticator {
  /** The caller for `token`, or undefined when the token is not valid. */
  verify(token: string | undefined): Caller | undefined;
}

export function adminTokenAuthenticator(adminToken: string): Authenticator {
  const expected = Buffer.from(adminToken);
  return {
    verify(token) {
      if (!token) return undefined;
      const given = Buffer.from(token);
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
      return { owner: 'admin', admin: true };
    },
  };
}

/** Pulls the secret out of `Authorization: Bearer …` or `Authorization: Token …`. */
export function tokenFromHeader(header: string | undefined): string | undefined {
  const match = /^(?:Bearer|Token)\s+(\S+)$/i.exec(header ?? '');
  return match?.[1];
}

export function unauthorized(): TabgridError {
  return new TabgridError(
    ErrorCode.UNAUTHORIZED,
    'Missing or invalid token: send "Authorization: Bearer <token>" (the admin token is printed by `npm start` and saved in the data dir).',
  );
}
