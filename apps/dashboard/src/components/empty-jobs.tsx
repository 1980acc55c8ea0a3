/** No jobs yet: how to submit one. */
import { useState } from 'react';

function snippet(origin: string): string {
  return `import { Tabgrid } from '@tabgrid/sdk';

const tg = new Tabgrid({
  url: '${origin}',
  token: process.env.TABGRID_TOKEN,
});
const job = await tg.createJob({
  name: 'double',
  program: 'function Run(d) { return d * 2 }',
});
for await (const out of job.run([1, 2, 3])) {
  console.log(out.index, out.ok ? out.value : out.error.message);
}
await tg.close();`;
}

export function EmptyJobs({ canSubmit }: { canSubmit: boolean }) {
  const [copied, setCopied] = useState(false);
  const code = snippet(location.origin);
  if (!canSubmit) {
    return (
      <div className="empty" data-testid="empty-jobs">
        <h3>No jobs to show yet</h3>
        <p>This is a viewer key: jobs appear here as soon as the key they belong to submits one.</p>
      </div>
    );
  }
  return (
    <div className="empty" data-testid="empty-jobs">
      <h3>No jobs yet</h3>
      <p>
        Submit one with the SDK and it appears here live: in Node,{' '}
        <code>npm install @tabgrid/sdk</code> and run this with <code>TABGRID_TOKEN</code> set to
        your token. In a web page, no bundler needed:{' '}
        <code>
          import {'{'} Tabgrid {'}'} from &apos;{location.origin}/sdk.js&apos;
        </code>{' '}
        (this server serves it), with the token passed as <code>token</code>; a page of another
        origin needs that origin in <code>TABGRID_CORS_ORIGINS</code>.
      </p>
      <div className="code">
        <button
          type="button"
          className="button button--small code__copy"
          onClick={() =>
            void navigator.clipboard?.writeText(code).then(
              () => setCopied(true),
              () => setCopied(false),
            )
          }
        >
          {copied ? 'Copied' : 'Copy'}
        </button>
        <pre>{code}</pre>
      </div>
      <p className="muted">
        Then open <a href="/">{location.origin}/</a> in a few browser tabs: each one computes tasks.
      </p>
    </div>
  );
}
