import 'reflect-metadata';
import cluster from 'node:cluster';
import { type AddressInfo } from 'node:net';
import { ConsoleLogger, Logger, type LogLevel } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { type NestExpressApplication } from '@nestjs/platform-express';
import { recordingPlatformEvents, storeWithDeadline, type ChatStore } from '@jobsphere/chat-domain';
import {
  REDIS_ADAPTER,
  describeRedisConfig,
  type RedisConnectedAdapter,
} from '@jobsphere/redis-kit';
import { AppModule } from './app.module.js';
import { MongoAttachmentRecords } from './attachments/attachment-records.mongo.js';
import { HttpErrorFilter } from './common/http-exception.filter.js';
import { type AppConfig } from './config/app-config.js';
import { LifecycleState } from './health/lifecycle.state.js';
import { configureHttp } from './http/http-pipeline.js';
import { BudgetService } from './limits/budget.service.js';
import { startMetricsServer } from './metrics/metrics.server.js';
import { MetricsService } from './metrics/metrics.service.js';
import { MemoryChatStore } from '@jobsphere/chat-domain/memory';
import { MongoChatStore } from './persistence/mongo/mongo.store.js';
import { ChatIoAdapter } from './realtime/chat-io.adapter.js';
import { RealtimeBus } from './realtime/realtime-bus.js';
import { loadSecrets } from './secrets/secrets.js';

export interface RunningGateway {
  app: NestExpressApplication;
  port: number;
  url: string;
  /** Where /metrics is when it has its own listener. */
  metricsUrl?: string;
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
  let raw: ChatStore;
  try {
    raw = config.mongodbUri
      ? await MongoChatStore.connect({
          uri: config.mongodbUri,
          deadlineMs: config.store.timeoutMs,
          ...(secrets.mongo && { credentials: secrets.mongo }),
        })
      : new MemoryChatStore();
  } catch (error) {
    secrets.close();
    throw error;
  }
  // Every store call has a deadline: a stalled store answers UNAVAILABLE, it never hangs a request.
  // Platform events (webhooks, offline checks) are written to the outbox as part of each change.
  const store = recordingPlatformEvents(storeWithDeadline(raw, config.store.timeoutMs), {
    endpoints: config.platform.webhooks?.endpoints ?? [],
    ...(config.platform.offline && { offline: config.platform.offline }),
    clock: { now: () => new Date() },
  });
  log[store.kind === 'memory' ? 'warn' : 'log'](
    store.kind === 'memory'
      ? 'STORE: in-memory (embedded default) - single process, every message is LOST on restart. Set MONGODB_URI for MongoDB/DocumentDB.'
      : 'STORE: MongoDB (MONGODB_URI)',
  );
  log.log(
    config.redis
      ? `FAN-OUT: Redis adapter over ${describeRedisConfig(config.redis)}, routed by user`
      : 'FAN-OUT: in-memory Socket.IO adapter (single instance). Set REDIS_URL or REDIS_HOST to scale out.',
  );
  const { jwt } = config;
  log.log(
    `IDENTITY: ${[
      ...(jwt.jwks ? [`${jwt.jwks.algorithms.join('/')} keys from ${jwt.jwks.url}`] : []),
      ...(jwt.secret !== undefined ? ['HS256 with JWT_SECRET'] : []),
    ].join(
      ' and ',
    )}; issuer ${jwt.issuer ?? 'not checked'}, audience (${jwt.audienceClaim}) ${jwt.audience?.join(',') ?? 'not checked'}; user id from "${jwt.userIdClaim}", role from "${jwt.roleClaim}"${jwt.roleMap ? ' (mapped)' : ''}`,
  );
  if (config.jwt.usingDevSecret)
    log.warn(
      'JWT_SECRET not set: using the development secret (`pnpm -s run token <userId>` mints tokens for it).',
    );
  const metrics = new MetricsService();
  try {
    // Redis clients (commands, the adapter's publisher and subscriber) connect here, in the
    // Redis module: an unreachable Redis fails the start with its reason.
    const attachmentRecords =
      raw instanceof MongoChatStore ? await MongoAttachmentRecords.open(raw.connection) : undefined;
    log.log(
      config.attachments.storage.kind === 's3'
        ? `ATTACHMENTS: S3 bucket ${config.attachments.storage.bucket}`
        : `ATTACHMENTS: local folder ${config.attachments.storage.dir} (embedded default). Set ATTACHMENTS_BUCKET for S3.`,
    );
    const app = await NestFactory.create<NestExpressApplication>(
      AppModule.forRoot({
        config,
        store,
        metrics,
        ...(attachmentRecords && { attachmentRecords }),
      }),
      { logger, bodyParser: false, abortOnError: false },
    );
    configureHttp(app, config, app.get(BudgetService), new Logger('Http'));
    app.useGlobalFilters(new HttpErrorFilter());
    // Tokens travel in headers and the handshake, never in cookies: no credentials mode.
    app.enableCors({ origin: config.corsOrigin });
    const adapter = config.redis
      ? app.get<RedisConnectedAdapter | null>(REDIS_ADAPTER, { strict: false })
      : null;
    app.useWebSocketAdapter(new ChatIoAdapter(app, config, adapter?.adapter));
    await app.listen(config.port);
    // A supervised worker's metrics are served, added up, by the supervisor's listener.
    if (cluster.isWorker) metrics.answerSupervisor();
    const metricsServer =
      config.metrics && !cluster.isWorker
        ? await startMetricsServer(metrics, config.metrics)
        : undefined;
    if (metricsServer) log.log(`metrics on ${config.metrics!.host}:${metricsServer.port}/metrics`);
    const port = (app.getHttpServer().address() as AddressInfo).port;
    log.log(
      cluster.isWorker
        ? `worker ${cluster.worker!.id} serving on :${port}`
        : `chat gateway listening on :${port} (${config.nodeEnv})`,
    );

    let closing: Promise<void> | undefined;
    const shutdown = () =>
      (closing ??= (async () => {
        app.get(LifecycleState).startDraining();
        await app.get(RealtimeBus).drain(config.shutdown.drainMs, log);
        // Socket.IO, then HTTP, then module hooks (every Redis client), then the store.
        await app.close();
        await metricsServer?.close();
        await store.close();
        secrets.close();
        log.log('shutdown complete');
      })());
    return {
      app,
      port,
      url: `http://127.0.0.1:${port}`,
      ...(metricsServer && { metricsUrl: `http://127.0.0.1:${metricsServer.port}` }),
      shutdown,
    };
  } catch (error) {
    await store.close();
    secrets.close();
    throw error;
  }
}
