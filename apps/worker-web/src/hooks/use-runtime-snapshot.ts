import { useSyncExternalStore } from 'react';
import type { RuntimeSnapshot, VolunteerRuntime } from '../runtime/volunteer-runtime';

/** The runtime's latest snapshot; re-renders only when the runtime publishes (a few per second). */
export function useRuntimeSnapshot(runtime: VolunteerRuntime): RuntimeSnapshot {
  return useSyncExternalStore(runtime.subscribe, runtime.getSnapshot);
}
