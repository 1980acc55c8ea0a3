/**
 * The sandbox iframe's document. The iframe is `sandbox="allow-scripts"` (opaque origin: no
 * cookies, storage or DOM access to the page) and its CSP denies every network fetch, which
 * the Web Workers it starts from blob: URLs inherit. {@link sandboxFrameMain} is shipped as
 * source text, so it must be self-contained (type-only imports are fine).
 */
import type { FrameToPage, PageToFrame } from './sandbox-protocol';

export const SANDBOX_CSP =
  "default-src 'none'; script-src 'unsafe-inline' 'unsafe-eval' blob:; worker-src blob:; connect-src 'none'";

export function sandboxFrameMain(workerSource: string): void {
  const url = URL.createObjectURL(new Blob([workerSource], { type: 'text/javascript' }));
  const workers = new Map<number, Worker>();
  const tell = (message: FrameToPage): void => {
    // The page's origin is not ours to know (we are opaque), hence '*'. Nothing secret is sent.
    window.parent.postMessage(message, '*');
  };

  window.addEventListener('message', (event: MessageEvent) => {
    if (event.source !== window.parent) return;
    const message = event.data as PageToFrame;
    if (message.type === 'spawn') {
      const port = event.ports[0];
      if (!port) return;
      const { workerId } = message;
      try {
        const worker = new Worker(url, { name: 'tabgrid-thread-' + workerId });
        // Job code may post to its global; nothing listens here, so that goes nowhere.
        worker.onerror = (error: ErrorEvent) => {
          tell({ type: 'worker-error', workerId, message: error.message || 'worker error' });
        };
        worker.postMessage({ type: 'port' }, [port]);
        workers.set(workerId, worker);
      } catch (error) {
        tell({ type: 'worker-error', workerId, message: String(error) });
      }
    } else if (message.type === 'terminate') {
      workers.get(message.workerId)?.terminate();
      workers.delete(message.workerId);
    }
  });
  tell({ type: 'frame-ready' });
}

/** JSON for an inline <script>: no `</script>` or `<!--` can appear in it. */
function scriptSafeJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

/** The iframe's `srcdoc`: CSP first, then the inline script that starts workers. */
export function buildSandboxSrcdoc(workerSource: string): string {
  const script = `(${sandboxFrameMain.toString()})(${scriptSafeJson(workerSource)});`;
  return (
    '<!doctype html><html><head>' +
    `<meta http-equiv="Content-Security-Policy" content="${SANDBOX_CSP}">` +
    `</head><body><script>${script.replace(/<\/script/gi, '<\\/script')}</script></body></html>`
  );
}
