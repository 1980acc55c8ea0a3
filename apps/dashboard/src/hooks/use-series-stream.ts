/**
 * One collected series of a job, read from `GET /api/jobs/:id/series/:label?stream` (the
 * settled tasks' values, then live ones until the job ends) into a {@link SeriesBands}. A dropped
 * connection resumes from the last seq it read; the page redraws at most every 500 ms however
 * fast the items come.
 */
import { useEffect, useState } from 'react';
import { decodeSeriesItem, type SeriesItem } from '@tabgrid/protocol/feeds';
import { ndjsonLines } from '../lib/ndjson.js';
import { SeriesBands, type SeriesPlot, type SeriesSummary } from '../lib/series-bands.js';

const REDRAW_MS = 500;
const RETRY_MS = 3000;
/** A task's series is at most 1 MB of values: a line longer than this is not the server's. */
const MAX_LINE_CHARS = 4 * 1024 * 1024;

/** The line's item, or why it is not one. */
function decodeLine(line: string): SeriesItem | string {
  try {
    return decodeSeriesItem(JSON.parse(line));
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

export interface SeriesState {
  status: 'loading' | 'live' | 'ended' | 'retrying' | 'failed';
  /** Why the read stopped or is retrying. */
  reason?: string;
  plot: SeriesPlot;
  summary: SeriesSummary;
}

function stateOf(bands: SeriesBands, status: SeriesState['status'], reason?: string): SeriesState {
  return {
    status,
    ...(reason === undefined ? {} : { reason }),
    plot: bands.plot(),
    summary: bands.describe(),
  };
}

export function useSeriesStream(
  jobId: string,
  label: string | undefined,
  token: string,
): SeriesState | undefined {
  const [state, setState] = useState<SeriesState>();

  useEffect(() => {
    setState(undefined);
    if (label === undefined) return;
    const abort = new AbortController();
    const bands = new SeriesBands();
    let lastSeq = 0;
    let status: SeriesState['status'] = 'loading';
    let dirty = true;
    const redraw = setInterval(() => {
      if (!dirty) return;
      dirty = false;
      setState(stateOf(bands, status));
    }, REDRAW_MS);

    const read = async (): Promise<void> => {
      for (;;) {
        let response: Response;
        try {
          const url = `${location.origin}/api/jobs/${encodeURIComponent(jobId)}/series/${encodeURIComponent(label)}?stream&from=${lastSeq}`;
          response = await fetch(url, {
            headers: { authorization: `Bearer ${token}` },
            signal: abort.signal,
          });
          if (!response.ok || !response.body) {
            status = 'failed';
            setState(stateOf(bands, status, `the server answered ${response.status}`));
            return;
          }
          status = 'live';
          dirty = true;
          for await (const line of ndjsonLines(response.body, MAX_LINE_CHARS)) {
            const item = decodeLine(line);
            if (typeof item === 'string') {
              // Reading again would meet the same line: stop and say why.
              status = 'failed';
              abort.abort();
              setState(stateOf(bands, status, item));
              return;
            }
            bands.add(item.seq, item.index, item.values);
            lastSeq = Math.max(lastSeq, item.seq);
            dirty = true;
          }
          status = 'ended';
          setState(stateOf(bands, status));
          return;
        } catch (error) {
          if (abort.signal.aborted) return;
          status = 'retrying';
          setState(stateOf(bands, status, error instanceof Error ? error.message : String(error)));
          await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
          if (abort.signal.aborted) return;
        }
      }
    };
    void read();
    return () => {
      abort.abort();
      clearInterval(redraw);
    };
  }, [jobId, label, token]);

  return state;
}
