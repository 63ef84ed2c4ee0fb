import type { MemberRole } from '@jobsphere/chat-domain';
import type { Timer } from './clock.js';
import type { ConnectionStatus } from './connection.js';
import type { ChatError } from './errors.js';
import type { OutboxEntry } from './outbox.js';
import type {
  ConversationDto,
  MessageDto,
  MessageRequestDto,
  DeliveredEvent,
  PresenceDto,
  ReadEvent,
  SettingsDto,
  OrganisationDto,
  OrganisedDto,
} from './protocol.js';
import type { Timeline, VersionCursor } from './timeline.js';

/** Where a message came from: the server pushed it, `sync` caught it up, the ack, or history. */
export type MessageSource = 'live' | 'sync' | 'ack' | 'history';

export interface MemberView {
  readonly userId: string;
  readonly role: MemberRole;
  readonly lastReadSeq: number;
  /** What a device of this member holds ("delivered"), at least `lastReadSeq`; 0 when unknown or hidden. */
  readonly lastDeliveredSeq: number;
}

/** One conversation as a UI shows it. A new object after every change, never mutated. */
export interface ConversationView {
  readonly id: string;
  /** Undefined until the conversation's details arrived (it was heard of through an event). */
  readonly kind: 'direct' | 'group' | undefined;
  readonly title: string | undefined;
  readonly jobId: string | undefined;
  readonly applicationId: string | undefined;
  readonly members: readonly MemberView[];
  /**
   * Set while a direct conversation is a message request (`to` is who answers it) or after
   * it was declined. A request this user received is listed by `requests()`, not `conversations()`.
   */
  readonly request: MessageRequestDto | undefined;
  /** One of the two blocked the other: nothing can be sent, typed or seen between them. */
  readonly blocked: boolean;
  /** Closed by the platform (an application that ended): shown apart or read-only. */
  readonly archived: boolean;
  /** How this user organised it for themself (mute, pin, archive, marked unread). */
  readonly organisation: OrganisationDto;
  /** Ascending by seq, each message once, in its newest state. */
  readonly messages: readonly MessageDto[];
  /** Sent from this device and not acknowledged yet, in send order. */
  readonly pending: readonly OutboxEntry[];
  readonly lastMessage:
    Pick<MessageDto, 'id' | 'seq' | 'senderId' | 'body' | 'createdAt'> | undefined;
  readonly lastActivityAt: string;
  readonly lastSeq: number;
  readonly lastReadSeq: number;
  readonly unreadCount: number;
  /** Unread messages that mention this user (reading resets it). */
  readonly mentionCount: number;
  /** The furthest any other member has read ("seen"). */
  readonly peerReadSeq: number;
  /**
   * The furthest a device of any other member holds ("delivered"), at least `peerReadSeq`; 0
   * while either side has receipts off.
   */
  readonly peerDeliveredSeq: number;
  /** Other members typing now. */
  readonly typing: readonly string[];
  /** Whether older messages than the first held may exist (`loadOlder`). */
  readonly hasOlder: boolean;
  readonly historyLoaded: boolean;
}

export type ChatChange =
  | { kind: 'connection' }
  | { kind: 'list' }
  | { kind: 'conversation'; conversationId: string }
  | { kind: 'presence'; userId: string };

export interface ChatClientEvents {
  /** Any change of state a UI shows: re-read what it concerns. */
  change: ChatChange;
  connection: ConnectionStatus;
  /** A message this device shows for the first time. */
  message: { conversationId: string; message: MessageDto; source: MessageSource };
  /** A message shown before changed (edited, deleted, reacted to). */
  'message:updated': { conversationId: string; message: MessageDto; source: MessageSource };
  /** Someone (this user on another device too) put a reaction on or took it off. */
  reaction: {
    conversationId: string;
    messageId: string;
    userId: string;
    emoji: string;
    on: boolean;
  };
  /** This user was mentioned in a group message: a notification, a badge. */
  mention: { conversationId: string; messageId: string; seq: number; senderId: string };
  /**
   * A message passed to `send()` was stored by the server: acked, or seen stored (sync, live,
   * history) before any ack came. Once per message. `duplicate`: not stored by this answer
   * (a retry of one stored before, or seen stored without an ack).
   */
  sent: { entry: OutboxEntry; message: MessageDto; duplicate: boolean };
  /** An outbox entry changed state (queued, sending, failed) or left the outbox. */
  outbox: { entry: OutboxEntry; removed: boolean };
  /**
   * The server's store was restored or reset (its epoch changed): every conversation reloads
   * from the store, and its view replaces what was shown (messages the store no longer holds go).
   */
  restart: { epoch: string };
  /** The user is no longer a member (or the conversation is gone, e.g. a dev server restart). */
  'conversation:removed': { conversationId: string; error: ChatError };
  read: ReadEvent;
  /** Another member's device (or this user's) acknowledged holding a conversation up to a seq. */
  delivered: DeliveredEvent;
  /** This user's settings, as loaded or changed (here or on another device). */
  settings: SettingsDto;
  /** This user organised a conversation (here or on another device). */
  organised: OrganisedDto;
  typing: { conversationId: string; userIds: readonly string[] };
  presence: PresenceDto;
  /** Something went wrong that the client handles by itself; for logs and notices. */
  error: ChatError;
  /**
   * Every event the server sent, before the client looks at it: for test assertions and
   * latency measurement (`receivedAt` is taken first, so client-side work is not counted).
   */
  event: { name: string; payload: unknown; receivedAt: number };
}

/** What the client keeps per conversation (the view is built from it on demand). */
export interface Conversation {
  readonly id: string;
  dto: ConversationDto | undefined;
  /** Replaced, with the cursor, when the store's epoch changes (a restore): see `restart`. */
  timeline: Timeline;
  cursor: VersionCursor;
  /**
   * After an epoch change, until the conversation's sync from the start is complete: what was
   * shown before (id to version), so a message shown then is not announced again.
   */
  shownBefore: Map<string, number> | undefined;
  lastSeq: number;
  lastActivityAt: string;
  lastReadSeq: number;
  /** A read position asked for and not acknowledged yet (shown at once). */
  readWanted: number;
  readInFlight: boolean;
  readonly readBy: Map<string, number>;
  /** Other members' delivered positions, as told (events, sync, the details). */
  readonly deliveredBy: Map<string, number>;
  /** Armed while a gap waits for its grace period. */
  readonly gap: Timer;
  /** Syncs in a row that left a gap open. */
  gapRounds: number;
  historyLoaded: boolean;
  history: Promise<void> | undefined;
  view: ConversationView | undefined;
  /** Version of the details held (title, members, archived): older ones are not taken. */
  metaVersion: number;
  /** This user's own organisation, as last told (details, sync, live); moves no version. */
  organisation: OrganisationDto;
}

/** The view of one conversation: what a UI draws, as one immutable object. */
export function buildView(
  c: Conversation,
  userId: string,
  pending: readonly OutboxEntry[],
  typing: readonly string[],
  /** This user's receipts setting: off, nobody else's positions are shown. */
  receipts = true,
): ConversationView {
  const dto = c.dto;
  const newest = c.timeline.newest;
  const preview = dto?.lastMessage;
  const lastMessage =
    newest && (!preview || newest.seq >= preview.seq)
      ? {
          id: newest.id,
          seq: newest.seq,
          senderId: newest.senderId,
          body: newest.body,
          createdAt: newest.createdAt,
        }
      : preview;
  const read = Math.max(c.lastReadSeq, c.readWanted);
  const shown = (seq: number) => (receipts ? seq : 0);
  const members = (dto?.members ?? []).map((m) => {
    if (m.userId === userId)
      return { userId, role: m.role, lastReadSeq: read, lastDeliveredSeq: read };
    if (m.receipts === false)
      return { userId: m.userId, role: m.role, lastReadSeq: 0, lastDeliveredSeq: 0 };
    const peerRead = shown(Math.max(m.lastReadSeq ?? 0, c.readBy.get(m.userId) ?? 0));
    const peerDelivered = shown(
      Math.max(m.lastDeliveredSeq ?? 0, c.deliveredBy.get(m.userId) ?? 0),
    );
    return {
      userId: m.userId,
      role: m.role,
      lastReadSeq: peerRead,
      lastDeliveredSeq: Math.max(peerRead, peerDelivered),
    };
  });
  const hiding = new Set(dto?.members.filter((m) => m.receipts === false).map((m) => m.userId));
  let peerReadSeq = 0;
  for (const [id, seq] of c.readBy)
    if (seq > peerReadSeq && !hiding.has(id)) peerReadSeq = shown(seq);
  let peerDeliveredSeq = peerReadSeq;
  for (const [id, seq] of c.deliveredBy)
    if (seq > peerDeliveredSeq && !hiding.has(id)) peerDeliveredSeq = shown(seq);
  return {
    id: c.id,
    kind: dto?.kind,
    title: dto?.title,
    jobId: dto?.jobId,
    applicationId: dto?.applicationId,
    members,
    request: dto?.request,
    blocked: dto?.blocked ?? false,
    archived: dto?.archived ?? false,
    organisation: c.organisation,
    messages: c.timeline.messages,
    pending,
    lastMessage,
    lastActivityAt: c.lastActivityAt,
    lastSeq: c.lastSeq,
    lastReadSeq: read,
    unreadCount: Math.max(0, c.lastSeq - read),
    mentionCount: mentionCountOf(c, userId, read),
    peerReadSeq,
    peerDeliveredSeq,
    typing,
    hasOlder: !c.timeline.complete,
    historyLoaded: c.historyLoaded,
  };
}

/**
 * Unread mentions of `userId`: those among the messages held, or the server's count while the
 * read position is still the one it was counted at (the messages may not all be held).
 */
function mentionCountOf(c: Conversation, userId: string, read: number): number {
  let held = 0;
  for (const m of c.timeline.messages)
    if (m.seq > read && m.mentions?.includes(userId) && !m.deletedAt) held++;
  const server = c.dto && read <= c.dto.lastReadSeq ? (c.dto.mentionCount ?? 0) : 0;
  return Math.max(held, server);
}
