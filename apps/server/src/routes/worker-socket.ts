import type { FastifyInstance } from 'fastify';
import { encodeBinaryFrame, hasBytes } from '@tabgrid/protocol/binary-frame';
import { TabgridError } from '@tabgrid/protocol/errors';
import {
  WORKER_SOCKET_PATH,
  WorkerCloseCode,
  decodeWorkerToServer,
} from '@tabgrid/protocol/worker';
import type { IncomingMessage } from 'node:http';
import { fromOpaqueOrigin, opaqueOriginRefused } from '../job-code-policy.js';
import type { Scheduler } from '../scheduler/scheduler.js';

/** A dead connection is noticed within two of these. */
const HEARTBEAT_MS = 5_000;
/** Largest frame a worker may send (an outcomes batch with big results). */
const MAX_FRAME_BYTES = 64 * 1024 * 1024;

/** WebSocket close reasons are limited to 123 bytes. */
function closeReason(text: string): string {
  return Buffer.byteLength(text) <= 123
    ? text
    : `${Buffer.from(text).subarray(0, 120).toString()}...`;
}

/**
 * The raw WebSocket the volunteers' tabs connect to. Every frame is decoded and validated by
 * the protocol package; a malformed or unknown frame closes that connection (code 4000, with the
 * reason) and nothing else. Workers are pinged; one that misses a heartbeat is dropped and its
 * tasks go back to the queue.
 */
export function workerSocketRoutes(app: FastifyInstance, scheduler: Scheduler): void {
  app.get(WORKER_SOCKET_PATH, { websocket: true }, (socket, request) => {
    const worker = scheduler.dispatcher.connect({
      address: request.ip,
      // A frame carrying typed arrays goes binary, so their bytes travel raw, not as base64.
      send: (frame) => socket.send(hasBytes(frame) ? encodeBinaryFrame(frame) : frame),
      close: (code, reason) => socket.close(code, closeReason(reason)),
      isOpen: () => socket.readyState === socket.OPEN,
    });
    let alive = true;
    const heartbeat = setInterval(() => {
      if (!alive) {
        socket.terminate();
        return;
      }
      alive = false;
      socket.ping();
    }, HEARTBEAT_MS);
    socket.on('pong', () => (alive = true));

    socket.on('message', (data, isBinary) => {
      alive = true;
      try {
        // Text frames arrive as one Buffer; binary ones carry typed arrays (binary-frame.ts).
        const msg = decodeWorkerToServer(isBinary ? data : (data as Buffer).toString('utf8'));
        scheduler.dispatcher.handle(worker, msg);
      } catch (err) {
        const reason =
          err instanceof TabgridError ? err.message : 'Internal error handling the frame.';
        if (!(err instanceof TabgridError)) app.log.error(err, 'worker frame failed');
        socket.close(WorkerCloseCode.PROTOCOL_ERROR, closeReason(reason));
      }
    });
    socket.on('close', () => {
      clearInterval(heartbeat);
      scheduler.dispatcher.disconnect(worker);
    });
  });
}

export const workerSocketOptions = {
  maxPayload: MAX_FRAME_BYTES,
  verifyClient: (
    { req }: { req: IncomingMessage },
    accept: (ok: boolean, code?: number, message?: string) => void,
  ) => {
    if (!fromOpaqueOrigin(req.headers)) return accept(true);
    accept(false, 403, opaqueOriginRefused().message);
  },
};
