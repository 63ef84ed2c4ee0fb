import { renderPeersSection } from '../src/peers-report.js';
import type { TargetName } from '../src/processes.js';
import type { CapacityResult, StepResult } from '../src/scenarios.js';

/** One ladder step with just what the section reads. */
const step = (
  target: TargetName,
  offeredRate: number,
  saturated: boolean,
  servers: number,
  run = 1,
): StepResult =>
  ({
    target,
    offeredRate,
    saturated,
    run,
    deliveriesPerSec: offeredRate * 9,
    e2e: { p50: 5, p99: saturated ? 500 : 50 },
    cpuMsPer1000Deliveries: { servers, store: 100, redis: 20 },
    loadAverage: 1,
  }) as unknown as StepResult;

const ladder = (target: TargetName, lastSustained: number, servers: number) =>
  [100, 200, 400, 800]
    .filter((rate) => rate <= lastSustained * 4)
    .map((rate) => step(target, rate, rate > lastSustained, servers));

describe('RESULTS.md: one gateway worker against two', () => {
  const latency = [
    ...ladder('baseline', 400, 100),
    ...ladder('gateway', 100, 600),
    ...ladder('gateway-2w', 200, 700),
  ];
  const text = renderPeersSection(latency, [], 1).join('\n');

  it('gives the two-worker gateway its own row, its CPU at the rate the peers share', () => {
    const row = text.split('\n').find((l) => l.startsWith('| the same gateway, 2 workers'));
    // The common rate is the peers' (gateway 100, relay 400): 100, where the variant spent 700.
    expect(text).toContain('CPU-ms per 1,000 deliveries at 100 msg/s');
    expect(row).toContain('| 200 |'); // its highest sustained rate
    expect(row).toContain('| 700 |');
  });

  it('says what the second worker bought, from the same run', () => {
    expect(text).toContain(
      'highest sustained 100 against 200 msg/s (2.00x), CPU of the servers per 1,000 deliveries at 100 msg/s 600 against 700 (1.17x)',
    );
  });

  it('leaves the line out when the variant did not run (BENCH_SKIP=gateway-2w)', () => {
    const without = renderPeersSection(
      latency.filter((s) => s.target !== 'gateway-2w'),
      [],
      1,
    ).join('\n');
    expect(without).not.toContain('One worker against two');
    expect(without).not.toContain('2 workers per instance');
  });
});

describe('RESULTS.md: the gateway before and after, back to back', () => {
  const idle = (target: TargetName, kib: number, p99Ms: number) =>
    ({
      target,
      sockets: 15_000,
      bytesPerSocket: kib * 1024,
      eventLoopLag: { p50Ms: 1, p99Ms, maxMs: p99Ms * 2 },
    }) as unknown as CapacityResult;
  const latency = [
    ...ladder('baseline', 400, 100),
    ...ladder('gateway', 200, 500),
    ...ladder('gateway-before', 100, 800),
  ];

  it('compares the older build with this one from the same run, idle sockets included', () => {
    const text = renderPeersSection(
      latency,
      [idle('gateway', 22.5, 4), idle('gateway-before', 29.6, 16)],
      1,
    ).join('\n');
    expect(text).toContain(
      'highest sustained 100 against 200 msg/s, CPU of the servers per 1,000 deliveries at 200 msg/s 800 (saturated there) against 500',
    );
    expect(text).toContain(
      '15000 idle sockets: RSS per socket 29.6 KiB against 22.5 KiB, event-loop lag p99 16 ms against 4 ms',
    );
  });

  it('says nothing of a before when no older build ran', () => {
    const text = renderPeersSection(
      latency.filter((s) => s.target !== 'gateway-before'),
      [],
      1,
    ).join('\n');
    expect(text).not.toContain('Before and after');
  });
});
