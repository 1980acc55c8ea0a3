// The raw ceiling a scenario is compared with: a bare `ws` echo carrying the same batches of tiny
// tasks (JSON text frames, as the worker protocol uses), measured in the same run.
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';

/** Tasks per second through one WebSocket round trip, `batch` tasks per frame, a few frames in flight. */
export async function wsEchoCeiling({ batch = 256, seconds = 2, window = 4 } = {}) {
  const echo = fork(fileURLToPath(new URL('./echo-server.mjs', import.meta.url)), {
    stdio: 'ignore',
    execArgv: [], // not the parent's flags (`node --input-type=module -e` would break the child)
  });
  const port = await new Promise((resolve, reject) => {
    echo.once('message', resolve);
    echo.once('exit', (code) => reject(new Error(`the echo server exited (${code})`)));
  });
  const ws = new WebSocket(`ws://127.0.0.1:${port}`);
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
  let next = 0;
  const frame = () => {
    const items = [];
    for (let i = 0; i < batch; i++) items.push({ index: next++, input: next });
    return JSON.stringify({ type: 'tasks', jobId: 'ceiling', items });
  };
  let done = 0;
  const end = performance.now() + seconds * 1000;
  const started = performance.now();
  await new Promise((resolve) => {
    ws.on('message', (data) => {
      done += JSON.parse(data.toString()).items.length;
      if (performance.now() < end) ws.send(frame());
      else resolve();
    });
    for (let i = 0; i < window; i++) ws.send(frame());
  });
  const rate = done / ((performance.now() - started) / 1000);
  ws.close();
  echo.kill();
  return rate;
}
