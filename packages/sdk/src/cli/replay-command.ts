/** `tabgrid replay JOB INDEX`: reruns one task on this machine (wired once the local runtime lands). */
import type { CommandContext } from './context.js';
import { UsageError } from './flags.js';

export function replayCommand(_ctx: CommandContext, _job: string, _index: string): Promise<number> {
  return Promise.reject(
    new UsageError('replay needs the local runtime, which this build of the CLI lacks.'),
  );
}
