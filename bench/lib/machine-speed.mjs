// How fast the machine is right now. On a shared machine the same code can run 1.5× slower from
// one hour to the next; this says which kind of hour a figure comes from.

/** Milliseconds for a fixed single-thread CPU loop (lower is faster). */
export function spinMs() {
  const started = performance.now();
  let sum = 0;
  for (let i = 0; i < 300_000_000; i++) sum += i % 7;
  if (sum < 0) console.log(sum); // keeps the loop from being optimised away
  return Math.round(performance.now() - started);
}
