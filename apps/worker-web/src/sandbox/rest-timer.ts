/**
 * One-shot timers for the CPU cap's rests that a hidden tab does not throttle. Chromium runs a
 * hidden page's timers at most once a second (once a minute after five minutes hidden), which
 * would turn a 50 ms rest into seconds; a dedicated worker's timers are not throttled, so the
 * rest runs there and its end comes back as a message. Falls back to the page's setTimeout
 * where Web Workers are missing (tests).
 */
const SOURCE = 'onmessage=function(e){setTimeout(function(){postMessage(e.data[0])},e.data[1])}';

export interface RestTimer {
  /** Calls `fn` after about `ms`. */
  after(ms: number, fn: () => void): void;
}

export function createRestTimer(): RestTimer {
  if (typeof Worker === 'undefined') return { after: (ms, fn) => void setTimeout(fn, ms) };
  let worker: Worker | undefined;
  let nextId = 1;
  const pending = new Map<number, () => void>();
  return {
    after(ms, fn) {
      if (!worker) {
        // A data: URL, as the job threads use (the page's CSP allows `worker-src data:`).
        worker = new Worker(`data:text/javascript,${encodeURIComponent(SOURCE)}`);
        worker.onmessage = (event: MessageEvent) => {
          const id = event.data as number;
          const done = pending.get(id);
          pending.delete(id);
          done?.();
        };
      }
      const id = nextId++;
      pending.set(id, fn);
      worker.postMessage([id, Math.max(0, ms)]);
    },
  };
}
