import { describe, expect, it } from 'vitest';
import { FakeClock } from '../core/testing/fake-clock.js';
import { MemoryLeaseTable } from './memory-lease-table.js';

const tasks = (...indexes: number[]) => indexes.map((index) => ({ index, input: `${index}` }));
const EXCLUSIVE = { replica: false, suspect: false };
const TTL = 16_000; // a job's timeout (1 s) plus the stall grace (15 s)

describe('MemoryLeaseTable', () => {
  it('grants a frame to an owner, counts it per connection and job, and releases each lease once', () => {
    const clock = new FakeClock();
    const table = new MemoryLeaseTable('node-a');
    const holder = table.connect('w1', 'addr:1');
    const job = table.openJob('j1');
    const grant = table.grant(holder, job, tasks(0, 1, 2), clock.now(), TTL, EXCLUSIVE);
    expect(grant).toMatchObject({
      owner: { node: 'node-a', connection: 'w1', identity: 'addr:1' },
      frame: 1,
      expiresAt: clock.now() + TTL,
      outstanding: 3,
    });
    expect([holder.held, holder.holding('j1'), job.inFlight]).toEqual([3, 3, 3]);
    const lease = job.heldBy(1, 'w1')!;
    expect(job.heldBy(1, 'w2')).toBeUndefined(); // another connection holds nothing of it
    table.release(lease, true, clock.now());
    table.release(lease, true, clock.now()); // a second release changes nothing
    expect([holder.held, holder.holding('j1'), job.inFlight, grant.outstanding]).toEqual([
      2, 2, 2, 2,
    ]);
  });

  it('an answer renews its frame; a frame past its expiry is taken back once a later frame was answered', () => {
    const clock = new FakeClock();
    const table = new MemoryLeaseTable();
    const holder = table.connect('w1', 'w1');
    const job = table.openJob('j1');
    const first = table.grant(holder, job, tasks(0, 1), clock.now(), TTL, EXCLUSIVE);
    clock.advance(5_000);
    table.release(job.heldBy(0, 'w1')!, true, clock.now()); // renews frame 1 until now + TTL
    expect(first.expiresAt).toBe(clock.now() + TTL);
    table.grant(holder, job, tasks(2), clock.now(), TTL, EXCLUSIVE);
    clock.advance(1_000);
    table.release(job.heldBy(2, 'w1')!, true, clock.now()); // frame 2 answered: 1 is behind it
    clock.advance(TTL - 1_000); // exactly at frame 1's expiry: not past it
    expect(table.takeBackExpired(clock.now())).toEqual([]);
    clock.advance(1);
    const taken = table.takeBackExpired(clock.now());
    expect(taken.map((l) => l.index)).toEqual([1]);
    expect([holder.held, job.inFlight]).toEqual([0, 0]);
    expect(holder.hadTakenBack('j1', 1)).toBe(true); // its late answer is a duplicate
    expect(holder.hadTakenBack('j1', 1)).toBe(false);
  });

  it('a frame nobody answered after is not taken back however old (the stall check closes such a worker)', () => {
    const clock = new FakeClock();
    const table = new MemoryLeaseTable();
    const holder = table.connect('w1', 'w1');
    const job = table.openJob('j1');
    table.grant(holder, job, tasks(0), clock.now(), TTL, EXCLUSIVE);
    clock.advance(10 * TTL);
    expect(table.takeBackExpired(clock.now())).toEqual([]);
    expect(holder.held).toBe(1);
  });

  it('replicas: each connection holds its own; a disconnect and closing the job release everything', () => {
    const clock = new FakeClock();
    const table = new MemoryLeaseTable();
    const a = table.connect('w1', 'addr:1');
    const b = table.connect('w2', 'addr:2');
    const job = table.openJob('j1');
    table.grant(a, job, tasks(0, 1), clock.now(), TTL, { replica: true, suspect: false });
    table.grant(b, job, tasks(0), clock.now(), TTL, { replica: true, suspect: false });
    expect([job.heldBy(0, 'w1')?.replica, job.heldBy(0, 'w2')?.replica]).toEqual([true, true]);
    expect(job.inFlight).toBe(3);
    expect(table.disconnect(a).map((l) => l.index)).toEqual([0, 1]);
    expect([a.held, b.held, job.inFlight]).toEqual([0, 1, 1]);
    table.closeJob(job);
    expect([b.held, b.holding('j1'), job.inFlight, b.grants.size]).toEqual([0, 0, 0, 0]);
  });

  it('a suspect makes its holder run it alone until it is released', () => {
    const table = new MemoryLeaseTable();
    const holder = table.connect('w1', 'w1');
    const job = table.openJob('j1');
    table.grant(holder, job, tasks(4), 0, TTL, { replica: false, suspect: true });
    expect(holder.suspect?.index).toBe(4);
    table.release(job.heldBy(4, 'w1')!, false, 0);
    expect(holder.suspect).toBeUndefined();
  });
});
