// 1. Throughput: trivial tasks (d => d * 2) submitted with the SDK and consumed with run(),
// computed by headless Chromium tabs.
import { Tabgrid } from '@tabgrid/sdk';
import { openTabs } from '../lib/browser.mjs';
import { wsEchoCeiling } from '../lib/ceiling.mjs';
import { fmt, report } from '../lib/report.mjs';
import { TOKEN, startServer } from '../lib/server.mjs';

export async function throughput({ tasks, tabs = 1 }) {
  const server = await startServer();
  const browser = await openTabs(server.url, tabs);
  const tg = new Tabgrid({ url: server.url, token: TOKEN });
  try {
    const job = await tg.createJob({ program: (d) => d * 2, name: 'bench-throughput' });
    function* inputs() {
      for (let i = 0; i < tasks; i++) yield i;
    }
    const serverCpu = server.cpuSeconds();
    const browserCpu = browser.cpuSeconds();
    const clientCpu = process.cpuUsage();
    const started = performance.now();
    let received = 0;
    let wrong = 0;
    for await (const out of job.run(inputs())) {
      received++;
      if (!out.ok || out.value !== out.index * 2) wrong++;
    }
    const seconds = (performance.now() - started) / 1000;
    const serverCpuUsed = server.cpuSeconds() - serverCpu;
    const browserCpuUsed = browser.cpuSeconds() - browserCpu;
    const { user, system } = process.cpuUsage(clientCpu);
    const clientCpuUsed = (user + system) / 1e6;
    if (received !== tasks || wrong > 0)
      throw new Error(`received ${received}/${tasks}, ${wrong} wrong`);
    const rate = tasks / seconds;
    const ceiling = await wsEchoCeiling({ batch: 256 });
    report('throughput', [
      ['tasks', `${fmt(tasks)} on ${tabs} tab(s), d => d * 2, durable SQLite`],
      ['tasks/s', `${fmt(rate)}  (submit → last result: ${seconds.toFixed(2)} s)`],
      ['server peak RSS', `${fmt(server.peakRssMb())} MB`],
      [
        'CPU during the run',
        `server ${serverCpuUsed.toFixed(2)} s, SDK client ${clientCpuUsed.toFixed(2)} s, ` +
          `Chromium ${browserCpuUsed.toFixed(2)} s`,
      ],
      [
        'ws echo ceiling',
        `${fmt(ceiling)} tasks/s (256 per frame) → ratio ${(rate / ceiling).toFixed(2)}`,
      ],
    ]);
    return { rate };
  } finally {
    await tg.close();
    await browser.close();
    await server.stop();
  }
}
