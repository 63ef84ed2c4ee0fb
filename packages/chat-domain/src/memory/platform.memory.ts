import {
  type Conversation,
  type ConversationChange,
  type ConversationChangeResult,
  type DeadLetterPolicy,
  type ErasureRecord,
  type ErasureStep,
  type Member,
  type NewOutboxEntry,
  type OutboxEntry,
  type OutboxStore,
  type PlatformStore,
  type UserExport,
} from '../index.js';
import { beyondCursor, decodeActivityCursor, nextCursorOf } from '../cursor.js';
import {
  type MemoryMessages,
  type MemoryReports,
  type MemoryState,
  type StoredConversation,
  clone,
  strip,
} from './memory.store.js';

/** The outbox of the embedded default: one process, so leases only matter to the contract. */
export class MemoryOutbox implements OutboxStore {
  private readonly entries = new Map<string, OutboxEntry>();

  async enqueue(entries: NewOutboxEntry[]): Promise<void> {
    for (const entry of entries) {
      if (this.entries.has(entry.id)) continue;
      this.entries.set(entry.id, { ...clone(entry), state: 'pending', attempts: 0 });
    }
  }

  async claim(now: Date, leaseMs: number, lease: string): Promise<OutboxEntry | null> {
    let first: OutboxEntry | undefined;
    for (const [id, entry] of this.entries) {
      if (entry.expireAt && entry.expireAt <= now) this.entries.delete(id);
      else if (
        entry.state === 'pending' &&
        entry.dueAt <= now &&
        (!first || entry.dueAt < first.dueAt)
      )
        first = entry;
    }
    if (!first) return null;
    first.dueAt = new Date(now.getTime() + leaseMs);
    first.lease = lease;
    first.attempts += 1;
    return clone(first);
  }

  async complete(id: string): Promise<void> {
    this.entries.delete(id);
  }

  async settle(id: string, expireAt: Date): Promise<void> {
    const entry = this.entries.get(id);
    if (!entry) return;
    entry.state = 'done';
    entry.expireAt = expireAt;
    delete entry.lease;
  }

  async retry(id: string, lease: string, dueAt: Date, error: string): Promise<void> {
    const entry = this.entries.get(id);
    if (entry?.lease !== lease || entry.state !== 'pending') return;
    entry.dueAt = dueAt;
    entry.lastError = error;
  }

  async deadLetter(
    id: string,
    lease: string,
    error: string,
    policy: DeadLetterPolicy,
  ): Promise<void> {
    const entry = this.entries.get(id);
    if (entry?.lease !== lease || entry.state !== 'pending') return;
    entry.state = 'dead';
    entry.lastError = error;
    entry.expireAt = policy.expireAt;
    const dead = [...this.entries.values()]
      .filter((e) => e.state === 'dead')
      .sort((x, y) => y.createdAt.getTime() - x.createdAt.getTime() || (x.id < y.id ? 1 : -1));
    for (const old of dead.slice(policy.keep)) this.entries.delete(old.id);
  }

  async listDead(page: { limit: number; cursor?: string }, now: Date) {
    const after = page.cursor ? decodeActivityCursor(page.cursor) : undefined;
    const dead = [...this.entries.values()]
      .filter((e) => e.state === 'dead' && !(e.expireAt && e.expireAt <= now))
      .sort((x, y) => y.createdAt.getTime() - x.createdAt.getTime() || (x.id < y.id ? 1 : -1))
      .filter((e) => beyondCursor(after, e.createdAt, e.id));
    const entries = dead.slice(0, page.limit).map(clone);
    return {
      entries,
      ...nextCursorOf(dead.length, page.limit, entries, (i) => [i.createdAt, i.id]),
    };
  }

  async replay(id: string, now: Date): Promise<boolean> {
    const entry = this.entries.get(id);
    if (entry?.state !== 'dead') return false;
    if (entry.expireAt && entry.expireAt <= now) return false;
    Object.assign(entry, { state: 'pending', attempts: 0, dueAt: now });
    delete entry.lastError;
    delete entry.lease;
    delete entry.expireAt;
    return true;
  }

  async redact(subject: string, payload: (entry: OutboxEntry) => string): Promise<number> {
    let count = 0;
    for (const entry of this.entries.values()) {
      if (entry.subject !== subject) continue;
      entry.payload = payload(clone(entry));
      count++;
    }
    return count;
  }

  async forgetAuthor(userId: string): Promise<number> {
    let count = 0;
    for (const [id, entry] of this.entries) {
      if (entry.authors.includes(userId) && this.entries.delete(id)) count++;
    }
    return count;
  }
}

export class MemoryPlatform implements PlatformStore {
  readonly erasures: ErasureRecord[] = [];

  constructor(
    private readonly state: MemoryState,
    private readonly messages: MemoryMessages,
    private readonly reports: MemoryReports,
  ) {}

  async change(
    conversationId: string,
    change: ConversationChange,
  ): Promise<ConversationChangeResult | null> {
    const stored = this.state.conversations.get(conversationId);
    if (!stored) return null;
    const has = (userId: string) => stored.members.some((m) => m.userId === userId);
    const lastSeq = stored.lastMessage?.seq ?? 0;
    // Someone joining has nothing unread from before.
    const added: Member[] = (change.add ?? [])
      .filter((m, i, all) => !has(m.userId) && all.findIndex((o) => o.userId === m.userId) === i)
      .map((m) => ({ ...clone(m), lastReadSeq: lastSeq }));
    const removed = stored.members.filter((m) => change.remove?.includes(m.userId));
    const title = change.title !== undefined && change.title !== stored.title;
    const archived =
      change.archived !== undefined && change.archived !== (stored.archived === true);
    const heir = stored.members.find(
      (m) => m.userId === change.owner && m.role !== 'owner' && !change.remove?.includes(m.userId),
    );
    const answering = stored.members.find(
      (m) =>
        m.userId === change.answer?.userId &&
        m.invitation !== undefined &&
        (change.answer.accept || m.invitation.state !== 'declined'),
    );
    if (added.length === 0 && removed.length === 0 && !title && !archived && !heir && !answering)
      return { conversation: strip(stored), added: [], removed: [], changed: false };
    this.apply(stored, { added, removed: removed.map((m) => m.userId), at: change.at });
    if (title) stored.title = change.title;
    if (archived && change.archived) stored.archived = true;
    else if (archived) delete stored.archived;
    if (heir) heir.role = 'owner';
    if (answering && change.answer?.accept) delete answering.invitation;
    else if (answering?.invitation) answering.invitation.state = 'declined';
    if (added.length > 0 || (answering && change.answer?.accept)) this.state.befriend(stored);
    return {
      conversation: strip(stored),
      added: clone(added),
      removed: clone(removed),
      changed: true,
    };
  }

  private apply(
    stored: StoredConversation,
    change: { added: Member[]; removed: string[]; at: Date },
  ): void {
    stored.members = [
      ...stored.members.filter((m) => !change.removed.includes(m.userId)),
      ...change.added,
    ];
    for (const userId of change.removed) this.state.memberOf.get(userId)?.delete(stored.id);
    for (const m of change.added) {
      const mine = this.state.memberOf.get(m.userId) ?? new Set<string>();
      mine.add(stored.id);
      this.state.memberOf.set(m.userId, mine);
    }
    stored.version += 1;
    stored.metaVersion = stored.version;
    stored.metaChangedAt = change.at;
  }

  async eraseUserStep(userId: string, at: Date, limit: number): Promise<ErasureStep> {
    const theirs = [...this.state.byId.values()]
      .filter((m) => m.senderId === userId && !m.deletedAt)
      .slice(0, limit);
    // The delete path of a message: a tombstone at a new version, the preview kept in step.
    for (const m of theirs)
      await this.messages.revise(m.conversationId, m.id, { kind: 'delete', by: 'erasure', at });
    if (theirs.length === limit) return { messages: theirs.length, conversations: 0, done: false };
    const memberships = [...(this.state.memberOf.get(userId) ?? [])].slice(0, limit);
    for (const id of memberships)
      this.apply(this.state.conversations.get(id)!, { added: [], removed: [userId], at });
    if (memberships.length === limit)
      return { messages: theirs.length, conversations: memberships.length, done: false };
    for (const report of this.reports.reports.values()) {
      if (report.snapshot?.senderId === userId) report.snapshot.body = '';
      if (report.reporterId === userId) delete report.note;
    }
    for (const contactId of this.state.contacts.get(userId)?.keys() ?? [])
      this.state.contacts.get(contactId)?.delete(userId);
    this.state.contacts.delete(userId);
    // Their own blocks go with them; blocks other people placed on them stay (theirs to keep).
    this.state.blocks.delete(userId);
    return { messages: theirs.length, conversations: memberships.length, done: true };
  }

  async recordErasure(record: ErasureRecord): Promise<void> {
    this.erasures.push(clone(record));
  }

  async exportUser(
    userId: string,
    caps: { conversations: number; messages: number },
  ): Promise<UserExport> {
    const conversations: Conversation[] = this.state.conversationsOf(userId).map(strip);
    const messages = [...this.state.byId.values()]
      .filter((m) => m.senderId === userId)
      .sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime() || (a.id < b.id ? -1 : 1));
    return {
      conversations: conversations.slice(0, caps.conversations),
      messages: messages.slice(0, caps.messages).map(clone),
      truncated: conversations.length > caps.conversations || messages.length > caps.messages,
    };
  }
}
