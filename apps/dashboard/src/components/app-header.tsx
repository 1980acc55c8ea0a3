import type { DashboardFeedStatus } from '@tabgrid/sdk';
import type { Route } from '../lib/route.js';
import { hrefFor } from '../lib/route.js';
import type { Identity } from '../lib/whoami.js';

interface AppHeaderProps {
  route: Route;
  status: DashboardFeedStatus;
  identity: Identity | 'unknown' | undefined;
  jobCount: number | undefined;
  workerCount: number | undefined;
  onSignOut: () => void;
}

const STATUS_TEXT: Record<DashboardFeedStatus['kind'], string> = {
  connecting: 'Connecting',
  live: 'Live',
  unreachable: 'Reconnecting',
  refused: 'Signed out',
};

function NavLink({
  to,
  current,
  label,
  count,
}: {
  to: Route;
  current: boolean;
  label: string;
  count?: number | undefined;
}) {
  return (
    <a
      href={hrefFor(to)}
      className={current ? 'nav__link nav__link--current' : 'nav__link'}
      aria-current={current ? 'page' : undefined}
      data-testid={`nav-${to.page}`}
    >
      {label}
      {count === undefined ? null : <span className="nav__count">{count}</span>}
    </a>
  );
}

export function AppHeader(props: AppHeaderProps) {
  const { route, status, identity, jobCount, workerCount, onSignOut } = props;
  return (
    <header className="topbar">
      <div className="topbar__inner">
        <a href={hrefFor({ page: 'overview' })} className="brand">
          <span className="brand__mark" aria-hidden />
          Tabgrid
        </a>
        <nav className="nav" aria-label="Pages">
          <NavLink to={{ page: 'overview' }} current={route.page === 'overview'} label="Overview" />
          <NavLink
            to={{ page: 'jobs' }}
            current={route.page === 'jobs' || route.page === 'job'}
            label="Jobs"
            count={jobCount}
          />
          <NavLink
            to={{ page: 'workers' }}
            current={route.page === 'workers'}
            label="Workers"
            count={workerCount}
          />
        </nav>
        <div className="topbar__right">
          <span className={`pill pill--${status.kind}`} data-testid="feed-status">
            <span className="pill__dot" aria-hidden />
            {STATUS_TEXT[status.kind]}
          </span>
          {identity && identity !== 'unknown' ? (
            <span className="who" data-testid="whoami" title={`Signed in as ${identity.name}`}>
              <span className="who__name">{identity.name}</span>
              <span className={`role role--${identity.role}`}>{identity.role}</span>
            </span>
          ) : null}
          <button
            type="button"
            className="button button--small"
            onClick={onSignOut}
            data-testid="sign-out"
          >
            Sign out
          </button>
        </div>
      </div>
    </header>
  );
}
