import { useEffect, useState } from 'react';

/** The current time, refreshed every `intervalMs`: keeps ages ("3 min ago") moving. */
export function useNow(intervalMs = 1000): number {
  const [now, setNow] = useState(Date.now);
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), intervalMs);
    return () => clearInterval(timer);
  }, [intervalMs]);
  return now;
}
