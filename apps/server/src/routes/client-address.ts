/**
 * A client's address by the same rule as Fastify's `request.ip` under `trustProxy`: the nearest
 * `X-Forwarded-For` hop not set by a trusted proxy. socket.io only knows its socket's peer (the
 * proxy, behind one), so its authentication throttle asks this instead.
 */
import type { IncomingMessage } from 'node:http';
import proxyAddr from '@fastify/proxy-addr';
import type { TrustProxy } from '../config.js';

/** The function that names a request's client address under `trustProxy`. */
export function clientAddressOf(trustProxy: TrustProxy): (request: IncomingMessage) => string {
  const peer = (request: IncomingMessage) => request.socket.remoteAddress ?? '';
  if (trustProxy === false) return peer;
  const trusted = trustProxy === true ? () => true : proxyAddr.compile([...trustProxy]);
  return (request) => {
    const hops = proxyAddr.all(request, trusted);
    return hops[hops.length - 1] ?? peer(request);
  };
}
