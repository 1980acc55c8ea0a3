/**
 * Where a worker is: `idle` (never started), `connecting` (socket opening or waiting for
 * `welcome`), `ready` (welcomed: takes tasks), `waiting` (disconnected, reconnect scheduled),
 * `down` (disconnected for good until `start()`).
 */
export type SimWorkerState = 'idle' | 'connecting' | 'ready' | 'waiting' | 'down';

/**
 * How a connection ended: `stopped` (`stop()`), `killed` (`kill()`), `died` (`dieMidTask`),
 * `dropped` (`drop()`, storms), `handedBack` (`handBack()`), `server` (the server closed it),
 * `error` (network failure, or it could not connect), `protocol` (the server sent an invalid frame).
 */
export type CloseCause =
  'stopped' | 'killed' | 'died' | 'dropped' | 'handedBack' | 'server' | 'error' | 'protocol';

/** How `SimWorker.drop` ends a connection: abruptly, with a close frame, or like a tab's `pagehide`. */
export type DropMode = 'terminate' | 'close' | 'handBack';
