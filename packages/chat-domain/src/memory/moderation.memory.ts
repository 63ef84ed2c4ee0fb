import { beyondCursor, decodeActivityCursor, nextCursorOf } from '../cursor.js';
import {
  type AuditEntry,
  type AuditQuery,
  type ModerationFlagQuery,
  type ModerationFlagRecord,
  type ModerationFlagState,
  type ModerationStore,
  type NewAuditEntry,
  type NewModerationFlag,
  type UserRestriction,
} from '../moderation.js';
import { clone, newId } from './memory.store.js';

/** Newest first by (time, id), from the cursor on, `limit` kept: one page of a list. */
function pageOf<T>(
  items: Iterable<T>,
  position: (item: T) => [Date, string],
  limit: number,
  cursor: string | undefined,
): { kept: T[]; nextCursor?: string } {
  const after = cursor ? decodeActivityCursor(cursor) : undefined;
  const all = [...items]
    .sort((x, y) => {
      const [xt, xi] = position(x);
      const [yt, yi] = position(y);
      return yt.getTime() - xt.getTime() || (xi < yi ? 1 : -1);
    })
    .filter((item) => beyondCursor(after, ...position(item)));
  const kept = all.slice(0, limit).map(clone);
  return { kept, ...nextCursorOf(all.length, limit, kept, position) };
}

/** Moderation in one process: restrictions, flags, slow modes, the audit log. */
export class MemoryModeration implements ModerationStore {
  private readonly restrictions = new Map<string, UserRestriction>();
  private readonly flags = new Map<string, ModerationFlagRecord>();
  private readonly slowModes = new Map<string, number>();
  private readonly entries = new Map<string, AuditEntry>();

  async restrict(
    userId: string,
    restriction: UserRestriction | null,
  ): Promise<UserRestriction | null> {
    const before = this.restrictions.get(userId) ?? null;
    if (restriction) this.restrictions.set(userId, clone(restriction));
    else this.restrictions.delete(userId);
    return before && clone(before);
  }

  async restriction(userId: string): Promise<UserRestriction | null> {
    const found = this.restrictions.get(userId);
    return found ? clone(found) : null;
  }

  async flag(flag: NewModerationFlag): Promise<ModerationFlagRecord> {
    const existing = this.flags.get(flag.id);
    if (existing) return clone(existing);
    const stored: ModerationFlagRecord = { ...clone(flag), state: 'open' };
    this.flags.set(stored.id, stored);
    return clone(stored);
  }

  async resolveFlag(
    id: string,
    state: Exclude<ModerationFlagState, 'open'>,
  ): Promise<ModerationFlagRecord | null> {
    const found = this.flags.get(id);
    if (!found || found.state === 'actioned' || found.state === state) return null;
    found.state = state;
    return clone(found);
  }

  async listFlags(query: ModerationFlagQuery) {
    const matching = [...this.flags.values()].filter(
      (f) =>
        (query.source === undefined || f.source === query.source) &&
        (query.state === undefined || f.state === query.state) &&
        (query.userId === undefined || f.userId === query.userId) &&
        (query.conversationId === undefined || f.conversationId === query.conversationId),
    );
    const { kept, nextCursor } = pageOf(matching, (f) => [f.at, f.id], query.limit, query.cursor);
    return { flags: kept, ...(nextCursor && { nextCursor }) };
  }

  async setSlowMode(conversationId: string, seconds: number): Promise<void> {
    if (seconds > 0) this.slowModes.set(conversationId, seconds);
    else this.slowModes.delete(conversationId);
  }

  async slowMode(conversationId: string): Promise<number> {
    return this.slowModes.get(conversationId) ?? 0;
  }

  async audit(entry: NewAuditEntry): Promise<AuditEntry> {
    const stored: AuditEntry = { ...clone(entry), id: newId() };
    this.entries.set(stored.id, stored);
    return clone(stored);
  }

  async auditLog(query: AuditQuery) {
    const matching = [...this.entries.values()].filter(
      (e) =>
        (query.subjectUserId === undefined || e.subjectUserId === query.subjectUserId) &&
        (query.actor === undefined || e.actor === query.actor),
    );
    const { kept, nextCursor } = pageOf(matching, (e) => [e.at, e.id], query.limit, query.cursor);
    return { entries: kept, ...(nextCursor && { nextCursor }) };
  }
}
