import type { RuntimeSnapshot } from '../runtime/volunteer-runtime';

/** What the page says about its connection; tests read it from `data-testid="connection-state"`. */
export type ConnectionLabel =
  'connecting' | 'connected' | 'reconnecting' | 'paused' | 'reload-required';

export function connectionLabel(
  snapshot: Pick<RuntimeSnapshot, 'connection' | 'paused'>,
): ConnectionLabel {
  const { state } = snapshot.connection;
  if (state === 'reload-required') return 'reload-required';
  if (snapshot.paused) return 'paused';
  switch (state) {
    case 'connected':
      return 'connected';
    case 'reconnecting':
      return 'reconnecting';
    case 'connecting':
    case 'stopped':
      return 'connecting';
  }
}
