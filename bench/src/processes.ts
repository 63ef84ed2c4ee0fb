// The systems under test as real processes: redis-server, two gateway instances from the
// built output, two baseline relays. All on free loopback ports.
import { createRequire } from 'node:module';
import { mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  GATEWAY_READY,
  startNodeService,
  startRedis,
  type ManagedProcess,
  type RedisServer,
} from '@jobsphere/testing';

export interface Instance {
  url: string;
  port: number;
  proc: ManagedProcess;
}

export interface Target {
  name: 'gateway' | 'baseline';
  A: Instance;
  B: Instance;
}

export function gatewayMain(): string {
  const pkg = createRequire(import.meta.url).resolve('@jobsphere/chat-gateway/package.json');
  return join(dirname(pkg), 'dist', 'main.js');
}

export function relayMain(): string {
  return fileURLToPath(new URL('./baseline/relay.js', import.meta.url));
}

export interface GatewayOptions {
  redisUrl: string;
  jwtSecret: string;
  mongodbUri?: string;
  /** Directory for `--cpu-prof` output of instance A, when profiling. */
  cpuProfDir?: string;
  /** Extra env for both instances (e.g. a variant under test). */
  extraEnv?: Record<string, string>;
}

async function startNode(
  name: string,
  script: string,
  env: NodeJS.ProcessEnv,
  readyPattern: RegExp,
  nodeArgs: string[] = [],
): Promise<Instance> {
  try {
    const { url, port, process } = await startNodeService({
      script,
      env,
      readyPattern,
      nodeArgs,
      readyTimeoutMs: 60_000,
    });
    return { url, port, proc: process };
  } catch (error) {
    throw new Error(`${name} did not start: ${String(error)}`, { cause: error });
  }
}

export async function startGateways(opts: GatewayOptions): Promise<Target> {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env['PATH'],
    // production and test run the same code paths; production insists on MongoDB.
    NODE_ENV: opts.mongodbUri ? 'production' : 'test',
    JWT_SECRET: opts.jwtSecret,
    REDIS_URL: opts.redisUrl,
    LOG_LEVEL: 'info',
    CLIENT_URL: 'http://127.0.0.1',
    RATE_LIMIT_SEND_PER_10S: '100000',
    RATE_LIMIT_TYPING_PER_10S: '100000',
    RATE_LIMIT_REST_PER_MIN: '100000',
    SHUTDOWN_DRAIN_MS: '0',
    ...(opts.mongodbUri && { MONGODB_URI: opts.mongodbUri }),
    ...opts.extraEnv,
  };
  const profArgs = (instance: string) => {
    if (!opts.cpuProfDir) return [];
    mkdirSync(opts.cpuProfDir, { recursive: true });
    return [
      '--cpu-prof',
      `--cpu-prof-dir=${opts.cpuProfDir}`,
      `--cpu-prof-name=gateway-${instance}.cpuprofile`,
    ];
  };
  const [A, B] = await Promise.all([
    startNode('gateway A', gatewayMain(), env, GATEWAY_READY, profArgs('A')),
    startNode('gateway B', gatewayMain(), env, GATEWAY_READY),
  ]);
  return { name: 'gateway', A, B };
}

export async function startBaseline(redisUrl: string, cpuProfDir?: string): Promise<Target> {
  const env = { PATH: process.env['PATH'], REDIS_URL: redisUrl };
  const ready = /baseline relay listening on :/;
  const prof = cpuProfDir
    ? ['--cpu-prof', `--cpu-prof-dir=${cpuProfDir}`, '--cpu-prof-name=baseline-A.cpuprofile']
    : [];
  const [A, B] = await Promise.all([
    startNode('relay A', relayMain(), env, ready, prof),
    startNode('relay B', relayMain(), env, ready),
  ]);
  return { name: 'baseline', A, B };
}

export { startRedis, type RedisServer };

/** Resident set size of a process in bytes, from /proc/<pid>/status. */
export function rssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = /VmRSS:\s+(\d+) kB/.exec(status);
  return match ? Number(match[1]) * 1024 : 0;
}

export async function stopTarget(target: Target): Promise<void> {
  await Promise.all([target.A.proc.dispose(), target.B.proc.dispose()]);
}
