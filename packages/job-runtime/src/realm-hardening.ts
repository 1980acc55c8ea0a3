/**
 * Part of the thread runtime shipped as source text (see thread-source.ts): self-contained, it
 * may use globals and its own locals, never a value imported here (type-only imports are erased).
 */
import type { CapturedNatives } from './captured-natives.js';
import type { Protections } from './protections.js';

/**
 * Locks down the realm before any job code runs: the stack API (no call-site objects), the
 * intrinsics the runtime's own `await`s read, and the network, storage and DOM globals.
 */
export function hardenRealm(protections: Protections, natives: CapturedNatives): void {
  const { defineProperty, getOwnPropertyDescriptor, getPrototypeOf, freeze, hasOwn } = natives;
  const { NativeError, NativePromise } = natives;

  if (protections.stackApi) {
    // Call-site objects (getFunction, getThis) are V8's way to walk a stack as values; job code
    // only ever gets stack *strings*. captureStackTrace stays usable (error libraries call it).
    defineProperty(NativeError, 'prepareStackTrace', {
      value: undefined,
      writable: false,
      configurable: false,
    });
    const capture = getOwnPropertyDescriptor(NativeError, 'captureStackTrace');
    if (capture)
      defineProperty(NativeError, 'captureStackTrace', { writable: false, configurable: false });
  }
  if (protections.intrinsics) {
    freeze(NativePromise.prototype);
  }

  /** Replaces `name` on the global and everywhere up its prototype chain, unconfigurably. */
  function forbid(name: string, message: string, asGetter: boolean): void {
    const thrower = function (): never {
      throw new NativeError('TG sandbox: ' + message);
    };
    let target: object | null = globalThis;
    while (target) {
      if (hasOwn(target, name) || target === globalThis) {
        try {
          defineProperty(
            target,
            name,
            asGetter
              ? { get: thrower, set: thrower, configurable: false }
              : { value: thrower, writable: false, configurable: false },
          );
        } catch {
          // Already unconfigurable: the CSP still blocks it; nothing more to do here.
        }
      }
      target = getPrototypeOf(target);
    }
  }

  if (protections.throwers) {
    // Defence in depth: the inherited CSP already blocks the network; these make it fail loudly.
    const network = [
      'fetch',
      'XMLHttpRequest',
      'WebSocket',
      'WebSocketStream',
      'EventSource',
      'WebTransport',
      'importScripts',
      'BroadcastChannel',
      'Worker',
      'SharedWorker',
    ];
    for (const name of network) {
      forbid(
        name,
        name + ' is not available to job code (tasks run without network access)',
        false,
      );
    }
    for (const name of ['indexedDB', 'caches']) {
      forbid(name, name + ' is not available to job code (tasks run without storage)', true);
    }
    for (const name of ['document', 'window']) {
      forbid(name, 'job code runs in a Web Worker: there is no DOM (' + name + ')', true);
    }
  }
}
