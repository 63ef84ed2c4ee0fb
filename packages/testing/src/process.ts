import { type ChildProcess, spawn } from 'node:child_process';
import { rmSync } from 'node:fs';

export interface ManagedProcessOptions {
  command: string;
  args: string[];
  /** Resolves `start()` once a line of stdout or stderr matches. */
  readyPattern: RegExp;
  readyTimeoutMs?: number;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Folders removed when the process is disposed. */
  tempDirs?: string[];
  /**
   * Gives the child a stdin pipe that stays open while this process lives. A child that exits
   * on stdin EOF then dies with us even when we are killed with SIGKILL (no exit hook runs).
   */
  keepStdinOpen?: boolean;
}

const live = new Set<ManagedProcess>();
let hooksInstalled = false;
let signalsLeftToCaller = false;
const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
const killAll = () => {
  for (const p of live) p.disposeSync();
};
const onSignal = (signal: NodeJS.Signals) => {
  killAll();
  process.kill(process.pid, signal);
};

// Whatever happens to the test process (normal end, failure, timeout, Ctrl-C), no
// child service and no temp folder outlives it.
function installExitHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.once('exit', killAll);
  if (signalsLeftToCaller) return;
  for (const signal of SIGNALS) process.once(signal, onSignal);
}

/**
 * For a program that stops its services itself on SIGINT/SIGTERM (gracefully, then exits): the
 * default hooks would SIGKILL every child and re-raise the signal before that stop could run,
 * which leaves files behind and the process dead of a signal. The exit hook stays as a last resort.
 */
export function leaveSignalsToCaller(): void {
  signalsLeftToCaller = true;
  for (const signal of SIGNALS) process.off(signal, onSignal);
}

/** A child process with a readiness check, stop/kill/restart and guaranteed cleanup. */
export class ManagedProcess {
  private child: ChildProcess | undefined;
  private output: string[] = [];
  private exited: Promise<number | null> = Promise.resolve(null);
  private watchdog: ChildProcess | undefined;
  private paused = false;

  constructor(private readonly options: ManagedProcessOptions) {
    installExitHooks();
    live.add(this);
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Exit code of the last run (null while running, or when ended by a signal). */
  get exitCode(): number | null {
    return this.child?.exitCode ?? null;
  }

  get running(): boolean {
    return (
      this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null
    );
  }

  /** The last lines the process printed, for error messages. */
  recentOutput(lines = 30): string {
    return this.output.slice(-lines).join('\n');
  }

  async start(): Promise<void> {
    if (this.running) throw new Error(`${this.options.command} is already running`);
    const { command, args, readyPattern, env, cwd } = this.options;
    const timeoutMs = this.options.readyTimeoutMs ?? 15_000;
    const stdin = this.options.keepStdinOpen ? 'pipe' : 'ignore';
    // Its own process group: a terminal's Ctrl-C reaches only the owner, which stops it in
    // order, and every signal here reaches the whole group (nginx's workers with their master).
    const child = spawn(command, args, {
      env: env ?? process.env,
      cwd,
      stdio: [stdin, 'pipe', 'pipe'],
      detached: true,
    });
    // EPIPE when the child is gone must not crash the test process.
    child.stdin?.on('error', () => undefined);
    this.child = child;
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
    if (child.pid !== undefined) this.startWatchdog(child.pid);
    await new Promise<void>((resolve, reject) => {
      let buffer = '';
      let settled = false;
      const finish = (error?: Error) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (error) reject(error);
        else resolve();
      };
      const onData = (chunk: Buffer) => {
        buffer += chunk.toString('utf8');
        let idx: number;
        while ((idx = buffer.indexOf('\n')) >= 0) {
          const line = buffer.slice(0, idx);
          buffer = buffer.slice(idx + 1);
          this.output.push(line);
          if (this.output.length > 500) this.output.shift();
          if (readyPattern.test(line)) finish();
        }
      };
      child.stdout?.on('data', onData);
      child.stderr?.on('data', onData);
      child.once('error', (err) => finish(new Error(`${command} failed to start: ${err.message}`)));
      child.once('exit', (code, signal) =>
        finish(
          new Error(`${command} exited (${code ?? signal}) before ready:\n${this.recentOutput()}`),
        ),
      );
      const timer = setTimeout(
        () =>
          finish(new Error(`${command} not ready after ${timeoutMs} ms:\n${this.recentOutput()}`)),
        timeoutMs,
      );
    }).catch(async (error: unknown) => {
      // A process that never became ready must not linger (it may hold the port or a temp dir).
      await this.kill();
      throw error;
    });
  }

  /** Graceful stop (SIGTERM, then SIGKILL after `graceMs`). */
  async stop(graceMs = 5_000): Promise<void> {
    this.stopWatchdog();
    if (!this.running) return;
    // A stopped process ignores SIGTERM until it runs again.
    if (this.paused) this.resume();
    this.signal('SIGTERM');
    const timer = setTimeout(() => this.signal('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
    // What the leader left behind (a worker it could not stop) goes with it.
    this.signal('SIGKILL');
  }

  /** Abrupt death, as when an instance or a node is lost. */
  async kill(): Promise<void> {
    this.stopWatchdog();
    if (!this.running) return;
    this.signal('SIGKILL');
    await this.exited;
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  /**
   * SIGSTOP: the process stops answering but keeps its connections open, which is what a
   * network blackhole or a failover in progress looks like to a client. `resume()` undoes it.
   */
  pause(): void {
    if (this.running) this.child?.kill('SIGSTOP');
    this.paused = this.running;
  }

  resume(): void {
    if (this.running) this.child?.kill('SIGCONT');
    this.paused = false;
  }

  /** Stops the process and removes its temp folders. */
  async dispose(): Promise<void> {
    await this.stop();
    this.removeTempDirs();
    live.delete(this);
  }

  /** For exit hooks, where nothing can be awaited. */
  disposeSync(): void {
    this.stopWatchdog();
    this.signal('SIGKILL');
    this.removeTempDirs();
    live.delete(this);
  }

  // Exit hooks cannot run when the test process itself is SIGKILLed (a Jest worker
  // torn down hard, an OOM kill). A detached shell outlives it, notices, and cleans up.
  private startWatchdog(childPid: number): void {
    const dirs = (this.options.tempDirs ?? [])
      .map((d) => `'${d.replaceAll("'", "'\\''")}'`)
      .join(' ');
    const script =
      `while kill -0 ${process.pid} 2>/dev/null; do sleep 1; done; ` +
      `kill -9 -- -${childPid} 2>/dev/null; ${dirs ? `rm -rf ${dirs}` : 'true'}`;
    const watchdog = spawn('/bin/sh', ['-c', script], { detached: true, stdio: 'ignore' });
    watchdog.on('error', () => undefined);
    watchdog.unref();
    this.watchdog = watchdog;
  }

  /** The whole process group of the child (it leads one: spawned detached). */
  private signal(signal: NodeJS.Signals): void {
    const pid = this.child?.pid;
    if (pid === undefined) return;
    try {
      process.kill(-pid, signal);
    } catch {
      // ESRCH: the group is gone already.
    }
  }

  private stopWatchdog(): void {
    // Its group: the shell and the `sleep` it waits on (which would linger for a second).
    const pid = this.watchdog?.pid;
    if (this.watchdog?.exitCode === null && pid !== undefined) {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        // gone already
      }
    }
    this.watchdog = undefined;
  }

  private removeTempDirs(): void {
    for (const dir of this.options.tempDirs ?? []) rmSync(dir, { recursive: true, force: true });
  }
}
