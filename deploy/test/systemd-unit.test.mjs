// deploy/tabgrid.service passes `systemd-analyze verify` (unknown keys, bad values, a missing
// ExecStart binary), and says what the README promises: non-root, a private data dir, SIGTERM.
// Skipped where systemd-analyze is not installed.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const UNIT = fileURLToPath(new URL('../tabgrid.service', import.meta.url));
const hasAnalyze = spawnSync('systemd-analyze', ['--version']).status === 0;

test('the systemd unit verifies', { skip: !hasAnalyze && 'no systemd-analyze here' }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'tabgrid-unit-'));
  try {
    copyFileSync(UNIT, join(dir, 'tabgrid.service'));
    // It exits 0 on unknown keys and bad values, and says so on stderr: that must stay empty.
    const result = spawnSync(
      'systemd-analyze',
      ['verify', '--man=no', join(dir, 'tabgrid.service')],
      {
        encoding: 'utf8',
      },
    );
    assert.equal(result.status, 0, result.stderr);
    assert.equal(result.stderr.trim(), '');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the systemd unit runs unprivileged, with its data dir, stopped by SIGTERM', () => {
  const unit = readFileSync(UNIT, 'utf8');
  for (const line of [
    'User=tabgrid',
    'StateDirectory=tabgrid',
    'Environment=TABGRID_DATA_DIR=/var/lib/tabgrid TABGRID_TRUST_PROXY=127.0.0.1',
    'KillSignal=SIGTERM',
    'NoNewPrivileges=true',
    'ExecStart=/usr/bin/node apps/server/dist/main.js',
  ])
    assert.ok(unit.split('\n').includes(line), line);
});
