import { MethodNotAllowedException } from '@nestjs/common';
import { type NextFunction, type Request, type Response } from 'express';

/** The part of Express 5's router (the `router` package, 2.x) this reads: its route layers. */
export interface RouteTable {
  readonly stack: readonly {
    readonly route?: { readonly _methods: () => string[] };
    readonly match: (path: string) => unknown;
  }[];
}

/** Methods no route declares but every server answers for itself (CORS preflight). */
const ANSWERED_ELSEWHERE = new Set(['OPTIONS']);

/**
 * A path that exists asked with a method it does not have: 405 with `Allow` (RFC 9110 15.5.6),
 * before anything looks at the body (which would answer 415 or 400 for a request that can never
 * succeed). An unknown path goes on to the 404. The routes are the ones Express really has
 * (what is mounted in this environment), read once, on the first request, when all are in place.
 */
export function methodNotAllowed(routes: () => RouteTable) {
  let table: { match: (path: string) => unknown; methods: string[] }[] | undefined;
  return (req: Request, res: Response, next: NextFunction) => {
    if (ANSWERED_ELSEWHERE.has(req.method)) return next();
    table ??= routes().stack.flatMap((layer) =>
      layer.route
        ? [{ match: (path: string) => layer.match(path), methods: layer.route._methods() }]
        : [],
    );
    const allowed = new Set(
      table.filter((route) => route.match(req.path)).flatMap((route) => route.methods),
    );
    if (allowed.size === 0 || allowed.has(req.method)) return next();
    res.setHeader('Allow', [...allowed].sort().join(', '));
    next(new MethodNotAllowedException());
  };
}
