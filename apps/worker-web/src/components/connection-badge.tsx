import { useEffect, useState } from 'react';
import type { ConnectionStatus } from '../connection/worker-connection';
import type { ConnectionLabel } from './connection-label';

const DESCRIPTIONS: Record<ConnectionLabel, string> = {
  connecting: 'Connecting to the grid…',
  connected: 'Connected: this tab is ready for tasks.',
  reconnecting: 'The server is unreachable.',
  paused: 'Paused: this tab is not taking tasks.',
  'reload-required': 'This page is out of date for the server.',
};

/** Seconds until `retryAt`, updated every second while waiting. */
function useSecondsUntil(retryAt: number | undefined): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (retryAt === undefined) return;
    const timer = setInterval(() => setNow(Date.now()), 1_000);
    return () => clearInterval(timer);
  }, [retryAt]);
  return retryAt === undefined ? 0 : Math.max(0, Math.ceil((retryAt - now) / 1_000));
}

export function ConnectionBadge({
  label,
  status,
}: {
  label: ConnectionLabel;
  status: ConnectionStatus;
}) {
  const retryAt =
    status.state === 'reconnecting' && label === 'reconnecting' ? status.retryAt : undefined;
  const seconds = useSecondsUntil(retryAt);
  return (
    <div className={`connection connection--${label}`} role="status" aria-live="polite">
      <span className="connection__dot" aria-hidden="true" />
      <span className="connection__label" data-testid="connection-state">
        {label}
      </span>
      <span className="connection__detail">
        {DESCRIPTIONS[label]}
        {retryAt !== undefined && ` Retrying in ${seconds} s.`}
        {status.state === 'connected' && label === 'connected' && (
          <span className="connection__worker"> Worker {status.workerId}</span>
        )}
      </span>
      {label === 'reload-required' && (
        <button type="button" className="button" onClick={() => window.location.reload()}>
          Reload the page
        </button>
      )}
    </div>
  );
}
