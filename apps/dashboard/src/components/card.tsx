import type { ReactNode } from 'react';

interface CardProps {
  title?: ReactNode;
  /** Right-aligned in the card's header (a link, a legend). */
  aside?: ReactNode;
  testId?: string;
  className?: string;
  children: ReactNode;
}

export function Card({ title, aside, testId, className, children }: CardProps) {
  return (
    <section className={className ? `card ${className}` : 'card'} data-testid={testId}>
      {title === undefined && aside === undefined ? null : (
        <header className="card__header">
          {title === undefined ? <span /> : <h2 className="card__title">{title}</h2>}
          {aside}
        </header>
      )}
      {children}
    </section>
  );
}
