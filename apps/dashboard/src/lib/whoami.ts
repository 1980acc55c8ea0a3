/**
 * Who a token belongs to (`GET /api/whoami`), so the UI can hide what the key may not do.
 * The server still refuses (403) whatever a role may not do: hiding is only courtesy.
 */
import { decodeErrorBody } from '@tabgrid/protocol/http';
import { decodeWhoAmI, type WhoAmI } from '@tabgrid/protocol/keys';

export type Identity = WhoAmI;

export type WhoAmIResult =
  | { kind: 'ok'; identity: Identity }
  /** The server does not know this endpoint: the role is unknown, show everything. */
  | { kind: 'unknown' }
  | { kind: 'refused'; message: string }
  | { kind: 'unreachable'; message: string };

export async function whoami(
  origin: string,
  token: string,
  fetchImpl: typeof fetch = fetch,
): Promise<WhoAmIResult> {
  let res: Response;
  try {
    res = await fetchImpl(new URL('/api/whoami', origin), {
      headers: { authorization: `Bearer ${token}` },
    });
  } catch (err) {
    return {
      kind: 'unreachable',
      message: `Cannot reach the Tabgrid server at ${origin} (${(err as Error).message}). Is it running?`,
    };
  }
  if (res.status === 401) {
    return {
      kind: 'refused',
      message:
        'The server refused this token. Paste an API key: the admin token is printed by `npm start`.',
    };
  }
  if (res.status === 404) return { kind: 'unknown' };
  if (!res.ok) {
    // The server's own words when it sent an error body (429: wait, say); the status otherwise.
    const why = await serverMessage(res);
    return {
      kind: 'unreachable',
      message: `The server answered HTTP ${res.status}${why ? ` (${why})` : ''}; retrying. See the server log if this lasts.`,
    };
  }
  try {
    return { kind: 'ok', identity: decodeWhoAmI(await res.json()) };
  } catch {
    return { kind: 'unknown' };
  }
}

/** The message of an error answer's body, decoded by the protocol; undefined if it has none. */
async function serverMessage(res: Response): Promise<string | undefined> {
  try {
    return decodeErrorBody(await res.json()).error.message;
  } catch {
    return undefined;
  }
}
