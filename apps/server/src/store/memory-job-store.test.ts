import { describeFeedStore } from './feed-store.conformance.js';
import { describeJobStore } from './job-store.conformance.js';
import { MemoryJobData, MemoryJobStore } from './memory-job-store.js';

// A directory stands for a database file: reopening on it finds the same data.
const disks = new Map<string, MemoryJobData>();
function open(dir: string): MemoryJobStore {
  let data = disks.get(dir);
  if (!data) disks.set(dir, (data = new MemoryJobData()));
  return new MemoryJobStore(data);
}

describeJobStore('MemoryJobStore', open);
describeFeedStore('MemoryJobStore', open);
