import { expect, it } from 'vitest';
import { parseDatabaseUrl } from './config.js';

it('takes TABGRID_DATABASE_URL as a PostgreSQL URL, and unset or empty as SQLite', () => {
  expect(parseDatabaseUrl(undefined)).toBeUndefined();
  expect(parseDatabaseUrl('  ')).toBeUndefined();
  const url = 'postgresql://tabgrid:s%40cret@db.internal:5432/tabgrid';
  expect(parseDatabaseUrl(` ${url} `)).toBe(url);
  expect(parseDatabaseUrl('postgres://127.0.0.1/tabgrid')).toBe('postgres://127.0.0.1/tabgrid');
});

it('refuses another engine or no URL at all, saying what it takes', () => {
  expect(() => parseDatabaseUrl('mysql://127.0.0.1/tabgrid')).toThrow(
    /must start with postgresql:\/\/ \(got mysql:\/\/…\).*unset it for the embedded SQLite store/,
  );
  expect(() => parseDatabaseUrl('tabgrid.sqlite')).toThrow(/must be a PostgreSQL URL such as/);
});
