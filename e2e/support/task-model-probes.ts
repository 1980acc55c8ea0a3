/**
 * Escape probes through the task model's own objects (issue #13): `tabgrid` and `console`,
 * which every job's code gets from the runtime. Part of PROBE_PROGRAM (sandbox-probes.ts): the
 * program's Run hands each `tabgrid.*` probe to {@link TASK_MODEL_PROBE_SOURCE}'s function,
 * which uses PROBE_PROGRAM's helpers (found, isRuntime) and verdict conventions.
 */
import type { Protections } from '@tabgrid/job-runtime/thread-source';

export const TASK_MODEL_PROBE_SOURCE = String.raw`
function taskModelProbe(probe) {
  switch (probe) {
    case 'tabgrid.listen': {
      // A sloppy handler (Function makes one): the runtime calls it with the message the page
      // told before this task, at listen(); its caller and this are what the runtime gives.
      const box = {};
      box.handler = Function('box', 'return function () { box.caller = Object.getOwnPropertyDescriptor(Function.prototype, "caller").get.call(box.handler); box.self = this; }')(box);
      tabgrid.listen(box.handler);
      if (box.self !== undefined && box.self !== self && isRuntime(box.self)) return found(box.self, 'this of a tabgrid.listen handler');
      return found(box.caller, 'the caller of a tabgrid.listen handler');
    }
    case 'tabgrid.collect getter': {
      // The runtime reads a collected value's properties: a sloppy getter looks at its caller.
      const box = {};
      box.getter = Function('box', 'return function () { box.caller = Object.getOwnPropertyDescriptor(Function.prototype, "caller").get.call(box.getter); throw new Error("getter ran"); }')(box);
      const value = {};
      Object.defineProperty(value, 'x', { get: box.getter, enumerable: true });
      try {
        tabgrid.collect('probe', value);
      } catch (error) {
        if (!String(error.message).includes('getter ran')) throw error;
      }
      return found(box.caller, 'the caller of a getter in a collected value');
    }
    case 'tabgrid.prototypes': {
      // Setters on Object.prototype under the names of the runtime's own records: a runtime
      // that wrote through a prototype would hand job code its objects.
      const keys = ['text', 'count', 'next', 'handler', 'resolve', 'seq', 'json', 'label', 'values', '0', '1'];
      let seen = '';
      for (const key of keys) {
        Object.defineProperty(Object.prototype, key, {
          configurable: true,
          set() { seen += key + ' '; },
        });
      }
      try {
        tabgrid.collect('p', 1);
        tabgrid.collect('p', [2]);
        tabgrid.emit('e', { a: 1 });
        console.log('x');
        console.log('x');
        console.warn({ y: 1 });
        tabgrid.listen(() => undefined);
        void tabgrid.next();
        tabgrid.progress(0.5);
      } finally {
        for (const key of keys) delete Object.prototype[key];
      }
      if (seen !== '') return { escaped: 'the runtime wrote ' + seen + 'through Object.prototype' };
      throw new Error('censored: no runtime write reached Object.prototype');
    }
    case 'tabgrid.replace': {
      // tabgrid is the runtime's: job code can neither swap it nor add to it.
      const tries = [];
      const progress = tabgrid.progress;
      try { globalThis.tabgrid = { progress() {} }; } catch (e) { tries.push(e.name); }
      try { Object.defineProperty(globalThis, 'tabgrid', { value: {} }); } catch (e) { tries.push(e.name); }
      try { tabgrid.progress = () => undefined; } catch (e) { tries.push(e.name); }
      if (globalThis.tabgrid.progress !== progress) return { escaped: 'tabgrid was replaced' };
      throw new Error('refused: ' + tries.join(', '));
    }
  }
  throw new Error('unknown probe ' + probe);
}
`;

/** As sandbox-probes.ts's Probe (kept apart so that neither module imports the other). */
interface TaskModelProbe {
  name: string;
  blocked: RegExp;
  without?: { protections: (keyof Protections)[]; verdict: RegExp }[];
  told?: true;
}

export const TASK_MODEL_PROBES: TaskModelProbe[] = [
  {
    name: 'tabgrid.listen',
    told: true,
    // Through the pipeline no message was told: the handler never ran (undefined).
    blocked: /^Error: censored: the caller of a tabgrid\.listen handler is (null|undefined)/,
    without: [
      {
        protections: ['strict'],
        verdict: /^escaped: the caller of a tabgrid\.listen handler gave/,
      },
    ],
  },
  {
    name: 'tabgrid.collect getter',
    blocked: /^Error: censored: the caller of a getter in a collected value is null/,
    without: [
      {
        protections: ['strict'],
        verdict: /^escaped: the caller of a getter in a collected value gave/,
      },
    ],
  },
  {
    name: 'tabgrid.prototypes',
    blocked: /^Error: censored: no runtime write reached Object\.prototype/,
  },
  { name: 'tabgrid.replace', blocked: /^Error: refused: TypeError, TypeError, TypeError$/ },
];
