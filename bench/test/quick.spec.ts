// Runs the harness end to end in quick mode (real redis-server and a real Redis cluster, the
// MongoDB wire server, gateways from the build, two baseline relays, two seed-design apps, two
// Centrifugo nodes built from the Go module proxy, load generators) and checks what it found,
// not how fast.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchResult } from '../src/report.js';

const packageDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');

function runQuick(out: string): Promise<{ code: number; output: string }> {
  return new Promise((done) => {
    execFile(
      process.execPath,
      [join(packageDir, 'dist', 'cli.js'), '--quick', '--out', out],
      { timeout: 150_000, env: { ...process.env, NODE_OPTIONS: '' } },
      (error, stdout, stderr) =>
        done({
          code: error ? (typeof error.code === 'number' ? error.code : 1) : 0,
          output: stdout + stderr,
        }),
    );
  });
}

describe('bench --quick', () => {
  const dir = mkdtempSync(join(tmpdir(), 'jobsphere-bench-'));
  let run: { code: number; output: string };
  let result: BenchResult;

  beforeAll(async () => {
    const out = join(dir, 'quick.json');
    run = await runQuick(out);
    if (run.code !== 0) throw new Error(`bench --quick exited ${run.code}:\n${run.output}`);
    result = JSON.parse(readFileSync(out, 'utf8')) as BenchResult;
  }, 160_000);

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('writes a result of the expected shape', () => {
    expect(result).toMatchObject({
      version: 2,
      mode: 'quick',
      store: expect.stringMatching(/wire server|MONGODB_URI/),
      ok: true,
    });
    expect(result.machine.cores).toBeGreaterThan(0);
    for (const target of ['gateway', 'gateway-2w', 'baseline', 'seed', 'centrifugo']) {
      const steps = result.latency.filter((s) => s.target === target);
      expect(steps.length).toBeGreaterThan(0);
      for (const s of steps) {
        expect(s.run).toBe(1);
        expect(s.e2e.count).toBeGreaterThan(0);
        expect(s.e2e.p99).toBeGreaterThanOrEqual(s.e2e.p50);
        expect(s.ack.count).toBe(s.acked);
        expect(Object.keys(s.cpuMsPer1000)).toEqual(
          expect.arrayContaining(['servers', 'redis', 'loadgen']),
        );
        expect(Object.keys(s.cpuMsPer1000Deliveries)).toEqual(Object.keys(s.cpuMsPer1000));
      }
    }
    // The store server's CPU is counted for the targets that store there.
    for (const s of result.latency)
      expect('store' in s.cpuMsPer1000).toBe(['gateway', 'gateway-2w', 'seed'].includes(s.target));
    // One worker against two: the variant's instances really ran two worker processes each.
    expect(result.gatewayWorkers).toEqual({ gateway: 1, 'gateway-2w': 2 });
    expect(result.capacity.map((c) => c.target).sort()).toEqual([
      'baseline',
      'centrifugo',
      'gateway',
      'seed',
    ]);
    expect(result.faults.map((f) => f.kind)).toEqual([
      'redis-restart',
      'kill-instance-b',
      'cluster-failover',
    ]);
    expect(result.ratios).toBeDefined();
    expect(result.maxThroughput).toBeDefined();
    expect(result.sdkCost).toMatchObject({ shownOnce: true });
    expect(result.sdkCost!.sendUs).toBeGreaterThan(0);
  });

  it('traces the store commands of one send through a running gateway', () => {
    if (!result.store.includes('wire server')) return; // MONGODB_URI: a server we cannot trace
    const { first, retry } = result.roundTrips!;
    expect(first.names[0]).toBe('findAndModify');
    expect(first.names).toEqual(expect.arrayContaining(['insert', 'update']));
    expect(first.sequential).toBeLessThanOrEqual(first.commands);
    expect(retry.commands).toBeGreaterThan(0);
  });

  it('measures the ack with an injected store round trip, beside the relay and the memory store', () => {
    const rows = result.storeLatency.map((s) => [s.target, s.store]);
    expect(rows).toEqual([
      ['baseline', 'none'],
      ['gateway', expect.stringMatching(/\+0 ms/)],
      ['gateway', expect.stringMatching(/\+1 ms/)],
      ['gateway', expect.stringMatching(/in-memory/)],
    ]);
    const delayed = result.storeLatency.find((s) => s.store.includes('+1 ms'))!;
    expect(delayed.measuredReplyDelayMs).toBeGreaterThan(0);
    for (const s of result.storeLatency) {
      expect({ store: s.store, acked: s.acked, missing: s.missing }).toEqual({
        store: s.store,
        acked: s.sent,
        missing: 0,
      });
    }
  });

  it('delivers every acked message to every recipient device when nothing fails', () => {
    for (const s of result.latency) {
      expect({
        target: s.target,
        acked: s.acked,
        missing: s.missing,
        errors: s.ackErrors + s.ackTimeouts,
      }).toEqual({
        target: s.target,
        acked: s.sent,
        missing: 0,
        errors: 0,
      });
      expect(s.delivered).toBe(s.expectedDeliveries);
      expect(s.expectedDeliveries).toBeGreaterThan(0);
      expect(s.shownTwice).toBe(0);
    }
  });

  it('loses no acked message through a Redis restart, the loss of instance B or a cluster failover, once the SDKs catch up', () => {
    for (const f of result.faults) {
      expect(f.acked).toBeGreaterThan(0);
      expect({
        kind: f.kind,
        acked: f.acked,
        lostAfterSync: f.lostAfterSync,
        shownTwice: f.shownTwice,
        syncErrors: f.syncErrors,
      }).toEqual({
        kind: f.kind,
        acked: f.sent, // the outbox sends what waited through the fault
        lostAfterSync: 0,
        shownTwice: 0,
        syncErrors: 0,
      });
      expect(f.deliveredLive + f.recoveredBySync).toBeGreaterThanOrEqual(f.expectedDeliveries);
    }
    const kill = result.faults.find((f) => f.kind === 'kill-instance-b')!;
    expect(kill.reconnectedDevices).toBeGreaterThan(0);
    const failover = result.faults.find((f) => f.kind === 'cluster-failover')!;
    expect(failover.failoverMs).toBeGreaterThan(0);
  });

  it('connects the idle sockets it was asked for from several client processes, and reads their event-loop lag', () => {
    for (const c of result.capacity) {
      expect(c.connected).toBe(c.sockets);
      expect(c.clientProcesses).toBeGreaterThan(1);
      if (c.target === 'centrifugo') {
        expect(c.eventLoopLag).toBeUndefined(); // Go: no event loop
        continue;
      }
      expect(Number.isFinite(c.eventLoopLag!.p99Ms)).toBe(true);
      expect(c.eventLoopLag!.p99Ms).toBeGreaterThanOrEqual(c.eventLoopLag!.p50Ms);
    }
  });
});
