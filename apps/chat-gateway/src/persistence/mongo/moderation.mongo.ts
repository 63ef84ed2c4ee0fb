import {
  decodeActivityCursor,
  nextCursorOf,
  type AuditEntry,
  type AuditQuery,
  type ModerationFlagQuery,
  type ModerationFlagRecord,
  type ModerationFlagState,
  type ModerationStore,
  type NewAuditEntry,
  type NewModerationFlag,
  type UserRestriction,
} from '@jobsphere/chat-domain';
import { isValidObjectId, Types } from 'mongoose';
import type { AuditDoc, FlagDoc, RestrictionDoc } from './moderation.models.js';
import type { Models } from './models.js';

/** Drops the fields a document holds as undefined (the domain's optional fields are absent). */
function defined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

const toRestriction = ({ _id, ...r }: RestrictionDoc): UserRestriction =>
  defined({ userId: _id, kind: r.kind, reason: r.reason, by: r.by, at: r.at });
const toFlag = ({ _id, ...f }: FlagDoc): ModerationFlagRecord => defined({ id: _id, ...f });
const toEntry = ({ _id, ...e }: AuditDoc): AuditEntry => defined({ id: _id.toHexString(), ...e });

/** Newest first from the cursor on: (at, id) below the cursor's position. */
function beyond(cursor: string | undefined, id: (raw: string) => unknown): object | null {
  if (!cursor) return {};
  const position = decodeActivityCursor(cursor);
  const after = id(position.id);
  if (after === null) return null;
  return { $or: [{ at: { $lt: position.at } }, { at: position.at, _id: { $lt: after } }] };
}

export class MongoModeration implements ModerationStore {
  constructor(private readonly models: Models) {}

  async restrict(
    userId: string,
    restriction: UserRestriction | null,
  ): Promise<UserRestriction | null> {
    const collection = this.models.restrictions.collection;
    const before = restriction
      ? await collection.findOneAndReplace(
          { _id: userId },
          {
            kind: restriction.kind,
            reason: restriction.reason,
            by: restriction.by,
            at: restriction.at,
          },
          { upsert: true, returnDocument: 'before' },
        )
      : await collection.findOneAndDelete({ _id: userId });
    return before ? toRestriction(before) : null;
  }

  async restriction(userId: string): Promise<UserRestriction | null> {
    const doc = await this.models.restrictions.collection.findOne({ _id: userId });
    return doc ? toRestriction(doc) : null;
  }

  async flag(flag: NewModerationFlag): Promise<ModerationFlagRecord> {
    const { id, ...rest } = flag;
    // Inserted only when absent: a retried step keeps the flag as it was.
    const doc = await this.models.flags.collection.findOneAndUpdate(
      { _id: id },
      { $setOnInsert: defined({ ...rest, state: 'open' as const }) },
      { upsert: true, returnDocument: 'after' },
    );
    return toFlag(doc!);
  }

  async resolveFlag(
    id: string,
    state: Exclude<ModerationFlagState, 'open'>,
  ): Promise<ModerationFlagRecord | null> {
    const from = state === 'actioned' ? ['open', 'dismissed'] : ['open'];
    const doc = await this.models.flags.collection.findOneAndUpdate(
      { _id: id, state: { $in: from as ModerationFlagState[] } },
      { $set: { state } },
      { returnDocument: 'after' },
    );
    return doc ? toFlag(doc) : null;
  }

  async listFlags(query: ModerationFlagQuery) {
    const after = beyond(query.cursor, (raw) => raw);
    if (!after) return { flags: [] };
    const docs = await this.models.flags.collection
      .find({
        ...(query.source && { source: query.source }),
        ...(query.state && { state: query.state }),
        ...(query.userId && { userId: query.userId }),
        ...(query.conversationId && { conversationId: query.conversationId }),
        ...after,
      })
      .sort({ at: -1, _id: -1 })
      .limit(query.limit + 1)
      .toArray();
    const flags = docs.slice(0, query.limit).map(toFlag);
    return { flags, ...nextCursorOf(docs.length, query.limit, flags, (f) => [f.at, f.id]) };
  }

  async setSlowMode(conversationId: string, seconds: number): Promise<void> {
    const collection = this.models.slowModes.collection;
    if (seconds > 0)
      await collection.updateOne({ _id: conversationId }, { $set: { seconds } }, { upsert: true });
    else await collection.deleteOne({ _id: conversationId });
  }

  async slowMode(conversationId: string): Promise<number> {
    return (await this.models.slowModes.collection.findOne({ _id: conversationId }))?.seconds ?? 0;
  }

  async audit(entry: NewAuditEntry): Promise<AuditEntry> {
    const doc: AuditDoc = { _id: new Types.ObjectId(), ...defined(entry) };
    await this.models.audit.collection.insertOne(doc);
    return toEntry(doc);
  }

  async auditLog(query: AuditQuery) {
    const after = beyond(query.cursor, (raw) =>
      isValidObjectId(raw) ? new Types.ObjectId(raw) : null,
    );
    if (!after) return { entries: [] };
    const docs = await this.models.audit.collection
      .find({
        ...(query.subjectUserId && { subjectUserId: query.subjectUserId }),
        ...(query.actor && { actor: query.actor }),
        ...after,
      })
      .sort({ at: -1, _id: -1 })
      .limit(query.limit + 1)
      .toArray();
    const entries = docs.slice(0, query.limit).map(toEntry);
    return { entries, ...nextCursorOf(docs.length, query.limit, entries, (e) => [e.at, e.id]) };
  }
}
