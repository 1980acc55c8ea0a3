import { formatPercent } from '../lib/format.js';

interface ProgressBarProps {
  finished: number;
  failed: number;
  total: number;
  /** A thicker bar with a legend, for the job page. */
  large?: boolean;
  testId?: string;
}

/** Finished (green) and failed (red) shares of the submitted tasks. */
export function ProgressBar({ finished, failed, total, large = false, testId }: ProgressBarProps) {
  const settled = finished + failed;
  const share = (n: number) => (total > 0 ? `${Math.min(100, (n / total) * 100)}%` : '0%');
  const percent = formatPercent(settled, total);
  const valueNow = total > 0 ? Math.min(100, Math.floor((settled / total) * 100)) : 0;
  return (
    <div className={large ? 'progress progress--large' : 'progress'}>
      <div
        className="progress__track"
        role="progressbar"
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={valueNow}
        aria-label={`${settled.toLocaleString('en-US')} of ${total.toLocaleString('en-US')} tasks settled`}
        data-testid={testId}
      >
        <div className="progress__finished" style={{ width: share(finished) }} />
        <div className="progress__failed" style={{ width: share(failed) }} />
      </div>
      <div className="progress__label">
        <span data-testid={testId ? `${testId}-percent` : undefined}>{percent}</span>
        <span className="muted">
          {settled.toLocaleString('en-US')} / {total.toLocaleString('en-US')}
          {failed > 0 ? (
            <span className={large ? 'text-bad' : 'text-bad hide-narrow'}>
              {' '}
              · {failed.toLocaleString('en-US')} failed
            </span>
          ) : null}
        </span>
      </div>
    </div>
  );
}
