import {
  type NewScheduledSend,
  type ScheduledFinish,
  type ScheduledSend,
  type ScheduledSendStore,
} from '../scheduled.js';

const clone = <T>(value: T): T => structuredClone(value);
let next = 0;

/** Scheduled sends in one process; each operation runs to completion before the next starts. */
export class MemoryScheduled implements ScheduledSendStore {
  private readonly entries = new Map<string, ScheduledSend>();

  async create(entry: NewScheduledSend, maxPending: number): Promise<ScheduledSend | null> {
    const pending = [...this.entries.values()].filter(
      (e) => e.senderId === entry.senderId && e.state === 'pending',
    ).length;
    if (pending >= maxPending) return null;
    const stored: ScheduledSend = {
      ...clone(entry),
      id: `s${Date.now().toString(36)}${(++next).toString(36)}`,
      state: 'pending',
      attempts: 0,
      dueAt: entry.sendAt,
    };
    this.entries.set(stored.id, stored);
    return clone(stored);
  }

  async get(id: string): Promise<ScheduledSend | null> {
    const found = this.entries.get(id);
    return found ? clone(found) : null;
  }

  async listForSender(senderId: string, limit: number, now: Date): Promise<ScheduledSend[]> {
    const mine = [...this.entries.values()].filter(
      (e) => e.senderId === senderId && !(e.expireAt && e.expireAt <= now),
    );
    const pending = mine
      .filter((e) => e.state === 'pending')
      .sort((a, b) => a.sendAt.getTime() - b.sendAt.getTime());
    const finished = mine
      .filter((e) => e.state !== 'pending')
      .sort((a, b) => b.sendAt.getTime() - a.sendAt.getTime());
    return [...pending, ...finished].slice(0, limit).map(clone);
  }

  async edit(
    id: string,
    senderId: string,
    change: { body?: string; sendAt?: Date } | { cancel: true; at: Date; expireAt: Date },
  ): Promise<ScheduledSend | null> {
    const e = this.entries.get(id);
    if (!e || e.senderId !== senderId || e.state !== 'pending' || e.attempts > 0) return null;
    if ('cancel' in change) {
      e.state = 'cancelled';
      e.expireAt = change.expireAt;
    } else {
      if (change.body !== undefined) e.body = change.body;
      if (change.sendAt) e.sendAt = e.dueAt = change.sendAt;
    }
    return clone(e);
  }

  async claim(now: Date, leaseMs: number, lease: string): Promise<ScheduledSend | null> {
    let due: ScheduledSend | undefined;
    for (const e of this.entries.values())
      if (e.state === 'pending' && e.dueAt <= now && (!due || e.dueAt < due.dueAt)) due = e;
    if (!due) return null;
    due.lease = lease;
    due.dueAt = new Date(now.getTime() + leaseMs);
    due.attempts += 1;
    return clone(due);
  }

  async finish(
    id: string,
    lease: string,
    result: ScheduledFinish,
    expireAt: Date,
  ): Promise<boolean> {
    const e = this.entries.get(id);
    if (!e || e.lease !== lease || e.state !== 'pending') return false;
    e.state = result.state;
    if (result.state === 'sent') e.messageId = result.messageId;
    else e.outcome = result.outcome;
    e.expireAt = expireAt;
    delete e.lease;
    return true;
  }

  async retry(id: string, lease: string, dueAt: Date, error: string): Promise<void> {
    const e = this.entries.get(id);
    if (!e || e.lease !== lease || e.state !== 'pending') return;
    e.dueAt = dueAt;
    e.outcome = error;
    delete e.lease;
  }
}
