/** Cancel and delete go through the SDK, over a short-lived connection of their own. */
import { Tabgrid, type JobInfo } from '@tabgrid/sdk';

async function withClient<T>(token: string, act: (tg: Tabgrid) => Promise<T>): Promise<T> {
  const tg = new Tabgrid({ url: location.origin, token, connectTimeoutMs: 10_000 });
  try {
    return await act(tg);
  } finally {
    await tg.close();
  }
}

export function cancelJob(token: string, id: string): Promise<JobInfo> {
  return withClient(token, (tg) => tg.job(id).cancel());
}

export function deleteJob(token: string, id: string): Promise<void> {
  return withClient(token, (tg) => tg.job(id).delete());
}

export function resumeJob(token: string, id: string): Promise<JobInfo> {
  return withClient(token, (tg) => tg.job(id).resume());
}
