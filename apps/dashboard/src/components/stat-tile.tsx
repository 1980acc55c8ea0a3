import type { ReactNode } from 'react';

interface StatTileProps {
  label: string;
  testId: string;
  /** The exact number, for tests and tooltips, when the shown value is abbreviated. */
  value?: number;
  /** A smaller line under the value. */
  hint?: ReactNode;
  tone?: 'default' | 'ok' | 'bad';
  children: ReactNode;
}

export function StatTile({
  label,
  testId,
  value,
  hint,
  tone = 'default',
  children,
}: StatTileProps) {
  return (
    <div className={`tile tile--${tone}`}>
      <div className="tile__label">{label}</div>
      <div
        className="tile__value"
        data-testid={testId}
        data-value={value}
        title={value === undefined ? undefined : value.toLocaleString('en-US')}
      >
        {children}
      </div>
      {hint === undefined ? null : <div className="tile__hint">{hint}</div>}
    </div>
  );
}
