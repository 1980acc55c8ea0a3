/**
 * What job code may reach, server side. The worker page goes out with the protocol's
 * `workerPageCsp()` (its job threads inherit it, see app.ts); and this server refuses every
 * request from an opaque origin, which is what job code is.
 */
import { ErrorCode, TabgridError } from '@tabgrid/protocol/errors';

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
