import {
  audienceOf,
  decideReaction,
  decideAnswer,
  decideSend,
  hasJoined,
  keptMentions,
  replyRefusal,
  replyRefusalError,
  withMentionSeq,
  type ReactionChange,
  type ReactionSettings,
  isArchivedFor,
  organisationOf,
  type MemberOrganisation,
  type OrganisationChange,
  newRequestRecord,
  NotMemberError,
  requestOf,
  sendRefusalError,
  toPreview,
  type RequestRecord,
  type AppendResult,
  type ChangePage,
  type ChatStore,
  type ContactStore,
  type Conversation,
  type ConversationBox,
  type ConversationPage,
  type ConversationStore,
  type Message,
  type MessageDraft,
  type MessageSearch,
  type MessageStore,
  type NewConversation,
  type NewReport,
  type PreferenceStore,
  type Report,
  type ReportStatus,
  type ReportStep,
  type ReportStore,
  type Revision,
  type RevisionExpectation,
  type UnreadSummary,
} from '../index.js';
import { beyondCursor, decodeActivityCursor, nextCursorOf } from '../cursor.js';
import { MemoryModeration } from './moderation.memory.js';
import { searchWords } from '../search.js';
import { MemoryOutbox, MemoryPlatform } from './platform.memory.js';
import { MemoryScheduled } from './scheduled.memory.js';
import { MemoryResponseTimes } from './response-times.memory.js';
import { MemoryTemplates } from './templates.memory.js';

const hex = (bytes: Uint8Array) => [...bytes].map((b) => b.toString(16).padStart(2, '0')).join('');
const PROCESS_UNIQUE = hex(crypto.getRandomValues(new Uint8Array(5)));
let counter = parseInt(hex(crypto.getRandomValues(new Uint8Array(3))), 16);

/** A store epoch: 128 random bits in hex. */
function newEpoch(): string {
  return hex(crypto.getRandomValues(new Uint8Array(16)));
}

/**
 * Laid out like a MongoDB ObjectId (seconds, process, counter), so ids look the same in
 * both stores and increase in creation order, which the conversation list's tie-break uses.
 */
export function newId(): string {
  counter = (counter + 1) % 0xffffff;
  const seconds = Math.floor(Date.now() / 1000)
    .toString(16)
    .padStart(8, '0');
  return seconds + PROCESS_UNIQUE + counter.toString(16).padStart(6, '0');
}

// Stored objects are copied in and out so callers can never mutate the "database".
export const clone = <T>(value: T): T => structuredClone(value);

export interface StoredConversation extends Omit<Conversation, 'request'> {
  directKey?: string;
  /** The domain's one shape of a request; members see `requestOf(request)`. */
  request: RequestRecord;
}

/** Everything in one process; each operation runs to completion before the next one starts. */
export class MemoryState {
  readonly conversations = new Map<string, StoredConversation>();
  readonly byDirectKey = new Map<string, string>();
  /** userId -> ids of the conversations the user is a member of. */
  readonly memberOf = new Map<string, Set<string>>();
  /** Pair of users -> their direct conversations (one per job context). */
  readonly byPair = new Map<string, Set<string>>();
  /** conversationId -> messages in seq order (appends arrive in order here). */
  readonly messages = new Map<string, Message[]>();
  /** conversationId -> the same messages in version order (a revision moves one to the end). */
  readonly changes = new Map<string, Message[]>();
  readonly byId = new Map<string, Message>();
  readonly byClientKey = new Map<string, Message>();
  /** userId -> contactId -> when they became contacts; kept in that order, oldest first. */
  readonly contacts = new Map<string, Map<string, number>>();
  /** blocker -> blocked -> since; kept in that order, oldest first. */
  readonly blocks = new Map<string, Map<string, number>>();

  blockedEitherWay(a: string, b: string): boolean {
    return Boolean(this.blocks.get(a)?.has(b) || this.blocks.get(b)?.has(a));
  }

  /** The members who joined become contacts of each other (an open invitation makes none). */
  befriend(conversation: Pick<Conversation, 'members' | 'createdAt'>): void {
    const at = conversation.createdAt.getTime();
    const joined = conversation.members.filter(hasJoined);
    for (const a of joined) {
      const mine = this.contacts.get(a.userId) ?? new Map<string, number>();
      for (const b of joined) {
        if (a.userId === b.userId) continue;
        const since = Math.max(mine.get(b.userId) ?? 0, at);
        mine.delete(b.userId); // re-inserted last: the map stays ordered by recency
        mine.set(b.userId, since);
      }
      this.contacts.set(a.userId, mine);
    }
  }

  conversationsOf(userId: string): StoredConversation[] {
    return [...(this.memberOf.get(userId) ?? [])]
      .map((id) => this.conversations.get(id)!)
      .sort(
        (a, b) => b.lastActivityAt.getTime() - a.lastActivityAt.getTime() || (a.id < b.id ? 1 : -1),
      );
  }
}

export function strip(stored: StoredConversation): Conversation {
  const { directKey: _key, request: record, ...conversation } = clone(stored);
  const request = requestOf(record);
  return { ...conversation, ...(request && { request }) };
}

function pairKey(a: string, b: string): string {
  return a < b ? `${a}|${b}` : `${b}|${a}`;
}

/** Requests received and groups not joined yet are kept apart from the inbox. */
function inBox(c: StoredConversation, userId: string, box: ConversationBox): boolean {
  const request = requestOf(c.request);
  const invitation = c.members.find((m) => m.userId === userId)?.invitation;
  const received = request?.to === userId;
  if (box === 'requests')
    return (received && request?.state === 'pending') || invitation?.state === 'pending';
  if (received || invitation) return false;
  const pinned = organisationOf(c, userId).pinnedAt !== undefined;
  const archived = isArchivedFor(c, userId);
  if (box === 'pinned') return pinned;
  if (box === 'archived') return archived;
  return !pinned && !archived;
}

/** Whether a member's inbox counts this conversation (not a request or invitation either). */
function counted(c: StoredConversation, userId: string): boolean {
  return ['inbox', 'pinned', 'archived'].some((box) => inBox(c, userId, box as ConversationBox));
}

class MemoryConversations implements ConversationStore {
  constructor(private readonly state: MemoryState) {}

  async create(input: NewConversation): Promise<{ conversation: Conversation; created: boolean }> {
    const existingId = input.directKey ? this.state.byDirectKey.get(input.directKey) : undefined;
    if (existingId) {
      const existing = this.state.conversations.get(existingId)!;
      if (!requestOf(existing.request)) this.state.befriend(existing);
      return { conversation: strip(existing), created: false };
    }
    const { directKey, request, requestAllowance, ...rest } = input;
    const [a, b] = input.members.map((m) => m.userId);
    const stored: StoredConversation = {
      ...clone(rest),
      members: input.members.map((m) => ({ ...clone(m), lastReadSeq: 0 })),
      id: newId(),
      lastActivityAt: input.createdAt,
      version: 0,
      blocked: input.kind === 'direct' && this.state.blockedEitherWay(a!, b!),
      ...(directKey && { directKey }),
      request: newRequestRecord(request, requestAllowance),
    };
    this.state.conversations.set(stored.id, stored);
    if (directKey) this.state.byDirectKey.set(directKey, stored.id);
    if (input.kind === 'direct') {
      const pair = this.state.byPair.get(pairKey(a!, b!)) ?? new Set<string>();
      pair.add(stored.id);
      this.state.byPair.set(pairKey(a!, b!), pair);
    }
    for (const m of stored.members) {
      const mine = this.state.memberOf.get(m.userId) ?? new Set<string>();
      mine.add(stored.id);
      this.state.memberOf.set(m.userId, mine);
    }
    if (!requestOf(stored.request)) this.state.befriend(stored);
    return { conversation: strip(stored), created: true };
  }

  async get(id: string): Promise<Conversation | null> {
    const found = this.state.conversations.get(id);
    return found ? strip(found) : null;
  }

  async getMany(ids: string[]): Promise<Conversation[]> {
    return [...new Set(ids)].flatMap((id) => {
      const found = this.state.conversations.get(id);
      return found ? [strip(found)] : [];
    });
  }

  async listForMember(
    userId: string,
    page: { limit: number; cursor?: string; box?: ConversationBox },
  ): Promise<ConversationPage> {
    const after = page.cursor ? decodeActivityCursor(page.cursor) : undefined;
    const box = page.box ?? 'inbox';
    const mine = this.state
      .conversationsOf(userId)
      .filter((c) => inBox(c, userId, box) && beyondCursor(after, c.lastActivityAt, c.id));
    const conversations = mine.slice(0, page.limit).map(strip);
    return {
      conversations,
      ...nextCursorOf(mine.length, page.limit, conversations, (i) => [i.lastActivityAt, i.id]),
    };
  }

  async answerRequest(
    conversationId: string,
    userId: string,
    answer: 'accept' | 'decline',
  ): Promise<Conversation | null> {
    const stored = this.state.conversations.get(conversationId);
    if (!stored || requestOf(stored.request)?.to !== userId) return null;
    if (answer === 'accept') acceptRequest(this.state, stored);
    else stored.request.state = 'declined';
    return strip(stored);
  }

  async requestBetween(from: string, to: string): Promise<Conversation | null> {
    for (const id of this.state.byPair.get(pairKey(from, to)) ?? []) {
      const stored = this.state.conversations.get(id)!;
      if (requestOf(stored.request)?.from === from) return strip(stored);
    }
    return null;
  }

  async setBlocked(a: string, b: string, blocked: boolean): Promise<Conversation[]> {
    const changed: Conversation[] = [];
    for (const id of this.state.byPair.get(pairKey(a, b)) ?? []) {
      const stored = this.state.conversations.get(id)!;
      if (stored.blocked === blocked) continue;
      stored.blocked = blocked;
      changed.push(strip(stored));
    }
    return changed;
  }

  async advanceRead(conversationId: string, userId: string, seq: number): Promise<number | null> {
    const member = this.state.conversations
      .get(conversationId)
      ?.members.find((m) => m.userId === userId);
    if (!member) return null;
    member.lastReadSeq = Math.max(member.lastReadSeq, seq);
    return member.lastReadSeq;
  }

  async advanceDelivered(
    conversationId: string,
    userId: string,
    seq: number,
  ): Promise<number | null> {
    const member = this.state.conversations
      .get(conversationId)
      ?.members.find((m) => m.userId === userId);
    if (!member) return null;
    member.lastDeliveredSeq = Math.max(member.lastDeliveredSeq ?? 0, seq);
    return member.lastDeliveredSeq;
  }

  async organise(
    conversationId: string,
    userId: string,
    change: OrganisationChange,
  ): Promise<Conversation | null> {
    const stored = this.state.conversations.get(conversationId);
    const member = stored?.members.find((m) => m.userId === userId);
    if (!stored || !member) return null;
    const next: MemberOrganisation = { ...member.organisation };
    if (change.muted !== undefined) next.muted = change.muted;
    if (change.markedUnread !== undefined) next.markedUnread = change.markedUnread;
    if (change.pinnedAt === null) delete next.pinnedAt;
    else if (change.pinnedAt) next.pinnedAt = new Date(change.pinnedAt);
    if (change.archivedSeq === null) delete next.archivedSeq;
    else if (change.archivedSeq !== undefined) next.archivedSeq = change.archivedSeq;
    member.organisation = next;
    return strip(stored);
  }

  async countPinned(userId: string, max: number): Promise<number> {
    const mine = this.state.conversationsOf(userId);
    return mine.filter((c) => organisationOf(c, userId).pinnedAt !== undefined).slice(0, max + 1)
      .length;
  }

  async unreadSummary(userId: string, maxConversations: number): Promise<UnreadSummary> {
    const mine = this.state.conversationsOf(userId).filter((c) => counted(c, userId));
    let total = 0;
    for (const c of mine.slice(0, maxConversations)) {
      const own = organisationOf(c, userId);
      if (own.muted === true) continue;
      const read = c.members.find((m) => m.userId === userId)?.lastReadSeq ?? 0;
      const unread = Math.max(0, (c.lastMessage?.seq ?? 0) - read);
      total += own.markedUnread === true ? Math.max(1, unread) : unread;
    }
    return { total, capped: mine.length > maxConversations };
  }
}

export class MemoryMessages implements MessageStore {
  /** conversationId -> the last seq handed out (its messages may not all exist). */
  private readonly lastSeq = new Map<string, number>();

  constructor(private readonly state: MemoryState) {}

  async append(draft: MessageDraft): Promise<AppendResult> {
    const conversation = this.state.conversations.get(draft.conversationId);
    if (!conversation) throw new NotMemberError(draft.conversationId);
    const decision = decideSend(
      {
        ...conversation,
        memberIds: conversation.members.map((m) => m.userId),
        invited: invitedOf(conversation),
      },
      { senderId: draft.senderId, kind: draft.kind ?? 'user' },
    );
    const memberIds = audienceOf(conversation);
    const { kind } = conversation;
    // Someone who is not a member learns nothing, not even that the message exists.
    if (!decision.ok && decision.refusal.reason === 'not-member')
      throw sendRefusalError(decision.refusal, draft.conversationId);
    const key = clientKey(draft.conversationId, draft.senderId, draft.clientMessageId);
    const existing = this.state.byClientKey.get(key);
    if (existing) return { message: clone(existing), duplicate: true, kind, memberIds };
    if (!decision.ok) throw sendRefusalError(decision.refusal, draft.conversationId);
    const sender = conversation.members.find((m) => m.userId === draft.senderId);
    const replyTarget =
      draft.replyTo === undefined ? undefined : (this.state.byId.get(draft.replyTo) ?? null);
    if (replyTarget !== undefined) {
      const refusal = replyRefusal(replyTarget, conversation.id, sender?.joinedAt, draft.senderId);
      if (refusal) throw replyRefusalError(refusal);
    }
    const admitted = decision.changes;
    if (admitted.spendsAllowance) conversation.request.left -= 1;
    if (admitted.acceptsRequest) acceptRequest(this.state, conversation);
    const mentions = keptMentions(draft.mentions, kind, memberIds, draft.senderId);

    const seq = (this.lastSeq.get(conversation.id) ?? 0) + 1;
    this.lastSeq.set(conversation.id, seq);
    conversation.version += 1;
    const { mentions: _named, ...rest } = clone(draft);
    const message: Message = {
      ...rest,
      ...(mentions.length > 0 && { mentions }),
      kind: draft.kind ?? 'user',
      id: newId(),
      seq,
      version: conversation.version,
    };
    for (const member of conversation.members)
      if (mentions.includes(member.userId))
        member.mentionSeqs = withMentionSeq(member.mentionSeqs, seq);
    const list = this.state.messages.get(conversation.id) ?? [];
    list.push(message);
    this.state.messages.set(conversation.id, list);
    const changes = this.state.changes.get(conversation.id) ?? [];
    changes.push(message);
    this.state.changes.set(conversation.id, changes);
    this.state.byId.set(message.id, message);
    this.state.byClientKey.set(key, message);
    // A shadow-banned sender's message changes nothing the others see of the conversation.
    if (!message.shadow) {
      conversation.lastMessage = toPreview(message);
      conversation.lastActivityAt = message.createdAt;
    }
    if (sender) sender.lastReadSeq = Math.max(sender.lastReadSeq, seq);
    return {
      message: clone(message),
      duplicate: false,
      kind,
      memberIds,
      ...(admitted.acceptsRequest && { acceptedRequest: true }),
      ...(replyTarget && { replyTarget: clone(replyTarget) }),
    };
  }

  async getMany(conversationId: string, ids: string[]): Promise<Message[]> {
    return ids
      .map((id) => this.state.byId.get(id))
      .filter((m): m is Message => m !== undefined && m.conversationId === conversationId)
      .map(clone);
  }

  async react(
    conversationId: string,
    messageId: string,
    change: ReactionChange,
    settings: ReactionSettings,
  ): Promise<{ message: Message; changed: boolean } | null> {
    const message = this.state.byId.get(messageId);
    const conversation = this.state.conversations.get(conversationId);
    if (!message || !conversation || message.conversationId !== conversationId) return null;
    if (message.deletedAt) return null;
    const admitted = decideSend(
      {
        ...conversation,
        memberIds: conversation.members.map((m) => m.userId),
        invited: invitedOf(conversation),
      },
      { senderId: change.userId, kind: 'user', action: 'react' },
    );
    if (!admitted.ok) throw sendRefusalError(admitted.refusal, conversationId);
    const decision = decideReaction(message.reactions, change, settings);
    if (!decision.ok) throw decision.error;
    if (!decision.changed) return { message: clone(message), changed: false };
    this.moveToNewVersion(conversation, message);
    message.reactions = decision.reactions;
    return { message: clone(message), changed: true };
  }

  /** The message moves to the end of the version order: sync returns it in its new state. */
  private moveToNewVersion(conversation: StoredConversation, message: Message): void {
    const changes = this.state.changes.get(conversation.id)!;
    changes.splice(
      firstIndex(changes, (m) => m.version >= message.version),
      1,
    );
    conversation.version += 1;
    message.version = conversation.version;
    changes.push(message);
  }

  async get(conversationId: string, messageId: string): Promise<Message | null> {
    const found = this.state.byId.get(messageId);
    return found && found.conversationId === conversationId ? clone(found) : null;
  }

  async sent(
    conversationId: string,
    senderId: string,
    clientMessageId: string,
  ): Promise<Message | null> {
    const found = this.state.byClientKey.get(clientKey(conversationId, senderId, clientMessageId));
    return found ? clone(found) : null;
  }

  async revise(
    conversationId: string,
    messageId: string,
    revision: Revision,
    expect: RevisionExpectation = {},
  ): Promise<Message | null> {
    const message = this.state.byId.get(messageId);
    const conversation = this.state.conversations.get(conversationId);
    if (!message || !conversation || message.conversationId !== conversationId) return null;
    if (message.deletedAt) return null;
    if (expect.senderId !== undefined && message.senderId !== expect.senderId) return null;
    if (expect.sentSince && message.createdAt < expect.sentSince) return null;
    if (revision.kind === 'answer' && !decideAnswer(message.action, revision).ok) return null;
    if (expect.actor !== undefined) {
      // The send decision for the reviser, executed with the change (an edit is a delivery).
      const decision = decideSend(
        {
          ...conversation,
          memberIds: conversation.members.map((m) => m.userId),
          invited: invitedOf(conversation),
        },
        { senderId: expect.actor, kind: 'user', action: revision.kind },
      );
      if (!decision.ok) throw sendRefusalError(decision.refusal, conversationId);
      if (decision.changes.spendsAllowance) conversation.request.left -= 1;
    }
    this.moveToNewVersion(conversation, message);
    if (revision.kind === 'edit') {
      message.body = revision.body;
      message.editedAt = revision.at;
      if (revision.safety) message.safety = clone(revision.safety);
      else delete message.safety;
      if (revision.shadow) message.shadow = true;
    } else if (revision.kind === 'answer') {
      const { userId, actionId, at } = revision;
      message.action!.answers.push({ userId, actionId, at });
    } else {
      message.body = '';
      delete message.attachments;
      delete message.action;
      withoutText(message);
      message.deletedAt = revision.at;
      message.deletedBy = revision.by;
    }
    if (
      conversation.lastMessage?.id === message.id &&
      !(message.shadow && revision.kind === 'edit')
    )
      conversation.lastMessage = toPreview(message);
    return clone(message);
  }

  async page(
    conversationId: string,
    query: { before?: number; after?: number; limit: number },
  ): Promise<Message[]> {
    const list = this.state.messages.get(conversationId) ?? [];
    // The list is sorted by seq: find the page's edge by binary search, not by a scan.
    if (query.after !== undefined) {
      const start = firstIndex(list, (m) => m.seq > query.after!);
      return list.slice(start, start + query.limit).map(clone);
    }
    const end =
      query.before === undefined ? list.length : firstIndex(list, (m) => m.seq >= query.before!);
    return list.slice(Math.max(0, end - query.limit), end).map(clone);
  }

  /** Scans the given conversations: bounded by the caller's conversations, as the port asks. */
  async search(query: MessageSearch): Promise<Message[]> {
    const excludedIn = new Set(query.exclude?.conversationIds);
    const excludedSenders = new Set(query.exclude?.senderIds);
    const found: Message[] = [];
    for (const conversationId of new Set(query.conversationIds))
      for (const m of this.state.messages.get(conversationId) ?? []) {
        if (m.deletedAt || m.kind === 'system') continue;
        if (excludedIn.has(conversationId) && excludedSenders.has(m.senderId)) continue;
        if (!beyondCursor(query.before, m.createdAt, m.id)) continue;
        const words = new Set(searchWords(m.body));
        if (query.terms.every((t) => words.has(t))) found.push(m);
      }
    found.sort(
      (a, b) =>
        b.createdAt.getTime() - a.createdAt.getTime() || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0),
    );
    return found.slice(0, query.limit).map(clone);
  }

  async changesSince(
    conversationId: string,
    afterVersion: number,
    limit: number,
  ): Promise<ChangePage> {
    const list = this.state.changes.get(conversationId) ?? [];
    const start = firstIndex(list, (m) => m.version > afterVersion);
    return {
      messages: list.slice(start, start + limit).map(clone),
      hasMore: list.length - start > limit,
    };
  }
}

/** The recipient answered or replied: an ordinary conversation between contacts from now on. */
/** Members whose invitation is open: the decision's `invited`. */
function invitedOf(conversation: StoredConversation): string[] {
  return conversation.members.filter((m) => !hasJoined(m)).map((m) => m.userId);
}

function acceptRequest(state: MemoryState, conversation: StoredConversation): void {
  conversation.request.state = 'none';
  state.befriend(conversation);
}

class MemoryContacts implements ContactStore {
  constructor(private readonly state: MemoryState) {}

  async among(userId: string, candidates: string[]): Promise<string[]> {
    const mine = this.state.contacts.get(userId);
    return [...new Set(candidates)].filter(
      (id) => mine?.has(id) && !this.state.blockedEitherWay(userId, id),
    );
  }

  async audience(userId: string, limit: number): Promise<string[]> {
    const mine = [...(this.state.contacts.get(userId)?.keys() ?? [])];
    const audience: string[] = [];
    // Newest first; blocked ones are skipped (a user has few blocks, so the walk stays short).
    for (let i = mine.length - 1; i >= 0 && audience.length < limit; i--) {
      if (!this.state.blockedEitherWay(userId, mine[i]!)) audience.push(mine[i]!);
    }
    return audience;
  }

  async accepted(a: string, b: string): Promise<boolean> {
    return Boolean(this.state.contacts.get(a)?.has(b));
  }

  async blockedAmong(userId: string, candidates: string[]): Promise<string[]> {
    return [...new Set(candidates)].filter((id) => this.state.blockedEitherWay(userId, id));
  }

  async blockedPairs(userIds: string[]): Promise<[string, string][]> {
    const ids = [...new Set(userIds)];
    const pairs: [string, string][] = [];
    for (const [i, a] of ids.entries())
      for (const b of ids.slice(i + 1)) {
        if (this.state.blocks.get(a)?.has(b)) pairs.push([a, b]);
        else if (this.state.blocks.get(b)?.has(a)) pairs.push([b, a]);
      }
    return pairs;
  }

  async block(blocker: string, blocked: string, at: Date): Promise<boolean> {
    const mine = this.state.blocks.get(blocker) ?? new Map<string, number>();
    if (mine.has(blocked)) return false;
    mine.set(blocked, at.getTime());
    this.state.blocks.set(blocker, mine);
    return true;
  }

  async unblock(blocker: string, blocked: string): Promise<boolean> {
    return this.state.blocks.get(blocker)?.delete(blocked) ?? false;
  }

  async blockedBy(
    userId: string,
    page: { limit: number; cursor?: string },
  ): Promise<{ users: { userId: string; since: Date }[]; nextCursor?: string }> {
    const after = page.cursor ? decodeActivityCursor(page.cursor) : undefined;
    const all = [...(this.state.blocks.get(userId) ?? new Map<string, number>())]
      .map(([id, since]) => ({ userId: id, since: new Date(since) }))
      .sort((x, y) => y.since.getTime() - x.since.getTime() || (x.userId < y.userId ? 1 : -1))
      .filter((u) => beyondCursor(after, u.since, u.userId));
    const users = all.slice(0, page.limit);
    return {
      users,
      ...nextCursorOf(all.length, page.limit, users, (i) => [i.since, i.userId]),
    };
  }
}

export class MemoryReports implements ReportStore {
  /** Oldest first (ids increase with creation). Erasure reaches in (platform.memory.ts). */
  readonly reports = new Map<string, Report>();

  async create(report: NewReport): Promise<Report> {
    const stored: Report = { ...clone(report), id: newId(), status: 'open', history: [] };
    this.reports.set(stored.id, stored);
    return clone(stored);
  }

  async get(id: string): Promise<Report | null> {
    const found = this.reports.get(id);
    return found ? clone(found) : null;
  }

  async list(query: {
    status?: Report['status'];
    limit: number;
    cursor?: string;
  }): Promise<{ reports: Report[]; nextCursor?: string }> {
    const after = query.cursor ? decodeActivityCursor(query.cursor) : undefined;
    const all = [...this.reports.values()]
      .filter((r) => !query.status || r.status === query.status)
      .sort((x, y) => y.createdAt.getTime() - x.createdAt.getTime() || (x.id < y.id ? 1 : -1))
      .filter((r) => beyondCursor(after, r.createdAt, r.id));
    const reports = all.slice(0, query.limit).map(clone);
    return {
      reports,
      ...nextCursorOf(all.length, query.limit, reports, (i) => [i.createdAt, i.id]),
    };
  }

  async aboutMessage(
    messageId: string,
    statuses: readonly ReportStatus[],
    limit: number,
  ): Promise<Report[]> {
    return [...this.reports.values()]
      .filter((r) => r.messageId === messageId && statuses.includes(r.status))
      .slice(0, limit)
      .map(clone);
  }

  async transition(id: string, step: ReportStep): Promise<Report | null> {
    const found = this.reports.get(id);
    if (!found || !step.from.includes(found.status)) return null;
    const { to, resolution, by, at } = step;
    found.history.push({ from: found.status, to, resolution, by, at });
    Object.assign(found, { status: to, resolution, resolvedBy: by, resolvedAt: at });
    return clone(found);
  }
}

function clientKey(conversationId: string, senderId: string, clientMessageId: string): string {
  return `${conversationId}|${senderId}|${clientMessageId}`;
}

/** The first index whose element satisfies a predicate that is false, then true, along the list. */
export function firstIndex<T>(list: T[], predicate: (item: T) => boolean): number {
  let low = 0;
  let high = list.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (predicate(list[mid]!)) high = mid;
    else low = mid + 1;
  }
  return low;
}

/** The embedded default: one process, nothing survives a restart. */
/** Who turned receipts off; everyone else has the defaults. */
export class MemoryPreferences implements PreferenceStore {
  private readonly hiding = new Set<string>();

  async hidingReceipts(userIds: string[]): Promise<string[]> {
    return userIds.filter((id) => this.hiding.has(id));
  }

  async setReceipts(userId: string, shown: boolean): Promise<boolean> {
    if (shown !== this.hiding.has(userId)) return false;
    if (shown) this.hiding.delete(userId);
    else this.hiding.add(userId);
    return true;
  }
}

export class MemoryChatStore implements ChatStore {
  readonly kind = 'memory' as const;
  private readonly state = new MemoryState();
  readonly conversations = new MemoryConversations(this.state);
  readonly messages = new MemoryMessages(this.state);
  readonly contacts = new MemoryContacts(this.state);
  readonly reports = new MemoryReports();
  readonly preferences = new MemoryPreferences();
  readonly outbox = new MemoryOutbox();
  readonly scheduled = new MemoryScheduled();
  readonly responseTimes = new MemoryResponseTimes();
  readonly templates = new MemoryTemplates();
  readonly moderation = new MemoryModeration();
  readonly platform = new MemoryPlatform(this.state, this.messages, this.reports);
  /** Everything is forgotten when the process ends: every process start is a new epoch. */
  private readonly storeEpoch = newEpoch();

  async epoch(): Promise<string> {
    return this.storeEpoch;
  }

  async ping(): Promise<void> {}
  async close(): Promise<void> {}
}

/** A deleted message keeps no text: the masked and the replaced body go with the body. */
function withoutText(message: Message): void {
  if (!message.safety) return;
  const { masked: _masked, replaced: _replaced, ...kept } = message.safety;
  if (Object.keys(kept).length > 0) message.safety = kept;
  else delete message.safety;
}
