/**
 * A fleet in a child process of its own (the built `@tabgrid/fleet`), scripted over stdin, and
 * CPU pinning for load tests. On a real grid a hostile tab floods from its own machine; in a
 * test, the same flood built in the test's own process would slow the honest workers there and
 * the test would measure its own CPU, not the server. So the flooding fleet runs in a child
 * pinned to one core, and the server with the honest side on the other.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { Behavior } from '../behavior.js';
import type { FleetOptions } from '../fleet.js';

/** The child: starts a fleet, prints `ready`; each stdin line is a behavior for every worker. */
const CHILD = `
import { createInterface } from 'node:readline';
import { Fleet } from '@tabgrid/fleet';
const fleet = new Fleet(JSON.parse(process.argv[1]));
await fleet.start();
console.log('ready');
for await (const line of createInterface({ input: process.stdin })) {
  if (line === 'stop') break;
  for (const worker of fleet.workers) worker.behave(JSON.parse(line));
  console.log('ok');
}
await fleet.stop();
process.exit(0);
`;

export interface FleetProcess {
  pid: number;
  /** Gives every worker of the child `behavior`; resolves once the child applied it. */
  behave(behavior: Behavior): Promise<void>;
  stop(): Promise<void>;
}

type ChildFleetOptions = Omit<FleetOptions, 'onEvent' | 'localAddress'>;

export async function startFleetProcess(options: ChildFleetOptions): Promise<FleetProcess> {
  const child: ChildProcess = spawn(
    process.execPath,
    ['--input-type=module', '-e', CHILD, JSON.stringify(options)],
    // The package's own directory, so that `@tabgrid/fleet` resolves to its built self.
    { cwd: fileURLToPath(new URL('../..', import.meta.url)), stdio: ['pipe', 'pipe', 'inherit'] },
  );
  const lines: AsyncIterator<string, undefined> = createInterface({ input: child.stdout! })[
    Symbol.asyncIterator
  ]();
  const expect = async (word: string) => {
    const line = await lines.next();
    if (line.done || line.value !== word) {
      const said = line.done ? 'nothing (it exited)' : `"${line.value}"`;
      throw new Error(`fleet child said ${said}, not ${word}`);
    }
  };
  await expect('ready');
  return {
    pid: child.pid ?? -1,
    async behave(behavior) {
      child.stdin!.write(`${JSON.stringify(behavior)}\n`);
      await expect('ok');
    },
    async stop() {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.stdin!.end('stop\n');
      await exited;
    },
  };
}

/** True when this machine has a core for each side of a pinned test. */
export const canPin = availableParallelism() >= 2;

/** Pins every thread of process `pid` to CPU `cpu` (Linux `taskset`); false where it cannot. */
export function pinToCpu(pid: number, cpu: number): boolean {
  if (!canPin) return false;
  return spawnSync('taskset', ['-a', '-p', '-c', String(cpu), String(pid)]).status === 0;
}
