import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { MIN_ADMIN_TOKEN_LENGTH } from '../config.js';
import { startTestServer } from './test-server.js';

describe('the test server', () => {
  it('listens with a long admin token, and close() stops what it adopted and removes its dir', async () => {
    const env = await startTestServer();
    expect(env.token.length).toBeGreaterThanOrEqual(MIN_ADMIN_TOKEN_LENGTH);
    expect(env.wsUrl).toBe(`${env.url.replace('http', 'ws')}/ws/worker`);
    const health = await fetch(`${env.url}/api/jobs`, { headers: env.auth });
    expect(health.status).toBe(200);
    const stopped: string[] = [];
    env.adopt({ stop: () => stopped.push('first') });
    env.adopt({ close: () => stopped.push('second') });
    await env.close();
    expect(stopped).toEqual(['second', 'first']);
    expect(existsSync(env.dataDir)).toBe(false);
    await expect(fetch(`${env.url}/healthz`)).rejects.toThrow();
  });

  it('passes options through to buildApp', async () => {
    const env = await startTestServer({ listen: false, workerSocket: { maxWorkersPerAddress: 1 } });
    try {
      expect(env.url).toBe('');
      const res = await env.server.app.inject({ url: '/api/jobs', headers: env.auth });
      expect(res.statusCode).toBe(200);
    } finally {
      await env.close();
    }
  });
});
