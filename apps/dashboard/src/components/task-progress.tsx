import type { TaskProgress as TaskProgressItem } from '@tabgrid/protocol/feeds';
import { formatAge } from '../lib/format.js';

/** Bars shown; the rest of the running tasks are counted under them. */
const SHOWN = 20;

interface TaskProgressProps {
  /** The running tasks that reported progress (`tabgrid.progress()`), from the job's detail. */
  progress: readonly TaskProgressItem[];
  now: number;
}

/** One bar per running task that called `tabgrid.progress()`, lowest index first. */
export function TaskProgress({ progress, now }: TaskProgressProps) {
  if (progress.length === 0) {
    return (
      <p className="empty-inline" data-testid="no-task-progress">
        No running task has reported progress. Call <code>tabgrid.progress(fraction)</code> in{' '}
        <code>Run</code> to see it here.
      </p>
    );
  }
  const shown = [...progress].sort((a, b) => a.index - b.index).slice(0, SHOWN);
  const more = progress.length - shown.length;
  return (
    <div className="task-progress" data-testid="task-progress">
      <ul className="task-progress__list">
        {shown.map((task) => {
          const alive = task.fraction === undefined;
          const percent = alive ? 0 : Math.round(Math.min(1, Math.max(0, task.fraction!)) * 100);
          return (
            <li
              key={task.index}
              className="task-progress__row"
              data-testid="task-progress-row"
              data-index={task.index}
            >
              <span className="task-progress__index">#{task.index}</span>
              <div
                className={
                  alive
                    ? 'task-progress__track task-progress__track--alive'
                    : 'task-progress__track'
                }
                role="progressbar"
                aria-valuemin={0}
                aria-valuemax={100}
                aria-valuenow={alive ? undefined : percent}
                aria-label={`task ${task.index}: ${alive ? 'running' : `${percent}%`}`}
                data-testid="task-progress-bar"
              >
                {alive ? null : (
                  <div className="task-progress__fill" style={{ width: `${percent}%` }} />
                )}
              </div>
              <span className="task-progress__value">{alive ? 'alive' : `${percent}%`}</span>
              <span className="task-progress__meta muted small hide-narrow" title={task.workerId}>
                {formatAge(task.at, now)}
              </span>
            </li>
          );
        })}
      </ul>
      {more > 0 ? (
        <p className="muted small" data-testid="task-progress-more">
          and {more.toLocaleString('en-US')} more running
        </p>
      ) : null}
    </div>
  );
}
