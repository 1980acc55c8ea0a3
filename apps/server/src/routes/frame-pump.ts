/**
 * Report frames, and frames over a megabyte of any type (outcomes with big results or collected
 * series), are read later, a few milliseconds at a time, so that no worker can hold the event
 * loop for long with them.
 *
 * A socket that has data hands `ws` every frame it completes in one go: libuv reads up to 32
 * chunks of 64 KB from a socket per poll, so one hostile page can deliver megabytes of report
 * frames at once, and several such sockets are ready in the same poll. Parsing them there and
 * then stalls every timer, heartbeat and outcome of the server for the sum. Instead each
 * connection queues those frames in an {@link Inbox}, and the {@link FramePump} reads the
 * inboxes round-robin, one frame per connection per turn, for at most {@link SLICE_MS} before it
 * yields to the loop (`setImmediate`). A frame that alone takes longer (a 16 MB outcomes frame
 * cannot be parsed in parts) ends its turn: one of them per turn, never the sum of several.
 * Order on a connection holds: once its inbox holds a frame, every later frame of that
 * connection waits behind it (a task's report precedes its outcome). A connection whose inbox
 * is empty, which is every plain job's, has its small outcomes and credits read at once, as
 * before.
 *
 * Memory: what a connection may queue is bounded ({@link MAX_INBOX_BYTES}); past it the
 * connection is too far behind and the caller closes it.
 */

/** How long one turn of the pump reads frames before it lets the loop run. */
export const SLICE_MS = 5;
/**
 * Most bytes one connection may have waiting: one frame at the 16 MB cap behind a few report
 * frames. An honest page's reports are read far faster than its link can send them.
 */
export const MAX_INBOX_BYTES = 24 * 1024 * 1024;

/** What the pump sees of an inbox, whatever its frames are. */
interface Pumped {
  readonly empty: boolean;
  /** Takes out and reads the oldest waiting frame. */
  readOne(): void;
}

interface Waiting<F> {
  frame: F;
  bytes: number;
}

/** One connection's frames waiting to be read, in arrival order. */
export class Inbox<F> implements Pumped {
  private frames: Waiting<F>[] = [];
  private head = 0;
  private bytes = 0;

  constructor(
    private readonly pump: FramePump,
    /** Reads one frame; must not throw (the socket's handler catches and closes). */
    readonly read: (frame: F) => void,
  ) {}

  get empty(): boolean {
    return this.head === this.frames.length;
  }

  /** Bytes of the frames waiting. */
  get waiting(): number {
    return this.bytes;
  }

  /** Queues a frame; false (nothing queued) when the connection is too far behind. */
  push(frame: F, bytes: number): boolean {
    if (this.bytes + bytes > MAX_INBOX_BYTES) return false;
    this.frames.push({ frame, bytes });
    this.bytes += bytes;
    this.pump.wake(this);
    return true;
  }

  readOne(): void {
    const frame = this.shift();
    if (frame !== undefined) this.read(frame);
  }

  private shift(): F | undefined {
    if (this.empty) return undefined;
    const next = this.frames[this.head]!;
    this.frames[this.head++] = undefined as unknown as Waiting<F>;
    this.bytes -= next.bytes;
    if (this.empty) {
      this.frames = [];
      this.head = 0;
    }
    return next.frame;
  }

  /** The connection closed: what waits is dropped unread (its tasks go back to the queue). */
  clear(): void {
    this.frames = [];
    this.head = 0;
    this.bytes = 0;
    this.pump.forget(this);
  }
}

/** Reads every connection's waiting frames, round-robin, in slices of the event loop. */
export class FramePump {
  /** Inboxes with frames, in turn order (a Set keeps insertion order). */
  private readonly ready = new Set<Pumped>();
  private scheduled = false;

  constructor(
    private readonly sliceMs = SLICE_MS,
    private readonly now: () => number = () => performance.now(),
  ) {}

  inbox<F>(read: (frame: F) => void): Inbox<F> {
    return new Inbox<F>(this, read);
  }

  /** @internal an inbox has something to read */
  wake(inbox: Pumped): void {
    this.ready.add(inbox);
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.turn());
  }

  /** @internal */
  forget(inbox: Pumped): void {
    this.ready.delete(inbox);
  }

  /** Reads one frame from each ready inbox in turn until the slice is used up. */
  private turn(): void {
    this.scheduled = false;
    const until = this.now() + this.sliceMs;
    while (this.ready.size > 0) {
      const inbox = this.ready.values().next().value!;
      this.ready.delete(inbox);
      inbox.readOne();
      // Back of the line, so every connection gets its turn before this one's next frame.
      if (!inbox.empty) this.ready.add(inbox);
      if (this.now() >= until) break;
    }
    if (this.ready.size > 0 && !this.scheduled) {
      this.scheduled = true;
      // Frames behind a report are often outcomes: the next turn comes after the loop's I/O
      // and timers, not after a rest.
      setImmediate(() => this.turn());
    }
  }
}
