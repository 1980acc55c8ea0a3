// The scenario tests mostly wait on simulated delays and server grace periods, not on the CPU:
// let the long files (storm: ~60 s, stall: ~17 s) overlap instead of queueing behind each other.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: { maxWorkers: 4 },
});
