import type { FastifyInstance } from 'fastify';
import type { RawData, WebSocket } from 'ws';
import { encodeFrames } from '@tabgrid/protocol/binary-frame';
import { TabgridError } from '@tabgrid/protocol/errors';
import {
  WORKER_LIMITS,
  WORKER_SOCKET_PATH,
  WorkerCloseCode,
  decodeWorkerToServer,
} from '@tabgrid/protocol/worker';
import type { IncomingMessage } from 'node:http';
import { fromOpaqueOrigin, opaqueOriginRefused } from '../job-code-policy.js';
import type { Grid } from '../core/grid.js';
import { FramePump } from './frame-pump.js';
import { ReportBudget, looksLikeReport } from './report-budget.js';

/** A dead connection is noticed within two of these. */
const HEARTBEAT_MS = 5_000;
/**
 * Largest frame a worker may send. `ws` buffers a whole frame before handing it over, so this
 * is memory an anonymous socket can make the server hold: 16 MB (WORKER_LIMITS.maxFrameBytes)
 * fits an outcomes batch with big results, and times the per-address socket cap stays bounded.
 */
const MAX_FRAME_BYTES = WORKER_LIMITS.maxFrameBytes;
/** Largest report frame: read in slices by the FramePump, each costs the loop a few ms. */
const MAX_REPORT_FRAME_BYTES = WORKER_LIMITS.maxReportFrameBytes;
/**
 * Frames larger than this (outcomes with big results or collected series: up to 16 MB) are read
 * by the FramePump too, whatever their type: decoding one costs the loop tens of milliseconds,
 * and several sockets can complete one in the same poll, so read there and then their costs
 * add up (three hostile pages' 8 MB series outcomes held the loop for 110 ms). The pump reads
 * at most one of them per turn and lets timers and I/O run in between.
 */
export const PUMPED_FRAME_BYTES = 1024 * 1024;
/**
 * A connection with this much waiting to be read has its next report frames dropped unread
 * (like those over its budget): a page that reports faster than the pump reads only fills
 * memory.
 */
export const REPORT_BACKLOG_BYTES = 1024 * 1024;
/**
 * Most worker sockets one remote address may hold open (a lab of tabs behind one NAT is
 * fine; one host opening thousands of sockets, each able to buffer a 16 MB frame, is not).
 */
export const DEFAULT_MAX_WORKERS_PER_ADDRESS = 256;
/** A socket that has not said hello by then is closed: it holds a slot of its address. */
export const DEFAULT_HELLO_TIMEOUT_MS = 10_000;
/** WebSocket close code for "the server failed" (RFC 6455). */
const INTERNAL_ERROR = 1011;
/** Most characters of an unexpected error's message and stack that reach the log. */
const LOGGED_CHARS = 2_000;

export interface WorkerSocketOptions {
  /** Default {@link DEFAULT_MAX_WORKERS_PER_ADDRESS}. */
  maxWorkersPerAddress?: number;
  /** Default {@link DEFAULT_HELLO_TIMEOUT_MS}. */
  helloTimeoutMs?: number;
}

/** Open sockets per remote address, at most `max` each. */
class AddressSlots {
  private readonly open = new Map<string, number>();
  constructor(readonly max: number) {}

  /** Takes a slot for `address`; false when it has none left. */
  take(address: string): boolean {
    const open = this.open.get(address) ?? 0;
    if (open >= this.max) return false;
    this.open.set(address, open + 1);
    return true;
  }

  give(address: string): void {
    const left = (this.open.get(address) ?? 1) - 1;
    if (left > 0) this.open.set(address, left);
    else this.open.delete(address);
  }
}

/** A frame as the socket delivered it, and whether it began as a report frame does. */
interface Frame {
  data: RawData;
  isBinary: boolean;
  report: boolean;
}

/** WebSocket close reasons are limited to 123 bytes. */
function closeReason(text: string): string {
  return Buffer.byteLength(text) <= 123
    ? text
    : `${Buffer.from(text).subarray(0, 120).toString()}...`;
}

function byteLength(data: RawData): number {
  if (Array.isArray(data)) return data.reduce((sum, part) => sum + part.length, 0);
  return data.byteLength;
}

/** An unexpected error, cut to a size fit for a log line (its message may quote a frame). */
function forLog(err: unknown): { name: string; message: string; stack?: string } {
  if (!(err instanceof Error)) return { name: typeof err, message: '(not an Error)' };
  return {
    name: err.name.slice(0, 100),
    message: err.message.slice(0, LOGGED_CHARS),
    stack: err.stack?.slice(0, LOGGED_CHARS),
  };
}

/**
 * The raw WebSocket the volunteers' tabs connect to. Anyone may open it, so every frame is
 * hostile until decoded: frames are size-bounded (16 MB, and 16 KB until `hello` is accepted),
 * decoded and validated by the protocol package, and a malformed, oversized or unknown frame
 * closes that connection (4000 or 1009, with the reason) and nothing else. No frame can throw
 * out of the handler. Report frames (256 KB at most, within a per-connection byte budget) are
 * read a slice at a time by the FramePump, so no page can stall the loop with them. Each remote address (Fastify's `request.ip`, so the forwarded one when
 * `trustProxy` is set) may hold a bounded number of sockets. Workers are pinged; one that
 * misses a heartbeat is dropped and its tasks go back to the queue.
 */
export function workerSocketRoutes(
  app: FastifyInstance,
  grid: Grid,
  options: WorkerSocketOptions = {},
): void {
  const slots = new AddressSlots(options.maxWorkersPerAddress ?? DEFAULT_MAX_WORKERS_PER_ADDRESS);
  const helloTimeoutMs = options.helloTimeoutMs ?? DEFAULT_HELLO_TIMEOUT_MS;
  const pump = new FramePump();

  app.get(WORKER_SOCKET_PATH, { websocket: true }, (socket, request) => {
    const address = request.ip;
    if (!slots.take(address)) {
      socket.close(
        WorkerCloseCode.TOO_MANY_SOCKETS,
        closeReason(`Too many worker sockets from one address (${slots.max}); retry later.`),
      );
      return;
    }
    // First of all, so the slot is given back whatever happens next.
    socket.once('close', () => slots.give(address));

    const close = (code: number, reason: string) => socket.close(code, closeReason(reason));
    /** Logs an unexpected error (never the frame) and closes this socket only. */
    const fail = (err: unknown, doing: string) => {
      app.log.error({ err: forLog(err), address }, `worker socket failed ${doing}`);
      close(INTERNAL_ERROR, 'Internal error; see the server log.');
    };
    const worker = grid.connectWorker({
      send: (frame) => send(socket, frame, (err) => fail(err, 'sending a frame')),
      close,
      isOpen: () => socket.readyState === socket.OPEN,
      address,
    });

    const reportBudget = new ReportBudget(Date.now());
    let alive = true;
    const heartbeat = setInterval(() => {
      if (!alive) {
        socket.terminate();
        return;
      }
      alive = false;
      socket.ping();
    }, HEARTBEAT_MS);
    const helloDeadline = setTimeout(() => {
      if (!worker.ready) {
        close(WorkerCloseCode.PROTOCOL_ERROR, `No hello within ${helloTimeoutMs} ms.`);
      }
    }, helloTimeoutMs);
    socket.on('pong', () => (alive = true));

    /** Decodes one frame and hands it to the grid; never throws. */
    const read = ({ data, isBinary, report }: Frame) => {
      // Frames that were already on their way when this socket began closing: no work for them.
      if (socket.readyState !== socket.OPEN) return;
      try {
        // Text frames arrive as one Buffer; binary ones carry typed arrays (binary-frame.ts).
        const msg = decodeWorkerToServer(isBinary ? data : (data as Buffer).toString('utf8'));
        if (msg.type === 'report' && !report) {
          close(
            WorkerCloseCode.PROTOCOL_ERROR,
            'A report frame\'s JSON must begin with {"type":"report" (as the worker page writes it).',
          );
          return;
        }
        grid.handleWorker(worker, msg);
      } catch (err) {
        if (err instanceof TabgridError) close(WorkerCloseCode.PROTOCOL_ERROR, err.message);
        else fail(err, 'handling a frame');
      }
    };
    const inbox = pump.inbox(read);

    socket.on('message', (data, isBinary) => {
      if (socket.readyState !== socket.OPEN) return;
      alive = true;
      try {
        arrive(data, isBinary);
      } catch (err) {
        fail(err, 'receiving a frame');
      }
    });
    /** A frame arrived: checked for size and budget, then read now or queued behind others. */
    const arrive = (data: RawData, isBinary: boolean) => {
      const bytes = byteLength(data);
      if (!worker.ready && bytes > WORKER_LIMITS.maxPreHelloFrameBytes) {
        close(
          WorkerCloseCode.FRAME_TOO_LARGE,
          `A frame before hello may hold ${WORKER_LIMITS.maxPreHelloFrameBytes} bytes at most.`,
        );
        return;
      }
      const report = worker.ready && looksLikeReport(data, isBinary);
      if (report) {
        if (bytes > MAX_REPORT_FRAME_BYTES) {
          close(
            WorkerCloseCode.FRAME_TOO_LARGE,
            `A report frame may hold ${MAX_REPORT_FRAME_BYTES} bytes at most; split it.`,
          );
          return;
        }
        // Reports beyond this connection's budget, or behind a backlog, are dropped before they
        // cost a parse.
        if (inbox.waiting > REPORT_BACKLOG_BYTES || !reportBudget.take(bytes, Date.now())) {
          grid.reportUnread(worker);
          return;
        }
      }
      // Reports and big frames are read by the pump, and so is every frame behind one (order
      // holds); the plain path (a small frame, nothing waiting) is read here and now.
      if (!report && bytes <= PUMPED_FRAME_BYTES && inbox.empty) {
        return read({ data, isBinary, report });
      }
      if (!inbox.push({ data, isBinary, report }, bytes)) {
        close(
          WorkerCloseCode.FRAME_TOO_LARGE,
          'Too many frames waiting to be read on this connection; send fewer reports.',
        );
      }
    };
    socket.on('close', () => {
      inbox.clear();
      clearInterval(heartbeat);
      clearTimeout(helloDeadline);
      try {
        grid.disconnectWorker(worker);
      } catch (err) {
        app.log.error({ err: forLog(err), address }, 'worker socket failed disconnecting');
      }
    });
  });
}

/**
 * Sends one frame: binary when it carries typed arrays, so their bytes travel raw (as several
 * frames when it holds more than one binary frame may: see encodeFrames).
 */
function send(
  socket: WebSocket,
  frame: string | Uint8Array,
  onError: (err: unknown) => void,
): void {
  try {
    // A binary frame (tasks with packed inputs) goes as it is.
    if (typeof frame !== 'string') return socket.send(frame);
    for (const part of encodeFrames(frame)) socket.send(part);
  } catch (err) {
    onError(err);
  }
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
