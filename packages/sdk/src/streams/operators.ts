/**
 * The operators of an outcome stream (`map`, `filter`, `take`, `batch`), as iterator-to-iterator
 * functions: each pulls from its source only when its own consumer asks, so backpressure runs
 * through a chain unchanged, and each passes an early stop (`return()`) on to its source.
 */

const DONE: IteratorReturnResult<undefined> = { done: true, value: undefined };

type Iter<T> = AsyncIterator<T, undefined>;

/** Stops `source` after `fn` threw, then rethrows: the subscription must not outlive the loop. */
async function stopAndThrow(source: Iter<unknown>, error: unknown): Promise<never> {
  await source.return?.();
  throw error;
}

/** `fn(item)` for every item; an error thrown by `fn` stops the source and is thrown. */
export function mapIterator<T, U>(source: Iter<T>, fn: (item: T) => U | PromiseLike<U>): Iter<U> {
  return {
    async next() {
      const step = await source.next();
      if (step.done) return DONE;
      try {
        return { done: false, value: await fn(step.value) };
      } catch (error) {
        return stopAndThrow(source, error);
      }
    },
    async return() {
      await source.return?.();
      return DONE;
    },
  };
}

/** The items for which `keep(item)` is truthy. */
export function filterIterator<T>(
  source: Iter<T>,
  keep: (item: T) => boolean | PromiseLike<boolean>,
): Iter<T> {
  return {
    async next() {
      for (;;) {
        const step = await source.next();
        if (step.done) return DONE;
        let kept: boolean;
        try {
          kept = await keep(step.value);
        } catch (error) {
          return stopAndThrow(source, error);
        }
        if (kept) return step;
      }
    },
    async return() {
      await source.return?.();
      return DONE;
    },
  };
}

/**
 * The first `count` items. The source is stopped as the last of them is handed out (not when
 * the consumer asks for one more), so a job's subscription ends as soon as it has given enough.
 */
export function takeIterator<T>(open: () => Iter<T>, count: number): Iter<T> {
  let source: Iter<T> | undefined;
  let left = Math.max(0, Math.floor(count));
  return {
    async next() {
      if (left <= 0) return DONE;
      source ??= open();
      const step = await source.next();
      if (step.done) {
        left = 0;
        return DONE;
      }
      left -= 1;
      if (left === 0) await source.return?.();
      return step;
    },
    async return() {
      if (left > 0) {
        left = 0;
        await source?.return?.();
      }
      return DONE;
    },
  };
}

const LINGER = Symbol('linger');

/**
 * Arrays of up to `size` items, in order; the last may be shorter. With `maxWaitMs`, a batch
 * that has at least one item is handed out once no new item came for that long (a slow job
 * then still shows its results in time); without it, a batch waits until it is full.
 */
export function batchIterator<T>(source: Iter<T>, size: number, maxWaitMs?: number): Iter<T[]> {
  const limit = Math.max(1, Math.floor(size));
  let pending: Promise<IteratorResult<T, undefined>> | undefined;
  let finished = false;
  return {
    async next() {
      if (finished) return DONE;
      const batch: T[] = [];
      let timer: ReturnType<typeof setTimeout> | undefined;
      let lingered: Promise<typeof LINGER> | undefined;
      try {
        while (batch.length < limit) {
          pending ??= source.next();
          if (batch.length > 0 && maxWaitMs !== undefined) {
            lingered ??= new Promise((resolve) => {
              timer = setTimeout(() => resolve(LINGER), maxWaitMs);
            });
          }
          const step = lingered ? await Promise.race([pending, lingered]) : await pending;
          // Out of time: hand out what there is; `pending` stays for the next batch.
          if (step === LINGER) break;
          pending = undefined;
          if (step.done) {
            finished = true;
            break;
          }
          batch.push(step.value);
        }
      } finally {
        clearTimeout(timer);
      }
      return batch.length > 0 ? { done: false, value: batch } : DONE;
    },
    async return() {
      finished = true;
      await source.return?.();
      return DONE;
    },
  };
}
