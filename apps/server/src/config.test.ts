import { statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { MIN_ADMIN_TOKEN_LENGTH, loadConfig, parseTrustProxy } from './config.js';
import { tempDir } from './testing/temp-dir.js';

const temp = tempDir('tabgrid-config-');
const dir = temp.path;
afterEach(() => temp.remove());

it('refuses an operator-chosen admin token shorter than 16 characters, saying what to do', () => {
  expect(MIN_ADMIN_TOKEN_LENGTH).toBe(16);
  expect(() => loadConfig({ TABGRID_DATA_DIR: dir, TABGRID_ADMIN_TOKEN: 'hunter2' })).toThrow(
    /TABGRID_ADMIN_TOKEN must be at least 16 characters \(it has 7\).*unset it/,
  );
  const ok = loadConfig({ TABGRID_DATA_DIR: dir, TABGRID_ADMIN_TOKEN: 'a'.repeat(16) });
  expect(ok.adminToken).toBe('a'.repeat(16));
  writeFileSync(join(dir, 'admin-token'), 'short\n');
  expect(() => loadConfig({ TABGRID_DATA_DIR: dir })).toThrow(
    /admin-token holds an admin token shorter/,
  );
});

it('generates a long admin token when none is set, saved 0600', () => {
  const config = loadConfig({ TABGRID_DATA_DIR: dir, TABGRID_ADMIN_TOKEN: '' });
  expect(config.tokenGenerated).toBe(true);
  expect(config.adminToken.length).toBeGreaterThanOrEqual(MIN_ADMIN_TOKEN_LENGTH);
  expect(statSync(join(dir, 'admin-token')).mode & 0o777).toBe(0o600);
  expect(loadConfig({ TABGRID_DATA_DIR: dir }).adminToken).toBe(config.adminToken);
});

it('reads TABGRID_TRUST_PROXY as off, every hop, or a list of proxies', () => {
  expect(parseTrustProxy(undefined)).toBe(false);
  expect(parseTrustProxy('0')).toBe(false);
  expect(parseTrustProxy('1')).toBe(true);
  expect(parseTrustProxy('true')).toBe(true);
  expect(parseTrustProxy(' 10.0.0.0/8, 127.0.0.1 ')).toEqual(['10.0.0.0/8', '127.0.0.1']);
  expect(
    loadConfig({ TABGRID_DATA_DIR: dir, TABGRID_TRUST_PROXY: '127.0.0.1' }).trustProxy,
  ).toEqual(['127.0.0.1']);
});

it('reads TABGRID_MAX_SERIES_BYTES_PER_JOB as a whole number of bytes, else says what to set', () => {
  const token = { TABGRID_DATA_DIR: dir, TABGRID_ADMIN_TOKEN: 'a'.repeat(16) };
  expect(loadConfig(token).maxSeriesBytesPerJob).toBeUndefined();
  expect(
    loadConfig({ ...token, TABGRID_MAX_SERIES_BYTES_PER_JOB: '1048576' }).maxSeriesBytesPerJob,
  ).toBe(1_048_576);
  for (const bad of ['0', '-1', '1.5', '256MB']) {
    expect(() => loadConfig({ ...token, TABGRID_MAX_SERIES_BYTES_PER_JOB: bad })).toThrow(
      /TABGRID_MAX_SERIES_BYTES_PER_JOB must be a whole number of bytes/,
    );
  }
});

it('reads TABGRID_LOG_LEVEL (default info) and refuses a level pino does not know', () => {
  expect(loadConfig({ TABGRID_DATA_DIR: dir }).logLevel).toBe('info');
  expect(loadConfig({ TABGRID_DATA_DIR: dir, TABGRID_LOG_LEVEL: 'DEBUG' }).logLevel).toBe('debug');
  expect(() => loadConfig({ TABGRID_DATA_DIR: dir, TABGRID_LOG_LEVEL: 'verbose' })).toThrow(
    /TABGRID_LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent, got "verbose"/,
  );
});

it('reads TABGRID_RETAIN_DAYS: unset keeps jobs forever, a positive number of days, else a clear error', () => {
  expect(loadConfig({ TABGRID_DATA_DIR: dir }).retainDays).toBeUndefined();
  expect(loadConfig({ TABGRID_DATA_DIR: dir, TABGRID_RETAIN_DAYS: '30' }).retainDays).toBe(30);
  expect(loadConfig({ TABGRID_DATA_DIR: dir, TABGRID_RETAIN_DAYS: '0.5' }).retainDays).toBe(0.5);
  for (const bad of ['0', '-1', 'forever', '1e9']) {
    expect(() => loadConfig({ TABGRID_DATA_DIR: dir, TABGRID_RETAIN_DAYS: bad })).toThrow(
      /TABGRID_RETAIN_DAYS must be a number of days above 0/,
    );
  }
});
it('reads TABGRID_CORS_ORIGINS: none by default, a list of origins, and stops on a wrong one', () => {
  const token = { TABGRID_DATA_DIR: dir, TABGRID_ADMIN_TOKEN: 'a'.repeat(16) };
  expect(loadConfig(token).corsOrigins).toEqual([]);
  expect(
    loadConfig({ ...token, TABGRID_CORS_ORIGINS: 'https://app.example,http://localhost:5173' })
      .corsOrigins,
  ).toEqual(['https://app.example', 'http://localhost:5173']);
  expect(() => loadConfig({ ...token, TABGRID_CORS_ORIGINS: 'app.example' })).toThrow(
    /TABGRID_CORS_ORIGINS: "app.example" is not an origin/,
  );
});
