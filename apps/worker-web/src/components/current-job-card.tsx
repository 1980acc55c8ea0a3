import type { HoldReason, RuntimeSnapshot } from '../runtime/volunteer-runtime';

const HOLD_TEXT: Record<HoldReason, string> = {
  user: 'Paused by you. Press Resume to lend this tab again.',
  hidden: 'Waiting: this tab is hidden, and you asked to run tasks only while it is visible.',
  battery: 'Waiting: this device runs on battery, and you asked to pause then.',
};

/** What this tab is doing: the job it runs (its public name), waiting, or why it holds off. */
export function CurrentJobCard({ snapshot }: { snapshot: RuntimeSnapshot }) {
  const job = snapshot.currentJob;
  const state = snapshot.paused ? 'paused' : job ? 'busy' : 'idle';
  return (
    <section
      className={`card now now--${state}`}
      aria-label="Current job"
      data-testid="now"
      data-state={state}
    >
      <div className="card__eyebrow">
        {state === 'busy' ? 'Now running' : state === 'paused' ? 'Paused' : 'Idle'}
      </div>
      {state === 'paused' && (
        <p className="now__detail" data-testid="hold-reason">
          {snapshot.holds.map((reason) => HOLD_TEXT[reason]).join(' ')}
        </p>
      )}
      {state === 'idle' && (
        <p className="now__detail">Waiting for tasks. Nothing runs on this tab right now.</p>
      )}
      {state === 'busy' && job && (
        <>
          <div className="now__title" data-testid="current-job-name">
            {job.public?.name ?? 'A job without a public name'}
          </div>
          {job.public?.description && (
            <p className="now__detail" data-testid="current-job-description">
              {job.public.description}
            </p>
          )}
          <div className="now__meta">
            {job.public?.link && (
              <a className="link" href={job.public.link} rel="noopener noreferrer" target="_blank">
                About this job
              </a>
            )}
            <code className="now__id" title={job.id}>
              job {job.id.slice(0, 8)}
            </code>
            <span hidden data-testid="current-job">
              {job.id}
            </span>
          </div>
        </>
      )}
    </section>
  );
}
