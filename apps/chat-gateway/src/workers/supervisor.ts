import { type WorkersReport } from './workers.protocol.js';

/** One worker process as the supervisor sees it (a cluster worker, or a fake in tests). */
export interface SupervisedWorker {
  readonly pid: number | undefined;
  /** Fires once, when the worker accepts connections. */
  onListening(listener: (port: number) => void): void;
  /** Fires once, when the worker process has exited. */
  onExit(listener: (code: number | null, signal: string | null) => void): void;
  kill(signal: 'SIGTERM' | 'SIGKILL'): void;
  send(report: WorkersReport): void;
}

export interface SupervisorOptions {
  workers: number;
  spawn(): SupervisedWorker;
  /** At most `max` replacements within `windowMs`; past that a dead worker stays dead. */
  restarts: { max: number; windowMs: number };
  /** After SIGTERM, how long the workers get to drain before SIGKILL. */
  stopTimeoutMs: number;
  log: { log(message: string): void; warn(message: string): void; error(message: string): void };
  now?: () => number;
  /** Called after every change (a worker up, gone or replaced), e.g. for metrics. */
  onChange?(report: WorkersReport): void;
  /** Every worker is gone and none will be replaced: nothing is left to serve. */
  onEmpty?(): void;
}

/**
 * Keeps `workers` gateway processes behind one port: starts them, replaces one that dies (within
 * a restart budget, so a crash loop does not spin forever), tells every worker how many are up,
 * and on stop sends each its SIGTERM (each drains as a single instance does) and waits for all.
 */
export class Supervisor {
  private readonly live = new Set<SupervisedWorker>();
  private readonly listening = new Set<SupervisedWorker>();
  private restartTimes: number[] = [];
  private gaveUp = false;
  private stopping: Promise<number> | undefined;
  private whenAllGone: (() => void) | undefined;
  private startup:
    { resolve(port: number): void; reject(error: Error): void; port?: number } | undefined;
  restartsTotal = 0;

  constructor(private readonly options: SupervisorOptions) {}

  /** Resolves with the port once every worker listens; rejects if one exits before that. */
  start(): Promise<number> {
    return new Promise<number>((resolve, reject) => {
      this.startup = { resolve, reject };
      for (let i = 0; i < this.options.workers; i++) this.fork();
    });
  }

  report(): WorkersReport {
    return {
      type: 'jobsphere:workers',
      alive: this.listening.size,
      expected: this.options.workers,
      gaveUp: this.gaveUp,
    };
  }

  /** SIGTERM to every worker, then SIGKILL to those still there after the timeout. Exit code. */
  stop(): Promise<number> {
    return (this.stopping ??= (async () => {
      let failed = false;
      const gone = new Promise<void>((resolve) => (this.whenAllGone = resolve));
      if (this.live.size === 0) this.whenAllGone?.();
      const exits = [...this.live].map(
        (worker) =>
          new Promise<void>((resolve) =>
            worker.onExit((code) => {
              if (code !== 0) failed = true;
              resolve();
            }),
          ),
      );
      for (const worker of this.live) worker.kill('SIGTERM');
      let timer: NodeJS.Timeout | undefined;
      const timedOut = await Promise.race([
        Promise.all(exits).then(() => false),
        new Promise<boolean>((resolve) => {
          timer = setTimeout(() => resolve(true), this.options.stopTimeoutMs);
        }),
      ]);
      clearTimeout(timer);
      if (timedOut) {
        this.options.log.error(
          `${this.live.size} worker(s) still draining after ${this.options.stopTimeoutMs} ms: killed`,
        );
        for (const worker of this.live) worker.kill('SIGKILL');
        failed = true;
        await gone;
      }
      return failed ? 1 : 0;
    })());
  }

  private fork(): void {
    const worker = this.options.spawn();
    this.live.add(worker);
    worker.onListening((port) => {
      this.listening.add(worker);
      this.options.log.log(`worker ${worker.pid} listening`);
      this.changed();
      if (this.startup) {
        this.startup.port ??= port;
        if (this.listening.size === this.options.workers) {
          this.startup.resolve(this.startup.port);
          this.startup = undefined;
        }
      }
    });
    worker.onExit((code, signal) => {
      this.live.delete(worker);
      this.listening.delete(worker);
      if (this.live.size === 0) this.whenAllGone?.();
      if (this.stopping) return;
      const how = signal ? `signal ${signal}` : `code ${code}`;
      if (this.startup) {
        // A worker that cannot start (store or Redis unreachable, port taken) fails the start.
        const startup = this.startup;
        this.startup = undefined;
        this.options.log.error(`worker ${worker.pid} exited before listening (${how})`);
        void this.stop().then(() =>
          startup.reject(new Error(`a worker exited before listening (${how})`)),
        );
        return;
      }
      this.options.log.warn(`worker ${worker.pid} exited (${how})`);
      this.replace();
      this.changed();
      if (this.live.size === 0) this.options.onEmpty?.();
    });
  }

  private replace(): void {
    const now = (this.options.now ?? Date.now)();
    const { max, windowMs } = this.options.restarts;
    this.restartTimes = this.restartTimes.filter((t) => now - t < windowMs);
    if (this.restartTimes.length >= max) {
      if (!this.gaveUp)
        this.options.log.error(
          `${max} workers replaced within ${windowMs} ms: not replacing any more; ${this.live.size} of ${this.options.workers} left`,
        );
      this.gaveUp = true;
      return;
    }
    this.restartTimes.push(now);
    this.restartsTotal++;
    this.fork();
  }

  private changed(): void {
    const report = this.report();
    for (const worker of this.listening) worker.send(report);
    this.options.onChange?.(report);
  }
}
