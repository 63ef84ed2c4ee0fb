// The systems under test as real processes: redis-server (or a Redis cluster), the MongoDB wire
// server, two gateway instances from the built output, two baseline relays. All on free
// loopback ports.
import { createRequire } from 'node:module';
import { mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GATEWAY_READY, startNodeService, type ManagedProcess } from '@jobsphere/testing';

export interface Instance {
  url: string;
  port: number;
  proc: ManagedProcess;
  /**
   * Where this instance's event-loop lag can be read (the gateway's /metrics, the relay's and
   * the seed app's /probe); none for Centrifugo (Go has no event loop to lag).
   */
  probeUrl?: string;
}

/**
 * The systems under test: the gateway, the bare relay (`baseline`), the seed's own design
 * (`seed`: the relay with a Mongoose create before each emit) and Centrifugo; `gateway-2w` is
 * the gateway with two workers per instance (`GATEWAY_WORKERS=2`), beside its one-worker self;
 * `gateway-before` an older build of the gateway (`BENCH_GATEWAY_BEFORE`), for before/after
 * figures measured back to back in one run.
 */
export type TargetName =
  'gateway' | 'gateway-2w' | 'gateway-before' | 'baseline' | 'seed' | 'centrifugo';

export interface Target {
  name: TargetName;
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

export type RedisSetting = { url: string } | { cluster: { host: string; port: number } };

export interface GatewayOptions {
  redis: RedisSetting;
  jwtSecret: string;
  /** Unset: each instance keeps its own in-memory store. */
  mongodbUri?: string;
  /** Directory for `--cpu-prof` output of instance A, when profiling. */
  cpuProfDir?: string;
  /** Extra env for both instances (e.g. a variant under test). */
  extraEnv?: Record<string, string>;
  /** `gateway-2w`: two workers per instance; `gateway-before`: an older build (`main`). */
  name?: 'gateway' | 'gateway-2w' | 'gateway-before';
  /** The gateway's `dist/main.js`; unset: this checkout's. */
  main?: string;
}

/**
 * The limits a real client population would never hit but one load generator on 127.0.0.1
 * does: every handshake and REST call comes from one IP, a few sender sockets carry every
 * message, and a fault makes every device sync at once. Everything else (SOCKET_MAX_PER_USER 20,
 * the 64 requests in flight per socket, the slow-consumer cap) keeps its production default.
 */
export const LOAD_GENERATOR_LIMITS: Record<string, string> = {
  RATE_LIMIT_SEND_PER_10S: '1000000',
  RATE_LIMIT_TYPING_PER_10S: '1000000',
  RATE_LIMIT_SYNC_PER_MIN: '1000000',
  RATE_LIMIT_REST_PER_MIN: '1000000',
  RATE_LIMIT_REST_PER_IP_PER_MIN: '1000000',
  RATE_LIMIT_HANDSHAKE_PER_IP_PER_MIN: '1000000',
  RATE_LIMIT_CONVERSATIONS_PER_HOUR: '1000000',
  SOCKET_MAX_PACKETS_PER_10S: '1000000',
};

async function startNode(
  name: string,
  script: string,
  env: NodeJS.ProcessEnv,
  readyPattern: RegExp,
  probe: (port: number) => string,
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
    return { url, port, proc: process, probeUrl: probe(port) };
  } catch (error) {
    throw new Error(`${name} did not start: ${String(error)}`, { cause: error });
  }
}

export async function startGateways(opts: GatewayOptions): Promise<Target> {
  const redisEnv =
    'url' in opts.redis
      ? { REDIS_URL: opts.redis.url }
      : {
          REDIS_HOST: opts.redis.cluster.host,
          REDIS_PORT: String(opts.redis.cluster.port),
          REDIS_CLUSTER: 'true',
        };
  const env: NodeJS.ProcessEnv = {
    PATH: process.env['PATH'],
    // With a shared store the gateway runs exactly as deployed; the memory store is dev/test only.
    NODE_ENV: opts.mongodbUri ? 'production' : 'test',
    JWT_SECRET: opts.jwtSecret,
    ...redisEnv,
    REDIS_ALLOW_PLAINTEXT: 'true',
    LOG_LEVEL: 'info',
    CLIENT_URL: 'http://127.0.0.1',
    SHUTDOWN_DRAIN_MS: '0',
    // Production mode needs a bucket or this opt-in; the benchmark sends no files.
    ATTACHMENTS_LOCAL_IN_PRODUCTION: 'true',
    ...LOAD_GENERATOR_LIMITS,
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
  // Production serves /metrics only on its own listener (127.0.0.1; port 0 = any free one, which
  // the gateway logs); dev/test on the main port.
  const production = Boolean(opts.mongodbUri);
  const start = async (instance: 'A' | 'B') => {
    const started = await startNode(
      `gateway ${instance}`,
      opts.main ?? gatewayMain(),
      { ...env, ...(production && { METRICS_PORT: '0' }) },
      GATEWAY_READY,
      (port) => `http://127.0.0.1:${port}/metrics`,
      instance === 'A' ? profArgs('A') : [],
    );
    if (!production) return started;
    const logged = /metrics on [\d.]+:(\d+)\/metrics/.exec(started.proc.recentOutput(500));
    if (!logged) throw new Error(`gateway ${instance} did not say where its metrics are`);
    return { ...started, probeUrl: `http://127.0.0.1:${logged[1]}/metrics` };
  };
  const [A, B] = await Promise.all([start('A'), start('B')]);
  return { name: opts.name ?? 'gateway', A, B };
}

/**
 * The bare relay, or with `seedMongodbUri` the seed design (the same app storing each message
 * through Mongoose before its emit, on that store).
 */
export async function startBaseline(
  redisUrl: string,
  cpuProfDir?: string,
  seedMongodbUri?: string,
): Promise<Target> {
  const env = {
    PATH: process.env['PATH'],
    REDIS_URL: redisUrl,
    ...(seedMongodbUri && { SEED_MONGODB_URI: seedMongodbUri }),
  };
  const ready = seedMongodbUri ? /seed design app listening on :/ : /baseline relay listening on :/;
  const prof = cpuProfDir
    ? ['--cpu-prof', `--cpu-prof-dir=${cpuProfDir}`, '--cpu-prof-name=baseline-A.cpuprofile']
    : [];
  const probe = (port: number) => `http://127.0.0.1:${port}/probe`;
  const [A, B] = await Promise.all([
    startNode(
      `${seedMongodbUri ? 'seed app' : 'relay'} A`,
      relayMain(),
      env,
      ready,
      probe,
      seedMongodbUri ? [] : prof,
    ),
    startNode(`${seedMongodbUri ? 'seed app' : 'relay'} B`, relayMain(), env, ready, probe),
  ]);
  return { name: seedMongodbUri ? 'seed' : 'baseline', A, B };
}

/**
 * A process and every process under it: a gateway with GATEWAY_WORKERS > 1 is a supervisor and
 * its workers, and its CPU and memory are theirs together.
 */
export function processTree(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
    } catch {
      // gone meanwhile
    }
  }
  const tree = [pid];
  for (let i = 0; i < tree.length; i++) tree.push(...(children.get(tree[i]!) ?? []));
  return tree;
}

/** Resident set size of a process and its descendants in bytes, from /proc/<pid>/status. */
export function rssBytes(pid: number): number {
  let total = 0;
  for (const p of processTree(pid)) {
    try {
      const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${p}/status`, 'utf8'));
      total += match ? Number(match[1]) * 1024 : 0;
    } catch {
      // gone meanwhile
    }
  }
  return total;
}

/** CPU time (user + system) a process and its descendants have used so far, in ms; 0 once gone. */
export function cpuMs(pid: number | undefined): number {
  if (pid === undefined) return 0;
  let total = 0;
  for (const p of processTree(pid)) {
    try {
      const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
      // Fields after the command name (which may hold spaces): utime is the 14th field, stime the 15th.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      total += (Number(fields[11]) + Number(fields[12])) * 10; // USER_HZ is 100 on Linux
    } catch {
      // gone meanwhile
    }
  }
  return total;
}

export interface EventLoopLag {
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

/** Both targets sample with monitorEventLoopDelay at this resolution; a sample includes it. */
export const EVENT_LOOP_RESOLUTION_MS = 20;

/**
 * Event-loop delay since the previous read (both sides reset their histogram on every read):
 * the gateway's prom-client gauges, the relay's /probe with the same instrument. The 20 ms
 * sampling interval is part of every recorded value, so it is taken off here.
 */
export async function readEventLoopLag(instance: Instance): Promise<EventLoopLag | undefined> {
  if (!instance.probeUrl) return undefined;
  const res = await fetch(instance.probeUrl);
  const text = await res.text();
  const ms = (name: string) => {
    const match = new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.e+-]+)$`, 'm').exec(text);
    const value = match ? Number(match[1]) * 1000 : NaN;
    return Math.max(0, Math.round((value - EVENT_LOOP_RESOLUTION_MS) * 100) / 100);
  };
  return {
    p50Ms: ms('nodejs_eventloop_lag_p50_seconds'),
    p99Ms: ms('nodejs_eventloop_lag_p99_seconds'),
    maxMs: ms('nodejs_eventloop_lag_max_seconds'),
  };
}

export async function stopTarget(target: Target): Promise<void> {
  await Promise.all([target.A.proc.dispose(), target.B.proc.dispose()]);
}
