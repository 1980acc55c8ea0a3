/**
 * A socket.io client written by hand on a raw WebSocket (engine.io 4 framing), so the attack
 * can send what socket.io-client never would: broken packets, forged binary placeholders,
 * impossible ack ids, and a socket that stops reading. Every frame sent is counted.
 *
 * Framing: engine.io packets are `0` open, `2` ping, `3` pong, `4` message; a socket.io packet
 * rides in a message: `0` connect (`40{"token":…}`), `2` event (`42<ack id>["name",payload]`),
 * `3` ack, `4` connect error, `5` binary event (`45<n>-<ack id>[…]` then n binary frames).
 */
import WebSocket from 'ws';
import { ErrorCode } from '@tabgrid/protocol/errors';
import type { Tally } from './tally.js';

const HIGH_WATER_BYTES = 1 << 20;

export interface RawSioOptions {
  /** http://127.0.0.1:PORT */
  url: string;
  family: string;
  tally: Tally;
  localAddress?: string;
}

export type AckAnswer = {
  ok: boolean;
  error?: { code?: string; message?: string };
  data?: unknown;
};

export class RawSio {
  readonly socket: WebSocket;
  readonly closed: Promise<void>;
  /** `connected` after a 40 answer, `refused` after a 44, `pending` before either. */
  namespace: 'pending' | 'connected' | 'refused' = 'pending';
  /** Answer pongs to the server's pings (false: look dead, as a socket that stopped reading). */
  answerPings = true;
  /** How many acks to send back for each server push that asks for one (1 is honest). */
  ackPushes = 1;
  /** Most acks of pushes sent in all; later pushes go unacknowledged (a stalled reader). */
  ackBudget = Infinity;
  private readonly engineOpen: Promise<boolean>;
  private nextAck = 1;
  private readonly acks = new Map<number, (answer: AckAnswer | undefined) => void>();
  private nsWaiters: (() => void)[] = [];
  private lastWrite: Promise<void> = Promise.resolve();
  /** Every server event packet (`42…`) as received, for the families that read them. */
  readonly events: string[] = [];
  /** Keep at most this many in `events` (0: none). */
  keepEvents = 0;

  constructor(private readonly options: RawSioOptions) {
    const url = `${options.url.replace(/^http/, 'ws')}/socket.io/?EIO=4&transport=websocket`;
    this.socket = new WebSocket(url, {
      perMessageDeflate: false,
      handshakeTimeout: 15_000,
      ...(options.localAddress ? { localAddress: options.localAddress } : {}),
    });
    this.socket.on('error', () => undefined);
    this.closed = new Promise((resolve) => this.socket.once('close', () => resolve()));
    void this.closed.then(() => {
      for (const resolve of this.acks.values()) resolve(undefined);
      this.acks.clear();
      for (const w of this.nsWaiters) w();
    });
    this.engineOpen = new Promise((resolve) => {
      this.socket.on('message', (data: Buffer, isBinary) => {
        if (isBinary) return;
        const text = data.toString('utf8');
        if (text.startsWith('0')) resolve(true);
        else this.onPacket(text);
      });
      void this.closed.then(() => resolve(false));
    });
  }

  get isOpen(): boolean {
    return this.socket.readyState === WebSocket.OPEN;
  }

  /** Waits for engine.io's open packet; false if the connection failed. */
  ready(): Promise<boolean> {
    return this.engineOpen;
  }

  /** Sends a raw frame (counted) if open, waiting first if too much is queued. */
  async send(frame: string | Uint8Array): Promise<boolean> {
    if (this.socket.bufferedAmount > HIGH_WATER_BYTES) await this.lastWrite;
    if (!this.isOpen) return false;
    this.options.tally.count(this.options.family, 'sdk');
    this.lastWrite = new Promise((resolve) => this.socket.send(frame, () => resolve()));
    return true;
  }

  /** Sends `40{auth}` and waits for the answer (true when connected). */
  async connect(auth: unknown, ms = 10_000): Promise<boolean> {
    this.namespace = 'pending';
    if (!(await this.send(`40${auth === undefined ? '' : JSON.stringify(auth)}`))) return false;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.nsWaiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
    return (this.namespace as RawSio['namespace']) === 'connected';
  }

  /** Emits an event with an ack id; resolves with the answer (undefined on timeout or close). */
  async request(event: string, ...args: unknown[]): Promise<AckAnswer | undefined> {
    const id = this.nextAck++;
    const answer = new Promise<AckAnswer | undefined>((resolve) => {
      const timer = setTimeout(() => {
        this.acks.delete(id);
        resolve(undefined);
      }, 30_000);
      this.acks.set(id, (a) => {
        clearTimeout(timer);
        resolve(a);
      });
    });
    if (!(await this.send(`42${id}${JSON.stringify([event, ...args])}`))) {
      this.acks.get(id)?.(undefined);
    }
    return answer;
  }

  /** Emits an event with an ack id without waiting for the answer (it is still checked). */
  fire(event: string, ...args: unknown[]): Promise<boolean> {
    const id = this.nextAck++;
    this.acks.set(id, () => undefined);
    return this.send(`42${id}${JSON.stringify([event, ...args])}`);
  }

  /** A binary event: `text` is the JSON array, `attachments` follow as binary frames. */
  async binaryEvent(json: string, attachments: Uint8Array[], ackId?: number): Promise<void> {
    const id = ackId ?? this.nextAck++;
    this.acks.set(id, () => undefined);
    if (!(await this.send(`45${attachments.length}-${id}${json}`))) return;
    for (const a of attachments) if (!(await this.send(a))) return;
  }

  /** Stops reading from the TCP socket: the server's writes pile up on its side. */
  stopReading(): void {
    this.answerPings = false;
    (this.socket as unknown as { _socket?: { pause(): void } })._socket?.pause();
  }

  close(): Promise<void> {
    this.socket.terminate();
    return this.closed;
  }

  private onPacket(text: string): void {
    if (text === '2') {
      if (this.answerPings && this.isOpen) this.socket.send('3');
      return;
    }
    if (text.startsWith('42') && this.events.length < this.keepEvents) this.events.push(text);
    const push = /^42(\d+)\[/.exec(text);
    if (push) {
      for (let i = 0; i < this.ackPushes && this.ackBudget > 0; i++, this.ackBudget--) {
        void this.send(`43${push[1]}[]`);
      }
      return;
    }
    if (text.startsWith('40')) {
      this.namespace = 'connected';
      this.wakeNamespace();
    } else if (text.startsWith('44')) {
      this.namespace = 'refused';
      this.options.tally.note(this.options.family, 'connect refused');
      this.wakeNamespace();
    } else if (text.startsWith('43')) {
      const match = /^43(\d+)(.*)$/s.exec(text);
      if (!match) return;
      const id = Number(match[1]);
      let answer: AckAnswer | undefined;
      try {
        answer = (JSON.parse(match[2] ?? '[]') as AckAnswer[])[0];
      } catch {
        answer = undefined;
      }
      if (answer && !answer.ok) {
        const code = answer.error?.code ?? '?';
        this.options.tally.note(this.options.family, `ack ${code}`);
        if (code === ErrorCode.INTERNAL) this.options.tally.internal(this.options.family);
      }
      this.acks.get(id)?.(answer);
      this.acks.delete(id);
    }
  }

  private wakeNamespace(): void {
    const waiters = this.nsWaiters;
    this.nsWaiters = [];
    for (const w of waiters) w();
  }
}

/** Opens a raw socket.io connection; resolves once engine.io is open, or undefined. */
export async function openRawSio(options: RawSioOptions): Promise<RawSio | undefined> {
  const sio = new RawSio(options);
  if (await sio.ready()) return sio;
  options.tally.note(options.family, 'could not connect');
  await sio.close();
  return undefined;
}
