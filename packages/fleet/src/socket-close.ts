import WebSocket from 'ws';

/** A clean close that gets no answer is cut after this. */
const CLOSE_GRACE_MS = 1_000;

/**
 * Ends `socket`: abruptly (`terminate()`: no close frame) when `terminate` is set or the socket
 * is not open, else with a close frame, cut after a grace period if the peer never answers.
 * Says which it was, with a promise that resolves once the socket is closed.
 */
export function endSocket(
  socket: WebSocket,
  terminate: boolean,
  code: number,
  reason: string,
): { abrupt: boolean; closed: Promise<void> } {
  const closed = new Promise<void>((resolve) => {
    if (socket.readyState === WebSocket.CLOSED) return resolve();
    socket.once('close', () => resolve());
  });
  const abrupt = terminate || socket.readyState !== WebSocket.OPEN;
  if (abrupt) socket.terminate();
  else {
    socket.close(code, reason);
    // A peer that never answers the close frame does not hold us up.
    const cut = setTimeout(() => socket.terminate(), CLOSE_GRACE_MS);
    socket.once('close', () => clearTimeout(cut));
  }
  return { abrupt, closed };
}
