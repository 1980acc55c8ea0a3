/**
 * The live dashboard feed as React state: one socket for the whole app, retargeted to the
 * job page's job. Keeps the grid's 15-minute series and each job's throughput series.
 */
import { useEffect, useReducer, useRef } from 'react';
import { DashboardFeed, type DashboardFeedStatus, type TabgridError } from '@tabgrid/sdk';
import type { DashboardStats, StatsSample } from '@tabgrid/protocol/dashboard';
import type { RatePoint } from '../lib/eta.js';
import { appendSample, recordJobRates, seedSamples } from '../lib/history.js';

export interface FeedState {
  status: DashboardFeedStatus;
  /** The latest push; undefined until the first one. */
  stats: DashboardStats | undefined;
  /** When the latest push arrived (epoch ms). */
  receivedAt: number | undefined;
  /** Grid throughput and workers online, oldest first. */
  samples: StatsSample[];
  /** Each job's tasks/s since this page opened (the watched job's from its start), oldest first. */
  jobRates: Map<string, RatePoint[]>;
  /** The last refused subscription or invalid push, with the job it concerned. */
  error: { jobId: string | undefined; error: TabgridError } | undefined;
}

type Action =
  | { type: 'status'; status: DashboardFeedStatus }
  | {
      type: 'history';
      samples: StatsSample[];
      jobId: string | undefined;
      job: RatePoint[] | undefined;
    }
  | { type: 'stats'; stats: DashboardStats; at: number }
  | { type: 'error'; jobId: string | undefined; error: TabgridError }
  | { type: 'reset' };

export const initialFeed: FeedState = {
  status: { kind: 'connecting' },
  stats: undefined,
  receivedAt: undefined,
  samples: [],
  jobRates: new Map(),
  error: undefined,
};

/** The feed state after `action` (exported for its unit test). */
export function reduceFeed(state: FeedState, action: Action): FeedState {
  switch (action.type) {
    case 'reset':
      return initialFeed;
    case 'status':
      return { ...state, status: action.status };
    case 'history': {
      const { jobId, job } = action;
      const jobRates =
        jobId !== undefined && job
          ? new Map(state.jobRates).set(jobId, seedSamples(job))
          : state.jobRates;
      return { ...state, samples: seedSamples(action.samples), jobRates, error: undefined };
    }
    case 'error':
      return { ...state, error: { jobId: action.jobId, error: action.error } };
    case 'stats':
      return {
        ...state,
        stats: action.stats,
        receivedAt: action.at,
        samples: appendSample(state.samples, action.stats.sample),
        jobRates: recordJobRates(state.jobRates, action.stats.jobs, action.stats.sample.at),
      };
  }
}

export function useDashboardFeed(token: string | undefined, jobId: string | undefined): FeedState {
  const [state, dispatch] = useReducer(reduceFeed, initialFeed);
  const feed = useRef<DashboardFeed>(undefined);
  const watched = useRef(jobId);
  watched.current = jobId;

  useEffect(() => {
    if (token === undefined) return;
    dispatch({ type: 'reset' });
    const current = new DashboardFeed({
      url: location.origin,
      token,
      ...(watched.current === undefined ? {} : { jobId: watched.current }),
      onStatus: (status) => dispatch({ type: 'status', status }),
      onHistory: (samples, job) =>
        dispatch({ type: 'history', samples, jobId: watched.current, job }),
      onStats: (stats) => dispatch({ type: 'stats', stats, at: Date.now() }),
      onError: (error) => dispatch({ type: 'error', jobId: watched.current, error }),
    });
    feed.current = current;
    return () => {
      current.close();
      feed.current = undefined;
    };
  }, [token]);

  useEffect(() => {
    feed.current?.watchJob(jobId);
  }, [jobId]);

  return state;
}
