import type { JobDetail } from '@tabgrid/protocol/dashboard';
import { previewValue } from '../lib/format.js';

/** The newest results, newest first: a `tail -f` of the job. */
export function LatestResults({ results }: { results: JobDetail['latestResults'] }) {
  if (results.length === 0) {
    return <p className="empty-inline">No results yet: they appear here as tabs return them.</p>;
  }
  return (
    <ol className="tail" data-testid="latest-results">
      {results.map((r) => (
        <li key={r.index} className="tail__row">
          <span className="tail__index">#{r.index}</span>
          <code className="tail__value" title={previewValue(r.value, 2000)}>
            {previewValue(r.value)}
          </code>
        </li>
      ))}
    </ol>
  );
}
