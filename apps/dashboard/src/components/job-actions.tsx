/** Resume (of a paused job), Cancel and Delete, the last two behind a confirmation. Not rendered for viewer keys. */
import { useState } from 'react';
import type { JobInfo } from '@tabgrid/protocol/jobs';
import { cancelJob, deleteJob, resumeJob } from '../lib/job-actions.js';
import { ConfirmDialog } from './confirm-dialog.js';

interface JobActionsProps {
  job: JobInfo;
  token: string;
  onDeleted: () => void;
}

type Pending = 'cancel' | 'delete' | undefined;

export function JobActions({ job, token, onDeleted }: JobActionsProps) {
  const [pending, setPending] = useState<Pending>();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();
  const running = job.state === 'open' || job.state === 'closed';
  const unsettled = Math.max(0, job.total - job.finished - job.failed);

  const close = () => {
    setPending(undefined);
    setError(undefined);
  };
  const confirm = async () => {
    setBusy(true);
    setError(undefined);
    try {
      if (pending === 'cancel') await cancelJob(token, job.id);
      else {
        await deleteJob(token, job.id);
        onDeleted();
      }
      setPending(undefined);
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  };

  const resume = async () => {
    setBusy(true);
    setError(undefined);
    try {
      await resumeJob(token, job.id);
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="actions">
      {running && job.paused ? (
        <button
          type="button"
          className="button"
          disabled={busy}
          onClick={() => void resume()}
          data-testid="resume-job"
        >
          Resume
        </button>
      ) : null}
      {pending === undefined && error ? (
        <span className="notice notice--bad" role="alert">
          {error}
        </span>
      ) : null}
      {running ? (
        <button
          type="button"
          className="button"
          onClick={() => setPending('cancel')}
          data-testid="cancel-job"
        >
          Cancel job
        </button>
      ) : null}
      <button
        type="button"
        className="button button--danger-outline"
        onClick={() => setPending('delete')}
        data-testid="delete-job"
      >
        Delete
      </button>
      {pending === 'cancel' ? (
        <ConfirmDialog
          title={`Cancel “${job.name || job.id}”?`}
          confirmLabel="Cancel job"
          busy={busy}
          error={error}
          onConfirm={() => void confirm()}
          onClose={close}
        >
          <p>
            {unsettled === 0
              ? 'No task is waiting:'
              : unsettled === 1
                ? 'The 1 unsettled task settles as a cancelled error,'
                : `The ${unsettled.toLocaleString('en-US')} unsettled tasks settle as cancelled errors,`}{' '}
            the job takes no more tasks and its streams end. Results already computed stay readable.
          </p>
        </ConfirmDialog>
      ) : null}
      {pending === 'delete' ? (
        <ConfirmDialog
          title={`Delete “${job.name || job.id}”?`}
          confirmLabel="Delete job"
          danger
          busy={busy}
          error={error}
          onConfirm={() => void confirm()}
          onClose={close}
        >
          <p>
            The job, its tasks and all {(job.finished + job.failed).toLocaleString('en-US')} results
            and errors are deleted for good. This cannot be undone.
          </p>
        </ConfirmDialog>
      ) : null}
    </div>
  );
}
