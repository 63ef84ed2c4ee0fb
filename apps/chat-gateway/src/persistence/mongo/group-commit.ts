import { UnavailableError } from '@jobsphere/chat-domain';

interface Waiting<T> {
  item: T;
  /** Epoch ms after which the submitter no longer waits (it was answered UNAVAILABLE). */
  deadline: number;
  resolve: () => void;
  reject: (error: unknown) => void;
}

export interface GroupCommitOptions {
  /** Items per command at most. */
  maxBatch: number;
  /** Items waiting at most; past it a submit fails at once (UNAVAILABLE, nothing stored). */
  maxWaiting: number;
  /** A round trip to the store, besides the server's work (default 50 ms). */
  minCommandMs?: number;
  now?: () => number;
}

/**
 * Group commit for one kind of write: one command in flight; what arrives meanwhile leaves as
 * the next command when it returns. A quiet system sends every write at once (nothing waits);
 * a busy one sends one command per round trip instead of one per send, which is where a send's
 * cost goes on this path (the driver's work per command, and the store's).
 *
 * `run` writes the items as one command and answers, per item, the error that refused it, or
 * undefined; a rejection of `run` refuses the whole batch.
 *
 * Deadlines: a write must never land after its submitter was told UNAVAILABLE (it would be
 * stored and never announced). An item whose deadline passed while it waited is dropped, never
 * sent; a command carries, as `maxTimeMS`, the time its most urgent item has left, so the server
 * gives up on it (and writes nothing) when its caller has.
 */
export class GroupCommit<T> {
  private readonly waiting: Waiting<T>[] = [];
  private busy = false;

  constructor(
    private readonly run: (items: T[], maxTimeMS: number | undefined) => Promise<unknown[]>,
    private readonly options: GroupCommitOptions,
  ) {}

  /** Resolves once written; `deadline` (epoch ms) is when the caller stops waiting. */
  submit(item: T, deadline = Number.POSITIVE_INFINITY): Promise<void> {
    if (this.waiting.length >= this.options.maxWaiting) {
      return Promise.reject(new UnavailableError('store busy, not stored'));
    }
    return new Promise<void>((resolve, reject) => {
      this.waiting.push({ item, deadline, resolve, reject });
      if (!this.busy) this.next();
    });
  }

  private next(): void {
    const now = (this.options.now ?? Date.now)();
    const minCommandMs = this.options.minCommandMs ?? 50;
    const batch: Waiting<T>[] = [];
    while (batch.length < this.options.maxBatch && this.waiting.length > 0) {
      const waiting = this.waiting.shift()!;
      // Its caller was (or is about to be) answered UNAVAILABLE: not written, ever.
      if (waiting.deadline - now < 2 * minCommandMs)
        waiting.reject(new UnavailableError('store busy, not stored'));
      else batch.push(waiting);
    }
    if (batch.length === 0) {
      this.busy = false;
      return;
    }
    this.busy = true;
    const soonest = Math.min(...batch.map((w) => w.deadline));
    // The server's limit ends a round trip before the caller's: a reply that says "written"
    // arrives while the caller still waits for it.
    const maxTimeMS = Number.isFinite(soonest)
      ? Math.floor(soonest - now - minCommandMs)
      : undefined;
    const settle = (errors: unknown[]) =>
      batch.forEach((w, i) => (errors[i] === undefined ? w.resolve() : w.reject(errors[i])));
    // A synchronous throw in `run` refuses the batch like a rejection.
    Promise.resolve()
      .then(() =>
        this.run(
          batch.map((w) => w.item),
          maxTimeMS,
        ),
      )
      .then(settle, (error: unknown) => batch.forEach((w) => w.reject(error)))
      .finally(() => this.next());
  }
}

/**
 * The error of each item of a bulk write from the driver's error: its per-statement
 * `writeErrors` (by statement index) when it has them, else the error for every statement.
 */
export function errorsByStatement(error: unknown, statements: number): unknown[] {
  const list = (error as { writeErrors?: unknown } | null)?.writeErrors;
  const writeErrors = Array.isArray(list) ? list : list ? [list] : [];
  // No statement named (a network error, a write concern error): none of them is known to hold.
  if (writeErrors.length === 0) return Array.from({ length: statements }, () => error);
  const errors: unknown[] = Array.from({ length: statements }, () => undefined);
  for (const writeError of writeErrors as { index?: unknown }[]) {
    if (typeof writeError.index === 'number') errors[writeError.index] = writeError;
  }
  return errors;
}
