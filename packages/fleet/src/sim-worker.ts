import WebSocket from 'ws';
import { encodeBinaryFrame, hasBytes } from '@tabgrid/protocol/binary-frame';
import { PROTOCOL_VERSION } from '@tabgrid/protocol/version';
import {
  WorkerCloseCode,
  decodeServerToWorker,
  decodeWorkerToServer,
  type ServerToWorker,
} from '@tabgrid/protocol/worker';
import {
  DEFAULT_RECONNECT_AFTER_MS,
  checkBehavior,
  diesOnBatch,
  type Behavior,
} from './behavior.js';
import type { CloseCause, DropMode, SimWorkerState } from './connection-states.js';
import { helloFrame } from './frames.js';
import { checkSampleMs } from './monitor-sampler.js';
import { ProgramCache } from './program-cache.js';
import { Rng, checkRange, type Range } from './random.js';
import { ReconnectTimer } from './reconnect-timer.js';
import { endSocket } from './socket-close.js';
import { emptyStats, type SimWorkerStats } from './stats.js';
import { TaskExecutor, type TaskRef } from './task-executor.js';
import { FLEET_VERSION } from './version.js';
import { WelcomeWaiters } from './welcome-waiters.js';
import { checkWorkerSize } from './worker-size.js';

/** What a worker reports as it goes (pass `onEvent` to the worker or the fleet). */
export type SimWorkerEvent =
  | { type: 'ready'; worker: SimWorker; workerId: string }
  | {
      type: 'closed';
      worker: SimWorker;
      cause: CloseCause;
      /** Close code (1006 when the socket just vanished). */
      code: number;
      reason: string;
      /** Tasks it held unanswered when the connection ended (the server requeues them). */
      held: TaskRef[];
    };

export interface SimWorkerOptions {
  /** The server's worker socket, e.g. `ws://127.0.0.1:8080/ws/worker`. */
  url: string;
  /** Position in its fleet: names it in `userAgent` and seeds its randomness. Default 0. */
  index?: number;
  /** Threads announced in `hello`, and tasks run at once (default 1). */
  threads?: number;
  /** Slots granted to the server: tasks it may send ahead (default 64). */
  credit?: number;
  behavior?: Behavior;
  /** Seed of the worker's random choices (default 1; mixed with `index`). */
  seed?: number;
  /** Where programs are compiled; a fleet shares one. Default: the worker's own. */
  programs?: ProgramCache;
  /** Decode every outgoing frame with the protocol before sending it (tests; costs time). */
  validateFrames?: boolean;
  onEvent?: (event: SimWorkerEvent) => void;
  /** Source address of its connections (another host, as the server sees it; see FleetOptions). */
  localAddress?: string;
  /** Monitor `sample` period (ms), sent only after some task ran; default 5,000 as a tab; 0: none. */
  sampleMs?: number;
}

/** Why we end a connection, and when to come back (`false`: stay down). */
interface ClosePlan {
  cause: CloseCause;
  reconnectAfterMs: Range | false;
}

/**
 * One synthetic worker: a real WebSocket to the server's `/ws/worker`, speaking the real
 * protocol (every received frame is decoded and validated by `@tabgrid/protocol`), running
 * job programs with `new Function` — **trusted code only: this is not a sandbox** — and
 * misbehaving as its {@link Behavior} says. Usually made by a {@link Fleet}; usable alone.
 *
 * @example
 * const worker = new SimWorker({ url: 'ws://127.0.0.1:8080/ws/worker', credit: 16 });
 * await worker.start();                 // resolves on `welcome`
 * worker.behave({ delayMs: [5, 20] });  // slow down, at any time
 * worker.kill();                        // vanish abruptly, holding whatever it holds
 * await worker.start();                 // and come back
 * await worker.stop();
 */
export class SimWorker {
  readonly index: number;
  readonly threads: number;
  readonly credit: number;
  /** Counters since creation, across connections. */
  readonly stats: SimWorkerStats = emptyStats();
  /** The id the server gave the current connection (undefined when not welcomed). */
  workerId: string | undefined;
  /** Readable by the executor and storms. */
  readonly rng: Rng;
  readonly lieKey: string;

  private readonly url: string;
  private readonly programs: ProgramCache;
  private readonly validateFrames: boolean;
  private readonly localAddress: string | undefined;
  private readonly onEvent: ((event: SimWorkerEvent) => void) | undefined;
  private current: Behavior;
  private currentState: SimWorkerState = 'idle';
  private socket: WebSocket | undefined;
  private executor: TaskExecutor | undefined;
  private readonly reconnect: ReconnectTimer;
  /** Connection attempts in a row that never got a `welcome`. */
  private failures = 0;
  private receivedOnConnection = 0;
  private readonly waiters = new WelcomeWaiters();
  private closing: Promise<void> | undefined;
  private readonly sampleMs: number;

  constructor(options: SimWorkerOptions) {
    this.url = options.url;
    this.index = options.index ?? 0;
    this.threads = options.threads ?? 1;
    this.credit = options.credit ?? 64;
    checkWorkerSize(this.threads, this.credit);
    this.current = { ...options.behavior };
    checkBehavior(this.current);
    this.rng = new Rng(((options.seed ?? 1) * 0x9e3779b1 + this.index) >>> 0);
    this.lieKey = `worker-${this.index}`;
    this.reconnect = new ReconnectTimer(this.rng, () => this.connect());
    this.programs = options.programs ?? new ProgramCache();
    this.validateFrames = options.validateFrames ?? false;
    this.localAddress = options.localAddress;
    this.onEvent = options.onEvent;
    this.sampleMs = checkSampleMs(options.sampleMs);
  }

  get state(): SimWorkerState {
    return this.currentState;
  }

  /** The behavior in force (patches merged). */
  get behavior(): Readonly<Behavior> {
    return this.current;
  }

  /** Tasks held unanswered right now. */
  get held(): number {
    return this.executor?.held ?? 0;
  }

  /**
   * Changes what this worker does from now on; `patch` merges into the current behavior
   * (`{ hang: false }` undoes `{ hang: true }`). Tasks already running keep their delay.
   *
   * @example
   * fleet.workers[0]!.behave({ wrongResults: true }).behave({ delayMs: 10 });
   */
  behave(patch: Behavior): this {
    checkBehavior(patch);
    const wasFrozen = this.current.freeze === true;
    this.current = { ...this.current, ...patch };
    if (wasFrozen && !this.current.freeze) this.thaw();
    return this;
  }

  /**
   * Connects (unless connected or connecting) and resolves on `welcome`. Rejects if the worker
   * is stopped first, the server speaks another protocol version, or it cannot connect and
   * reconnecting is off (`reconnectAfterMs: false`); otherwise it keeps trying.
   */
  start(): Promise<void> {
    if (this.currentState === 'ready') return Promise.resolve();
    const welcomed = this.waiters.wait();
    if (this.currentState !== 'connecting') this.connect();
    return welcomed;
  }

  /** Closes cleanly (close frame 1000) and stays down; resolves once the socket is closed. */
  async stop(): Promise<void> {
    this.reconnect.clear();
    this.waiters.rejectAll(new Error(`simulated worker ${this.index} was stopped`));
    if (this.socket) this.end({ cause: 'stopped', reconnectAfterMs: false }, 'close');
    this.currentState = 'down';
    await this.closing;
  }

  /**
   * Vanishes abruptly (`terminate()`: no close frame, no hand-back) with whatever it holds;
   * comes back after `reconnectAfterMs` if given, else stays down until `start()`.
   */
  kill(reconnectAfterMs?: Range): void {
    this.disconnect('killed', 'terminate', reconnectAfterMs);
  }

  /**
   * Drops the connection the way `mode` says and reconnects after `reconnectAfterMs` (what a
   * storm does to each victim).
   */
  drop(mode: DropMode, reconnectAfterMs?: Range): void {
    this.disconnect(mode === 'handBack' ? 'handedBack' : 'dropped', mode, reconnectAfterMs);
  }

  /**
   * Leaves like a closing tab: sends finished outcomes, hands every held task back with a
   * `release` frame, then closes; comes back after `reconnectAfterMs` if given.
   */
  handBack(reconnectAfterMs?: Range): void {
    this.disconnect('handedBack', 'handBack', reconnectAfterMs);
  }

  // ---- connection -----------------------------------------------------------------------

  private disconnect(cause: CloseCause, mode: DropMode, reconnectAfterMs: Range | undefined): void {
    if (reconnectAfterMs !== undefined) checkRange(reconnectAfterMs, 'reconnectAfterMs');
    this.reconnect.clear();
    if (!this.socket) {
      if (reconnectAfterMs !== undefined) this.scheduleReconnect(reconnectAfterMs);
      return;
    }
    this.end({ cause, reconnectAfterMs: reconnectAfterMs ?? false }, mode);
  }

  private thaw(): void {
    this.executor?.resume();
    this.reconnect.thawed();
  }

  private connect(): void {
    this.reconnect.clear();
    this.currentState = 'connecting';
    this.receivedOnConnection = 0;
    const socket = new WebSocket(this.url, {
      perMessageDeflate: false,
      handshakeTimeout: 10_000,
      autoPong: false,
      ...(this.localAddress ? { localAddress: this.localAddress } : {}),
    });
    this.socket = socket;
    // A frozen worker leaves the server's heartbeat unanswered.
    socket.on('ping', (data) => {
      if (!this.current.freeze) socket.pong(data);
    });
    socket.on('open', () => {
      this.executor = new TaskExecutor(
        {
          behavior: () => this.current,
          rng: this.rng,
          stats: this.stats,
          threads: this.threads,
          lieKey: this.lieKey,
          sampleMs: this.sampleMs,
          send: (frame) => this.send(socket, frame),
        },
        this.programs,
      );
      const userAgent = `tabgrid-fleet/${FLEET_VERSION} (worker ${this.index}; Node ${process.versions.node})`;
      this.send(socket, helloFrame(this.threads, this.credit, userAgent));
    });
    socket.on('message', (data, isBinary) => {
      if (socket !== this.socket) return;
      this.stats.framesIn++;
      this.onFrame(isBinary ? data : (data as Buffer).toString('utf8'));
    });
    // `error` is always followed by `close`, where everything is decided.
    socket.on('error', () => undefined);
    socket.on('close', (code, reason) => {
      if (socket !== this.socket) return;
      this.socket = undefined;
      // Nobody asked for this close: the server or the network did.
      const cause: CloseCause = code === 1006 ? 'error' : 'server';
      this.finishConnection(cause, code, reason.toString());
      this.afterClose(code, reason.toString(), this.reconnectRange());
    });
  }

  private onFrame(data: unknown): void {
    let message: ServerToWorker;
    try {
      message = decodeServerToWorker(data);
    } catch {
      // Like a tab: drop the connection and come back (the reason is capped at 123 bytes).
      this.end(
        { cause: 'protocol', reconnectAfterMs: this.reconnectRange() },
        'close',
        WorkerCloseCode.PROTOCOL_ERROR,
        'invalid server frame',
      );
      return;
    }
    const executor = this.executor;
    if (!executor) return;
    switch (message.type) {
      case 'welcome':
        if (message.protocol !== PROTOCOL_VERSION) {
          this.waiters.rejectAll(
            new Error(
              `The server speaks worker protocol ${message.protocol}, tabgrid-fleet ${PROTOCOL_VERSION}: use matching versions.`,
            ),
          );
          this.end({ cause: 'protocol', reconnectAfterMs: false }, 'close');
          return;
        }
        this.workerId = message.workerId;
        this.currentState = 'ready';
        this.failures = 0;
        this.stats.connects++;
        this.waiters.resolveAll();
        this.onEvent?.({ type: 'ready', worker: this, workerId: message.workerId });
        return;
      case 'job':
        executor.onJob(message);
        return;
      case 'tasks':
        this.stats.tasksReceived += message.items.length;
        this.receivedOnConnection += message.items.length;
        if (
          diesOnBatch(this.current.dieMidTask, message.items, this.receivedOnConnection, this.rng)
        ) {
          executor.swallow(message);
          this.stats.deaths++;
          const die = this.current.dieMidTask;
          this.end(
            { cause: 'died', reconnectAfterMs: (die && die.reconnectAfterMs) ?? false },
            'terminate',
          );
          return;
        }
        executor.onTasks(message);
        return;
      case 'cancel':
        executor.onCancel(message.jobId);
        return;
      case 'messages':
      case 'limit':
        executor.onTaskModel(message);
        return;
    }
  }

  private send(socket: WebSocket, frame: string): void {
    if (socket !== this.socket || socket.readyState !== WebSocket.OPEN) return;
    if (this.validateFrames) decodeWorkerToServer(frame);
    this.stats.framesOut++;
    // Like a tab: outcomes carrying typed arrays go as a binary frame.
    socket.send(hasBytes(frame) ? encodeBinaryFrame(frame) : frame);
  }

  /**
   * Ends the current connection now, the way `mode` says: the executor is closed at once
   * (nothing more is sent or run), then the socket goes.
   */
  private end(plan: ClosePlan, mode: DropMode, code = 1000, reason: string = plan.cause): void {
    const socket = this.socket;
    if (!socket) return;
    if (mode === 'handBack') this.executor?.handBack();
    this.socket = undefined;
    const { abrupt, closed } = endSocket(socket, mode === 'terminate', code, reason);
    this.closing = closed;
    this.finishConnection(plan.cause, abrupt ? 1006 : code, reason);
    this.afterClose(code, reason, plan.reconnectAfterMs);
  }

  /** Voids everything tied to the connection that just ended and reports it. */
  private finishConnection(cause: CloseCause, code: number, reason: string): void {
    const executor = this.executor;
    this.executor = undefined;
    const held = executor && this.onEvent ? executor.heldTasks() : [];
    this.stats.lost += executor?.held ?? 0;
    executor?.close();
    if (this.currentState === 'ready') this.stats.disconnects++;
    else this.failures++;
    this.workerId = undefined;
    this.onEvent?.({ type: 'closed', worker: this, cause, code, reason, held });
  }

  /** Reconnects after `reconnectAfterMs`, or stays down. */
  private afterClose(code: number, reason: string, reconnectAfterMs: Range | false): void {
    if (code === WorkerCloseCode.VERSION_MISMATCH) {
      this.waiters.rejectAll(new Error(`The server refused this worker's protocol: ${reason}`));
      this.currentState = 'down';
      return;
    }
    const range = reconnectAfterMs;
    if (range === false) {
      this.currentState = 'down';
      this.waiters.rejectAll(
        new Error(`simulated worker ${this.index} disconnected (code ${code}) and stays down`),
      );
      return;
    }
    this.scheduleReconnect(range);
  }

  private reconnectRange(): Range | false {
    return this.current.reconnectAfterMs ?? DEFAULT_RECONNECT_AFTER_MS;
  }

  private scheduleReconnect(range: Range): void {
    this.currentState = 'waiting';
    this.reconnect.schedule(range, this.failures, this.current.freeze === true);
  }
}
