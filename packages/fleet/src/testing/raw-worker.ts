/**
 * A bare worker socket for hostile tests: says hello with whatever it claims, then sends any
 * frame the test writes, valid for the protocol or forged, and records what comes back.
 */
import WebSocket from 'ws';
import { PROTOCOL_VERSION } from '@tabgrid/protocol/version';
import { decodeServerToWorker, type ServerToWorker } from '@tabgrid/protocol/worker';

export interface RawWorker {
  readonly frames: ServerToWorker[];
  /** Tasks received so far, with their job. */
  tasks(): { jobId: string; index: number; input: unknown }[];
  send(frame: object): void;
  /** Resolves with the close code and reason once the server (or `close()`) ends it. */
  readonly closed: Promise<{ code: number; reason: string }>;
  close(): void;
}

export async function rawWorker(
  url: string,
  hello: { threads?: number; credit?: number; localAddress?: string } = {},
): Promise<RawWorker> {
  const socket = new WebSocket(url, {
    perMessageDeflate: false,
    ...(hello.localAddress ? { localAddress: hello.localAddress } : {}),
  });
  const frames: ServerToWorker[] = [];
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    socket.on('close', (code, reason) => resolve({ code, reason: reason.toString() })),
  );
  socket.on('error', () => undefined);
  const welcomed = new Promise<void>((resolve, reject) => {
    socket.on('message', (data, isBinary) => {
      const frame = decodeServerToWorker(isBinary ? data : (data as Buffer).toString('utf8'));
      frames.push(frame);
      if (frame.type === 'welcome') resolve();
    });
    void closed.then(({ code, reason }) => reject(new Error(`closed ${code}: ${reason}`)));
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('error', reject);
  });
  const send = (frame: object) => socket.send(JSON.stringify(frame));
  send({
    type: 'hello',
    protocol: PROTOCOL_VERSION,
    threads: hello.threads ?? 1,
    userAgent: 'raw-worker',
    credit: hello.credit ?? 0,
  });
  await welcomed;
  return {
    frames,
    tasks: () =>
      frames.flatMap((f) =>
        f.type === 'tasks' ? f.items.map((i) => ({ jobId: f.jobId, ...i })) : [],
      ),
    send,
    closed,
    close: () => socket.close(),
  };
}
