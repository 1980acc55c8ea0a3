// deploy/Dockerfile's steps, run without Docker (there is none on CI machines here): the
// Dockerfile is read instruction by instruction and each stage gets a directory of its own in a
// temporary folder standing for its filesystem. `COPY . .` copies the build context (the files git
// knows, less .dockerignore), `COPY --from` copies between stages, every RUN of the build stage
// runs as written in its WORKDIR, then the runtime stage's CMD starts the server with the image's
// ENV and the test asks it for what a deployment serves: /healthz (also through the image's
// HEALTHCHECK command), the worker page, the dashboard and /sdk.js.
//
// What cannot run outside an image is checked as text: the base images (official Node images,
// no browser), the runtime stage's one RUN (it only makes the data dir, owned by `node`, which
// the test makes in its stand-in), and `USER node` before the CMD.
//
//   node --test deploy/test/dockerfile-steps.test.mjs     (several minutes: npm ci and a build)
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const DOCKERFILE = join(ROOT, 'deploy', 'Dockerfile');

/** Instructions of a Dockerfile: comments dropped, continuation lines joined. */
export function parseDockerfile(text) {
  const lines = text.replace(/\\\n/g, ' ').split('\n');
  const instructions = [];
  for (const line of lines) {
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#')) continue;
    const [, keyword, rest] = /^(\S+)\s*(.*)$/.exec(trimmed);
    instructions.push({ keyword: keyword.toUpperCase(), args: rest });
  }
  return instructions;
}

/** `KEY=value KEY2=value2` (ENV, ARG) into pairs. */
function assignments(args, defaults = {}) {
  const out = {};
  for (const part of args.split(/\s+/).filter(Boolean)) {
    const [key, ...value] = part.split('=');
    out[key] = value.length ? value.join('=') : defaults[key];
  }
  return out;
}

/** .dockerignore patterns as a test on a relative path (the forms the file uses). */
function ignoredBy(patterns) {
  const regexes = patterns.map((pattern) => {
    const body = pattern
      .replace(/^\*\*\//, '')
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '[^/]*');
    return new RegExp(`(^|/)${body}(/|$)`);
  });
  return (path) => regexes.some((regex) => regex.test(path));
}

function buildContext() {
  const ignore = readFileSync(join(ROOT, '.dockerignore'), 'utf8')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'));
  const ignored = ignoredBy(ignore);
  const files = execFileSync('git', ['ls-files', '-co', '--exclude-standard', '-z'], { cwd: ROOT })
    .toString()
    .split('\0')
    .filter(Boolean);
  return files.filter((file) => !ignored(file));
}

function freePort() {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** JSON array form (`["node", "x.js"]`) or shell form of CMD/HEALTHCHECK CMD. */
function command(args) {
  return args.trim().startsWith('[') ? JSON.parse(args) : ['sh', '-c', args];
}

test('the Dockerfile builds and runs, step by step, in a temporary directory', async (t) => {
  const instructions = parseDockerfile(readFileSync(DOCKERFILE, 'utf8'));
  const tmp = mkdtempSync(join(tmpdir(), 'tabgrid-dockerfile-'));
  t.after(() => rmSync(tmp, { recursive: true, force: true }));

  const args = {};
  const stages = new Map(); // name -> { root, workdir, env, user, cmd, healthcheck, runs }
  let stage;
  const inStage = (path) => join(stage.root, path);
  for (const { keyword, args: rest } of instructions) {
    if (keyword === 'ARG') {
      Object.assign(args, assignments(rest));
      continue;
    }
    if (keyword === 'FROM') {
      const [image, as, name] = rest.replace(/\$\{(\w+)\}/g, (_, key) => args[key]).split(/\s+/);
      assert.equal(as?.toUpperCase(), 'AS', `FROM ${rest}: every stage is named`);
      assert.match(image, /^node:\d+-bookworm(-slim)?$/, 'official Node images only');
      stage = { name, image, root: join(tmp, name), workdir: '/', env: {}, user: 'root', runs: [] };
      mkdirSync(stage.root, { recursive: true });
      stages.set(name, stage);
      continue;
    }
    assert.ok(stage, `${keyword} before FROM`);
    const cwd = () => inStage(stage.workdir);
    switch (keyword) {
      case 'WORKDIR':
        stage.workdir = rest;
        mkdirSync(cwd(), { recursive: true });
        break;
      case 'ENV':
        Object.assign(stage.env, assignments(rest));
        break;
      case 'COPY': {
        const parts = rest.split(/\s+/);
        const from = parts.find((part) => part.startsWith('--from='))?.slice('--from='.length);
        const [source, target] = parts.filter((part) => !part.startsWith('--'));
        const destination = target.startsWith('/') ? inStage(target) : join(cwd(), target);
        if (from) {
          const other = stages.get(from);
          assert.ok(other, `COPY --from=${from}: no such stage`);
          mkdirSync(dirname(destination), { recursive: true });
          // Symlinks stay symlinks (the workspace's node_modules/@tabgrid/* are relative ones).
          cpSync(join(other.root, source), destination, {
            recursive: true,
            verbatimSymlinks: true,
          });
        } else {
          assert.equal(source, '.', 'the build context is copied whole');
          for (const file of buildContext()) {
            mkdirSync(dirname(join(destination, file)), { recursive: true });
            cpSync(join(ROOT, file), join(destination, file));
          }
        }
        break;
      }
      case 'RUN':
        stage.runs.push(rest);
        if (stage.name === 'build') {
          t.diagnostic(`RUN ${rest}`);
          execFileSync('sh', ['-c', rest], {
            cwd: cwd(),
            stdio: ['ignore', 'ignore', 'inherit'],
            // The CI machine's npm cache is warm; the image's build would download instead.
            env: { ...process.env, ...stage.env, npm_config_prefer_offline: 'true' },
          });
        } else {
          assert.equal(
            rest,
            'install -d -o node -g node -m 700 /data',
            'runtime RUN: the data dir',
          );
          mkdirSync(inStage('/data'), { recursive: true, mode: 0o700 });
        }
        break;
      case 'USER':
        stage.user = rest;
        break;
      case 'CMD':
        stage.cmd = command(rest);
        break;
      case 'HEALTHCHECK':
        stage.healthcheck = command(rest.replace(/^(--\S+\s+)*CMD\s+/, ''));
        break;
      case 'EXPOSE':
      case 'VOLUME':
      case 'LABEL':
        break;
      default:
        assert.fail(`The test does not know the instruction ${keyword}: teach it.`);
    }
  }

  const runtime = [...stages.values()].at(-1);
  assert.equal(runtime.name, 'runtime');
  assert.match(runtime.image, /-slim$/, 'the runtime image is the slim one');
  assert.equal(runtime.user, 'node', 'the server does not run as root');
  assert.ok(runtime.cmd && runtime.healthcheck, 'CMD and HEALTHCHECK');
  // No browser is installed: nothing but the official image and our files.
  for (const run of [...stages.values()].flatMap((s) => s.runs))
    assert.doesNotMatch(run, /chrom|playwright|apt-get/i);

  const port = await freePort();
  const env = {
    ...process.env,
    ...runtime.env,
    // The image listens on 0.0.0.0:8080 with its data in /data; here: loopback, a free port,
    // and the stand-in's /data.
    HOST: '127.0.0.1',
    PORT: String(port),
    TABGRID_DATA_DIR: join(runtime.root, 'data'),
  };
  const [file, ...cmdArgs] = runtime.cmd;
  const server = spawn(file === 'node' ? process.execPath : file, cmdArgs, {
    cwd: join(runtime.root, runtime.workdir),
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  server.stdout.on('data', (chunk) => (output += chunk));
  server.stderr.on('data', (chunk) => (output += chunk));
  t.after(() => server.kill('SIGKILL'));
  const base = `http://127.0.0.1:${port}`;
  let healthy = false;
  for (let i = 0; i < 120 && !healthy && server.exitCode === null; i += 1) {
    healthy = await fetch(`${base}/healthz`).then(
      (answer) => answer.ok,
      () => false,
    );
    if (!healthy) await new Promise((resolve) => setTimeout(resolve, 500));
  }
  assert.ok(healthy, `the server did not answer /healthz:\n${output}`);

  const [checkFile, ...checkArgs] = runtime.healthcheck;
  execFileSync(checkFile === 'node' ? process.execPath : checkFile, checkArgs, { env });

  for (const [path, type] of [
    ['/', /text\/html/],
    ['/dashboard/', /text\/html/],
    ['/sdk.js', /javascript/],
  ]) {
    const answer = await fetch(`${base}${path}`);
    assert.equal(answer.status, 200, `${path}: ${answer.status} ${await answer.text()}`);
    assert.match(answer.headers.get('content-type') ?? '', type, path);
  }
  const unauthenticated = await fetch(`${base}/api/jobs`);
  assert.equal(unauthenticated.status, 401);

  server.kill('SIGTERM');
  const code = await new Promise((resolve) => server.once('exit', resolve));
  assert.equal(code, 0, `SIGTERM: exit code ${code}\n${output}`);
});
