// Fails when README.md does not document a public name: the job lifecycle, each call of the
// `tabgrid` global, each SDK call, each REST route and each CLI command. Routes and CLI commands
// are read from the code (every `/api/…` route the server declares, every command of the CLI's
// usage text), so a new one cannot ship undocumented; the other names are listed below, and each
// is also looked up in the code it names, so the list cannot outlive a rename.
//
//   node scripts/check-readme.mjs            check the repository's README.md
//   node scripts/check-readme.mjs other.md   check another file (to see the check fail)
import { readFileSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SDK = 'packages/sdk/src';
const THREAD = 'apps/worker-web/src';
const ROUTES = 'apps/server/src/routes';

/**
 * The names README.md must contain (`readme`, verbatim), by section. `code`: a text that must
 * appear in a source file under `in` (tests excluded): where the name is defined.
 */
const LISTED = [
  // The lifecycle of job code.
  { section: 'lifecycle', readme: '`Setup(args)`', in: THREAD, code: 'Setup' },
  { section: 'lifecycle', readme: '`Run(input, args)`', in: THREAD, code: 'Run' },
  { section: 'lifecycle', readme: '`Teardown()`', in: THREAD, code: 'Teardown' },
  {
    section: 'lifecycle',
    readme: '`setupTimeoutMs`',
    in: 'packages/protocol/src',
    code: 'setupTimeoutMs',
  },
  {
    section: 'lifecycle',
    readme: '`progressTimeoutMs`',
    in: 'packages/protocol/src',
    code: 'progressTimeoutMs',
  },
  {
    section: 'lifecycle',
    readme: 'Error types: `setup`',
    in: 'packages/protocol/src',
    code: "'setup'",
  },
  // Issue 14: stopping a job early, and where outcomes came from.
  {
    section: 'job options',
    readme: '`maxFailures`',
    in: 'packages/protocol/src',
    code: 'maxFailures',
  },
  {
    section: 'SDK',
    readme: '`job.run(tasks, { provenance: true })`',
    in: SDK,
    code: 'provenance: options.provenance',
  },
  {
    section: 'REST',
    readme: '`GET /api/jobs/:id/results?provenance`',
    in: ROUTES,
    code: 'provenance',
  },
  // The `tabgrid` global and console, inside job code.
  {
    section: 'tabgrid global',
    readme: '`tabgrid.progress(fraction?)`',
    in: THREAD,
    code: 'progress',
  },
  {
    section: 'tabgrid global',
    readme: '`tabgrid.collect(label, value)`',
    in: THREAD,
    code: 'collect',
  },
  { section: 'tabgrid global', readme: '`tabgrid.emit(name, data)`', in: THREAD, code: 'emit' },
  { section: 'tabgrid global', readme: '`tabgrid.listen(handler)`', in: THREAD, code: 'listen' },
  { section: 'tabgrid global', readme: '`await tabgrid.next()`', in: THREAD, code: 'next' },
  {
    section: 'tabgrid global',
    readme: '`console.log/info/warn/error/debug(...values)`',
    in: 'packages/protocol/src',
    code: "'debug'",
  },
  // SDK calls.
  { section: 'SDK', readme: '`new Tabgrid({ url?, token? })`', in: SDK, code: 'class Tabgrid' },
  { section: 'SDK', readme: '`tg.createJob(', in: SDK, code: 'createJob(' },
  { section: 'SDK', readme: '`job.run(tasks)`', in: SDK, code: 'run(tasks' },
  { section: 'SDK', readme: '`job.submit(tasks)`', in: SDK, code: 'submit(tasks' },
  { section: 'SDK', readme: '`job.close()`', in: SDK, code: 'close()' },
  { section: 'SDK', readme: '`job.results()`', in: SDK, code: 'results()' },
  { section: 'SDK', readme: '`job.errors()`', in: SDK, code: 'errors()' },
  { section: 'SDK', readme: '`job.map(tasks)`', in: SDK, code: 'map(tasks' },
  { section: 'SDK', readme: '`job.status()`', in: SDK, code: 'status()' },
  { section: 'SDK', readme: '`job.cancel()`', in: SDK, code: 'cancel()' },
  { section: 'SDK', readme: '`job.resume()`', in: SDK, code: 'resume()' },
  { section: 'SDK', readme: '`job.delete()`', in: SDK, code: 'delete()' },
  { section: 'SDK', readme: '`job.progress()`', in: SDK, code: 'progress()' },
  { section: 'SDK', readme: '`job.logs()`', in: SDK, code: 'logs()' },
  { section: 'SDK', readme: '`job.events()`', in: SDK, code: 'events()' },
  { section: 'SDK', readme: '`job.series(label)`', in: SDK, code: 'series(label' },
  { section: 'SDK', readme: '`await job.seriesLabels()`', in: SDK, code: 'seriesLabels()' },
  { section: 'SDK', readme: '`await job.tell(data)`', in: SDK, code: 'tell(data' },
  { section: 'SDK', readme: '`tg.jobs()`', in: SDK, code: 'jobs()' },
  { section: 'SDK', readme: '`tg.job(id)`', in: SDK, code: 'job<T = unknown>(id' },
  { section: 'SDK', readme: '`await tg.latestJob(name)`', in: SDK, code: 'latestJob(' },
  { section: 'SDK', readme: '`await tg.workers()`', in: SDK, code: 'workers()' },
  { section: 'SDK', readme: '`tg.note(text)`', in: SDK, code: 'note(text' },
  { section: 'SDK', readme: '`tg.deleteJobs()`', in: SDK, code: 'deleteJobs()' },
  { section: 'SDK', readme: '`tg.close()`', in: SDK, code: 'close()' },
  { section: 'SDK', readme: '`tg.keys.create(', in: SDK, code: 'create(' },
  { section: 'SDK', readme: '`tg.keys.list()`', in: SDK, code: 'list()' },
  { section: 'SDK', readme: '`tg.keys.revoke(id)`', in: SDK, code: 'revoke(' },
  // Pool and streams (issue #14).
  { section: 'Pool', readme: '`tg.pool(program, options?)`', in: SDK, code: 'pool<T = unknown>(' },
  { section: 'Pool', readme: '`await pool.map(tasks, { signal? })`', in: SDK, code: 'map(tasks' },
  {
    section: 'Pool',
    readme: '`pool.imap(tasks, { signal?, window? })`',
    in: SDK,
    code: 'imap(tasks',
  },
  {
    section: 'Pool',
    readme: '`pool.unorderedImap(tasks, { signal? })`',
    in: SDK,
    code: 'unorderedImap(tasks',
  },
  {
    section: 'Pool',
    readme: '`pool.mapAsync(tasks, { signal? })`',
    in: SDK,
    code: 'mapAsync(tasks',
  },
  { section: 'Pool', readme: '`pool.star()`', in: SDK, code: 'star()' },
  {
    section: 'Streams',
    readme: '`broadcast(source, ...consumers)`',
    in: SDK,
    code: 'function broadcast<',
  },
  { section: 'Streams', readme: '`stream.filter(keep)`', in: SDK, code: 'filter(keep' },
  { section: 'Streams', readme: '`stream.take(n)`', in: SDK, code: 'take(count' },
  { section: 'Streams', readme: '`stream.batch(size', in: SDK, code: 'batch(size' },
  { section: 'Streams', readme: '`TG_ERR_JOB_CANCELLED`', in: SDK, code: 'JobCancelledError' },
  // A REST query that is not a route of its own.
  { section: 'REST', readme: '`GET /api/jobs?name=NAME&latest=1`', in: ROUTES, code: 'latest' },
];

/** Source files under `dir` (tests and build output excluded). */
function sources(dir) {
  const out = [];
  const walk = (path) => {
    for (const entry of readdirSync(path, { withFileTypes: true })) {
      const full = join(path, entry.name);
      if (entry.isDirectory()) {
        if (entry.name !== 'node_modules' && entry.name !== 'dist') walk(full);
      } else if (/\.(ts|tsx|mjs|js)$/.test(entry.name) && !/\.test\.|\.spec\./.test(entry.name)) {
        out.push({ path: relative(ROOT, full), text: readFileSync(full, 'utf8') });
      }
    }
  };
  walk(join(ROOT, dir));
  return out;
}

/** Every `/api/…` route and `/healthz` the server declares: `GET /api/jobs/:id/logs`. */
function declaredRoutes() {
  const routes = new Set();
  const declaration =
    /\.(get|post|put|patch|delete)\s*(?:<[^>(]*>)?\(\s*['`](\/api\/[^'`]*|\/healthz)['`]/g;
  for (const { text } of sources(ROUTES)) {
    for (const match of text.matchAll(declaration)) {
      routes.add(`${match[1].toUpperCase()} ${match[2]}`);
    }
  }
  return [...routes].sort();
}

/** Every command of the CLI's usage text (`Commands:` up to `Options:`): `tabgrid keys create`. */
function cliCommands() {
  const commands = new Set();
  for (const { text } of sources(SDK).filter((f) =>
    /cli[\w-]*\.ts$|\/cli\/[\w-]+\.ts$/.test(f.path),
  )) {
    const usage = /Commands:\n([\s\S]*?)\n\s*\nOptions:/.exec(text);
    if (!usage) continue;
    for (const line of usage[1].split('\n')) {
      // A command line starts with two spaces; its continuation lines with many more.
      const match = /^ {2}([a-z][\w-]*)(?: ([a-z][\w-]*))?/.exec(line);
      if (!match) continue;
      commands.add(
        match[1] === 'keys' && match[2] ? `tabgrid keys ${match[2]}` : `tabgrid ${match[1]}`,
      );
    }
  }
  return [...commands].sort();
}

const readmePath = process.argv[2] ?? join(ROOT, 'README.md');
const readme = readFileSync(readmePath, 'utf8');
const problems = [];

const codeCache = new Map();
for (const name of LISTED) {
  if (!readme.includes(name.readme))
    problems.push(`${name.section}: ${name.readme} is not in the README`);
  if (!codeCache.has(name.in)) codeCache.set(name.in, sources(name.in));
  if (!codeCache.get(name.in).some((f) => f.text.includes(name.code))) {
    problems.push(
      `${name.section}: ${name.readme} is listed in scripts/check-readme.mjs, but "${name.code}" is in no file under ${name.in}: update the list`,
    );
  }
}

const routes = declaredRoutes();
if (routes.length === 0)
  problems.push(`REST: no route declaration found under ${ROUTES}: update declaredRoutes()`);
for (const route of routes) {
  if (!readme.includes(`\`${route}`) && !readme.includes(` ${route}`)) {
    problems.push(`REST: ${route} (declared in ${ROUTES}) is not in the README`);
  }
}

const commands = cliCommands();
if (commands.length === 0)
  problems.push(`CLI: no usage text with "Commands:" found in ${SDK}/cli*.ts or ${SDK}/cli/*.ts`);
for (const command of commands) {
  if (!readme.includes(`\`${command}`)) problems.push(`CLI: \`${command}\` is not in the README`);
}

if (problems.length > 0) {
  console.error(
    `${relative(process.cwd(), readmePath) || readmePath} misses ${problems.length} public name(s):`,
  );
  for (const problem of problems) console.error(`  - ${problem}`);
  console.error(
    'Document each in README.md (see its SDK reference, Job code, REST API and CLI sections).',
  );
  process.exit(1);
}
console.log(
  `README.md documents all ${LISTED.length} listed names, ${routes.length} REST routes and ${commands.length} CLI commands.`,
);
