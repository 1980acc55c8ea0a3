// What a process (or a process tree) has used, from /proc.
import { readFileSync, readdirSync } from 'node:fs';

function statFields(pid) {
  // /proc/PID/stat: the command name (field 2) may contain spaces, so split after its ')'.
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

/** CPU time (user + system) a process has used so far, in seconds. */
export function cpuSeconds(pid) {
  // Fields 14 and 15: utime and stime, in clock ticks (100 per second on Linux).
  const fields = statFields(pid);
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** Peak resident set size of a process, in MB (VmHWM). */
export function peakRssMb(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmHWM:\s+(\d+)/.exec(status)[1]) / 1024;
}

/** CPU seconds used so far by `pid` and all its descendants (alive ones). */
export function treeCpuSeconds(pid) {
  const children = new Map();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const parent = Number(statFields(name)[1]);
      children.set(parent, [...(children.get(parent) ?? []), Number(name)]);
    } catch {
      // the process ended while we looked
    }
  }
  let total = 0;
  for (let todo = [pid]; todo.length > 0;) {
    const next = todo.pop();
    try {
      total += cpuSeconds(next);
    } catch {
      continue;
    }
    todo.push(...(children.get(next) ?? []));
  }
  return total;
}
