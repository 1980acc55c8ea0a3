import { useEffect, useState } from 'react';
import { parseRoute, type Route } from '../lib/route.js';

/** The current hash route; re-renders on navigation. */
export function useHashRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(location.hash));
  useEffect(() => {
    const update = () => setRoute(parseRoute(location.hash));
    window.addEventListener('hashchange', update);
    return () => window.removeEventListener('hashchange', update);
  }, []);
  return route;
}
