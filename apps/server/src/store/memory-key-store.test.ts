import { describeKeyStore } from './key-store.conformance.js';
import { MemoryKeyData, MemoryKeyStore } from './memory-key-store.js';

const disks = new Map<string, MemoryKeyData>();
describeKeyStore('MemoryKeyStore', (dir) => {
  let data = disks.get(dir);
  if (!data) disks.set(dir, (data = new MemoryKeyData()));
  return new MemoryKeyStore(data);
});
