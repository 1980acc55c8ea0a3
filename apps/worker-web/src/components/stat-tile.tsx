import type { ReactNode } from 'react';

interface StatTileProps {
  label: string;
  testId: string;
  /** Identifiers (not numbers) get a smaller monospace face so long ids wrap readably. */
  text?: boolean;
  children: ReactNode;
}

export function StatTile({ label, testId, text = false, children }: StatTileProps) {
  return (
    <div className="stat">
      <div className={text ? 'stat__value stat__value--text' : 'stat__value'} data-testid={testId}>
        {children}
      </div>
      <div className="stat__label">{label}</div>
    </div>
  );
}
