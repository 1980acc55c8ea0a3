import { ErrorCode, TabgridError } from '@tabgrid/protocol/errors';

/**
 * What job code may reach, server side. Job threads are Web Workers started from `data:`
 * URLs (worker-web's thread-host.ts): they run with an opaque origin and inherit the worker
 * page's Content-Security-Policy below. `connect-src 'self'` keeps job code off every other
 * host (fetch, XHR, WebSocket, EventSource, beacon), and this server refuses every request
 * from an opaque origin (browsers send `Origin: null`), so job code gets nothing here either.
 * `'unsafe-eval'` lets a thread compile the job's program; `script-src 'self'` limits
 * `importScripts` to this server's public files. The thread runtime also removes all of these
 * from job code's global, so that misuse fails with a clear message.
 */
export const WORKER_PAGE_CSP = [
  "default-src 'self'",
  "script-src 'self' 'unsafe-eval'",
  "worker-src 'self' data:",
  "connect-src 'self'",
  "img-src 'self' data:",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
].join('; ');

/**
 * Whether a request comes from an opaque origin: job code, but also a sandboxed frame or a
 * file:// page. No Tabgrid client is one (the SDK and scripts send no Origin at all).
 */
export function fromOpaqueOrigin(headers: { origin?: string | undefined }): boolean {
  return headers.origin === 'null';
}

export function opaqueOriginRefused(): TabgridError {
  return new TabgridError(
    ErrorCode.FORBIDDEN,
    'Requests from an opaque origin (Origin: null), such as job code or a file:// page, are refused: open the page from the Tabgrid server.',
  );
}
