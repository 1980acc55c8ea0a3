/** The CLI's flags: job options derived from the protocol's schema, bounds, flags per command. */
import { describe, expect, it } from 'vitest';
import {
  JOB_OPTION_FLAGS,
  UsageError,
  checkFlagsOf,
  jobOptionsFrom,
  parseCommandLine,
} from './flags.js';

describe('job option flags', () => {
  it('has a flag for every job option of the protocol, with its bounds', () => {
    const byOption = Object.fromEntries(JOB_OPTION_FLAGS.map((f) => [f.option, f]));
    for (const option of [
      'timeoutMs',
      'maxAttempts',
      'retryErrors',
      'redundancy',
      'maxReplicas',
      'priority',
      'setupTimeoutMs',
      'progressTimeoutMs',
    ]) {
      expect(byOption[option], option).toBeDefined();
    }
    expect(byOption.timeoutMs).toMatchObject({
      flag: 'timeout-ms',
      minimum: 1,
      maximum: 86_400_000,
    });
    expect(byOption.progressTimeoutMs?.flag).toBe('progress-timeout-ms');
  });

  it('turns flags into job options, refusing values out of the protocol’s bounds', () => {
    const { values } = parseCommandLine([
      'run',
      'p.js',
      't.json',
      '--timeout-ms',
      '5000',
      '--redundancy',
      '2',
      // A negative value goes after `=`: parseArgs reads `-3` alone as a flag.
      '--priority=-3',
      '--retry-errors',
      '1',
    ]);
    expect(jobOptionsFrom(values)).toEqual({
      timeoutMs: 5_000,
      redundancy: 2,
      priority: -3,
      retryErrors: 1,
    });
    for (const bad of [
      ['--redundancy', '17'],
      ['--timeout-ms', '1.5'],
      ['--max-attempts', ''],
    ]) {
      expect(() => jobOptionsFrom(parseCommandLine(['run', ...bad]).values)).toThrow(UsageError);
    }
  });
});

describe('flags per command', () => {
  it('refuses a flag the command does not take, naming the commands that do', () => {
    const { values } = parseCommandLine(['jobs', '--csv']);
    expect(() => checkFlagsOf('jobs', values)).toThrow(
      'jobs takes no --csv (it is a flag of series).',
    );
    expect(() =>
      checkFlagsOf('run', parseCommandLine(['run', '--timeout-ms', '9']).values),
    ).not.toThrow();
    expect(() => parseCommandLine(['run', '--no-such-flag'])).toThrow(UsageError);
  });
});
