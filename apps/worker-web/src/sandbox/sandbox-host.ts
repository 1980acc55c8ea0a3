import { buildSandboxSrcdoc } from './sandbox-frame';
import { isFrameToPage, type PageToFrame } from './sandbox-protocol';
import { SANDBOX_WORKER_SOURCE } from './sandbox.worker';

/**
 * Owns the one hidden sandbox iframe and asks it to start and stop job threads. Each thread
 * gets a MessageChannel: the page keeps one port, the other travels page → iframe → worker, so
 * afterwards the page and the thread talk directly and the iframe is off the hot path.
 */
export class SandboxHost {
  private readonly iframe: HTMLIFrameElement;
  private ready = false;
  /** Requests made before the iframe's script is running (messages sent earlier are lost). */
  private readonly pending: { message: PageToFrame; port?: MessagePort }[] = [];
  private nextWorkerId = 1;
  private readonly onMessage = (event: MessageEvent): void => {
    // The iframe is opaque-origin ('null'), so identify it by its window, not its origin.
    if (event.source !== this.iframe.contentWindow) return;
    const message: unknown = event.data;
    if (!isFrameToPage(message)) {
      console.warn('[tabgrid] ignored an unexpected message from the sandbox frame', message);
      return;
    }
    switch (message.type) {
      case 'frame-ready':
        this.ready = true;
        for (const { message: queued, port } of this.pending.splice(0)) this.post(queued, port);
        break;
      case 'worker-error':
        // Uncaught errors of job code land here too; the thread keeps running, and a thread
        // that never starts is caught by the pool's watchdog.
        console.warn(`[tabgrid] sandbox thread ${message.workerId}: ${message.message}`);
        break;
    }
  };

  constructor(parent: HTMLElement = document.body) {
    window.addEventListener('message', this.onMessage);
    this.iframe = document.createElement('iframe');
    this.iframe.setAttribute('sandbox', 'allow-scripts');
    this.iframe.setAttribute('aria-hidden', 'true');
    this.iframe.title = 'Tabgrid sandbox';
    this.iframe.style.display = 'none';
    this.iframe.srcdoc = buildSandboxSrcdoc(SANDBOX_WORKER_SOURCE);
    parent.appendChild(this.iframe);
  }

  /** Starts a thread; returns its id (for {@link terminate}) and the page's end of its channel. */
  spawn(): { workerId: number; port: MessagePort } {
    const workerId = this.nextWorkerId++;
    const channel = new MessageChannel();
    this.post({ type: 'spawn', workerId }, channel.port2);
    return { workerId, port: channel.port1 };
  }

  terminate(workerId: number): void {
    this.post({ type: 'terminate', workerId });
  }

  dispose(): void {
    window.removeEventListener('message', this.onMessage);
    this.iframe.remove();
  }

  private post(message: PageToFrame, port?: MessagePort): void {
    const target = this.iframe.contentWindow;
    if (!this.ready || !target) {
      this.pending.push(port ? { message, port } : { message });
      return;
    }
    target.postMessage(message, '*', port ? [port] : []);
  }
}
