// `pnpm --filter @jobsphere/bench bench [-- --quick] [--out file] [--profile dir]`
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  startMongoWireServer,
  startRedis,
  startRedisCluster,
  useExistingMongo,
  withDatabase,
  type MongoHandle,
  type MongoWireServerHandle,
} from '@jobsphere/testing';
import { buildCentrifugo, startCentrifugo } from './centrifugo.js';
import { saturationConfirmed } from './ladder-stats.js';
import { Fleet, IdlePool, protocolOf } from './loadgen/fleet.js';
import { machineInfo } from './machine.js';
import {
  processTree,
  startBaseline,
  startGateways,
  stopTarget,
  type Target,
  type TargetName,
} from './processes.js';
import { maxThroughput, ratios, type BenchResult } from './report.js';
import { writeReports } from './results-files.js';
import {
  capacity,
  CpuMeter,
  fault,
  latencyStep,
  loadAverage,
  storeRoundTrips,
  type CapacityResult,
  type FaultResult,
  type StepResult,
} from './scenarios.js';
import { measureSdkCost } from './sdk-cost.js';
import { ladder, settingsFrom } from './settings.js';

const packageDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function argValue(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

async function main(): Promise<number> {
  const settings = settingsFrom(process.argv.slice(2), process.env);
  const profileDir = argValue('--profile') ?? process.env['BENCH_PROFILE'];
  const out = resolve(
    argValue('--out') ??
      join(packageDir, 'results', settings.mode === 'quick' ? 'quick.json' : 'latest.json'),
  );
  const secret = randomBytes(32).toString('hex');
  const t0 = Date.now();
  const log = (line: string) =>
    console.log(
      `[bench ${((Date.now() - t0) / 1000).toFixed(1)}s load ${loadAverage().toFixed(2)}] ${line}`,
    );
  // An older build's dist/main.js (e.g. a worktree at the commit before a change): a target of
  // its own, so that before and after are measured back to back, interleaved in one run.
  const beforeMain = process.env['BENCH_GATEWAY_BEFORE'];
  const beforeLabel = process.env['BENCH_GATEWAY_BEFORE_LABEL'] ?? beforeMain;
  const extraEnv = process.env['BENCH_GATEWAY_ENV']
    ? (JSON.parse(process.env['BENCH_GATEWAY_ENV']) as Record<string, string>)
    : undefined;

  // The machine is shared: figures are recorded only once it is quiet (bounded wait).
  const quietBy = Date.now() + settings.quietWaitS * 1000;
  while (loadAverage() >= settings.quietLoad && Date.now() < quietBy) {
    log(`waiting for a 1-minute load average below ${settings.quietLoad}`);
    await sleep(30_000);
  }
  const quiet = loadAverage() < settings.quietLoad;
  if (!quiet)
    log(
      `WARNING: load average still ${loadAverage()} after ${settings.quietWaitS} s; measuring anyway`,
    );
  const machine = machineInfo();
  // The client's own cost, before any server runs: the same SDK drives both targets.
  const sdkCost = await measureSdkCost();
  log(
    `SDK cost: ${sdkCost.incomingUs.map((c) => `${c.us} µs per incoming message (${c.held} held)`).join(', ')}, ${sdkCost.sendUs} µs per send`,
  );

  const cleanups: (() => Promise<void>)[] = [];
  const cleanup = async () => {
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
  };
  try {
    const redis = await startRedis();
    cleanups.push(() => redis.dispose());
    const mongodbUri = process.env['MONGODB_URI'];
    const store: MongoHandle = mongodbUri
      ? await useExistingMongo(mongodbUri, { dbName: 'bench' })
      : await startMongoWireServer({
          dbName: 'bench',
          ...(profileDir && {
            nodeArgs: [
              '--cpu-prof',
              `--cpu-prof-dir=${resolve(profileDir)}`,
              '--cpu-prof-name=store.cpuprofile',
            ],
          }),
        });
    cleanups.push(() => store.stop());
    const wire = store.backend === 'wire-server' ? (store as MongoWireServerHandle) : undefined;
    log(`mode ${settings.mode}; store ${store.description}; redis ${redis.url}`);

    // The targets start side by side; each is stopped at the end even when another failed.
    const started = <T extends Target>(p: Promise<T>) =>
      p.then((t) => {
        cleanups.push(() => stopTarget(t));
        return t;
      });
    const unless = <T>(name: string, start: () => Promise<T>) =>
      settings.skip.has(name) ? Promise.resolve(undefined) : start();
    const [gateway, gateway2w, gatewayBefore, baseline, seed, centrifugo] = await Promise.all([
      started(
        startGateways({
          redis: { url: redis.url },
          jwtSecret: secret,
          mongodbUri: store.uri,
          ...(profileDir && { cpuProfDir: resolve(profileDir) }),
          ...(extraEnv && { extraEnv }),
        }),
      ),
      // The same gateway with two workers per instance (one per vCPU of this machine), on the
      // same store (its own database) and Redis: one worker against two.
      unless('gateway-2w', () =>
        started(
          startGateways({
            name: 'gateway-2w',
            redis: { url: redis.url },
            jwtSecret: secret,
            mongodbUri: withDatabase(store.uri, 'bench_2w'),
            extraEnv: { ...extraEnv, GATEWAY_WORKERS: '2' },
          }),
        ),
      ),
      beforeMain && !settings.skip.has('gateway-before')
        ? started(
            startGateways({
              name: 'gateway-before',
              main: resolve(beforeMain),
              redis: { url: redis.url },
              jwtSecret: secret,
              mongodbUri: withDatabase(store.uri, 'bench_before'),
              ...(extraEnv && { extraEnv }),
            }),
          )
        : Promise.resolve(undefined),
      unless('baseline', () =>
        started(startBaseline(redis.url, profileDir && resolve(profileDir))),
      ),
      // The seed design: the relay storing each message through Mongoose first, on the same
      // store server as the gateway (its own database).
      unless('seed', () =>
        started(startBaseline(redis.url, undefined, withDatabase(store.uri, 'bench_seed'))),
      ),
      // Centrifugo on the same Redis (its engine: PUB/SUB and the channels' history).
      unless('centrifugo', async () =>
        started(startCentrifugo(await buildCentrifugo(log), redis.url, secret)),
      ),
    ]);
    for (const t of [gateway, gateway2w, gatewayBefore, baseline, seed, centrifugo])
      if (t) log(`${t.name} A ${t.A.url} B ${t.B.url}`);

    const newFleet = async (
      name: TargetName,
      target: Target,
      layout: 'shared' | 'instance-a',
      prefix: string,
    ) => {
      const fleet = new Fleet(
        name,
        { A: target.A.url, B: target.B.url },
        settings.workload,
        settings.workersPerTarget,
        layout,
        prefix,
      );
      cleanups.push(() => fleet.shutdown());
      await fleet.setUp(secret);
      return fleet;
    };
    // Users, conversations and devices of every target, set up side by side.
    const [gatewayFleet, gateway2wFleet, beforeFleet, baselineFleet, seedFleet, centrifugoFleet] =
      await Promise.all([
        newFleet('gateway', gateway, 'shared', 'gateway'),
        gateway2w && newFleet('gateway-2w', gateway2w, 'shared', 'gateway2w'),
        gatewayBefore && newFleet('gateway-before', gatewayBefore, 'shared', 'before'),
        baseline && newFleet('baseline', baseline, 'shared', 'baseline'),
        seed && newFleet('seed', seed, 'shared', 'seed'),
        centrifugo && newFleet('centrifugo', centrifugo, 'shared', 'centrifugo'),
      ]);
    log(
      `${gatewayFleet.devices.length} devices and ${gatewayFleet.conversations.length} conversations per target, spread over A and B`,
    );
    const meter = (target: Target, fleet: Fleet) =>
      new CpuMeter({
        servers: () => [target.A.proc.pid, target.B.proc.pid],
        ...(target.name !== 'baseline' &&
          target.name !== 'centrifugo' && {
            store: () => [store.pid],
          }),
        redis: () => [redis.pid],
        loadgen: () => fleet.pids,
      });
    const meters = new Map<Fleet, CpuMeter>([[gatewayFleet, meter(gateway, gatewayFleet)]]);
    if (gateway2w && gateway2wFleet) meters.set(gateway2wFleet, meter(gateway2w, gateway2wFleet));
    if (gatewayBefore && beforeFleet) meters.set(beforeFleet, meter(gatewayBefore, beforeFleet));
    if (baseline && baselineFleet) meters.set(baselineFleet, meter(baseline, baselineFleet));
    if (seed && seedFleet) meters.set(seedFleet, meter(seed, seedFleet));
    if (centrifugo && centrifugoFleet)
      meters.set(centrifugoFleet, meter(centrifugo, centrifugoFleet));
    const idleMs = settings.mode === 'quick' ? 500 : 3_000;
    await Promise.all([...meters.values()].map((m) => m.measureIdle(idleMs)));
    const storeLabel = (delay: number) =>
      wire ? `wire server, +${delay} ms per reply` : 'MongoDB (MONGODB_URI)';

    // Two more stacks: the gateway on per-instance memory stores, and on a Redis cluster. Started
    // when they are needed (idle processes would add noise to the ladder), except in quick mode.
    const memoryStack = async () => {
      const memory = await startGateways({ redis: { url: redis.url }, jwtSecret: secret });
      cleanups.push(() => stopTarget(memory));
      const memoryFleet = await newFleet('gateway', memory, 'instance-a', 'memory');
      const memoryMeter = meter(memory, memoryFleet);
      await memoryMeter.measureIdle(settings.mode === 'quick' ? 500 : 3_000);
      meters.set(memoryFleet, memoryMeter);
      return { memory, memoryFleet };
    };
    const clusterStack = async () => {
      // Three masters with one replica each, the sharded adapter (REDIS_CLUSTER=true).
      const cluster = await startRedisCluster({ masters: 3, replicasPerMaster: 1 });
      cleanups.push(() => cluster.dispose());
      const clustered = await startGateways({
        redis: { cluster: cluster.startupNodes[0]! },
        jwtSecret: secret,
        mongodbUri: withDatabase(store.uri, 'bench_cluster'),
      });
      cleanups.push(() => stopTarget(clustered));
      const clusterFleet = await newFleet('gateway', clustered, 'shared', 'cluster');
      return { cluster, clustered, clusterFleet };
    };
    const early = settings.mode === 'quick';
    const memoryReady = early && !settings.skip.has('rtt') ? memoryStack() : undefined;
    const clusterReady = early && !settings.skip.has('faults') ? clusterStack() : undefined;
    // Surface a failure at the await below, not as an unhandled rejection meanwhile.
    memoryReady?.catch(() => undefined);
    clusterReady?.catch(() => undefined);

    // Store round trips of one send through the real gateway, on the quiet system.
    const roundTrips = wire ? await storeRoundTrips(gatewayFleet, wire) : undefined;
    if (roundTrips)
      log(
        `store round trips per send: first attempt ${roundTrips.first.commands} commands, ${roundTrips.first.sequential} sequential (${roundTrips.first.names.join(', ')}); ` +
          `retry ${roundTrips.retry.commands}, ${roundTrips.retry.sequential} sequential (${roundTrips.retry.names.join(', ')})`,
      );

    const describe = (s: StepResult) =>
      `${s.target.padEnd(8)} ${String(s.offeredRate).padStart(5)}/s [${s.store}]: e2e p50 ${s.e2e.p50} p99 ${s.e2e.p99} ms, ack p50 ${s.ack.p50} p99 ${s.ack.p99} ms, ` +
      `${s.deliveriesPerSec} deliveries/s, missing ${s.missing}, cpu/1k ${JSON.stringify(s.cpuMsPer1000)}${s.saturated ? `  SATURATED (${s.reason})` : ''}`;
    const step = async (fleet: Fleet, storeName: string, rate: number, stepMs: number) => {
      const s = await latencyStep(
        fleet,
        storeName,
        rate,
        stepMs,
        settings.bodyBytes,
        { p99Ms: settings.p99BoundMs },
        settings.drainMs,
        meters.get(fleet)!,
        storeName.startsWith('wire server') ? wire : undefined,
      );
      log(describe(s));
      return s;
    };

    // The ladder: the same offered rates on every target, interleaved so that noise hits all
    // alike, until each is saturated on two consecutive steps; run `settings.runs` times.
    const latency: StepResult[] = [];
    const fleets = [
      gatewayFleet,
      gateway2wFleet,
      beforeFleet,
      seedFleet,
      baselineFleet,
      centrifugoFleet,
    ].filter((f): f is Fleet => f !== undefined);
    // BENCH_SKIP=ladder: no warm-up and no ladder, e.g. to run the idle-socket scenario alone.
    const ladderOn = !settings.skip.has('ladder');
    if (settings.mode === 'full' && ladderOn) {
      // A warm-up step per target, not recorded: the JIT, the connection pools and the devices'
      // first syncs settle before anything is measured.
      for (const fleet of fleets) {
        const rate = settings.rates[0]!;
        const s = await latencyStep(
          fleet,
          'warm-up',
          rate,
          settings.stepMs,
          settings.bodyBytes,
          { p99Ms: settings.p99BoundMs },
          settings.drainMs,
          meters.get(fleet)!,
        );
        log(`warm-up, not recorded: ${describe(s)}`);
      }
    }
    const storeOf = (target: TargetName) =>
      target === 'gateway' || target === 'gateway-2w' || target === 'gateway-before'
        ? storeLabel(0)
        : target === 'seed'
          ? `${storeLabel(0)} (Mongoose create)`
          : target === 'centrifugo'
            ? 'Redis (history stream)'
            : 'none';
    for (let run = 1; ladderOn && run <= settings.runs; run++) {
      const done = new Set<string>();
      for (const rate of ladder(settings)) {
        for (const fleet of fleets) {
          if (done.has(fleet.target)) continue;
          const s = await step(fleet, storeOf(fleet.target), rate, settings.stepMs);
          s.run = run;
          latency.push(s);
          const mine = latency.filter((x) => x.run === run && x.target === fleet.target);
          if (saturationConfirmed(mine)) done.add(fleet.target);
        }
        if (done.size === fleets.length) break;
      }
      log(`run ${run} of ${settings.runs} done`);
    }

    if (profileDir) {
      // Stop A (and the store) gracefully so that --cpu-prof writes their profiles.
      await gateway.A.proc.stop();
      if (baseline) await baseline.A.proc.stop();
      await store.stop();
      log(`CPU profiles written to ${profileDir}`);
      return 0;
    }

    // Ack latency with an injected store round trip, beside the memory store and the relay.
    const storeLatency: StepResult[] = [];
    if (!settings.skip.has('rtt')) {
      const { rate, stepMs } = settings.rtt;
      if (baselineFleet) storeLatency.push(await step(baselineFleet, 'none', rate, stepMs));
      for (const delay of wire ? [0, ...settings.rtt.delaysMs] : [0]) {
        await wire?.setReplyDelay(delay);
        storeLatency.push(await step(gatewayFleet, storeLabel(delay), rate, stepMs));
      }
      await wire?.setReplyDelay(0);
      const { memory, memoryFleet } = await (memoryReady ?? memoryStack());
      storeLatency.push(await step(memoryFleet, 'in-memory per instance (all on A)', rate, stepMs));
      await memoryFleet.shutdown();
      await stopTarget(memory);
    }

    // Capacity: idle sockets on one instance, from several client processes.
    const capacityResults: CapacityResult[] = [];
    if (!settings.skip.has('capacity')) {
      for (const target of [gateway, gatewayBefore, baseline, seed, centrifugo]) {
        if (!target) continue;
        const pool = new IdlePool(settings.idleProcesses, protocolOf(target.name));
        cleanups.push(() => pool.shutdown());
        const c = await capacity(
          target,
          pool,
          secret,
          settings.idleSockets,
          settings.settleMs,
          settings.lagWindowMs,
        );
        capacityResults.push(c);
        log(
          `capacity ${target.name}: ${c.connected}/${c.sockets} idle sockets on A from ${c.clientProcesses} processes in ${c.connectSeconds} s, ` +
            `${(c.bytesPerSocket / 1024).toFixed(1)} KiB RSS per socket` +
            (c.eventLoopLag
              ? `, event-loop lag p50 ${c.eventLoopLag.p50Ms} p99 ${c.eventLoopLag.p99Ms} ms`
              : ''),
        );
        await pool.shutdown();
      }
    }

    // Faults under load, gateway only (the baseline has no store to recover from).
    const faults: FaultResult[] = [];
    const describeFault = (f: FaultResult) =>
      `fault ${f.kind}: ${f.acked}/${f.sent} acked, ${f.missingBeforeSync} missing before sync, ${f.recoveredBySync} recovered by sync, ` +
      `LOST ${f.lostAfterSync}, recovery ${f.recoveryMs} ms`;
    // Faults run below the gateway's measured ceiling (half its highest sustained rate), for as
    // long as it takes to send the planned number of messages: a fault test on an overloaded
    // gateway would only measure the overload (sends time out unacked, nothing to recover).
    const planned = Math.round((settings.fault.rate * settings.fault.durationMs) / 1000);
    const sustained = maxThroughput(latency, 'gateway').messagesPerSec;
    const faultRate =
      settings.mode === 'full'
        ? Math.max(100, Math.min(settings.fault.rate, Math.floor(sustained / 2)))
        : settings.fault.rate;
    const faultOpts = {
      ...settings.fault,
      rate: faultRate,
      durationMs: Math.ceil((planned / faultRate) * 1000),
      bodyBytes: settings.bodyBytes,
    };
    if (faultRate !== settings.fault.rate && !settings.skip.has('faults'))
      log(
        `faults at ${faultRate} msg/s for ${faultOpts.durationMs / 1000} s (${planned} messages)`,
      );
    if (!settings.skip.has('faults')) {
      for (const kind of ['redis-restart', 'kill-instance-b'] as const) {
        const f = await fault(kind, gatewayFleet, { target: gateway, redis }, faultOpts);
        faults.push(f);
        log(describeFault(f));
      }
      // A master of the cluster dies under the sharded adapter.
      const { cluster, clustered, clusterFleet } = await (clusterReady ?? clusterStack());
      const f = await fault(
        'cluster-failover',
        clusterFleet,
        { target: clustered, cluster },
        faultOpts,
      );
      faults.push(f);
      log(describeFault(f));
    }

    const result: BenchResult = {
      version: 2,
      mode: settings.mode,
      startedAt: new Date(t0).toISOString(),
      durationS: Math.round((Date.now() - t0) / 100) / 10,
      machine,
      store: store.description,
      topology:
        'redis-server x1; gateway A+B (one worker each), gateway-2w A+B (the same gateway, two workers each) and seed-design app A+B on one shared store server, baseline relay A+B, Centrifugo A+B (Redis engine), all on the same Redis' +
        (beforeLabel
          ? `; gateway-before A+B: ${beforeLabel}, on the same store server (its own database)`
          : '') +
        '; conversations opened through A and B alternately; each user\u2019s devices alternate A/B, and each conversation is sent from a device of its creator on ' +
        'the instance it was opened through, so senders and receivers are spread over both instances and part of every fan-out crosses Redis',
      workload: settings.workload,
      settings: {
        rates: latency.map((s) => s.offeredRate).filter((r, i, a) => a.indexOf(r) === i),
        stepMs: settings.stepMs,
        runs: settings.runs,
        skipped: [...settings.skip],
        bodyBytes: settings.bodyBytes,
        p99BoundMs: settings.p99BoundMs,
        workersPerTarget: settings.workersPerTarget,
        rtt: settings.rtt,
        fault: settings.fault,
        idleProcesses: settings.idleProcesses,
        quietLoad: settings.quietLoad,
      },
      quiet,
      ...(roundTrips && { roundTrips }),
      latency,
      storeLatency,
      maxThroughput: Object.fromEntries(
        fleets.map((f) => [f.target, maxThroughput(latency, f.target)]),
      ),
      ratios: ratios(latency, capacityResults),
      capacity: capacityResults,
      gatewayWorkers: Object.fromEntries(
        [gateway, gateway2w, gatewayBefore]
          .filter((t): t is Target => t !== undefined)
          .map((t) => [t.name, Math.max(1, processTree(t.A.proc.pid!).length - 1)]),
      ),
      faults,
      sdkCost,
      ok:
        sdkCost.shownOnce &&
        faults.every((f) => f.lostAfterSync === 0 && f.shownTwice === 0) &&
        [...latency, ...storeLatency].every((s) => s.shownTwice === 0) &&
        latency.every((s) => s.saturated || s.missing === 0) &&
        storeLatency.every((s) => s.missing === 0),
    };
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, JSON.stringify(result, null, 2));
    log(`wrote ${out}`);
    // A run without the ladder has no headline: RESULTS.md is left as it is.
    if ((settings.mode === 'full' && ladderOn) || process.argv.includes('--report')) {
      writeReports(result, dirname(out));
      log('wrote RESULTS.md and results/latency.svg');
    }
    if (!result.ok) {
      log('FAILED: acked messages were lost, or deliveries went missing below saturation');
      return 1;
    }
    return 0;
  } finally {
    await cleanup();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
