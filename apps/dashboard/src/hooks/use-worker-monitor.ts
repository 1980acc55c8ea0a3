/**
 * The worker monitor (`GET /api/workers`) while the Workers page is open, asked again every
 * 5 s (the tabs sample every 5 s: asking faster shows nothing new). An admin gets every
 * worker; any other key what its own jobs used (CPU from their busy time, no heap).
 */
import { useEffect, useState } from 'react';
import { decodeWorkerMonitors, type WorkerMonitor } from '@tabgrid/protocol/feeds';

const POLL_MS = 5_000;

export interface WorkerMonitorState {
  workers: WorkerMonitor[] | undefined;
  /** Why the last read failed (the previous answer is kept meanwhile). */
  error: string | undefined;
}

export function useWorkerMonitor(token: string): WorkerMonitorState {
  const [state, setState] = useState<WorkerMonitorState>({ workers: undefined, error: undefined });

  useEffect(() => {
    const abort = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const ask = async () => {
      try {
        const response = await fetch(`${location.origin}/api/workers`, {
          headers: { authorization: `Bearer ${token}` },
          signal: abort.signal,
        });
        if (!response.ok) throw new Error(`the server answered ${response.status}`);
        const workers = decodeWorkerMonitors(await response.json());
        setState({ workers, error: undefined });
      } catch (error) {
        if (abort.signal.aborted) return;
        const message = error instanceof Error ? error.message : String(error);
        setState((previous) => ({ ...previous, error: message }));
      }
      if (!abort.signal.aborted) timer = setTimeout(() => void ask(), POLL_MS);
    };
    void ask();
    return () => {
      abort.abort();
      clearTimeout(timer);
    };
  }, [token]);

  return state;
}
