/** Hash routes (`#/jobs/ID`): no server routes needed under /dashboard/. Unit-tested in route.test.ts. */

export type Route =
  | { page: 'overview' }
  | { page: 'jobs' }
  | { page: 'job'; id: string }
  | { page: 'workers' }
  | { page: 'not-found'; path: string };

export function parseRoute(hash: string): Route {
  const path = hash.replace(/^#/, '').replace(/\/+$/, '') || '/';
  if (path === '/') return { page: 'overview' };
  if (path === '/jobs') return { page: 'jobs' };
  if (path === '/workers') return { page: 'workers' };
  const job = /^\/jobs\/([^/]+)$/.exec(path);
  if (job) {
    try {
      return { page: 'job', id: decodeURIComponent(job[1]!) };
    } catch {
      return { page: 'not-found', path };
    }
  }
  return { page: 'not-found', path };
}

export function hrefFor(route: Route): string {
  switch (route.page) {
    case 'overview':
      return '#/';
    case 'jobs':
      return '#/jobs';
    case 'job':
      return `#/jobs/${encodeURIComponent(route.id)}`;
    case 'workers':
      return '#/workers';
    case 'not-found':
      return `#${route.path}`;
  }
}

export function jobHref(id: string): string {
  return hrefFor({ page: 'job', id });
}
