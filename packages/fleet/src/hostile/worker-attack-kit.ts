/**
 * What the worker-socket attack families share: opening a hostile worker, bursts of frames over
 * many short connections, honest or lying answers, and frame builders.
 */
import type { Rng } from '../random.js';
import { botAddress, lanes, sleep, type AttackContext } from './attack.js';
import { openHostile, type HeldTask, type HostileWorker } from './hostile-worker.js';

/** A frame with no leased task in it and nothing to do: what liveness must not be fooled by. */
export const EMPTY_OUTCOMES = '{"type":"outcomes","credit":0,"items":[]}';

/** A hostile worker of `family` on the worker socket, from `localAddress` (a new bot's by default). */
export function openAttacker(
  ctx: AttackContext,
  family: string,
  localAddress: string = botAddress(),
): Promise<HostileWorker | undefined> {
  return openHostile({
    url: ctx.wsUrl,
    family,
    tally: ctx.tally,
    programs: ctx.programs,
    localAddress,
  });
}

/**
 * Many short connections, each pipelining `perConnection` frames from `make` (optionally after
 * a valid hello), until `budget` frames went out. The server may close a connection at its
 * first bad frame; what was already on the wire still reaches it.
 */
export async function bursts(
  ctx: AttackContext,
  family: string,
  rng: Rng,
  options: {
    budget: number;
    perConnection: number;
    helloFirst: (rng: Rng) => boolean;
    lanes?: number;
  },
  make: (rng: Rng) => string | Uint8Array,
): Promise<void> {
  let sent = 0;
  // A server that refuses everything must not keep the suite waiting: the count check says so.
  const deadline = Date.now() + 40_000;
  await lanes(options.lanes ?? 8, async () => {
    while (sent < options.budget && Date.now() < deadline) {
      const w = await openAttacker(ctx, family);
      if (!w) {
        await sleep(50);
        continue;
      }
      if (options.helloFirst(rng) && (await w.hello(1, 0))) sent++;
      for (let i = 0; i < options.perConnection && sent < options.budget; i++) {
        if (!(await w.send(make(rng)))) break;
        sent++;
      }
      await w.drain();
      await w.close();
    }
  });
}

/** The job's program's answer, or a lie where `lie` says so. */
export function answer(
  w: HostileWorker,
  task: HeldTask,
  ms: number | string,
  lie?: (task: HeldTask) => string | undefined,
): string {
  const poisoned = lie?.(task);
  return poisoned ?? w.honestItem(task, ms);
}

/** An `outcomes` frame of these item texts. */
export function outcomes(items: string[], credit = 0): string {
  return `{"type":"outcomes","credit":${credit},"items":[${items.join(',')}]}`;
}

/** A binary frame: `header` JSON, then `attachment` bytes. */
export function binaryFrame(header: string, attachment: Uint8Array): Uint8Array {
  const head = new TextEncoder().encode(header);
  const frame = new Uint8Array(4 + head.length + attachment.length);
  new DataView(frame.buffer).setUint32(0, head.length, true);
  frame.set(head, 4);
  frame.set(attachment, 4 + head.length);
  return frame;
}
