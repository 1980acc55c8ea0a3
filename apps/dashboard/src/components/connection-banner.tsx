import type { DashboardFeedStatus, TabgridError } from '@tabgrid/sdk';
import { formatAge } from '../lib/format.js';

interface ConnectionBannerProps {
  status: DashboardFeedStatus;
  /** When the last push arrived, to say how old the numbers on screen are. */
  receivedAt: number | undefined;
  /** A refused subscription or invalid push not handled by the page itself. */
  error: TabgridError | undefined;
  now: number;
}

/** Says what is wrong with the live feed and what happens next; nothing when all is well. */
export function ConnectionBanner({ status, receivedAt, error, now }: ConnectionBannerProps) {
  if (status.kind === 'unreachable') {
    const age =
      receivedAt === undefined
        ? ''
        : ` Last update: ${formatAge(new Date(receivedAt).toISOString(), now)}.`;
    return (
      <div className="banner banner--warn" role="alert" data-testid="connection-banner">
        <strong>Cannot reach the Tabgrid server at {location.origin}</strong> ({status.reason}). Is
        it running (<code>npm start</code>)? Retrying automatically.{age}
      </div>
    );
  }
  if (error) {
    return (
      <div className="banner banner--bad" role="alert" data-testid="feed-error">
        <strong>The live feed failed:</strong> {error.message}{' '}
        <span className="mono small">({error.code})</span>
      </div>
    );
  }
  return null;
}
