import type { LogLine } from '@tabgrid/protocol/feeds';

interface LogTailProps {
  /** The job's newest lines, oldest first (the server sends at most 50). */
  lines: readonly LogLine[];
  /** Lines the caps dropped (`JobInfo.logs.dropped`). */
  dropped: number;
  jobId: string;
}

function time(at: string): string {
  const ms = Date.parse(at);
  return Number.isNaN(ms) ? '' : new Date(ms).toLocaleTimeString();
}

/** The newest `console.*` lines of the job's code, identical consecutive lines shown once ×N. */
export function LogTail({ lines, dropped, jobId }: LogTailProps) {
  return (
    <div className="log-tail" data-testid="log-tail">
      {dropped > 0 ? (
        <p className="notice notice--bad small" role="status" data-testid="logs-dropped">
          {dropped.toLocaleString('en-US')} {dropped === 1 ? 'line' : 'lines'} dropped: a task keeps
          at most 1,000 lines and a job 100,000.
        </p>
      ) : null}
      {lines.length === 0 ? (
        <p className="empty-inline" data-testid="no-logs">
          No log lines yet: what the job&apos;s code prints with <code>console.log</code> appears
          here.
        </p>
      ) : (
        <ol className="log-tail__lines">
          {lines.map((line) => (
            <li
              key={line.seq}
              className={`log-line log-line--${line.level}`}
              data-testid="log-line"
              data-level={line.level}
            >
              <span className="log-line__time muted" title={`${line.at} · ${line.workerId}`}>
                {time(line.at)}
              </span>
              <span className="log-line__index">
                {line.index === null ? 'job' : `#${line.index}`}
              </span>
              <span className="log-line__level">{line.level}</span>
              {line.count > 1 ? (
                <span
                  className="log-line__count"
                  data-testid="log-count"
                  title={`${line.count.toLocaleString('en-US')} identical lines in a row`}
                >
                  ×{line.count.toLocaleString('en-US')}
                </span>
              ) : null}
              <code className="log-line__message">{line.message}</code>
            </li>
          ))}
        </ol>
      )}
      <p className="muted small">
        Every line: <code>tabgrid logs {jobId} --follow</code>
      </p>
    </div>
  );
}
