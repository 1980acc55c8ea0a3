/** The single-node lease table (see lease-table.ts for the interface and its types). */
import type { StoredTask } from '../store/job-store.js';
import { JobLeases, LeaseGrant, LeaseHolder, type Lease, type LeaseTable } from './lease-table.js';

/** The in-memory table of one node: Maps, one object per lease, no closures per task. */
export class MemoryLeaseTable implements LeaseTable {
  private readonly holders = new Map<string, LeaseHolder>();
  private readonly jobs = new Map<string, JobLeases>();

  constructor(readonly node = 'local') {}

  /** A connection joins; its leases are kept under `connection`. */
  connect(connection: string, identity: string): LeaseHolder {
    const holder = new LeaseHolder({ node: this.node, connection, identity });
    this.holders.set(connection, holder);
    return holder;
  }

  /** The connection is gone: every lease it held is released and returned (grant order). */
  disconnect(holder: LeaseHolder): Lease[] {
    this.holders.delete(holder.owner.connection);
    const taken: Lease[] = [];
    for (const job of this.jobs.values()) {
      const replicas = job.replicas.get(holder.owner.connection);
      if (replicas) for (const lease of replicas.values()) taken.push(lease);
      for (const lease of job.exclusive.values()) {
        if (lease.grant.owner === holder.owner) taken.push(lease);
      }
    }
    for (const lease of taken) this.release(lease, false, 0);
    return taken;
  }

  /** A job can have leases from now on. */
  openJob(jobId: string): JobLeases {
    let job = this.jobs.get(jobId);
    if (!job) this.jobs.set(jobId, (job = new JobLeases(jobId)));
    return job;
  }

  /** The job runs no more: its leases are released (answers to them count as duplicates). */
  closeJob(job: JobLeases): void {
    for (const lease of [...job.exclusive.values()]) this.release(lease, false, 0);
    for (const leases of [...job.replicas.values()]) {
      for (const lease of [...leases.values()]) this.release(lease, false, 0);
    }
    this.jobs.delete(job.jobId);
    for (const holder of this.holders.values()) holder.forgetJob(job.jobId);
  }

  /**
   * Leases `tasks` of `job` to `holder` as one frame, until `now + ttlMs` (renewed by answers).
   * Replicas: `replica` true. A suspect (exactly one task) makes the holder run it alone.
   */
  grant(
    holder: LeaseHolder,
    job: JobLeases,
    tasks: StoredTask[],
    now: number,
    ttlMs: number,
    kind: { replica: boolean; suspect: boolean },
  ): LeaseGrant {
    const grant = new LeaseGrant(
      holder.owner,
      job.jobId,
      holder.nextFrame(),
      now,
      ttlMs,
      tasks.length,
      holder,
      holder.countOf(job.jobId),
    );
    holder.hold(grant);
    for (const task of tasks) {
      const lease: Lease = {
        job,
        index: task.index,
        task,
        grant,
        replica: kind.replica,
        suspect: kind.suspect,
      };
      job.add(lease);
      if (kind.suspect) holder.holdSuspect(lease);
    }
    return grant;
  }

  /** An answer came for a lease of `grant`: its other leases get another `ttlMs`. */
  renew(grant: LeaseGrant, now: number): void {
    grant.renew(now);
  }

  /**
   * Ends a lease: the task is no longer out. `answered`: its holder's outcome arrived (which
   * renews its frame). The one place a release is written.
   */
  release(lease: Lease, answered: boolean, now: number): void {
    if (!lease.job.remove(lease)) return;
    const grant = lease.grant;
    if (answered) grant.renew(now);
    grant.holder.released(lease);
  }

  /**
   * Takes back every lease whose grant expired (`expiresAt < now`) while its connection answered
   * a later frame: it was swallowed. Returns them released; each is marked on its holder so a
   * late answer counts as a duplicate, not a forgery. (A connection that answers nothing at all
   * is closed by the stall check, and a disconnect takes its leases back.)
   */
  takeBackExpired(now: number): Lease[] {
    let any = false;
    for (const holder of this.holders.values()) {
      for (const grant of holder.grants.values()) {
        if (grant.swallowed(now)) any = true;
      }
    }
    if (!any) return [];
    const taken: Lease[] = [];
    for (const job of this.jobs.values()) {
      for (const lease of job.exclusive.values()) if (lease.grant.swallowed(now)) taken.push(lease);
      for (const leases of job.replicas.values()) {
        for (const lease of leases.values()) if (lease.grant.swallowed(now)) taken.push(lease);
      }
    }
    for (const lease of taken) this.takeBack(lease, now);
    return taken;
  }

  /** Takes back one live lease: released, and marked so its holder's late answer is a duplicate. */
  takeBack(lease: Lease, now: number): void {
    lease.grant.holder.markTakenBack(lease.job.jobId, lease.index);
    this.release(lease, false, now);
  }
}
