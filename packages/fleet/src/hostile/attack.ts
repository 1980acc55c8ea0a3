/**
 * What an attack family is and what it gets to work with. A family is one kind of hostility
 * (garbage bytes, forged outcomes, hoarding, …) with a deterministic generator; the suite runs
 * the families one after another while an honest job runs beside them.
 */
import type { ProgramCache } from '../program-cache.js';
import type { Rng } from '../random.js';
import type { Tally, Target } from './tally.js';

export interface AttackContext {
  /** http://127.0.0.1:PORT */
  url: string;
  /** ws://127.0.0.1:PORT/ws/worker */
  wsUrl: string;
  adminToken: string;
  /** Secret of a client key made for the attack (a tenant gone bad). */
  clientToken: string;
  tally: Tally;
  /** Programs compiled by the attackers (to answer some tasks honestly). */
  programs: ProgramCache;
  /**
   * The jobs an attacker would go after. `honest` and `quorum` (redundancy 2) are checked value
   * by value at the end; `bait` belongs to the client key and takes the poisoned answers.
   */
  jobs: { honest: string; quorum: string; bait: string };
  /** Tasks the `honest` job gets in all. */
  honestTotal: number;
  /** Outcomes of the `honest` job settled so far. */
  honestSettled(): number;
  /** True once the honest job's task `index` has settled. */
  honestIndexSettled(index: number): boolean;
}

export interface FamilyCheck {
  what: string;
  ok: boolean;
  detail: string;
}

export interface AttackFamily {
  name: string;
  target: Target;
  /** One line: what it sends and which item of issue #11 it probes. */
  about: string;
  /** Runs the attack to its end (bounded in time); returns extra checks of its own. */
  run(ctx: AttackContext, rng: Rng): Promise<FamilyCheck[] | void>;
}

/** Runs `work(lane)` on `count` lanes at once. */
export async function lanes(count: number, work: (lane: number) => Promise<void>): Promise<void> {
  await Promise.all(Array.from({ length: count }, (_, lane) => work(lane)));
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

let connections = 0;

/**
 * A loopback address of its own for each connection (127.1.x.y), as a botnet has: limits per
 * address must not stop the volume of an attack, only the families that test them on purpose
 * (`sockets`, the brute force) share one address.
 */
export function botAddress(): string {
  const n = connections++ % 65_000;
  return `127.1.${n >> 8}.${(n & 255) + 1}`;
}
