// Fails when a locked dependency does not support a Node version the project says it supports:
// what `npm ci` would print as EBADENGINE on that version. The supported versions are the lowest
// of each major range of the root package.json's `engines.node`, the newest LTS line, and the
// running Node. Packages for another OS or CPU (optional, never installed here) are skipped.
//
//   node scripts/check-engines.mjs
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const semver = createRequire(import.meta.url)('semver');
const json = (path) => JSON.parse(readFileSync(new URL(path, `file://${ROOT}`), 'utf8'));

const range = json('package.json').engines.node;
const versions = [
  ...semver
    .validRange(range)
    .split('||')
    .map((part) => semver.minVersion(part.trim()).version),
  '24.0.0',
  process.versions.node,
].filter((version, i, all) => semver.satisfies(version, range) && all.indexOf(version) === i);

const problems = [];
for (const [path, entry] of Object.entries(json('package-lock.json').packages)) {
  const wanted = typeof entry.engines === 'object' ? entry.engines.node : undefined;
  if (!path || !wanted || (entry.optional && (entry.os || entry.cpu))) continue;
  for (const version of versions) {
    if (!semver.satisfies(version, wanted)) {
      problems.push(`${path}@${entry.version} wants Node ${wanted}, not ${version}`);
    }
  }
}
if (problems.length > 0) {
  console.error(
    `Node ${range} (package.json engines) is not what these dependencies support (npm ci would warn EBADENGINE):\n  ${problems.join('\n  ')}\nChoose versions that support the range (package.json overrides), or change the range honestly.`,
  );
  process.exit(1);
}
console.log(`Every locked dependency supports Node ${versions.join(', ')} (engines ${range}).`);
