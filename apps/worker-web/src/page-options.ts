import { WORKER_LIMITS } from '@tabgrid/protocol/worker';

/** Most threads a tab may announce (the protocol's `hello.threads` maximum). */
export const MAX_THREADS = WORKER_LIMITS.maxThreads;

export interface PageOptions {
  threads: number;
  autostart: boolean;
}

export function clampThreads(value: number): number {
  if (!Number.isFinite(value)) return 1;
  return Math.min(MAX_THREADS, Math.max(1, Math.floor(value)));
}

/**
 * Reads the page's URL options: `?threads=N` (default: the machine's logical cores) and
 * `?autostart=0` (start paused). Anything unparseable falls back to the default.
 */
export function readPageOptions(
  search: string,
  hardwareConcurrency: number | undefined,
): PageOptions {
  const params = new URLSearchParams(search);
  const fallback = clampThreads(hardwareConcurrency ?? 1);
  const raw = params.get('threads');
  const parsed = raw === null || raw.trim() === '' ? Number.NaN : Number(raw);
  const threads = Number.isFinite(parsed) && parsed >= 1 ? clampThreads(parsed) : fallback;
  const autostart = !['0', 'false', 'no', 'off'].includes(
    (params.get('autostart') ?? '').toLowerCase(),
  );
  return { threads, autostart };
}
