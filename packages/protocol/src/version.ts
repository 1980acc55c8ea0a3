/**
 * Version of the wire protocol spoken between workers, SDKs and the server.
 * Bump it on any incompatible change to a message in this package; peers with a
 * different version are refused with {@link ErrorCode.PROTOCOL_VERSION}.
 *
 * @example
 * ws.send(JSON.stringify({ type: 'hello', protocol: PROTOCOL_VERSION, threads: 4, userAgent }));
 */
export const PROTOCOL_VERSION = 2;
