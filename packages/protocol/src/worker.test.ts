import { describe, expect, it } from 'vitest';
import { workerPageCsp } from './worker.js';

/** The directives of a policy, by name. */
function directives(policy: string): Map<string, string[]> {
  return new Map(
    policy.split(';').map((part) => {
      const [name = '', ...values] = part.trim().split(/\s+/);
      return [name, values];
    }),
  );
}

describe('the worker page policy', () => {
  it("lets job threads start from data: URLs and compile code, and connect only to 'self'", () => {
    const policy = directives(workerPageCsp());
    expect(policy.get('connect-src')).toEqual(["'self'"]);
    expect(policy.get('worker-src')).toEqual(["'self'", 'data:']);
    expect(policy.get('script-src')).toEqual(["'self'", "'unsafe-eval'"]);
  });

  it("adds only inline scripts and styles for Vite's dev server, never network", () => {
    const prod = directives(workerPageCsp());
    const dev = directives(workerPageCsp(true));
    expect(dev.get('connect-src')).toEqual(prod.get('connect-src'));
    expect(dev.get('script-src')).toEqual([...prod.get('script-src')!, "'unsafe-inline'"]);
    expect(dev.get('style-src')).toEqual([...prod.get('style-src')!, "'unsafe-inline'"]);
  });
});
