import type { JobDetail } from '@tabgrid/protocol/dashboard';

/** Errors grouped by message: how many of each, and one full stack to debug from. */
export function ErrorGroups({ groups }: { groups: JobDetail['errorGroups'] }) {
  if (groups.length === 0) {
    return (
      <p className="empty-inline" data-testid="no-errors">
        No errors so far.
      </p>
    );
  }
  return (
    <ul className="error-groups" data-testid="error-groups">
      {groups.map((group, i) => (
        <li key={group.message} className="error-group" data-testid="error-group">
          <details open={i === 0}>
            <summary>
              <span className="error-group__count" data-testid="error-group-count">
                {group.count.toLocaleString('en-US')}×
              </span>
              <span className="error-group__message">
                <strong>{group.example.name}</strong>: {group.message}
              </span>
              <span className="badge badge--error-type">{group.example.type}</span>
            </summary>
            <div className="error-group__example">
              Example: task #{group.example.index}
              <pre className="stack-trace">{group.example.stack || '(no stack)'}</pre>
            </div>
          </details>
        </li>
      ))}
    </ul>
  );
}
