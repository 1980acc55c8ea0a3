/**
 * Pages on other origins: CORS for REST (@fastify/cors) and socket.io, off by default and allowed
 * per origin by TABGRID_CORS_ORIGINS. Credentials are bearer tokens, never cookies, so no answer
 * ever says `Access-Control-Allow-Credentials`. Job code's opaque origin (`Origin: null`) stays
 * refused whatever is configured (job-code-policy.ts).
 */
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import type { FastifyInstance } from 'fastify';
import fastifyCors from '@fastify/cors';

/** The origins allowed to call the server from a page: a list, or `'*'` for any. */
export type CorsOrigins = readonly string[] | '*';

/** Most origins TABGRID_CORS_ORIGINS may list (a longer list is a mistake, or wants `*`). */
export const MAX_CORS_ORIGINS = 100;
/** How long a browser may cache a preflight's answer. */
const PREFLIGHT_MAX_AGE_SECONDS = 600;

/**
 * TABGRID_CORS_ORIGINS: unset or empty (the default: no page of another origin may call), `*`
 * (any origin: the API is token-authenticated, so this exposes nothing a token does not), or a
 * comma-separated list of origins (`https://app.example,http://localhost:5173`). Throws on
 * anything that is not an origin, so a typo fails at start rather than silently refusing.
 */
export function parseCorsOrigins(value: string | undefined): CorsOrigins {
  const parts = (value ?? '')
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part !== '');
  if (parts.length === 1 && parts[0] === '*') return '*';
  if (parts.length > MAX_CORS_ORIGINS) {
    throw new Error(
      `TABGRID_CORS_ORIGINS lists ${parts.length} origins; at most ${MAX_CORS_ORIGINS} (or \`*\` for any).`,
    );
  }
  return parts.map(originOf);
}

function originOf(text: string): string {
  const wrong = (why: string) =>
    new Error(
      `TABGRID_CORS_ORIGINS: "${text.slice(0, 200)}" ${why}. Give origins like https://app.example or http://localhost:5173, separated by commas, or \`*\` alone.`,
    );
  if (text === '*') throw wrong('mixes `*` with origins');
  if (text === 'null') throw wrong('is the opaque origin, which is always refused');
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw wrong('is not an origin');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw wrong('is not http(s)');
  // An origin is scheme, host and port; `https://app.example/` (a trailing slash) is forgiven.
  if (url.origin !== text.replace(/\/$/, '')) throw wrong('has a path, query or credentials');
  return url.origin;
}

function allows(origins: CorsOrigins, origin: string): boolean {
  return origins === '*' || origins.includes(origin);
}

/**
 * CORS on every HTTP route (REST, /sdk.js, /healthz), when origins are configured. Registered
 * before authentication, so that a refused request (401, 429) still carries the headers and the
 * page can read why.
 */
export async function registerCors(app: FastifyInstance, origins: CorsOrigins): Promise<void> {
  if (origins !== '*' && origins.length === 0) return;
  await app.register(fastifyCors, {
    origin: (origin, callback) => callback(null, origin !== undefined && allows(origins, origin)),
    methods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'],
    allowedHeaders: ['authorization', 'content-type'],
    exposedHeaders: ['retry-after', 'content-disposition'],
    credentials: false,
    maxAge: PREFLIGHT_MAX_AGE_SECONDS,
    strictPreflight: true,
  });
}

/**
 * Whether a socket.io request may proceed: no `Origin` (not a browser: the Node SDK), the
 * server's own host (the dashboard), or an allowed origin. Browsers do not apply CORS to
 * WebSockets, so without this check a page of any origin could open the socket directly.
 * The host is the `Host` header (a reverse proxy must pass it on: deploy/ does), or
 * `X-Forwarded-Host` when the proxy is trusted.
 */
export function socketOriginAllowed(
  request: Pick<IncomingMessage, 'headers'>,
  origins: CorsOrigins,
  trustForwardedHost: boolean,
): boolean {
  const origin = request.headers.origin;
  if (origin === undefined) return true;
  if (allows(origins, origin)) return true;
  let host: string;
  try {
    host = new URL(origin).host;
  } catch {
    return false;
  }
  return ownHosts(request.headers, trustForwardedHost).includes(host);
}

function ownHosts(headers: IncomingHttpHeaders, trustForwardedHost: boolean): string[] {
  const hosts = headers.host === undefined ? [] : [headers.host];
  const forwarded = headers['x-forwarded-host'];
  if (trustForwardedHost && typeof forwarded === 'string') {
    hosts.push(...forwarded.split(',').map((host) => host.trim()));
  }
  return hosts;
}

/** socket.io's own CORS answer for its polling transport (it uses the `cors` package). */
export function socketIoCors(origins: CorsOrigins): { origin: string | string[] } | undefined {
  if (origins === '*') return { origin: '*' };
  return origins.length === 0 ? undefined : { origin: [...origins] };
}
