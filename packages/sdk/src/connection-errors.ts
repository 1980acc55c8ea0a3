/**
 * What the SDK's connection says when something goes wrong: a drop before an answer, a refused
 * handshake, an address that cannot work, an error answer. Each a TabgridError with its code
 * and what to do.
 */
import { ErrorCode, TabgridError, errorFromBody } from '@tabgrid/protocol/errors';
import { decodeErrorBody } from '@tabgrid/protocol/http';
import { decodeSdkAck, type SdkRequestName, type SdkResponses } from '@tabgrid/protocol/sdk';

/**
 * The connection dropped before the server answered a request (code DISCONNECTED): the
 * request may or may not have taken effect.
 */
export class ConnectionLostError extends TabgridError {
  constructor(message: string) {
    super(ErrorCode.DISCONNECTED, message);
  }
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

/** The {@link TabgridError} an `{ error: { code, message } }` body describes, if it is one. */
function bodyError(body: unknown): TabgridError | undefined {
  if (body === undefined) return undefined;
  try {
    return errorFromBody(decodeErrorBody(body));
  } catch {
    return undefined;
  }
}

/**
 * The `data` of an acknowledgement, decoded by the protocol; an error answer is thrown with the
 * server's code, a malformed one as TG_ERR_PROTOCOL naming what is wrong.
 */
export function unwrapAnswer<E extends SdkRequestName>(event: E, answer: unknown): SdkResponses[E] {
  const decoded = decodeSdkAck[event](answer);
  if (decoded.ok) return decoded.data;
  throw errorFromBody(decoded);
}

/** Why the server refused the handshake (`connect_error` from its middleware). */
export function refusal(error: Error & { data?: unknown }): TabgridError {
  const fromBody = bodyError(error.data);
  if (/unauthori[sz]ed/i.test(error.message) || fromBody?.code === ErrorCode.UNAUTHORIZED) {
    return new TabgridError(
      ErrorCode.UNAUTHORIZED,
      'The server refused the token: pass { token } or set TABGRID_TOKEN (printed by `npm start`).',
    );
  }
  return (
    fromBody ??
    new TabgridError(ErrorCode.DISCONNECTED, `The server refused the connection: ${error.message}`)
  );
}

/** What a socket error code says about the address, for the codes that fail at once. */
const UNREACHABLE: Readonly<Record<string, string>> = {
  ECONNREFUSED: 'the connection was refused (nothing listens there)',
  ENOTFOUND: 'its host name does not resolve',
  EAI_AGAIN: 'its host name does not resolve (now)',
};

/**
 * The error to fail waiting requests with when a connect attempt says the server cannot be
 * reached at all, else undefined. Node's socket error (its `code`) is in the transport error's
 * `description.error`; browsers tell nothing of the kind, so there the connect timeout decides.
 */
export function unreachableError(
  error: Error & { description?: unknown },
  url: string,
): TabgridError | undefined {
  const why = unreachableWhy(error);
  if (why === undefined) return undefined;
  return new TabgridError(
    ErrorCode.DISCONNECTED,
    `Cannot reach the Tabgrid server at ${url}: ${why}. Start the server (\`npm start\`), or point the client at the right address: { url }, TABGRID_URL, or --url on the CLI.`,
  );
}

/** Why a connect attempt cannot work at this address (nothing listens, no such host), if so. */
export function unreachableWhy(error: Error & { description?: unknown }): string | undefined {
  const description = error.description;
  const cause = isRecord(description) ? description.error : undefined;
  if (!isRecord(cause) || typeof cause.code !== 'string') return undefined;
  const why = UNREACHABLE[cause.code];
  if (why === undefined) return undefined;
  return typeof cause.message === 'string' ? `${why} (${cause.message})` : why;
}
