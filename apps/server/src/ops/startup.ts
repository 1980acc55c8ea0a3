/**
 * What the operator reads when the server cannot start or stops: one line each, with a code, and
 * what to do. Server-side only (nothing here crosses the wire, so not in the protocol's codes).
 */
export const StartupCode = {
  /** The environment holds a setting the server cannot use. */
  CONFIG: 'TG_ERR_CONFIG',
  /** Another process listens on the port already. */
  PORT_IN_USE: 'TG_ERR_PORT_IN_USE',
  /** The system refused the port (below 1024 without the privilege) or the address. */
  LISTEN_REFUSED: 'TG_ERR_LISTEN_REFUSED',
  /** The data directory or its database could not be opened. */
  STORE: 'TG_ERR_STORE',
} as const;
export type StartupCode = (typeof StartupCode)[keyof typeof StartupCode];

/** `err` from `listen()` as one line with its code, or undefined when it is no listen error. */
export function listenFailure(
  err: unknown,
  host: string,
  port: number,
): { code: StartupCode; message: string } | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  if (code === 'EADDRINUSE') {
    return {
      code: StartupCode.PORT_IN_USE,
      message: `cannot start: port ${port} on ${host} is in use (another Tabgrid, or another program, listens there). Stop it, or start this one on another port: PORT=${port === 8080 ? 8081 : port + 1}.`,
    };
  }
  if (code === 'EACCES' || code === 'EADDRNOTAVAIL') {
    return {
      code: StartupCode.LISTEN_REFUSED,
      message:
        code === 'EACCES'
          ? `cannot start: not allowed to listen on port ${port} (ports below 1024 need privileges). Use PORT=8080 behind a reverse proxy.`
          : `cannot start: ${host} is no address of this machine. Set HOST to one of its addresses, 127.0.0.1, or 0.0.0.0 for all.`,
    };
  }
  return undefined;
}
