import { UnavailableError } from '@jobsphere/chat-domain';

interface Waiting<T> {
  item: T;
  resolve: () => void;
  reject: (error: unknown) => void;
}

export interface GroupCommitOptions {
  /** Items per command at most. */
  maxBatch: number;
  /** Items waiting at most; past it a submit fails at once (UNAVAILABLE, nothing stored). */
  maxWaiting: number;
}

/**
 * Group commit for one kind of write: one command in flight; what arrives meanwhile leaves as
 * the next command when it returns. A quiet system sends every write at once (nothing waits);
 * a busy one sends one command per round trip instead of one per send, which is where a send's
 * cost goes on this path (the driver's work per command, and the store's).
 *
 * `run` writes the items as one command and answers, per item, the error that refused it, or
 * undefined; a rejection of `run` refuses the whole batch.
 */
export class GroupCommit<T> {
  private readonly waiting: Waiting<T>[] = [];
  private busy = false;

  constructor(
    private readonly run: (items: T[]) => Promise<unknown[]>,
    private readonly options: GroupCommitOptions,
  ) {}

  submit(item: T): Promise<void> {
    if (this.waiting.length >= this.options.maxWaiting) {
      return Promise.reject(new UnavailableError('store busy, not stored'));
    }
    return new Promise<void>((resolve, reject) => {
      this.waiting.push({ item, resolve, reject });
      if (!this.busy) this.next();
    });
  }

  private next(): void {
    const batch = this.waiting.splice(0, this.options.maxBatch);
    if (batch.length === 0) {
      this.busy = false;
      return;
    }
    this.busy = true;
    const settle = (errors: unknown[]) =>
      batch.forEach((w, i) => (errors[i] === undefined ? w.resolve() : w.reject(errors[i])));
    // A synchronous throw in `run` refuses the batch like a rejection.
    Promise.resolve()
      .then(() => this.run(batch.map((w) => w.item)))
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
