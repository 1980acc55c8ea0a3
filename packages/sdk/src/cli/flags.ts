/**
 * The CLI's flags: one table of every flag, each command's list of the flags it takes, and the
 * job options as flags. The job-option flags are derived from the protocol's `JobOptions`
 * schema (`timeoutMs` → `--timeout-ms`, bounds included), so an option added to the protocol is
 * a flag of `tabgrid run` at once.
 */
import { parseArgs } from 'node:util';
import { JobOptions } from '@tabgrid/protocol/jobs';

/** A mistake in how the CLI was called: exit code 2, with the usage text. */
export class UsageError extends Error {}

type FlagSpec = { type: 'string' | 'boolean'; short?: string };

/** A job option of the protocol as a flag of `tabgrid run`. */
export interface JobOptionFlag {
  /** The option's name in a job creation (`timeoutMs`). */
  option: string;
  /** The flag without dashes (`timeout-ms`). */
  flag: string;
  kind: 'integer' | 'number' | 'boolean' | 'string';
  minimum?: number;
  maximum?: number;
}

const kebab = (name: string): string => name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

/** What a schema property says about itself, read without trusting its shape. */
function describeProperty(option: string, schema: unknown): JobOptionFlag | undefined {
  if (typeof schema !== 'object' || schema === null) return undefined;
  const { type, minimum, maximum } = schema as Record<string, unknown>;
  if (type !== 'integer' && type !== 'number' && type !== 'boolean' && type !== 'string') {
    return undefined; // An option of another shape has no flag (yet): set it with the SDK.
  }
  return {
    option,
    flag: kebab(option),
    kind: type,
    ...(typeof minimum === 'number' ? { minimum } : {}),
    ...(typeof maximum === 'number' ? { maximum } : {}),
  };
}

/** Every job option that has a flag, in the protocol's order. */
export const JOB_OPTION_FLAGS: readonly JobOptionFlag[] = Object.entries(JobOptions.properties)
  .map(([option, schema]) => describeProperty(option, schema))
  .filter((flag): flag is JobOptionFlag => flag !== undefined);

/** Every flag of every command. */
const FLAGS: Record<string, FlagSpec> = {
  url: { type: 'string' },
  token: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
  json: { type: 'boolean' },
  follow: { type: 'boolean' },
  csv: { type: 'boolean' },
  name: { type: 'string' },
  role: { type: 'string' },
  owner: { type: 'string' },
  args: { type: 'string' },
  'args-file': { type: 'string' },
  group: { type: 'string' },
  input: { type: 'string' },
  format: { type: 'string' },
  out: { type: 'string' },
  local: { type: 'boolean' },
  threads: { type: 'string' },
  quiet: { type: 'boolean', short: 'q' },
  'progress-every': { type: 'string' },
  ...Object.fromEntries(
    JOB_OPTION_FLAGS.map((f): [string, FlagSpec] => [
      f.flag,
      { type: f.kind === 'boolean' ? 'boolean' : 'string' },
    ]),
  ),
};

/** Flags every command takes. */
const GLOBAL_FLAGS = ['url', 'token', 'help'];
const PROGRESS_FLAGS = ['quiet', 'progress-every'];

/** The flags each command takes beside the global ones. */
export const COMMAND_FLAGS: Record<string, readonly string[]> = {
  jobs: ['json'],
  status: ['json'],
  cancel: ['json'],
  resume: ['json'],
  delete: [],
  logs: ['follow'],
  series: ['csv'],
  run: [
    'name',
    'args',
    'args-file',
    'group',
    'input',
    'format',
    'out',
    'local',
    'threads',
    ...PROGRESS_FLAGS,
    ...JOB_OPTION_FLAGS.map((f) => f.flag),
  ],
  watch: [...PROGRESS_FLAGS],
  results: [],
  errors: [],
  replay: [],
  keys: ['name', 'role', 'owner', 'json'],
  help: [],
};

export type FlagValues = Record<string, string | boolean | undefined>;

export interface ParsedCommandLine {
  values: FlagValues;
  positionals: string[];
}

/** Parses argv against every flag; unknown flags and missing values are usage errors. */
export function parseCommandLine(argv: readonly string[]): ParsedCommandLine {
  try {
    const { values, positionals } = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: FLAGS,
    });
    return { values, positionals };
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
}

/** Refuses a flag the command does not take, naming the commands that do. */
export function checkFlagsOf(command: string, values: FlagValues): void {
  const allowed = new Set([...GLOBAL_FLAGS, ...(COMMAND_FLAGS[command] ?? [])]);
  for (const [flag, value] of Object.entries(values)) {
    if (value === undefined || allowed.has(flag)) continue;
    const users = Object.entries(COMMAND_FLAGS)
      .filter(([, flags]) => flags.includes(flag))
      .map(([name]) => name);
    throw new UsageError(
      `${command} takes no --${flag}${users.length > 0 ? ` (it is a flag of ${users.join(', ')})` : ''}.`,
    );
  }
}

/** A string flag's value (a boolean flag given as a string flag cannot happen: parseArgs types it). */
export function stringFlag(values: FlagValues, flag: string): string | undefined {
  const value = values[flag];
  return typeof value === 'string' ? value : undefined;
}

/** An integer flag within [min, max], or undefined when absent. */
export function integerFlag(
  values: FlagValues,
  flag: string,
  min: number,
  max: number,
): number | undefined {
  const text = stringFlag(values, flag);
  if (text === undefined) return undefined;
  const value = Number(text);
  if (text.trim() === '' || !Number.isInteger(value) || value < min || value > max) {
    throw new UsageError(`--${flag} must be an integer from ${min} to ${max} (got "${text}").`);
  }
  return value;
}

/** A number flag within [min, max] (seconds, say), or undefined when absent. */
export function numberFlag(
  values: FlagValues,
  flag: string,
  min: number,
  max: number,
): number | undefined {
  const text = stringFlag(values, flag);
  if (text === undefined) return undefined;
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value) || value < min || value > max) {
    throw new UsageError(`--${flag} must be a number from ${min} to ${max} (got "${text}").`);
  }
  return value;
}

/** The job options given as flags, checked against the protocol's bounds. */
export function jobOptionsFrom(values: FlagValues): Record<string, number | boolean | string> {
  const options: Record<string, number | boolean | string> = {};
  for (const f of JOB_OPTION_FLAGS) {
    const given = values[f.flag];
    if (given === undefined) continue;
    if (f.kind === 'boolean' || f.kind === 'string') {
      options[f.option] = given;
      continue;
    }
    const min = f.minimum ?? Number.MIN_SAFE_INTEGER;
    const max = f.maximum ?? Number.MAX_SAFE_INTEGER;
    const value =
      f.kind === 'integer'
        ? integerFlag(values, f.flag, min, max)
        : numberFlag(values, f.flag, min, max);
    if (value !== undefined) options[f.option] = value;
  }
  return options;
}

/** `timeoutMs` → `--timeout-ms` in a server's message, so a hint names the flag to change. */
export function flagForOption(option: string): string | undefined {
  const found = JOB_OPTION_FLAGS.find((f) => f.option === option);
  return found ? `--${found.flag}` : undefined;
}
