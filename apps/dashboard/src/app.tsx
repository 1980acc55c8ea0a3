import { useEffect, useState } from 'react';

interface Health {
  ok: boolean;
  workers: number;
}

/**
 * Placeholder until the dashboard issue lands: shows that the server is up and how many
 * workers are connected, polling the public health endpoint.
 */
export function App() {
  const [health, setHealth] = useState<Health | 'unreachable' | undefined>();
  useEffect(() => {
    const poll = () =>
      fetch('/healthz')
        .then((res) => res.json() as Promise<Health>)
        .then(setHealth, () => setHealth('unreachable'));
    void poll();
    const timer = setInterval(() => void poll(), 2000);
    return () => clearInterval(timer);
  }, []);
  return (
    <main
      style={{
        fontFamily: 'system-ui, sans-serif',
        maxWidth: 640,
        margin: '4rem auto',
        padding: '0 1rem',
      }}
    >
      <h1>Tabgrid dashboard</h1>
      <p>The live dashboard (jobs, workers, throughput) is being built.</p>
      <p data-testid="health">
        {health === undefined
          ? 'Checking the server…'
          : health === 'unreachable'
            ? 'The server is unreachable; retrying every 2 s.'
            : `Server up, ${health.workers} worker(s) connected.`}
      </p>
    </main>
  );
}
