// `pnpm --filter @jobsphere/bench bench [-- --quick] [--out file] [--profile dir]`
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Fleet } from './loadgen/fleet.js';
import { machineInfo } from './machine.js';
import { startBaseline, startGateways, startRedis, stopTarget, type Target } from './processes.js';
import { maxThroughput, ratios, renderMarkdown, renderSvg, type BenchResult } from './report.js';
import { capacity, fault, latencyStep, type StepResult } from './scenarios.js';
import { settingsFrom } from './settings.js';

const packageDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');

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
  const mongodbUri = process.env['MONGODB_URI'];
  const secret = randomBytes(32).toString('hex');
  const log = (line: string) =>
    console.log(`[bench ${((Date.now() - t0) / 1000).toFixed(1)}s] ${line}`);
  const t0 = Date.now();
  const machine = machineInfo();
  const extraEnv = process.env['BENCH_GATEWAY_ENV']
    ? (JSON.parse(process.env['BENCH_GATEWAY_ENV']) as Record<string, string>)
    : undefined;

  const redis = await startRedis();
  const targets: Target[] = [];
  const fleets: Fleet[] = [];
  try {
    log(
      `mode ${settings.mode}; store ${mongodbUri ? 'MongoDB (MONGODB_URI)' : 'in-memory'}; redis ${redis.url}`,
    );
    const gateway = await startGateways({
      redisUrl: redis.url,
      jwtSecret: secret,
      ...(mongodbUri && { mongodbUri }),
      ...(profileDir && { cpuProfDir: resolve(profileDir) }),
      ...(extraEnv && { extraEnv }),
    });
    targets.push(gateway);
    const baseline = settings.skip.has('baseline')
      ? undefined
      : await startBaseline(redis.url, profileDir && resolve(profileDir));
    if (baseline) targets.push(baseline);
    log(
      `gateway A ${gateway.A.url} B ${gateway.B.url}${baseline ? `; baseline A ${baseline.A.url} B ${baseline.B.url}` : ''}`,
    );

    const gatewayFleet = new Fleet(
      'gateway',
      { A: gateway.A.url, B: gateway.B.url },
      settings.workload,
      settings.workersPerTarget,
    );
    fleets.push(gatewayFleet);
    await gatewayFleet.setUp(secret);
    const baselineFleet = baseline
      ? new Fleet(
          'baseline',
          { A: baseline.A.url, B: baseline.B.url },
          settings.workload,
          settings.workersPerTarget,
        )
      : undefined;
    if (baselineFleet) {
      fleets.push(baselineFleet);
      await baselineFleet.setUp(secret);
    }
    log(
      `${gatewayFleet.devices.length} devices and ${gatewayFleet.conversations.length} conversations per target connected`,
    );

    // (a) + (b): the same offered rates on both, interleaved so that noise hits both alike.
    const latency: StepResult[] = [];
    const saturated = new Set<string>();
    for (const rate of settings.rates) {
      for (const fleet of [gatewayFleet, baselineFleet]) {
        if (!fleet || saturated.has(fleet.target)) continue;
        const step = await latencyStep(
          fleet,
          rate,
          settings.stepMs,
          settings.bodyBytes,
          { p99Ms: settings.p99BoundMs },
          settings.drainMs,
        );
        latency.push(step);
        log(
          `${fleet.target.padEnd(8)} ${String(rate).padStart(5)}/s: e2e p50 ${step.e2e.p50} p99 ${step.e2e.p99} ms, ack p99 ${step.ack.p99} ms, ` +
            `${step.deliveriesPerSec} deliveries/s, missing ${step.missing}${step.saturated ? `  SATURATED (${step.reason})` : ''}`,
        );
        if (step.saturated) saturated.add(fleet.target);
      }
      if (saturated.size === fleets.length) break;
    }

    if (profileDir) {
      // Stop A gracefully so that --cpu-prof writes its profile.
      for (const t of targets) await t.A.proc.stop();
      log(`CPU profiles written to ${profileDir}`);
    } else {
      // (c) capacity
      const capacityResults = [];
      if (!settings.skip.has('capacity')) {
        for (const [target, fleet] of [
          [gateway, gatewayFleet],
          [baseline, baselineFleet],
        ] as const) {
          if (!target || !fleet) continue;
          const c = await capacity(fleet, target, secret, settings.idleSockets, settings.settleMs);
          capacityResults.push(c);
          log(
            `capacity ${target.name}: ${c.connected}/${c.sockets} idle sockets on A in ${c.connectSeconds} s, ${Math.round(c.bytesPerSocket / 1024)} KiB RSS per socket`,
          );
        }
      }
      // (d) faults under load, gateway only (the baseline has no store to recover from)
      const faults = [];
      if (!settings.skip.has('faults')) {
        for (const kind of ['redis-restart', 'kill-instance-b'] as const) {
          const f = await fault(kind, gatewayFleet, gateway, redis, {
            rate: settings.fault.rate,
            durationMs: settings.fault.durationMs,
            bodyBytes: settings.bodyBytes,
            redisDownMs: settings.fault.redisDownMs,
            sharedStore: Boolean(mongodbUri),
          });
          faults.push(f);
          log(
            `fault ${kind}: ${f.acked}/${f.sent} acked, ${f.missingBeforeSync} missing before sync, ${f.recoveredBySync} recovered by sync, ` +
              `LOST ${f.lostAfterSync}, recovery ${f.recoveryMs} ms`,
          );
        }
      }
      const result: BenchResult = {
        version: 1,
        mode: settings.mode,
        startedAt: new Date(t0).toISOString(),
        durationS: 0,
        machine,
        store: mongodbUri ? 'mongodb' : 'memory',
        topology:
          'redis-server x1; gateway A+B and baseline relay A+B on the same Redis; conversations created on A; ' +
          'sending devices (device 0 of each user) on A; other devices alternate B/A, so fan-out crosses A -> Redis -> B',
        workload: settings.workload,
        settings: {
          rates: settings.rates,
          stepMs: settings.stepMs,
          bodyBytes: settings.bodyBytes,
          p99BoundMs: settings.p99BoundMs,
          workersPerTarget: settings.workersPerTarget,
          fault: settings.fault,
        },
        latency,
        maxThroughput: Object.fromEntries(
          targets.map((t) => [t.name, maxThroughput(latency, t.name)]),
        ),
        ratios: ratios(latency, capacityResults),
        capacity: capacityResults,
        faults,
        ok:
          faults.every((f) => f.lostAfterSync === 0) &&
          latency.every((s) => s.saturated || s.missing === 0),
      };
      result.durationS = Math.round((Date.now() - t0) / 100) / 10;
      mkdirSync(dirname(out), { recursive: true });
      writeFileSync(out, JSON.stringify(result, null, 2));
      log(`wrote ${out}`);
      if (settings.mode === 'full' || process.argv.includes('--report')) {
        writeFileSync(join(dirname(out), 'latency.svg'), renderSvg(result));
        writeFileSync(join(packageDir, 'RESULTS.md'), renderMarkdown(result));
        log('wrote RESULTS.md and results/latency.svg');
      }
      if (!result.ok) {
        log('FAILED: acked messages were lost');
        return 1;
      }
    }
    return 0;
  } finally {
    for (const f of fleets) await f.shutdown();
    for (const t of targets) await stopTarget(t);
    await redis.dispose();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
