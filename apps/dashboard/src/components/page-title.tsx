import type { ReactNode } from 'react';

export function PageTitle({ children, aside }: { children: ReactNode; aside?: ReactNode }) {
  return (
    <div className="page-title">
      <h1>{children}</h1>
      {aside}
    </div>
  );
}
