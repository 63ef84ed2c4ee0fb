import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import {
  GATEWAY_READY,
  ManagedProcess,
  getFreePort,
  startFakeImds,
  startFakeSecretsManager,
  startMongoWithAuth,
  startRedis,
  useExistingMongo,
  type AuthenticatedMongo,
  type FakeImds,
  type FakeSecretsManager,
  type MongoHandle,
  type RedisServer,
} from '@jobsphere/testing';
import { startLoadBalancer, type LoadBalancer } from './nginx.js';

const require = createRequire(import.meta.url);
const GATEWAY_MAIN = join(
  dirname(require.resolve('@jobsphere/chat-gateway/package.json')),
  'dist',
  'main.js',
);
const WATCHER = join(
  dirname(require.resolve('@jobsphere/infra/package.json')),
  'assets',
  'lifecycle-watcher.sh',
);

export const ASG_NAME = 'jobsphere-chat-local-gateway';
export const LIFECYCLE_HOOK_NAME = 'drain-before-terminate';

export interface LocalGateway {
  readonly name: string;
  readonly url: string;
  readonly metricsUrl: string;
  readonly process: ManagedProcess;
  /** This instance's metadata service: turn it Terminated to play an Auto Scaling termination. */
  readonly imds: FakeImds;
  /** The on-instance lifecycle watcher (infra/assets/lifecycle-watcher.sh). */
  readonly watcher: ManagedProcess;
  logs(): string;
}

export interface LocalCluster {
  /** The load balancer: the one URL clients use. */
  readonly url: string;
  readonly gateways: readonly LocalGateway[];
  readonly loadBalancer: LoadBalancer;
  readonly redis: RedisServer;
  /** Which MongoDB the gateways use (MONGODB_URI, or the emulator behind a SCRAM front). */
  readonly mongoDescription: string;
  readonly secretsManager: FakeSecretsManager;
  /** File holding the JWT secret the gateways verify tokens with (0600). */
  readonly jwtSecretFile: string;
  readonly jwtSecret: string;
  /** Completed lifecycle actions (what the watcher told "Auto Scaling"), one line each. */
  lifecycleActions(): string[];
  /**
   * Plays an Auto Scaling termination of one instance: its metadata turns Terminated; its watcher
   * drains and stops the gateway, then completes the lifecycle action. Resolves when it has.
   */
  terminate(name: string, timeoutMs?: number): Promise<{ exitCode: number | null }>;
  stop(): Promise<void>;
}

export interface LocalClusterOptions {
  /** MONGODB_URI: use this MongoDB (with its own credentials) instead of the emulator. */
  mongodbUri?: string;
  gateways?: string[];
  /** SHUTDOWN_DRAIN_MS of the gateways (production default 10 s). */
  drainMs?: number;
  /** How often the watchers read the lifecycle state (production: 5 s). */
  lifecyclePollSeconds?: number;
  /** GATEWAY_WORKERS of each gateway instance (default `auto`, one per vCPU, as deployed). */
  workers?: string;
  /** Extra gateway environment. */
  env?: Record<string, string>;
  log?: (line: string) => void;
}

/**
 * The production deployment on one machine: every part the instances talk to is real or speaks
 * the real protocol on loopback. Two gateways run in production mode (JSON logs, strict config,
 * metrics on their own loopback port) behind nginx; Redis serves TLS only with an AUTH token the
 * gateways read from Secrets Manager (a fake on loopback), as on AWS; MongoDB is MONGODB_URI, or
 * the emulator behind a SCRAM front with an application user from Secrets Manager; each
 * instance has its metadata service and the lifecycle watcher the instances run.
 */
export async function startLocalCluster(options: LocalClusterOptions = {}): Promise<LocalCluster> {
  const log = options.log ?? (() => {});
  const dir = mkdtempSync(join(tmpdir(), 'jobsphere-local-cluster-'));
  const removeDir = () => rmSync(dir, { recursive: true, force: true });
  // Also when the process ends without stop() (a crash): no folder outlives it.
  process.once('exit', removeDir);
  const cleanups: (() => Promise<void> | void)[] = [
    () => {
      process.off('exit', removeDir);
      removeDir();
    },
  ];
  const cleanup = async () => {
    for (const fn of cleanups.reverse()) await Promise.resolve(fn()).catch(() => undefined);
  };
  try {
    const secretsManager = await startFakeSecretsManager();
    cleanups.push(() => secretsManager.close());
    const redisToken = randomBytes(24).toString('base64url');
    const redis = await startRedis({ tls: true, password: redisToken });
    cleanups.push(() => redis.dispose());
    const redisSecret = secretsManager.createSecret(
      'jobsphere-chat-local/redis-auth-token',
      redisToken,
    );

    let mongoEnv: Record<string, string>;
    let mongoDescription: string;
    if (options.mongodbUri) {
      const mongo: MongoHandle = await useExistingMongo(options.mongodbUri, {
        dbName: 'jobsphere_local',
      });
      cleanups.push(() => mongo.stop());
      mongoEnv = { MONGODB_URI: mongo.uri };
      mongoDescription = mongo.description;
    } else {
      const mongo: AuthenticatedMongo = await startMongoWithAuth({
        rootUser: 'chatadmin',
        rootPassword: randomBytes(18).toString('base64url'),
        dbName: 'jobsphere',
      });
      cleanups.push(() => mongo.stop());
      const password = randomBytes(24).toString('base64url');
      mongo.addUser('chat_app', password, [{ role: 'readWrite', db: 'jobsphere' }]);
      const mongoSecret = secretsManager.createSecret(
        'jobsphere-chat-local/docdb-app',
        JSON.stringify({ engine: 'mongo', dbname: 'jobsphere', username: 'chat_app', password }),
      );
      mongoEnv = { MONGODB_URI: mongo.uri, MONGODB_SECRET_ID: mongoSecret };
      mongoDescription = `${mongo.description}, user from Secrets Manager`;
    }

    const jwtSecret = randomBytes(36).toString('base64url');
    const jwtSecretFile = join(dir, 'jwt-secret');
    writeFileSync(jwtSecretFile, jwtSecret, { mode: 0o600 });
    const actionsLog = join(dir, 'lifecycle-actions.log');
    writeFileSync(actionsLog, '');
    // The watcher's `aws autoscaling complete-lifecycle-action`, recorded instead of sent.
    const awsCli = join(dir, 'aws');
    writeFileSync(
      awsCli,
      `#!/usr/bin/env bash\nset -euo pipefail\nprintf '%s %s\\n' "$(date +%s%3N)" "$*" >> '${actionsLog}'\n`,
    );
    chmodSync(awsCli, 0o755);

    const lbPort = await getFreePort();
    const gateways: LocalGateway[] = [];
    // Stopped after nginx and the watchers, all at once, each given its whole drain to exit by
    // itself (as systemd's TimeoutStopSec does): a stop never kills a gateway mid-drain.
    const drainMs = options.drainMs ?? 10_000;
    const gatewayProcesses: ManagedProcess[] = [];
    cleanups.push(async () => {
      await Promise.all(
        gatewayProcesses.map(async (p) => {
          await p.stop(drainMs + 5_000);
          await p.dispose();
        }),
      );
    });
    for (const name of options.gateways ?? ['A', 'B']) {
      const port = await getFreePort();
      const metricsPort = await getFreePort();
      const gateway = new ManagedProcess({
        command: process.execPath,
        args: ['--enable-source-maps', GATEWAY_MAIN],
        readyPattern: GATEWAY_READY,
        readyTimeoutMs: 30_000,
        env: {
          PATH: process.env.PATH,
          NODE_ENV: 'production',
          PORT: String(port),
          METRICS_PORT: String(metricsPort),
          METRICS_HOST: '127.0.0.1',
          CLIENT_URL: `http://127.0.0.1:${lbPort}`,
          // nginx is one proxy in front, as the ALB is on AWS: per-IP budgets count its clients.
          TRUST_PROXY_HOPS: '1',
          JWT_SECRET: jwtSecret,
          REDIS_URL: `rediss://${redis.host}:${redis.port}`,
          REDIS_TLS_CA: redis.tls!.ca,
          REDIS_AUTH_SECRET_ID: redisSecret,
          ...mongoEnv,
          AWS_REGION: secretsManager.region,
          AWS_ENDPOINT_URL_SECRETS_MANAGER: secretsManager.url,
          AWS_ACCESS_KEY_ID: 'local',
          AWS_SECRET_ACCESS_KEY: 'local',
          SHUTDOWN_DRAIN_MS: String(drainMs),
          GATEWAY_WORKERS: options.workers ?? 'auto',
          // Files in one folder both gateways share (the deployment uses the S3 bucket).
          ATTACHMENTS_LOCAL_IN_PRODUCTION: 'true',
          ATTACHMENTS_DIR: join(dir, 'attachments'),
          ATTACHMENTS_PUBLIC_URL: `http://127.0.0.1:${lbPort}`,
          ...options.env,
        },
      });
      gatewayProcesses.push(gateway);
      await gateway.start();
      const imds = await startFakeImds({
        instanceId: `i-local${name.toLowerCase()}0000000000`.slice(0, 19),
      });
      cleanups.push(() => imds.close());
      const watcher = new ManagedProcess({
        command: 'bash',
        args: [WATCHER],
        readyPattern: /lifecycle-watcher: watching /,
        env: {
          PATH: process.env.PATH,
          ASG_NAME,
          LIFECYCLE_HOOK_NAME,
          AWS_REGION: secretsManager.region,
          IMDS_ENDPOINT: imds.url,
          LIFECYCLE_POLL_SECONDS: String(options.lifecyclePollSeconds ?? 0.5),
          LIFECYCLE_COMPLETE_INTERVAL_SECONDS: '0.5',
          // systemd's `stop` on the instances: SIGTERM, then wait for the exit.
          LIFECYCLE_STOP_COMMAND: `kill -TERM ${gateway.pid}; while kill -0 ${gateway.pid} 2>/dev/null; do sleep 0.1; done`,
          AWS_CLI: awsCli,
        },
      });
      cleanups.push(() => watcher.dispose());
      await watcher.start();
      gateways.push({
        name,
        url: `http://127.0.0.1:${port}`,
        metricsUrl: `http://127.0.0.1:${metricsPort}`,
        process: gateway,
        imds,
        watcher,
        logs: () => gateway.recentOutput(500),
      });
      log(`gateway ${name} listening on 127.0.0.1:${port}`);
    }

    const loadBalancer = await startLoadBalancer({
      port: lbPort,
      upstreams: gateways.map((g) => ({ name: g.name, url: g.url })),
      log,
    });
    cleanups.push(() => loadBalancer.stop());

    const lifecycleActions = () => readFileSync(actionsLog, 'utf8').split('\n').filter(Boolean);
    return {
      url: loadBalancer.url,
      gateways,
      loadBalancer,
      redis,
      mongoDescription,
      secretsManager,
      jwtSecretFile,
      jwtSecret,
      lifecycleActions,
      terminate: async (name, timeoutMs = 60_000) => {
        const gateway = gateways.find((g) => g.name === name);
        if (!gateway) throw new Error(`no gateway ${name}`);
        const completed = lifecycleActions().length;
        gateway.imds.setLifecycleState('Terminated');
        const started = Date.now();
        while (lifecycleActions().length === completed) {
          if (Date.now() - started > timeoutMs)
            throw new Error(
              `the watcher of ${name} did not complete the lifecycle action within ${timeoutMs} ms`,
            );
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
        return { exitCode: gateway.process.exitCode };
      },
      stop: cleanup,
    };
  } catch (error) {
    await cleanup();
    throw error;
  }
}
