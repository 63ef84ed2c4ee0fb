// `node dist/idle-memory.js [sockets] [windowMs] [gateway,relay]`: where an idle socket's memory
// and an idle instance's time go. Starts one gateway instance (production mode, the wire server as
// its store, a real Redis) and one relay, each with `scripts/idle-probe.cjs` preloaded; opens
// `sockets` idle clients on each from 3 processes and prints, per socket: RSS growth, the heap
// used before and after a forced GC, the heap committed, `external`, `arrayBuffers`, RSS outside
// the JS heap; over the window: GCs by kind, CPU, event-loop lag and the load average.
// PROBE_HEAP_PROFILE=1 also writes a sampling heap profile of the window (its path is printed).
// The probe forces a GC once the sockets are connected (the bench's capacity scenario does not).
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  startMongoWireServer,
  startNodeService,
  startRedis,
  GATEWAY_READY,
  type NodeService,
} from '@jobsphere/testing';
import { IdlePool, mintToken } from './loadgen/fleet.js';
import {
  cpuMs,
  gatewayMain,
  LOAD_GENERATOR_LIMITS,
  readEventLoopLag,
  relayMain,
  rssBytes,
  type Instance,
} from './processes.js';
import { loadAverage } from './scenarios.js';

interface Dump {
  mem: NodeJS.MemoryUsage;
  afterGc: NodeJS.MemoryUsage;
  resources: Record<string, number>;
  gcByKind: Record<string, { count: number; ms: number; maxMs: number }>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const probe = resolve(dirname(fileURLToPath(import.meta.url)), '..', 'scripts', 'idle-probe.cjs');
/** PerformanceEntry gc kinds (NODE_PERFORMANCE_GC_*). */
const GC_KIND: Record<string, string> = {
  '1': 'minor',
  '2': 'major',
  '4': 'incremental',
  '8': 'weak',
};

async function dump(pid: number, dir: string): Promise<Dump> {
  const before = new Set(readdirSync(dir));
  process.kill(pid, 'SIGUSR2');
  for (let waited = 0; waited < 60_000; waited += 200) {
    await sleep(200);
    const file = readdirSync(dir).find((f) => f.startsWith(`${pid}-`) && !before.has(f));
    if (file) return JSON.parse(readFileSync(join(dir, file), 'utf8')) as Dump;
  }
  throw new Error(`no memory dump from ${pid}`);
}

async function main(): Promise<void> {
  const sockets = Number(process.argv[2] ?? 2000);
  const windowMs = Number(process.argv[3] ?? 10_000);
  const only = (process.argv[4] ?? 'gateway,relay').split(',');
  const dir = mkdtempSync(join(tmpdir(), 'jobsphere-idle-'));
  const secret = randomBytes(32).toString('hex');
  const redis = await startRedis();
  const store = await startMongoWireServer({ dbName: 'idle' });
  const pool = new IdlePool(3);
  const nodeArgs = ['--require', probe];
  const probeEnv = { PROBE_DIR: dir, PROBE_HEAP_PROFILE: process.env['PROBE_HEAP_PROFILE'] ?? '' };
  const services: [string, NodeService, Instance['probeUrl']][] = [];
  try {
    if (only.includes('gateway')) {
      const gateway = await startNodeService({
        script: gatewayMain(),
        nodeArgs,
        readyPattern: GATEWAY_READY,
        env: {
          PATH: process.env['PATH'],
          NODE_ENV: 'production',
          JWT_SECRET: secret,
          REDIS_URL: redis.url,
          REDIS_ALLOW_PLAINTEXT: 'true',
          MONGODB_URI: store.uri,
          METRICS_PORT: '0',
          CLIENT_URL: 'http://127.0.0.1',
          ATTACHMENTS_LOCAL_IN_PRODUCTION: 'true',
          SHUTDOWN_DRAIN_MS: '0',
          ...LOAD_GENERATOR_LIMITS,
          ...probeEnv,
        },
      });
      const port = /metrics on [\d.]+:(\d+)\/metrics/.exec(gateway.process.recentOutput(500))?.[1];
      services.push(['gateway', gateway, `http://127.0.0.1:${port}/metrics`]);
    }
    if (only.includes('relay')) {
      const relay = await startNodeService({
        script: relayMain(),
        nodeArgs,
        readyPattern: /baseline relay listening on :/,
        env: { PATH: process.env['PATH'], REDIS_URL: redis.url, ...probeEnv },
      });
      services.push(['relay', relay, `${relay.url}/probe`]);
    }
    for (const [name, service, probeUrl] of services) {
      const pid = service.process.pid!;
      const users = await Promise.all(
        Array.from({ length: sockets }, async (_, i) => {
          const userId = `${name}-idle${i}`;
          return { userId, token: await mintToken(secret, userId, 'candidate') };
        }),
      );
      await sleep(3_000);
      const rss0 = rssBytes(pid);
      const m0 = await dump(pid, dir);
      const opened = await pool.open(service.url, users);
      const connected = opened.reduce((n, r) => n + r.connected, 0);
      await sleep(3_000);
      await dump(pid, dir); // forces a GC; starts the heap profile when asked
      await sleep(2_000);
      const instance = { probeUrl } as Instance;
      await readEventLoopLag(instance); // resets the histogram
      const [cpu0, load0] = [cpuMs(pid), loadAverage()];
      await sleep(windowMs);
      const lag = await readEventLoopLag(instance);
      const [cpu1, load1, rss1] = [cpuMs(pid), loadAverage(), rssBytes(pid)];
      const m1 = await dump(pid, dir);
      const kib = (a: number, b: number) => `${((b - a) / connected / 1024).toFixed(2)} KiB`;
      console.log(
        JSON.stringify({
          name,
          connected,
          loadAverage: [load0, load1],
          perSocket: {
            rss: kib(rss0, rss1),
            heapUsed: kib(m0.mem.heapUsed, m1.mem.heapUsed),
            heapUsedAfterGc: kib(m0.afterGc.heapUsed, m1.afterGc.heapUsed),
            heapTotal: kib(m0.mem.heapTotal, m1.mem.heapTotal),
            external: kib(m0.mem.external, m1.mem.external),
            arrayBuffers: kib(m0.mem.arrayBuffers, m1.mem.arrayBuffers),
            rssOutsideHeap: kib(m0.mem.rss - m0.mem.heapTotal, m1.mem.rss - m1.mem.heapTotal),
          },
          window: {
            ms: windowMs,
            cpuMsPerS: Math.round(((cpu1 - cpu0) / windowMs) * 1000),
            lag,
            gc: Object.fromEntries(
              Object.entries(m1.gcByKind).map(([k, v]) => [
                GC_KIND[k] ?? k,
                { count: v.count, ms: Math.round(v.ms), maxMs: Math.round(v.maxMs) },
              ]),
            ),
          },
          resources: m1.resources,
          ...(process.env['PROBE_HEAP_PROFILE'] === '1' && {
            heapProfile: join(dir, `${pid}.heapprofile`),
          }),
        }),
      );
      await pool.close();
    }
  } finally {
    await pool.shutdown();
    for (const [, s] of services) await s.process.dispose();
    await store.stop();
    await redis.dispose();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
