import { EventEmitter } from 'node:events';
import { jest } from '@jest/globals';
import { Supervisor, type SupervisedWorker, type SupervisorOptions } from './supervisor.js';
import { type WorkersReport } from './workers.protocol.js';

/** A worker process stand-in: the test decides when it listens and how it exits. */
class FakeWorker extends EventEmitter implements SupervisedWorker {
  readonly signals: string[] = [];
  readonly reports: WorkersReport[] = [];
  /** What the worker does on SIGTERM: drain and exit 0 (the gateway's own handler), or hang. */
  onTerm: 'exit' | 'hang' = 'exit';
  constructor(readonly pid: number) {
    super();
  }
  onListening(listener: (port: number) => void) {
    this.once('listening', listener);
  }
  onExit(listener: (code: number | null, signal: string | null) => void) {
    this.on('exit', listener);
  }
  kill(signal: 'SIGTERM' | 'SIGKILL') {
    this.signals.push(signal);
    if (signal === 'SIGKILL') queueMicrotask(() => this.emit('exit', null, 'SIGKILL'));
    else if (this.onTerm === 'exit') queueMicrotask(() => this.emit('exit', 0, null));
  }
  send(report: WorkersReport) {
    this.reports.push(report);
  }
  listen() {
    this.emit('listening', 4321);
  }
  crash() {
    this.emit('exit', 1, null);
  }
}

function setUp(overrides: Partial<SupervisorOptions> = {}) {
  const spawned: FakeWorker[] = [];
  const logs: string[] = [];
  let now = 0;
  let empty = 0;
  const supervisor = new Supervisor({
    workers: 2,
    spawn: () => {
      const worker = new FakeWorker(100 + spawned.length);
      spawned.push(worker);
      return worker;
    },
    restarts: { max: 2, windowMs: 60_000 },
    stopTimeoutMs: 1_000,
    log: { log: (m) => logs.push(m), warn: (m) => logs.push(m), error: (m) => logs.push(m) },
    now: () => now,
    onEmpty: () => empty++,
    ...overrides,
  });
  return {
    supervisor,
    spawned,
    logs,
    advance: (ms: number) => (now += ms),
    empty: () => empty,
  };
}

async function started() {
  const s = setUp();
  const ready = s.supervisor.start();
  for (const w of s.spawned) w.listen();
  expect(await ready).toBe(4321);
  return s;
}

describe('Supervisor', () => {
  it('starts the workers and is ready once every one of them listens', async () => {
    const s = setUp();
    let ready = false;
    void s.supervisor.start().then(() => (ready = true));
    expect(s.spawned).toHaveLength(2);
    s.spawned[0]!.listen();
    await Promise.resolve();
    expect(ready).toBe(false);
    s.spawned[1]!.listen();
    await new Promise((r) => setImmediate(r));
    expect(ready).toBe(true);
    // Every worker knows both are up (what /health reports).
    expect(s.spawned[0]!.reports.at(-1)).toEqual({
      type: 'jobsphere:workers',
      alive: 2,
      expected: 2,
      gaveUp: false,
    });
  });

  it('replaces a worker that dies, and tells the others meanwhile', async () => {
    const s = await started();
    s.spawned[0]!.crash();
    expect(s.spawned).toHaveLength(3);
    expect(s.spawned[1]!.reports.at(-1)).toMatchObject({ alive: 1, expected: 2, gaveUp: false });
    s.spawned[2]!.listen();
    expect(s.spawned[1]!.reports.at(-1)).toMatchObject({ alive: 2, expected: 2 });
    expect(s.supervisor.restartsTotal).toBe(1);
    expect(s.logs.join('\n')).toMatch(/worker 100 exited \(code 1\)/);
  });

  it('stops replacing past the restart budget, says so, and reports the instance as given up', async () => {
    const s = await started();
    for (let i = 0; i < 2; i++) {
      s.spawned.at(-1)!.crash();
      s.spawned.at(-1)!.listen();
    }
    expect(s.spawned).toHaveLength(4);
    s.spawned.at(-1)!.crash(); // the third death within the minute
    expect(s.spawned).toHaveLength(4);
    expect(s.logs.join('\n')).toMatch(/2 workers replaced within 60000 ms: not replacing any more/);
    expect(s.spawned[0]!.reports.at(-1)).toEqual({
      type: 'jobsphere:workers',
      alive: 1,
      expected: 2,
      gaveUp: true,
    });
    // The last one gone: nothing left to serve.
    expect(s.empty()).toBe(0);
    s.spawned[0]!.crash();
    expect(s.empty()).toBe(1);
  });

  it('counts the budget over a sliding window: deaths far apart are all replaced', async () => {
    const s = await started();
    for (let i = 0; i < 5; i++) {
      s.advance(61_000);
      s.spawned.at(-1)!.crash();
      s.spawned.at(-1)!.listen();
    }
    expect(s.spawned).toHaveLength(7);
    expect(s.supervisor.report()).toMatchObject({ alive: 2, gaveUp: false });
  });

  it('on stop sends every worker SIGTERM, replaces none, and exits 0 once all have drained', async () => {
    const s = await started();
    const code = await s.supervisor.stop();
    expect(code).toBe(0);
    expect(s.spawned.map((w) => w.signals)).toEqual([['SIGTERM'], ['SIGTERM']]);
    expect(s.spawned).toHaveLength(2);
  });

  it('kills a worker that is still draining after the timeout, and exits 1', async () => {
    jest.useFakeTimers();
    try {
      const s = await started();
      s.spawned[1]!.onTerm = 'hang';
      const stopping = s.supervisor.stop();
      await jest.advanceTimersByTimeAsync(1_000);
      expect(await stopping).toBe(1);
      expect(s.spawned[1]!.signals).toEqual(['SIGTERM', 'SIGKILL']);
      expect(s.logs.join('\n')).toMatch(/1 worker\(s\) still draining after 1000 ms: killed/);
    } finally {
      jest.useRealTimers();
    }
  });

  it('fails the start when a worker exits before it listens (its store or Redis is unreachable)', async () => {
    const s = setUp();
    const ready = s.supervisor.start();
    s.spawned[0]!.listen();
    s.spawned[1]!.crash();
    await expect(ready).rejects.toThrow('a worker exited before listening (code 1)');
    expect(s.spawned).toHaveLength(2);
    expect(s.spawned[0]!.signals).toEqual(['SIGTERM']);
  });
});
