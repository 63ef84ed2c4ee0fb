// Runs the harness end to end in quick mode (real redis-server, two gateways from the
// build, two baseline relays, load generators) and checks what it found, not how fast.
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
      { timeout: 100_000, env: { ...process.env, NODE_OPTIONS: '' } },
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
  }, 110_000);

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('writes a result of the expected shape', () => {
    expect(result).toMatchObject({
      version: 1,
      mode: 'quick',
      store: expect.stringMatching(/^(memory|mongodb)$/),
      ok: true,
    });
    expect(result.machine.cores).toBeGreaterThan(0);
    for (const target of ['gateway', 'baseline']) {
      const steps = result.latency.filter((s) => s.target === target);
      expect(steps.length).toBeGreaterThan(0);
      for (const s of steps) {
        expect(s.e2e.count).toBeGreaterThan(0);
        expect(s.e2e.p99).toBeGreaterThanOrEqual(s.e2e.p50);
        expect(s.ack.count).toBe(s.acked);
      }
    }
    expect(result.capacity.map((c) => c.target).sort()).toEqual(['baseline', 'gateway']);
    expect(result.faults.map((f) => f.kind)).toEqual(['redis-restart', 'kill-instance-b']);
    expect(result.ratios).toBeDefined();
    expect(result.maxThroughput).toBeDefined();
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
    }
  });

  it('loses no acked message through a Redis restart or the loss of instance B, once devices sync', () => {
    for (const f of result.faults) {
      expect(f.acked).toBeGreaterThan(0);
      expect({ kind: f.kind, lostAfterSync: f.lostAfterSync, syncErrors: f.syncErrors }).toEqual({
        kind: f.kind,
        lostAfterSync: 0,
        syncErrors: 0,
      });
      expect(f.deliveredLive + f.recoveredBySync).toBeGreaterThanOrEqual(f.expectedDeliveries);
    }
    const kill = result.faults.find((f) => f.kind === 'kill-instance-b')!;
    expect(kill.reconnectedDevices).toBeGreaterThan(0);
  });

  it('connects the idle sockets it was asked for', () => {
    for (const c of result.capacity) expect(c.connected).toBe(c.sockets);
  });
});
