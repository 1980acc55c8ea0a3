/**
 * A random id for batches and subscriptions. Uses `crypto.randomUUID` where it exists, and
 * `crypto.getRandomValues` otherwise (browsers hide `randomUUID` on plain-http pages, which
 * is how tabs on a LAN usually reach a Tabgrid server).
 *
 * @example
 * const subscriptionId = randomId(); // '3b1f0c9e-…'
 */
export function randomId(): string {
  const crypto = globalThis.crypto as Crypto | undefined;
  if (typeof crypto?.randomUUID === 'function') return crypto.randomUUID();
  const bytes = new Uint8Array(16);
  if (typeof crypto?.getRandomValues === 'function') crypto.getRandomValues(bytes);
  else for (let i = 0; i < bytes.length; i += 1) bytes[i] = Math.floor(Math.random() * 256);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}
