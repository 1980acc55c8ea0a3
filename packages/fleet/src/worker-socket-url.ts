/**
 * The worker socket URL of a server, from its http(s) or ws(s) address: `http://host:8080`
 * → `ws://host:8080/ws/worker`. A ws(s) URL with a path is taken as it is.
 *
 * @example
 * workerSocketUrl('http://127.0.0.1:8080'); // 'ws://127.0.0.1:8080/ws/worker'
 */
export function workerSocketUrl(server: string): string {
  const url = new URL(server);
  const secure = url.protocol === 'https:' || url.protocol === 'wss:';
  if (!/^(https?|wss?):$/.test(url.protocol)) {
    throw new TypeError(`Expected an http(s) or ws(s) URL, got "${server}".`);
  }
  const path = url.pathname.replace(/\/+$/, '');
  const isWs = url.protocol.startsWith('ws');
  url.protocol = secure ? 'wss:' : 'ws:';
  if (!isWs || path === '') url.pathname = `${path}/ws/worker`;
  return url.toString();
}
