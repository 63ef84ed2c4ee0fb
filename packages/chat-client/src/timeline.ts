import type { MessageDto } from './protocol.js';

export interface MergeResult {
  /** Messages this timeline did not hold before. */
  added: MessageDto[];
  /** Messages that replaced an older state of themselves (edit, delete). */
  updated: MessageDto[];
}

const bySeq = (a: MessageDto, b: MessageDto) =>
  a.seq - b.seq || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/**
 * The messages of one conversation as a device shows them: ascending by seq, each id once,
 * each in its newest known state (the higher `version` wins, whatever order copies arrive
 * in: live, sync, ack or history), and without a hole: it holds every message from `floor`
 * up to the newest. Older ones come only through history pages, which lower the floor; a sync
 * may carry an edit of a message below it, which is left for history to bring in its current
 * state. Bounded: past `cap` the oldest are dropped and the floor rises. `messages` is
 * replaced, never mutated, on every change.
 */
export class Timeline {
  private readonly byId = new Map<string, MessageDto>();
  private list: readonly MessageDto[] = [];
  /** True once messages were dropped for the cap. */
  trimmed = false;
  /** Every message from this seq on is held (or will be, through sync). */
  floor: number;
  /** Nothing older than the floor exists: history reached the first message. */
  complete: boolean;

  /** `floor`: the first seq this device will hold (1 + the newest seq when it started following). */
  constructor(
    private readonly cap: number,
    floor = 1,
  ) {
    this.floor = floor;
    this.complete = floor <= 1;
  }

  get messages(): readonly MessageDto[] {
    return this.list;
  }

  get size(): number {
    return this.list.length;
  }

  get(id: string): MessageDto | undefined {
    return this.byId.get(id);
  }

  get newest(): MessageDto | undefined {
    return this.list.at(-1);
  }

  get oldest(): MessageDto | undefined {
    return this.list[0];
  }

  /**
   * A history page: it runs without a hole up to the held range (the newest page, or the one
   * just before the floor), so the floor moves down to its first message.
   */
  mergeHistory(page: readonly MessageDto[], hasMore: boolean): MergeResult {
    if (!hasMore) {
      this.floor = 0;
      this.complete = true;
    } else {
      for (const m of page) if (m.seq < this.floor) this.floor = m.seq;
    }
    return this.merge(page);
  }

  merge(incoming: readonly MessageDto[]): MergeResult {
    const added: MessageDto[] = [];
    const updated: MessageDto[] = [];
    // Within one batch the newest copy of an id wins too.
    const batch = new Map<string, MessageDto>();
    for (const m of incoming) {
      if (m.seq < this.floor) continue;
      const seen = batch.get(m.id);
      if (!seen || m.version > seen.version) batch.set(m.id, m);
    }
    let appendOnly = true;
    let last = this.newest;
    for (const m of batch.values()) {
      const existing = this.byId.get(m.id);
      if (!existing) {
        added.push(m);
        if (last && bySeq(m, last) < 0) appendOnly = false;
        else last = m;
      } else if (m.version > existing.version) {
        updated.push(m);
        appendOnly = false;
      }
    }
    if (added.length === 0 && updated.length === 0) return { added, updated };
    for (const m of [...added, ...updated]) this.byId.set(m.id, m);
    this.list = appendOnly ? [...this.list, ...added] : [...this.byId.values()].sort(bySeq);
    if (this.list.length > this.cap) {
      const dropped = this.list.slice(0, this.list.length - this.cap);
      for (const m of dropped) this.byId.delete(m.id);
      this.list = this.list.slice(this.list.length - this.cap);
      this.trimmed = true;
      this.floor = this.list[0]!.seq;
      this.complete = false;
    }
    return {
      added: added.filter((m) => this.byId.get(m.id) === m),
      updated: updated.filter((m) => this.byId.get(m.id) === m),
    };
  }
}

/**
 * A device's position in one conversation's change stream. `value` = every change up to it
 * is held; live changes are contiguous (`value + 1`) or reveal a gap, which only `sync` from
 * `value` closes (a gap can also be a burned version; sync's returned cursor skips it).
 */
export class VersionCursor {
  private readonly ahead = new Set<number>();

  constructor(
    public value: number,
    private readonly maxAhead = 1_000,
  ) {}

  /** True while a change above `value + 1` was seen and the ones between are not. */
  get hasGap(): boolean {
    return this.ahead.size > 0;
  }

  /** A live change (message:new, an ack, an update). Returns `hasGap`. */
  observe(version: number): boolean {
    if (version === this.value + 1) {
      this.value = version;
      this.absorb();
    } else if (version > this.value + 1) {
      // Past the cap the exact set is not needed: the gap is known, sync will close it.
      if (this.ahead.size < this.maxAhead) this.ahead.add(version);
    }
    return this.hasGap;
  }

  /** The cursor a `sync` answer returned: everything up to it is held now. */
  advanceTo(version: number): void {
    if (version > this.value) this.value = version;
    for (const v of this.ahead) if (v <= this.value) this.ahead.delete(v);
    this.absorb();
  }

  private absorb(): void {
    while (this.ahead.delete(this.value + 1)) this.value++;
  }
}
