/** Time as the client sees it: injected so tests run on a fake clock and never wait. */
export interface Clock {
  now(): number;
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (callback, ms) => globalThis.setTimeout(callback, ms),
  clearTimeout: (handle) => globalThis.clearTimeout(handle as ReturnType<typeof setTimeout>),
};

/** A number in [0, 1): the jitter source, injected for deterministic tests. */
export type Random = () => number;

export interface BackoffOptions {
  /** Delay ceiling of the first retry. */
  initialMs: number;
  /** No retry ever waits longer than this. */
  maxMs: number;
}

/**
 * Capped exponential backoff with "equal jitter": the ceiling doubles per attempt up to
 * `maxMs`, the delay is drawn from its upper half, so retries spread out (no herd after a
 * restart) and never collapse to zero.
 */
export function backoffDelay(attempt: number, options: BackoffOptions, random: Random): number {
  const ceiling = Math.min(
    options.maxMs,
    options.initialMs * 2 ** Math.min(Math.max(attempt, 0), 30),
  );
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

/** A per-event-kind deadline that resets and keeps at most one pending timer. */
export class Timer {
  private handle: unknown;
  private pending = false;

  constructor(private readonly clock: Clock) {}

  get active(): boolean {
    return this.pending;
  }

  /** (Re)arms the timer: the previous callback is dropped. */
  set(ms: number, callback: () => void): void {
    this.cancel();
    this.pending = true;
    this.handle = this.clock.setTimeout(
      () => {
        this.pending = false;
        callback();
      },
      Math.max(0, ms),
    );
  }

  cancel(): void {
    if (!this.pending) return;
    this.clock.clearTimeout(this.handle);
    this.pending = false;
  }
}
