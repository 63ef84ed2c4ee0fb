// Fault modes of the wire server, switched on for a time and/or a number of occurrences.

export const FAULT_MODES = ['stepDown', 'hang', 'dropMidBatch', 'upsertRace'] as const;
export type FaultMode = (typeof FAULT_MODES)[number];

export interface FaultOptions {
  /** How long the fault lasts (default: until cleared). */
  ms?: number;
  /** How many commands it hits at most (default: every one while it lasts). */
  times?: number;
  /** Only these commands (lower case, e.g. ['insert']); default: every one the mode applies to. */
  commands?: string[];
}

interface Window {
  until: number;
  remaining: number;
  commands: Set<string> | undefined;
}

export class Faults {
  private readonly windows = new Map<FaultMode, Window>();
  /** Commands each mode hit since the server started (what a test can assert happened). */
  readonly hits: Record<FaultMode, number> = {
    stepDown: 0,
    hang: 0,
    dropMidBatch: 0,
    upsertRace: 0,
  };

  constructor(private readonly now: () => number = Date.now) {}

  set(mode: FaultMode, options: FaultOptions = {}): void {
    if (!FAULT_MODES.includes(mode)) throw new Error(`unknown fault mode ${String(mode)}`);
    this.windows.set(mode, {
      until: this.now() + (options.ms ?? Infinity),
      remaining: options.times ?? Infinity,
      commands: options.commands && new Set(options.commands.map((c) => c.toLowerCase())),
    });
  }

  clear(mode?: FaultMode): void {
    if (mode) this.windows.delete(mode);
    else this.windows.clear();
  }

  /** When the fault ends by time (undefined when it is off or lasts until cleared). */
  endsAt(mode: FaultMode): number | undefined {
    const until = this.windows.get(mode)?.until;
    return until === undefined || until === Infinity ? undefined : until;
  }

  active(mode: FaultMode, command?: string): boolean {
    const window = this.windows.get(mode);
    if (!window) return false;
    if (window.until <= this.now() || window.remaining <= 0) {
      this.windows.delete(mode);
      return false;
    }
    return !command || !window.commands || window.commands.has(command);
  }

  /** True (and one occurrence used) when the fault hits this command now. */
  take(mode: FaultMode, command?: string): boolean {
    if (!this.active(mode, command)) return false;
    this.windows.get(mode)!.remaining--;
    this.hits[mode]++;
    return true;
  }

  status(): Partial<Record<FaultMode, { msLeft: number | null; timesLeft: number | null }>> {
    const out: Partial<Record<FaultMode, { msLeft: number | null; timesLeft: number | null }>> = {};
    for (const mode of FAULT_MODES) {
      if (!this.active(mode)) continue;
      const w = this.windows.get(mode)!;
      out[mode] = {
        msLeft: w.until === Infinity ? null : w.until - this.now(),
        timesLeft: w.remaining === Infinity ? null : w.remaining,
      };
    }
    return out;
  }
}
