import type { OperatorInfo } from '@tabgrid/protocol/jobs';

/** Who runs this grid, as its operator configured it; a plain note when they did not. */
export function OperatorCard({ operator }: { operator: OperatorInfo | undefined }) {
  return (
    <section className="card operator" aria-label="Who runs this grid" data-testid="operator">
      <div className="card__eyebrow">Run by</div>
      {operator ? (
        <>
          <div className="operator__name" data-testid="operator-name">
            {operator.name}
          </div>
          {operator.description && <p className="operator__description">{operator.description}</p>}
          {operator.link && (
            <a className="link" href={operator.link} rel="noopener noreferrer" target="_blank">
              {operator.link.replace(/^mailto:/, '')}
            </a>
          )}
        </>
      ) : (
        <p className="muted">
          The operator of this server has not said who they are. Only lend your tab to a grid you
          trust.
        </p>
      )}
    </section>
  );
}
