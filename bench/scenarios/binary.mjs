// Binary payloads (issue 18): tasks of one Float32Array each, echoed by one headless Chromium
// tab (`Run` returns its input), submitted with the SDK and consumed with run(); MB/s and
// tasks/s from submit to last result, against a bare `ws` echo of the same bytes in binary
// frames of about the same size, measured in the same run.
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import { Tabgrid } from '@tabgrid/sdk';
import { openTabs } from '../lib/browser.mjs';
import { fmt, report } from '../lib/report.mjs';
import { TOKEN, startServer } from '../lib/server.mjs';

const MB = 1024 * 1024;

/** MB/s of `bytes`-sized binary frames echoed by a bare ws server, `window` frames in flight. */
async function wsBinaryCeiling({ bytes, total, window = 4 }) {
  const echo = fork(fileURLToPath(new URL('../lib/echo-server.mjs', import.meta.url)), {
    stdio: 'ignore',
    execArgv: [],
  });
  const port = await new Promise((resolve, reject) => {
    echo.once('message', resolve);
    echo.once('exit', (code) => reject(new Error(`the echo server exited (${code})`)));
  });
  const ws = new WebSocket(`ws://127.0.0.1:${port}`);
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
  const frames = Math.max(window, Math.ceil(total / bytes));
  const payload = new Float32Array(bytes / 4).map((_, i) => i);
  let sent = 0;
  let back = 0;
  const started = performance.now();
  await new Promise((resolve) => {
    const send = () => {
      sent++;
      ws.send(payload);
    };
    ws.on('message', (data) => {
      if (data.length !== bytes) throw new Error(`echo of ${data.length} bytes, not ${bytes}`);
      back++;
      if (sent < frames) send();
      else if (back === frames) resolve();
    });
    for (let i = 0; i < window; i++) send();
  });
  const seconds = (performance.now() - started) / 1000;
  ws.close();
  echo.kill();
  return (frames * bytes) / MB / seconds;
}

/** One job of `tasks` Float32Arrays of `bytes` each through the tab; every result checked. */
async function throughTab(tg, { tasks, bytes }) {
  const job = await tg.createJob({ program: (v) => v, name: `bench-binary-${bytes}` });
  const floats = bytes / 4;
  function* inputs() {
    for (let i = 0; i < tasks; i++) {
      const v = new Float32Array(floats);
      v[0] = i;
      v[floats - 1] = -i;
      yield v;
    }
  }
  const started = performance.now();
  let wrong = 0;
  let received = 0;
  for await (const out of job.run(inputs())) {
    received++;
    const v = out.ok ? out.value : undefined;
    if (
      !(v instanceof Float32Array) ||
      v.length !== floats ||
      v[0] !== out.index ||
      v[floats - 1] !== -out.index
    )
      wrong++;
  }
  const seconds = (performance.now() - started) / 1000;
  if (received !== tasks || wrong > 0) {
    throw new Error(`received ${received}/${tasks}, ${wrong} wrong`);
  }
  return { seconds, mbps: (tasks * bytes) / MB / seconds, rate: tasks / seconds };
}

export async function binary({ small, large }) {
  const server = await startServer();
  const browser = await openTabs(server.url, 1);
  const tg = new Tabgrid({ url: server.url, token: TOKEN });
  const lines = [];
  const ratios = {};
  try {
    for (const [name, { tasks, bytes }] of Object.entries({ small, large })) {
      const serverCpu = server.cpuSeconds();
      const browserCpu = browser.cpuSeconds();
      const clientCpu = process.cpuUsage();
      const tab = await throughTab(tg, { tasks, bytes });
      const serverUsed = server.cpuSeconds() - serverCpu;
      const browserUsed = browser.cpuSeconds() - browserCpu;
      const { user, system } = process.cpuUsage(clientCpu);
      // The same bytes over a bare ws echo, in frames of about a submission batch (512 KB) or
      // of one task when bigger.
      const frame = Math.max(bytes, Math.floor((512 * 1024) / bytes) * bytes);
      const ceiling = await wsBinaryCeiling({ bytes: frame, total: tasks * bytes });
      ratios[name] = tab.mbps / ceiling;
      lines.push(
        [`${name}: tasks`, `${fmt(tasks)} × ${fmt(bytes / 1024)} KB Float32Array, v => v`],
        [
          `${name}: through a tab`,
          `${fmt(tab.mbps, 1)} MB/s, ${fmt(tab.rate)} tasks/s (${tab.seconds.toFixed(2)} s)`,
        ],
        [
          `${name}: CPU`,
          `server ${serverUsed.toFixed(2)} s, SDK ${((user + system) / 1e6).toFixed(2)} s, ` +
            `Chromium ${browserUsed.toFixed(2)} s`,
        ],
        [
          `${name}: ws echo ceiling`,
          `${fmt(ceiling, 1)} MB/s (${fmt(frame / 1024)} KB binary frames) → ratio ` +
            `${ratios[name].toFixed(2)} (bar ≥ 0.25)`,
        ],
      );
    }
    lines.push(['server peak RSS', `${fmt(server.peakRssMb())} MB`]);
    report('binary', lines);
    return ratios;
  } finally {
    await tg.close();
    await browser.close();
    await server.stop();
  }
}
