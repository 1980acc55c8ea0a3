import type { CarriedValue } from '@tabgrid/protocol/packed-value';
import type { JobLeases } from '../leases/lease-table.js';
import type { StoredTask } from '../store/job-store.js';

/** JSON with object keys sorted, so that equal values are equal text. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}

/** One answer and the workers that gave it. */
interface Vote {
  ok: boolean;
  payload: CarriedValue;
  workers: string[];
}

/** The replicas of one task. */
class ReplicaSet {
  /**
   * Every worker identity (see WorkerSession.identity) this task was dispatched to: a task never
   * runs twice on one identity, so two sockets from one host never both hold its replicas.
   */
  readonly workers = new Set<string>();
  readonly votes = new Map<string, Vote>();
  /** Losses (disconnects, timeouts) of replicas so far. */
  losses = 0;
  disagreed = false;

  constructor(
    readonly task: StoredTask,
    /** How many dispatches are wanted so far (grows by one on each disagreement). */
    public needed: number,
  ) {}

  get answers(): number {
    let n = 0;
    for (const vote of this.votes.values()) n += vote.workers.length;
    return n;
  }
}

export type VoteResult =
  | { kind: 'accepted'; ok: boolean; payload: CarriedValue; liars: string[] }
  | { kind: 'exhausted' }
  | { kind: 'more' }
  | { kind: 'waiting' };

/**
 * BOINC-style validation for a job with `redundancy: k`: each task runs on k distinct workers and
 * settles only when k answers agree (canonical JSON). On disagreement it runs on one more worker
 * at a time, up to `maxReplicas`, then settles as a `validation` error. Workers whose answer lost
 * to an accepted quorum are reported as liars.
 */
export class Quorum {
  private readonly sets = new Map<number, ReplicaSet>();

  constructor(
    private readonly k: number,
    private readonly maxReplicas: number,
    /** The job's leases (read only here: the lease table holds the replicas out). */
    private readonly leases: JobLeases,
  ) {}

  /** Replicas running now (the job's in-flight count). */
  get inFlight(): number {
    return this.leases.replicaCount;
  }

  /** Whether a worker of `identity` may run this task (no worker of it has run or holds it). */
  canRun(index: number, identity: string): boolean {
    return !this.sets.get(index)?.workers.has(identity);
  }

  /** Whether connection `workerId` holds a replica of the task right now. */
  holds(index: number, workerId: string): boolean {
    return this.leases.replicas.get(workerId)?.has(index) ?? false;
  }

  /** Whether the task still needs another replica dispatched. */
  wanted(index: number): boolean {
    const set = this.sets.get(index);
    return !set || set.workers.size < set.needed;
  }

  /** Records a dispatch to `identity`; true when the task needs yet another replica (queue it again). */
  dispatched(task: StoredTask, identity: string): boolean {
    let set = this.sets.get(task.index);
    if (!set) this.sets.set(task.index, (set = new ReplicaSet(task, this.k)));
    set.workers.add(identity);
    return set.workers.size < set.needed;
  }

  /**
   * A replica was lost (its worker vanished or timed out): another worker may run it. Returns the
   * task to queue again, or undefined once losses exceed `limit` (settle it as lost). `charge`
   * false: the loss does not count (a handed-back replica, or one sharing a crashed tab).
   */
  lost(index: number, identity: string, limit: number, charge = true): StoredTask | undefined {
    const set = this.sets.get(index);
    if (!set) return undefined;
    set.workers.delete(identity);
    if (charge && ++set.losses >= limit) {
      this.sets.delete(index);
      return undefined;
    }
    return set.task;
  }

  /** The task of an unsettled set (for requeueing). */
  task(index: number): StoredTask | undefined {
    return this.sets.get(index)?.task;
  }

  /**
   * Counts an answer of a worker of `identity`. `canonical` is what must be equal between
   * agreeing replicas. Liars are reported by identity.
   */
  vote(
    index: number,
    identity: string,
    canonical: string,
    ok: boolean,
    payload: CarriedValue,
  ): VoteResult & { firstDisagreement?: boolean } {
    const set = this.sets.get(index);
    if (!set) return { kind: 'waiting' };
    let vote = set.votes.get(canonical);
    if (!vote) set.votes.set(canonical, (vote = { ok, payload, workers: [] }));
    vote.workers.push(identity);
    if (vote.workers.length >= this.k) {
      this.sets.delete(index);
      const liars = [...set.votes.values()].filter((v) => v !== vote).flatMap((v) => v.workers);
      return { kind: 'accepted', ok: vote.ok, payload: vote.payload, liars };
    }
    if (set.answers < set.workers.size) return { kind: 'waiting' };
    // Everyone dispatched has answered and no answer has k votes.
    const firstDisagreement = set.votes.size > 1 && !set.disagreed;
    if (set.votes.size > 1) set.disagreed = true;
    if (set.workers.size >= this.maxReplicas) {
      this.sets.delete(index);
      return { kind: 'exhausted', firstDisagreement };
    }
    set.needed = Math.max(set.needed, set.workers.size + 1);
    return { kind: 'more', firstDisagreement };
  }
}
