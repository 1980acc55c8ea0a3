import { describe, expect, it } from 'vitest';
import { hrefFor, parseRoute, type Route } from './route.js';

describe('parseRoute', () => {
  it('maps hashes to pages', () => {
    expect(parseRoute('')).toEqual({ page: 'overview' });
    expect(parseRoute('#/')).toEqual({ page: 'overview' });
    expect(parseRoute('#/jobs')).toEqual({ page: 'jobs' });
    expect(parseRoute('#/jobs/')).toEqual({ page: 'jobs' });
    expect(parseRoute('#/workers')).toEqual({ page: 'workers' });
    expect(parseRoute('#/jobs/abc-123')).toEqual({ page: 'job', id: 'abc-123' });
    expect(parseRoute('#/jobs/a%20b')).toEqual({ page: 'job', id: 'a b' });
  });

  it('says when a hash names no page', () => {
    expect(parseRoute('#/nope')).toEqual({ page: 'not-found', path: '/nope' });
    expect(parseRoute('#/jobs/%E0%A4%A')).toEqual({ page: 'not-found', path: '/jobs/%E0%A4%A' });
  });
});

describe('hrefFor', () => {
  it('round-trips through parseRoute', () => {
    const routes: Route[] = [
      { page: 'overview' },
      { page: 'jobs' },
      { page: 'workers' },
      { page: 'job', id: 'x/y z' },
    ];
    for (const route of routes) expect(parseRoute(hrefFor(route))).toEqual(route);
  });
});
