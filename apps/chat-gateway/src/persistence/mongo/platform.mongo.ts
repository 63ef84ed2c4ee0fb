import {
  UnavailableError,
  type ConversationChange,
  type ConversationChangeResult,
  type ErasureRecord,
  type ErasureStep,
  type Member,
  type PlatformStore,
  type UserExport,
} from '@jobsphere/chat-domain';
import { isValidObjectId } from 'mongoose';
import { addContacts } from './contacts.mongo.js';
import { PUBLIC_FIELDS, toConversation, toMessage } from './mappers.js';
import type { MongoMessages } from './messages.mongo.js';
import { readKey, type ConversationDoc, type MessageDoc, type Models } from './models.js';
import type { VersionAllocator } from './version-allocator.js';

/** Optimistic changes of one conversation document: how many times a busy one is tried. */
const CHANGE_ATTEMPTS = 5;

export class MongoPlatform implements PlatformStore {
  constructor(
    private readonly models: Models,
    private readonly allocator: VersionAllocator,
    private readonly messages: MongoMessages,
  ) {}

  /**
   * Read, then write conditionally on the version read: one atomic update takes the next
   * version (reserved like a send's, so a send's retry still counts back right), the members
   * and the metadata. A send or another change in between makes it read again.
   */
  async change(
    conversationId: string,
    change: ConversationChange,
  ): Promise<ConversationChangeResult | null> {
    if (!isValidObjectId(conversationId)) return null;
    for (let attempt = 0; attempt < CHANGE_ATTEMPTS; attempt++) {
      const doc = await this.models.conversations
        .findById(conversationId, { reservations: 0 })
        .lean<ConversationDoc>();
      if (!doc) return null;
      const has = (userId: string) => doc.members.some((m) => m.userId === userId);
      const added = (change.add ?? []).filter(
        (m, i, all) => !has(m.userId) && all.findIndex((o) => o.userId === m.userId) === i,
      );
      const removed = doc.members.filter((m) => change.remove?.includes(m.userId));
      const title = change.title !== undefined && change.title !== doc.title;
      const archived = change.archived !== undefined && change.archived !== (doc.archived === true);
      const reads = doc.reads ?? {};
      const gone = new Set(removed.map((m) => m.userId));
      const heir = doc.members.find(
        (m) => m.userId === change.owner && m.role !== 'owner' && !gone.has(m.userId),
      );
      const answer = change.answer;
      const invitation = answer && doc.invitations?.[readKey(answer.userId)];
      const answering =
        answer !== undefined &&
        invitation !== undefined &&
        (answer.accept || invitation.state !== 'declined');
      if (added.length === 0 && removed.length === 0 && !title && !archived && !heir && !answering)
        return { conversation: toConversation(doc), added: [], removed: [], changed: false };
      // The allocator takes it: `version` is `doc.version + 1` when the filter still matches.
      const version = doc.version + 1;
      const members = [
        ...doc.members
          .filter((m) => !gone.has(m.userId))
          .map((m) => ({
            userId: m.userId,
            role: m.userId === heir?.userId ? ('owner' as const) : m.role,
            joinedAt: m.joinedAt,
          })),
        ...added.map((m) => ({ userId: m.userId, role: m.role, joinedAt: m.joinedAt })),
      ];
      // Open invitations: those who left or accepted leave them; a decline is kept as such.
      const settled = new Set(gone);
      if (answering && answer.accept) settled.add(answer.userId);
      const declined = answering && !answer.accept ? [answer.userId] : [];
      const invited = (doc.invited ?? []).filter(
        (id) => !settled.has(id) && !declined.includes(id),
      );
      const declinedInvites = [
        ...(doc.declinedInvites ?? []).filter((id) => !settled.has(id)),
        ...declined,
      ];
      const set: Record<string, unknown> = {
        metaVersion: version,
        metaChangedAt: change.at,
        members,
        memberIds: members.map((m) => m.userId),
        invited,
        declinedInvites,
        ...(declined.length > 0 && {
          [`invitations.${readKey(declined[0]!)}.state`]: 'declined',
        }),
        ...(title && { title: change.title }),
        ...(archived && { archived: change.archived }),
        // Someone joining has nothing unread from before.
        ...Object.fromEntries(added.map((m) => [`reads.${readKey(m.userId)}`, doc.lastSeq])),
      };
      const unsetPaths: string[] = [
        ...removed.map((m) => `reads.${readKey(m.userId)}`),
        ...removed.map((m) => `delivered.${readKey(m.userId)}`),
        ...[...settled]
          .filter((id) => doc.invitations?.[readKey(id)])
          .map((id) => `invitations.${readKey(id)}`),
      ];
      const unset: Record<string, 1> = Object.fromEntries(unsetPaths.map((path) => [path, 1]));
      const updated = await this.allocator.take<ConversationDoc>(
        { _id: doc._id, version: doc.version },
        [{ key: 'meta', message: false }],
        {
          alongside: { $set: set, ...(unsetPaths.length > 0 && { $unset: unset }) },
          projection: PUBLIC_FIELDS,
        },
      );
      if (!updated) continue;
      const conversation = toConversation(updated);
      if (added.length > 0 || (answering && answer.accept))
        await addContacts(this.models.contacts, conversation);
      const asMember = (m: { userId: string; role: Member['role']; joinedAt: Date }): Member => ({
        userId: m.userId,
        role: m.role,
        joinedAt: m.joinedAt,
        lastReadSeq: reads[readKey(m.userId)] ?? 0,
      });
      return {
        conversation,
        added: added.map((m) => ({ ...asMember(m), lastReadSeq: doc.lastSeq })),
        removed: removed.map(asMember),
        changed: true,
      };
    }
    throw new UnavailableError('the conversation is busy: try again');
  }

  async eraseUserStep(userId: string, at: Date, limit: number): Promise<ErasureStep> {
    const theirs = await this.models.messages
      .find({ senderId: userId, deletedAt: { $exists: false } }, { body: 0, attachments: 0 })
      .limit(limit)
      .lean<MessageDoc[]>();
    const byConversation = new Map<string, MessageDoc[]>();
    for (const m of theirs) {
      const list = byConversation.get(m.conversationId) ?? [];
      list.push(m);
      byConversation.set(m.conversationId, list);
    }
    for (const [conversationId, erased] of byConversation)
      await this.messages.tombstone(conversationId, erased, at, 'erasure');
    if (theirs.length === limit) return { messages: theirs.length, conversations: 0, done: false };

    const memberships = await this.models.conversations
      .find({ memberIds: userId }, { _id: 1 })
      .limit(limit)
      .lean<Pick<ConversationDoc, '_id'>[]>();
    for (const c of memberships) await this.change(c._id.toHexString(), { at, remove: [userId] });
    if (memberships.length === limit)
      return { messages: theirs.length, conversations: memberships.length, done: false };

    await Promise.all([
      this.models.reports.collection.updateMany(
        { 'snapshot.senderId': userId },
        { $set: { 'snapshot.body': '' } },
      ),
      this.models.reports.collection.updateMany(
        { reporterId: userId, note: { $exists: true } },
        { $unset: { note: 1 } },
      ),
      this.models.contacts.collection.deleteMany({ $or: [{ userId }, { contactId: userId }] }),
      // Their own blocks go with them; blocks other people placed on them stay (theirs to keep).
      this.models.blocks.collection.deleteMany({ blocker: userId }),
    ]);
    return { messages: theirs.length, conversations: memberships.length, done: true };
  }

  async recordErasure(record: ErasureRecord): Promise<void> {
    await this.models.erasures.collection.insertOne({ ...record });
  }

  async exportUser(
    userId: string,
    caps: { conversations: number; messages: number },
  ): Promise<UserExport> {
    const [conversations, messages] = await Promise.all([
      this.models.conversations
        .find({ memberIds: userId }, PUBLIC_FIELDS)
        .sort({ lastActivityAt: -1, _id: -1 })
        .limit(caps.conversations + 1)
        .lean<ConversationDoc[]>(),
      this.models.messages
        .find({ senderId: userId })
        .sort({ createdAt: 1, _id: 1 })
        .limit(caps.messages + 1)
        .lean<MessageDoc[]>(),
    ]);
    return {
      conversations: conversations.slice(0, caps.conversations).map(toConversation),
      messages: messages.slice(0, caps.messages).map(toMessage),
      truncated: conversations.length > caps.conversations || messages.length > caps.messages,
    };
  }
}
