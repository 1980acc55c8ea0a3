/**
 * Error messages as the CLI prints them. The server and the SDK say what to do in their own
 * terms (`GET /api/jobs`, `tg.jobs()`, `{ token }`, `timeoutMs`); a CLI user needs the command
 * or flag instead (`tabgrid jobs`, `--token`, `--timeout-ms`).
 */
import { ErrorCode, TabgridError } from '@tabgrid/protocol/errors';
import { JOB_OPTION_FLAGS } from './flags.js';

/** SDK and REST wording → CLI wording; applied in order. */
const REWRITES: readonly [RegExp, string][] = [
  [/\{ ?token ?\}/g, '--token'],
  [/\{ ?url ?\}/g, '--url'],
  // The client's request timeout has no flag: retrying is the advice left.
  [/, or raise \{ ?timeoutMs ?\}/g, ''],
  [/(GET \/api\/jobs|tg\.jobs\(\))(?![\w/])/g, 'tabgrid jobs'],
  [/(GET \/api\/keys|tg\.keys\.list\(\))(?![\w/])/g, 'tabgrid keys list'],
  [/(POST \/api\/jobs\/:id\/resume|job\.resume\(\))/g, 'tabgrid resume JOB'],
  [/(POST \/api\/jobs\/:id\/cancel|job\.cancel\(\))/g, 'tabgrid cancel JOB'],
  [/(GET \/api\/jobs\/:id\/errors|job\.errors\(\))/g, 'tabgrid errors JOB'],
  [/(GET \/api\/jobs\/:id\/results|job\.results\(\))/g, 'tabgrid results JOB'],
];

/** What to do, for codes whose server message would not say it in CLI terms. */
const HINTS: Partial<Record<ErrorCode, string>> = {
  [ErrorCode.UNAUTHORIZED]:
    'The server refused the token: pass --token or set TABGRID_TOKEN (printed by `npm start`).',
  [ErrorCode.FORBIDDEN]: 'Pass a token whose role may do this with --token.',
  [ErrorCode.JOB_NOT_FOUND]: 'List your jobs with tabgrid jobs.',
  [ErrorCode.KEY_NOT_FOUND]: 'List keys with tabgrid keys list.',
  [ErrorCode.JOB_NOT_OPEN]: 'The job takes no more tasks: start another with tabgrid run.',
};

const OPTION_NAMES = new RegExp(
  `(?<![\\w{-])(${JOB_OPTION_FLAGS.map((f) => f.option).join('|')})(?!\\w)`,
  'g',
);

/** Sentences: split after a stop followed by a space (not inside `127.0.0.1` or `v1.2`). */
const sentences = (text: string): string[] => text.split(/(?<=[.!?])\s+/);

/**
 * The message to print for `error`: SDK/REST hints turned into CLI commands and flags, job
 * option names into flags, any sentence still naming a REST path left out, and a hint added for
 * codes that need one.
 *
 * @example
 * cliMessage(new TabgridError(ErrorCode.JOB_NOT_FOUND, 'No job with id j1. List your jobs with GET /api/jobs.'));
 * // 'No job with id j1. List your jobs with tabgrid jobs. (TG_ERR_JOB_NOT_FOUND)'
 */
export function cliMessage(error: unknown): string {
  if (!(error instanceof TabgridError)) {
    return error instanceof Error ? error.message : String(error);
  }
  if (error.code === ErrorCode.UNAUTHORIZED) return `${HINTS[error.code]} (${error.code})`;
  let text = error.message;
  for (const [pattern, replacement] of REWRITES) text = text.replace(pattern, replacement);
  text = text.replace(OPTION_NAMES, (option) => {
    const found = JOB_OPTION_FLAGS.find((f) => f.option === option);
    return found ? `--${found.flag}` : option;
  });
  const kept = sentences(text)
    .map((s) => s.trim())
    .filter((s) => s !== '' && !/\/api\/|\b(tg|job)\.\w+\(/.test(s));
  const hint = HINTS[error.code];
  if (hint && !kept.some((s) => s.includes('tabgrid ') || s.includes('--'))) kept.push(hint);
  return `${kept.join(' ')} (${error.code})`;
}
