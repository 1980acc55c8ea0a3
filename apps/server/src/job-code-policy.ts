import { ErrorCode, TabgridError } from '@tabgrid/protocol/errors';
import { workerPageCsp } from '@tabgrid/protocol/worker';

/**
 * What job code may reach, server side: the worker page goes out with
 * {@link workerPageCsp} (its job threads inherit it), and this server refuses every request from
 * an opaque origin, which is what job code is.
 */
export const WORKER_PAGE_CSP = workerPageCsp();

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
