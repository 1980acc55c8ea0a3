// A built checkout of one commit for bench/compare.mjs: a temporary `git worktree` beside this
// repository, its dependencies borrowed from this checkout when the lockfile is the same (a cold
// `npm ci` takes ~9 minutes on the 2 shared cores), then `turbo run build` in it.
import { execFileSync, spawn } from 'node:child_process';
import {
  existsSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  rmSync,
  symlinkSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';

export const git = (cwd, ...args) =>
  execFileSync('git', ['-C', cwd, ...args], { encoding: 'utf8', maxBuffer: 64 << 20 }).trim();

/** Runs a command with its output on our stderr; rejects with its exit code. */
function run(cwd, command, args) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, stdio: ['ignore', 2, 2] });
    child.once('error', reject);
    child.once('exit', (code) =>
      code === 0
        ? resolve()
        : reject(new Error(`\`${command} ${args.join(' ')}\` in ${cwd} exited with ${code}`)),
    );
  });
}

/**
 * Gives `target` a node_modules tree equal to `source`'s without copying it: third-party packages
 * are symlinks into `source`; the workspace links (`@tabgrid/sdk -> ../../packages/sdk`) and
 * `.bin` links are copied as they are, relative, so they resolve inside `target`. Symlinking
 * the whole directory would not do: Node and tsc resolve a symlink to its real path, so the
 * target's server would import (and be compiled against) the source's own packages.
 */
function borrowNodeModules(source, target) {
  mkdirSync(target, { recursive: true });
  for (const name of readdirSync(source)) {
    if (name === '.cache') continue; // tool caches stay per checkout
    const from = join(source, name);
    const to = join(target, name);
    const stat = lstatSync(from);
    if (stat.isSymbolicLink()) symlinkSync(readlinkSync(from), to);
    else if (stat.isDirectory() && (name.startsWith('@') || name === '.bin'))
      borrowNodeModules(from, to);
    else symlinkSync(from, to);
  }
}

/** Every node_modules directory of a checkout: the root's and the workspaces' own. */
function nodeModulesDirs(root) {
  const found = [];
  const visit = (dir, depth) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (!entry.isDirectory() || entry.name.startsWith('.')) continue;
      const path = join(dir, entry.name);
      if (entry.name === 'node_modules') found.push(relative(root, path));
      else if (depth < 2) visit(path, depth + 1); // apps/server/node_modules is depth 2
    }
  };
  visit(root, 0);
  return found;
}

/**
 * Checks out `commit` in a fresh worktree under the system's temp dir, with dependencies and a
 * build; `close()` removes it. `deps` is the checkout whose node_modules may be borrowed.
 */
export async function checkOut({ repo, commit, deps, label }) {
  const sha = git(repo, 'rev-parse', '--verify', `${commit}^{commit}`);
  const dir = join(tmpdir(), `tabgrid-compare-${label}-${sha.slice(0, 12)}-${process.pid}`);
  const close = () => {
    // Our links first (rmSync unlinks symlinks, never follows them), so git's removal cannot
    // reach into the borrowed node_modules.
    for (const modules of existsSync(dir) ? nodeModulesDirs(dir) : []) {
      rmSync(join(dir, modules), { recursive: true, force: true });
    }
    try {
      git(repo, 'worktree', 'remove', '--force', dir);
    } catch {
      rmSync(dir, { recursive: true, force: true });
      git(repo, 'worktree', 'prune');
    }
  };
  console.error(`[compare] ${label}: git worktree add ${dir} ${sha.slice(0, 12)}`);
  git(repo, 'worktree', 'add', '--detach', dir, sha);
  try {
    const lockfile = git(repo, 'show', `${sha}:package-lock.json`);
    const depsLockfile = readFileSync(join(deps, 'package-lock.json'), 'utf8').trim();
    if (lockfile === depsLockfile && existsSync(join(deps, 'node_modules'))) {
      console.error(`[compare] ${label}: same lockfile: borrowing node_modules from ${deps}`);
      for (const modules of nodeModulesDirs(deps)) {
        if (existsSync(join(dir, modules, '..'))) {
          borrowNodeModules(join(deps, modules), join(dir, modules));
        }
      }
    } else {
      console.error(`[compare] ${label}: the lockfile differs: npm ci`);
      await run(dir, 'npm', ['ci', '--no-audit', '--no-fund']);
    }
    await build(dir, label);
  } catch (error) {
    close();
    throw error;
  }
  return { dir, sha, close };
}

export async function build(dir, label) {
  console.error(`[compare] ${label}: npx turbo run build in ${dir}`);
  await run(dir, 'npx', ['turbo', 'run', 'build', '--output-logs=errors-only']);
}
