// Runs shell commands side by side ("lanes"), each line of their output prefixed with its lane's
// number, and fails when any lane fails (after all have ended, so every failure is printed).
//
//   node scripts/test-lanes.mjs 'npm run e2e:background -w @tabgrid/e2e' 'npm run e2e:suite -w @tabgrid/e2e && npm run test:deploy'
//
// Why: `npm test`'s background-tab test spends seven minutes mostly waiting (a tab hidden past
// Chromium's five-minute throttling), with little CPU of its own and a yardstick that is immune
// to other load (see e2e/tests/volunteer-background.spec.ts); the rest of the suite runs meanwhile.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

const commands = process.argv.slice(2);
if (commands.length === 0) {
  console.error('Usage: node scripts/test-lanes.mjs COMMAND [COMMAND...] (each a shell command)');
  process.exit(2);
}

/** Runs `command` in a shell; resolves with its exit code and how long it took. */
function runLane(command, number) {
  const started = Date.now();
  const child = spawn(command, { shell: true, stdio: ['ignore', 'pipe', 'pipe'] });
  for (const stream of [child.stdout, child.stderr]) {
    const out = stream === child.stdout ? process.stdout : process.stderr;
    createInterface({ input: stream }).on('line', (line) => out.write(`[${number}] ${line}\n`));
  }
  return new Promise((resolve) => {
    child.once('error', (err) => {
      console.error(`[${number}] could not start: ${err.message}`);
      resolve({ command, code: 1, seconds: 0 });
    });
    // 'close', not 'exit': every line of its output is written out first.
    child.once('close', (code, signal) =>
      resolve({ command, code: code ?? (signal ? 1 : 0), seconds: (Date.now() - started) / 1000 }),
    );
  });
}

commands.forEach((command, i) => console.log(`[${i + 1}] ${command}`));
const results = await Promise.all(commands.map((command, i) => runLane(command, i + 1)));
for (const [i, { command, code, seconds }] of results.entries()) {
  const status = code === 0 ? 'passed' : `FAILED (exit ${code})`;
  console.log(`[${i + 1}] ${status} in ${Math.round(seconds)} s: ${command}`);
}
process.exit(results.some((r) => r.code !== 0) ? 1 : 0);
