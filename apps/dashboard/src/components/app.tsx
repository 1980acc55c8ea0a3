/** Sign-in gate, then the live dashboard: one feed for every page, hash routes. */
import { useCallback, useEffect, useState } from 'react';
import { ErrorCode } from '@tabgrid/sdk';
import { useDashboardFeed } from '../hooks/use-dashboard-feed.js';
import { useHashRoute } from '../hooks/use-hash-route.js';
import { useNotes } from '../hooks/use-notes.js';
import { useNow } from '../hooks/use-now.js';
import { useSession, type Session } from '../hooks/use-session.js';
import { hrefFor } from '../lib/route.js';
import { AppHeader } from './app-header.js';
import { ConnectionBanner } from './connection-banner.js';
import { JobPage } from './job-page.js';
import { JobsPage } from './jobs-page.js';
import { OverviewPage } from './overview-page.js';
import { SignIn } from './sign-in.js';
import { WorkersPage } from './workers-page.js';

export function App() {
  const session = useSession();
  if (session.token === undefined)
    return <SignIn error={session.error} onSignIn={session.signIn} />;
  return <Dashboard session={session} token={session.token} />;
}

function Dashboard({ session, token }: { session: Session; token: string }) {
  const route = useHashRoute();
  const jobId = route.page === 'job' ? route.id : undefined;
  const feed = useDashboardFeed(token, jobId);
  const now = useNow();
  const notes = useNotes(token);
  const [notice, setNotice] = useState<string>();
  const { signOut, identity } = session;

  useEffect(() => {
    if (feed.status.kind === 'refused') {
      signOut(`The server refused this token (${feed.status.error.message}). Sign in again.`);
    }
  }, [feed.status, signOut]);
  useEffect(() => {
    if (route.page !== 'jobs') setNotice(undefined);
    window.scrollTo(0, 0);
  }, [route]);

  // Viewers never see Cancel/Delete (the server refuses them anyway); while the role is being
  // asked, nothing is shown rather than buttons that might vanish.
  const canChange =
    identity !== undefined && (identity === 'unknown' || identity.role !== 'viewer');
  const onDeleted = useCallback(() => {
    setNotice(`Job ${jobId ?? ''} was deleted.`);
    location.hash = hrefFor({ page: 'jobs' });
  }, [jobId]);

  const { stats } = feed;
  const jobName =
    route.page === 'job' ? stats?.jobs.find((j) => j.id === route.id)?.name : undefined;
  useEffect(() => {
    const title = { overview: 'Overview', jobs: 'Jobs', job: jobName || 'Job', workers: 'Workers' };
    const page = route.page === 'not-found' ? 'Not found' : title[route.page];
    document.title = `${page} · Tabgrid`;
  }, [route.page, jobName]);
  // A missing job is the job page's business; other feed errors get the banner.
  const feedError =
    feed.error && !(feed.error.error.code === ErrorCode.JOB_NOT_FOUND && feed.error.jobId === jobId)
      ? feed.error.error
      : undefined;

  let page;
  if (!stats) {
    page = (
      <div className="loading" data-testid="loading">
        {feed.status.kind === 'unreachable'
          ? 'Waiting for the server…'
          : 'Connecting to the live feed…'}
      </div>
    );
  } else if (route.page === 'overview') {
    page = (
      <OverviewPage
        stats={stats}
        samples={feed.samples}
        jobRates={feed.jobRates}
        notes={notes}
        now={now}
        canSubmit={canChange}
      />
    );
  } else if (route.page === 'jobs') {
    page = (
      <JobsPage
        jobs={stats.jobs}
        jobRates={feed.jobRates}
        now={now}
        canSubmit={canChange}
        notice={notice}
      />
    );
  } else if (route.page === 'job') {
    const detail = stats.detail?.job.id === route.id ? stats.detail : undefined;
    page = (
      <JobPage
        key={route.id}
        id={route.id}
        job={stats.jobs.find((j) => j.id === route.id)}
        detail={detail}
        rates={feed.jobRates.get(route.id) ?? []}
        now={now}
        token={canChange ? token : undefined}
        readToken={token}
        notes={notes}
        onDeleted={onDeleted}
      />
    );
  } else if (route.page === 'workers') {
    page = (
      <WorkersPage
        workers={stats.workers}
        jobs={stats.jobs}
        now={now}
        token={token}
        notes={notes}
        ownJobsOnly={identity !== undefined && identity !== 'unknown' && identity.role !== 'admin'}
      />
    );
  } else {
    page = (
      <div className="empty" data-testid="page-not-found">
        <h3>No page at {route.path}</h3>
        <p>
          Go to the <a href={hrefFor({ page: 'overview' })}>overview</a>.
        </p>
      </div>
    );
  }

  return (
    <div className="app">
      <AppHeader
        route={route}
        status={feed.status}
        identity={identity}
        jobCount={stats?.jobs.length}
        workerCount={stats?.workers.length}
        onSignOut={() => signOut()}
      />
      <ConnectionBanner
        status={feed.status}
        receivedAt={feed.receivedAt}
        error={feedError}
        now={now}
      />
      <main className="content">{page}</main>
    </div>
  );
}
