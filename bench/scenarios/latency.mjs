// 2. Latency: single tasks submitted one at a time to an idle grid; round trip SDK → tab → SDK.
import { Tabgrid } from '@tabgrid/sdk';
import { openTabs } from '../lib/browser.mjs';
import { wsEchoCeiling } from '../lib/ceiling.mjs';
import { fmt, report } from '../lib/report.mjs';
import { TOKEN, startServer } from '../lib/server.mjs';

const percentile = (sorted, p) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];

/*
 * `warmUp` tasks run before sampling. The first few hundred round trips run through code that V8 has
 * not optimised yet, in the server, the SDK and the tab (in measurements here p50 fell from
 * ~2.8 ms over the first 300 to ~1.9 ms once warm); a grid that is up serves warm code.
 */
export async function latency({ samples, warmUp }) {
  const server = await startServer();
  const browser = await openTabs(server.url, 1);
  const tg = new Tabgrid({ url: server.url, token: TOKEN });
  try {
    const job = await tg.createJob({ program: (d) => d + 1, name: 'bench-latency' });
    const results = job.results()[Symbol.asyncIterator]();
    const times = [];
    for (let i = 0; i < samples + warmUp; i++) {
      const started = performance.now();
      await job.submit([i]);
      const { value } = await results.next();
      if (value.value !== i + 1) throw new Error(`task ${i}: wrong result ${value.value}`);
      if (i >= warmUp) times.push(performance.now() - started);
    }
    await results.return?.();
    times.sort((a, b) => a - b);
    const ceilingRate = await wsEchoCeiling({ batch: 1, window: 1, seconds: 1 });
    report('latency', [
      [
        'samples',
        `${fmt(samples)} single tasks, one at a time, 1 tab, after ${fmt(warmUp)} warm-up`,
      ],
      [
        'p50 / p99',
        `${percentile(times, 50).toFixed(2)} ms / ${percentile(times, 99).toFixed(2)} ms`,
      ],
      ['server peak RSS', `${fmt(server.peakRssMb())} MB`],
      ['ws echo ceiling', `${(1000 / ceilingRate).toFixed(3)} ms per bare round trip`],
    ]);
    return { p50: percentile(times, 50), p99: percentile(times, 99) };
  } finally {
    await tg.close();
    await browser.close();
    await server.stop();
  }
}
