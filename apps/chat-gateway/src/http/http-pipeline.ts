import { type Logger } from '@nestjs/common';
import { type NestExpressApplication } from '@nestjs/platform-express';
import { UnsupportedMediaTypeError } from '@jobsphere/chat-domain';
import { type NextFunction, type Request, type Response } from 'express';
import helmet from 'helmet';
import { LOCAL_UPLOAD_PATH } from '../attachments/local.storage.js';
import { clientIp } from '../common/client-ip.js';
import { logText } from '../common/log-text.js';
import { type AppConfig } from '../config/app-config.js';
import { type BudgetService } from '../limits/budget.service.js';
import { methodNotAllowed, type RouteTable } from './method-not-allowed.js';

/** Paths the load balancer and the scraper poll: never budgeted, never in the access log. */
const OPERATIONAL = new Set(['/health', '/health/live', '/health/ready', '/metrics']);

type ClientRequest = Request & { clientIp?: string; principal?: { userId: string } };

/** The client address of a request, as the pipeline worked it out (see clientIp). */
export function requestIp(request: Request): string {
  return (request as ClientRequest).clientIp ?? request.socket.remoteAddress ?? 'unknown';
}

/**
 * Everything every HTTP request passes before a controller: security headers (helmet), no
 * caching of API answers, the client IP's budget, 405 for a method a route lacks, one JSON media
 * type, the body cap, and one bounded access-log line.
 */
export function configureHttp(
  app: NestExpressApplication,
  config: AppConfig,
  budgets: BudgetService,
  log: Logger,
): void {
  app.disable('x-powered-by');
  // The API serves JSON only; the try page (development) is the only HTML and brings its own files.
  app.use(helmet({ crossOriginResourcePolicy: { policy: 'same-site' } }));
  app.use(accessLog(log, config.nodeEnv === 'production'));
  app.use((req: ClientRequest, res: Response, next: NextFunction) => {
    req.clientIp = clientIp(
      req.socket.remoteAddress,
      req.headers['x-forwarded-for'],
      config.http.trustProxyHops,
    );
    res.setHeader('Cache-Control', 'no-store');
    // The server API is the platform's backend, from a few addresses: it has a budget per
    // calling service instead (service.guard.ts); refused tokens still spend the IP's.
    if (OPERATIONAL.has(req.path) || req.path.startsWith('/service/')) return next();
    budgets.consume('restIp', req.clientIp).then(() => next(), next);
  });
  // Express's typings leave out the layers' `match` and the routes' `_methods` it reads.
  const express = app.getHttpAdapter().getInstance();
  app.use(methodNotAllowed(() => express.router as unknown as RouteTable));
  app.use((req: Request, _res: Response, next: NextFunction) => {
    const hasBody =
      req.headers['transfer-encoding'] !== undefined ||
      Number(req.headers['content-length'] ?? 0) > 0;
    const type = req.headers['content-type'] ?? '';
    // The local attachments folder takes its upload form (multipart) and streams it itself.
    if (req.path === LOCAL_UPLOAD_PATH && req.method === 'POST') return next();
    if (!hasBody || /^application\/([\w.+-]+\+)?json\s*(;|$)/i.test(type)) return next();
    next(new UnsupportedMediaTypeError('send the body as application/json'));
  });
  app.useBodyParser('json', { limit: config.http.maxBodyBytes });
}

/** One structured line per request (no query string, no headers): method, path, status, time, user. */
function accessLog(log: Logger, structured: boolean) {
  return (req: ClientRequest, res: Response, next: () => void) => {
    const started = performance.now();
    res.on('finish', () => {
      if (OPERATIONAL.has(req.path)) return;
      const entry = {
        method: req.method,
        path: logText(req.path, 200),
        status: res.statusCode,
        ms: Math.round((performance.now() - started) * 10) / 10,
        ...(req.principal && { userId: req.principal.userId }),
      };
      // JSON logs (production) keep the fields; the console gets one readable line.
      log.log(
        structured
          ? entry
          : `${entry.method} ${entry.path} ${entry.status} ${entry.ms} ms${req.principal ? ` user=${req.principal.userId}` : ''}`,
      );
    });
    next();
  };
}
