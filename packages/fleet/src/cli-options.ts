import { parseArgs } from 'node:util';
import type { Behavior } from './behavior.js';
import type { FleetOptions } from './fleet.js';
import type { Range } from './random.js';
import type { StormOptions } from './storm.js';
import { workerSocketUrl } from './worker-socket-url.js';

export const USAGE = `Usage: tabgrid-fleet [options]

Starts N simulated workers in this process against a Tabgrid server, to try your jobs
on a local grid. They run job programs with new Function: trusted code only, this is
NOT a sandbox. Ctrl-C stops them and prints the totals.

Options:
  --url <url>            Server (http(s)://host:port, or the ws(s):// worker socket);
                         env TABGRID_URL, default http://127.0.0.1:8080
  --workers <n>          Workers (default 10)
  --threads <n>          Threads per worker (default 1)
  --credit <n>           Tasks each worker takes ahead (default 64)
  --delay <ms|min-max>   Simulated time per task, e.g. 20 or 5-50
  --throw-rate <p>       Chance per task of failing with SimulatedError (0-1)
  --liars <n>            The first n workers return wrong results
  --collude              Liars tell the same lies (so they agree)
  --hangers <n>          The next n workers take tasks and never answer
  --dying <n>            The next n workers die mid-task (chance --die-rate per
                         batch) and come back 0.5-2 s later
  --die-rate <p>         Chance per batch for --dying workers (default 0.1)
  --storm <rate>         Drop and reconnect workers at random: drops per worker per
                         second (e.g. 0.1), for the whole run
  --duration <s>         Stop after this many seconds (default: until Ctrl-C)
  --seed <n>             Seed of the random choices (default 1)
  --quiet                No stats line every 2 s
  -h, --help             Show this help`;

export class UsageError extends Error {}

/** What the CLI was asked to do. */
export interface CliPlan {
  fleet: FleetOptions;
  /** Per-worker behaviors on top of the fleet's, by worker index. */
  special: { from: number; count: number; behavior: Behavior }[];
  storm: Omit<StormOptions, 'durationMs'> | undefined;
  durationMs: number | undefined;
  statsEveryMs: number | undefined;
  help: boolean;
}

function integer(value: string | undefined, name: string, min: number, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) {
    throw new UsageError(`--${name} must be an integer ≥ ${min}, got "${value}".`);
  }
  return n;
}

function fraction(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!(n >= 0 && n <= 1))
    throw new UsageError(`--${name} must be between 0 and 1, got "${value}".`);
  return n;
}

function range(value: string | undefined, name: string): Range | undefined {
  if (value === undefined) return undefined;
  const match = /^(\d+(?:\.\d+)?)(?:-(\d+(?:\.\d+)?))?$/.exec(value);
  const min = Number(match?.[1]);
  const max = match?.[2] === undefined ? min : Number(match[2]);
  if (!match || max < min) {
    throw new UsageError(`--${name} must be ms or a min-max range such as 5-50, got "${value}".`);
  }
  return max === min ? min : [min, max];
}

/**
 * Reads the command line (and `env.TABGRID_URL`) into a plan; throws a {@link UsageError}
 * naming the bad option.
 *
 * @example
 * parseCli(['--workers', '50', '--delay', '5-20', '--liars', '2']);
 */
export function parseCli(argv: string[], env: NodeJS.ProcessEnv = process.env): CliPlan {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        url: { type: 'string' },
        workers: { type: 'string' },
        threads: { type: 'string' },
        credit: { type: 'string' },
        delay: { type: 'string' },
        'throw-rate': { type: 'string' },
        liars: { type: 'string' },
        collude: { type: 'boolean', default: false },
        hangers: { type: 'string' },
        dying: { type: 'string' },
        'die-rate': { type: 'string' },
        storm: { type: 'string' },
        duration: { type: 'string' },
        seed: { type: 'string' },
        quiet: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }));
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  const server = values.url ?? (env.TABGRID_URL || 'http://127.0.0.1:8080');
  let url: string;
  try {
    url = workerSocketUrl(server);
  } catch {
    throw new UsageError(`--url must be an http(s) or ws(s) URL, got "${server}".`);
  }
  const workers = integer(values.workers, 'workers', 1, 10);
  const behavior: Behavior = {};
  const delayMs = range(values.delay, 'delay');
  if (delayMs !== undefined) behavior.delayMs = delayMs;
  const throwRate = fraction(values['throw-rate'], 'throw-rate');
  if (throwRate !== undefined) behavior.throwRate = throwRate;

  const special: CliPlan['special'] = [];
  let next = 0;
  const take = (count: number, what: Behavior): void => {
    if (count === 0) return;
    if (next + count > workers) {
      throw new UsageError(
        `--liars, --hangers and --dying add up to more than --workers ${workers}.`,
      );
    }
    special.push({ from: next, count, behavior: what });
    next += count;
  };
  take(integer(values.liars, 'liars', 0, 0), {
    wrongResults: values.collude ? { collude: 'tabgrid-fleet-cli' } : true,
  });
  take(integer(values.hangers, 'hangers', 0, 0), { hang: true });
  take(integer(values.dying, 'dying', 0, 0), {
    dieMidTask: {
      probability: fraction(values['die-rate'], 'die-rate') ?? 0.1,
      reconnectAfterMs: [500, 2000],
    },
  });

  let storm: CliPlan['storm'];
  if (values.storm !== undefined) {
    const dropRate = Number(values.storm);
    if (!(dropRate > 0) || !Number.isFinite(dropRate)) {
      throw new UsageError(
        `--storm must be a number of drops per worker per second > 0, got "${values.storm}".`,
      );
    }
    storm = { dropRate, reconnectAfterMs: [50, 500] };
  }
  let durationMs: number | undefined;
  if (values.duration !== undefined) {
    const seconds = Number(values.duration);
    if (!(seconds > 0))
      throw new UsageError(`--duration must be seconds > 0, got "${values.duration}".`);
    durationMs = seconds * 1000;
  }
  return {
    fleet: {
      url,
      workers,
      threads: integer(values.threads, 'threads', 1, 1),
      credit: integer(values.credit, 'credit', 1, 64),
      behavior,
      seed: integer(values.seed, 'seed', 0, 1),
    },
    special,
    storm,
    durationMs,
    statsEveryMs: values.quiet ? undefined : 2000,
    help: values.help,
  };
}
