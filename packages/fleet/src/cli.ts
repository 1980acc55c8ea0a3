#!/usr/bin/env node
/**
 * `tabgrid-fleet`: N simulated workers against a Tabgrid server, to try your jobs on a local
 * grid without opening browser tabs. Trusted code only: programs run with `new Function`.
 *
 * @example
 * npx tabgrid-fleet --url http://127.0.0.1:8080 --workers 50 --delay 5-20 --liars 2
 */
import { Fleet, type FleetStats } from './fleet.js';
import { USAGE, UsageError, parseCli } from './cli-options.js';

function line(stats: FleetStats, perSecond: number): string {
  return [
    `connected ${stats.connected}/${stats.workers}`,
    `done ${stats.tasksDone} (${Math.round(perSecond)}/s)`,
    `failed ${stats.tasksFailed}`,
    `lies ${stats.lies}`,
    `held ${stats.held}`,
    `reconnects ${stats.reconnects}`,
    `deaths ${stats.deaths}`,
  ].join('  ');
}

async function main(argv: string[]): Promise<number> {
  const plan = parseCli(argv);
  if (plan.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const fleet = new Fleet(plan.fleet);
  for (const { from, count, behavior } of plan.special) {
    for (const worker of fleet.workers.slice(from, from + count)) worker.behave(behavior);
  }
  let ticker: NodeJS.Timeout | undefined;
  let storm: ReturnType<Fleet['storm']> | undefined;
  try {
    process.stderr.write(
      `tabgrid-fleet: connecting ${plan.fleet.workers} workers to ${plan.fleet.url}\n`,
    );
    await fleet.start({ timeoutMs: 10_000 });
    process.stderr.write('tabgrid-fleet: all workers welcomed; Ctrl-C to stop\n');
    if (plan.storm) {
      storm = fleet.storm({ ...plan.storm, durationMs: plan.durationMs ?? 2 ** 31 - 1 });
    }
    let last = { at: Date.now(), done: 0 };
    if (plan.statsEveryMs !== undefined) {
      ticker = setInterval(() => {
        const stats = fleet.stats();
        const now = Date.now();
        const rate = ((stats.tasksDone - last.done) * 1000) / Math.max(1, now - last.at);
        last = { at: now, done: stats.tasksDone };
        process.stderr.write(`${line(stats, rate)}\n`);
      }, plan.statsEveryMs);
    }
    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
      if (plan.durationMs !== undefined) setTimeout(resolve, plan.durationMs).unref();
    });
  } finally {
    clearInterval(ticker);
    storm?.stop();
    await fleet.stop();
  }
  process.stdout.write(`${JSON.stringify(fleet.stats())}\n`);
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    if (error instanceof UsageError) {
      process.stderr.write(`tabgrid-fleet: ${error.message}\n\n${USAGE}\n`);
      process.exitCode = 2;
    } else {
      process.stderr.write(
        `tabgrid-fleet: ${error instanceof Error ? error.message : String(error)}\n`,
      );
      process.exitCode = 1;
    }
  },
);
