import type { RequestHandler } from 'express';

/** A documented route and method (`POST /api/v1/jobs`, the route as the API document writes it) and its handler. */
export type DirectRoutes = Record<string, RequestHandler>;

/**
 * The last of the API's checks: a request the validator matched to one of `routes` goes to its handler now,
 * instead of through Express's routers (a router's own walk and a route's dispatch per request, for the answers
 * asked most). The handler is the one the routers serve the same route with, and it sees the parameters the
 * validator decoded as the router would (`decodeURIComponent` of the same segment). Any other request goes on to
 * the routers.
 */
export function directRoutes(routes: DirectRoutes): RequestHandler {
  const byRoute = new Map(Object.entries(routes));
  return (req, res, next) => {
    const route = (req as { openapi?: { openApiRoute?: string } }).openapi?.openApiRoute;
    const handler = route === undefined ? undefined : byRoute.get(`${req.method} ${route}`);
    if (handler === undefined) {
      next();
      return;
    }
    return handler(req, res, next);
  };
}
