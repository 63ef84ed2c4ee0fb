import 'reflect-metadata';
import { type AddressInfo } from 'node:net';
import { ConsoleLogger, Logger, type LogLevel } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { type NestExpressApplication } from '@nestjs/platform-express';
import { type ChatStore } from '@jobsphere/chat-domain';
import {
  createRedisAdapter,
  describeRedisConfig,
  type RedisAdapterHandle,
} from '@jobsphere/redis-kit';
import { type Request, type Response } from 'express';
import { type Server } from 'socket.io';
import { AppModule } from './app.module.js';
import { HttpErrorFilter } from './common/http-exception.filter.js';
import { type AppConfig } from './config/app-config.js';
import { LifecycleState } from './health/lifecycle.state.js';
import { MetricsService, countingLogger } from './metrics/metrics.service.js';
import { MemoryChatStore } from './persistence/memory/memory.store.js';
import { MongoChatStore } from './persistence/mongo/mongo.store.js';
import { ChatIoAdapter } from './realtime/chat-io.adapter.js';
import { RealtimeBus } from './realtime/realtime-bus.js';
import { loadSecrets } from './secrets/secrets.js';

export interface RunningGateway {
  app: NestExpressApplication;
  port: number;
  url: string;
  /** Drain sockets, then close Socket.IO, Redis and the store, in that order. */
  shutdown(): Promise<void>;
}

const LEVELS: Record<AppConfig['logLevel'], LogLevel[]> = {
  debug: ['fatal', 'error', 'warn', 'log', 'debug'],
  info: ['fatal', 'error', 'warn', 'log'],
  warn: ['fatal', 'error', 'warn'],
  error: ['fatal', 'error'],
};

export function createLogger(config: AppConfig): ConsoleLogger {
  return new ConsoleLogger({
    json: config.nodeEnv === 'production',
    logLevels: LEVELS[config.logLevel],
    colors: false,
  });
}

export async function startGateway(
  settings: AppConfig,
  logger = createLogger(settings),
): Promise<RunningGateway> {
  const log = new Logger('Bootstrap');
  Logger.overrideLogger(logger);
  // Rotating credentials (Secrets Manager) are read before anything connects.
  const secrets = await loadSecrets(settings, new Logger('Secrets'));
  const config = secrets.config;
  let store: ChatStore;
  try {
    store = config.mongodbUri
      ? await MongoChatStore.connect({
          uri: config.mongodbUri,
          ...(secrets.mongo && { credentials: secrets.mongo }),
        })
      : new MemoryChatStore();
  } catch (error) {
    secrets.close();
    throw error;
  }
  if (store.kind === 'memory') {
    log.warn(
      'STORE: in-memory (embedded default) - single process, every message is LOST on restart. Set MONGODB_URI for MongoDB/DocumentDB.',
    );
  } else {
    log.log('STORE: MongoDB (MONGODB_URI)');
  }
  const metrics = new MetricsService();
  let redisAdapter: RedisAdapterHandle | undefined;
  // Bound once the Socket.IO server exists; debounced because publisher and subscriber both report.
  let askClientsToSync = () => {};
  let syncTimer: NodeJS.Timeout | undefined;
  try {
    redisAdapter = config.redis
      ? await createRedisAdapter(config.redis, {
          logger: countingLogger('Redis', metrics),
          onReconnect: () => {
            clearTimeout(syncTimer);
            syncTimer = setTimeout(() => askClientsToSync(), 250);
          },
        })
      : undefined;
    log.log(
      config.redis
        ? `FAN-OUT: Redis adapter over ${describeRedisConfig(config.redis)}`
        : 'FAN-OUT: in-memory Socket.IO adapter (single instance). Set REDIS_URL or REDIS_HOST to scale out.',
    );
    if (config.jwt.usingDevSecret)
      log.warn(
        'JWT_SECRET not set: using the development secret (`pnpm -s run token <userId>` mints tokens for it).',
      );

    const app = await NestFactory.create<NestExpressApplication>(
      AppModule.forRoot({ config, store, metrics }),
      {
        logger,
        bodyParser: false,
      },
    );
    app.useBodyParser('json', { limit: config.http.maxBodyBytes });
    app.use(accessLog(new Logger('Http'), config.nodeEnv === 'production'));
    app.useGlobalFilters(new HttpErrorFilter());
    app.enableCors({ origin: config.corsOrigin, credentials: true });
    app.useWebSocketAdapter(new ChatIoAdapter(app, config, redisAdapter?.adapter));
    await app.listen(config.port);
    askClientsToSync = () => {
      log.warn('Redis is back: asking local clients to sync what they may have missed');
      app.get(RealtimeBus).server?.local.emit('sync:required', { reason: 'redis-reconnected' });
    };
    const port = (app.getHttpServer().address() as AddressInfo).port;
    log.log(`chat gateway listening on :${port} (${config.nodeEnv})`);

    let closing: Promise<void> | undefined;
    const shutdown = () =>
      (closing ??= (async () => {
        const lifecycle = app.get(LifecycleState);
        lifecycle.startDraining();
        clearTimeout(syncTimer);
        const server = app.get(RealtimeBus).server;
        if (server) await drainSockets(server, config.shutdown.drainMs, log);
        await app.close(); // Socket.IO, then HTTP, then module hooks (Redis clients)
        await redisAdapter?.close();
        await store.close();
        secrets.close();
        log.log('shutdown complete');
      })());
    return { app, port, url: `http://127.0.0.1:${port}`, shutdown };
  } catch (error) {
    await redisAdapter?.close();
    await store.close();
    secrets.close();
    throw error;
  }
}

const QUIET_PATHS = new Set(['/health', '/health/live', '/metrics']);

/** One structured line per request (no query string, no headers): method, path, status, time, user. */
function accessLog(log: Logger, structured: boolean) {
  return (req: Request & { principal?: { userId: string } }, res: Response, next: () => void) => {
    const started = performance.now();
    res.on('finish', () => {
      if (QUIET_PATHS.has(req.path)) return;
      const entry = {
        method: req.method,
        path: req.path,
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

/**
 * Tells every local socket to reconnect elsewhere, then disconnects the ones that stay,
 * spread over the drain window so a rolling deploy does not become a reconnect storm.
 * HTTP keeps answering (503 on /health, refusing new sockets) for the whole window, so
 * the load balancer sees the instance leave instead of getting refused connections.
 */
async function drainSockets(server: Server, drainMs: number, log: Logger): Promise<void> {
  log.log(`draining ${server.of('/').sockets.size} sockets over ${drainMs} ms`);
  server.local.emit('server:draining', { reconnectAfterMs: 0 });
  const tickMs = 100;
  const ticks = Math.max(1, Math.floor(drainMs / tickMs));
  for (let tick = 0; tick < ticks; tick++) {
    const connected = [...server.of('/').sockets.values()];
    // Clients get the first half of the window to leave by themselves.
    const remainingTicks = ticks - tick;
    if (connected.length > 0 && remainingTicks <= ticks / 2) {
      const share = Math.ceil(connected.length / remainingTicks);
      for (const socket of connected.slice(0, share)) socket.disconnect(true);
    }
    await new Promise((resolve) => setTimeout(resolve, tickMs));
  }
  server.local.disconnectSockets(true);
}
