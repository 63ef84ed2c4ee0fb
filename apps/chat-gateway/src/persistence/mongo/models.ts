import type {
  ActionCard,
  ErasureRecord,
  MessagePreview,
  MessageSafety,
  OutboxEntry,
  ReportStatus,
  RequestRecord,
} from '@jobsphere/chat-domain';
import { searchWords } from '@jobsphere/chat-domain';
import { Schema, type Connection, type mongo, type Types } from 'mongoose';
import { moderationModels } from './moderation.models.js';

// Collections and indexes. Queries stay within what Amazon DocumentDB supports:
// no $facet, no collation, no arrayFilters, no pipeline updates, no partial-index filters.

export interface MemberDoc {
  userId: string;
  role: 'owner' | 'member';
  joinedAt: Date;
}

/**
 * One per version handed out, pushed in the same update that takes the version, newest last
 * (version-allocator.ts is the only writer): the n-th entry from the end holds version
 * `version - n` (and, counting message entries, seq `lastSeq - m`). That is how a retry finds
 * the position its first attempt was given.
 */
export interface ReservationDoc {
  /** A hash of what took it (`<senderId>|<clientMessageId>` for a send): short, so the list stays small. */
  k: string;
  /** 1 when the change took a seq too (a new message). */
  m: 1 | 0;
}

export interface InvitationDoc {
  from: string;
  state: 'pending' | 'declined';
}

/** The domain's preview, as stored. */
export interface PreviewDoc extends MessagePreview {
  /** The version of the message's last revision shown here: an older one never overwrites it. */
  rv?: number;
}

export interface ConversationDoc {
  _id: Types.ObjectId;
  kind: 'direct' | 'group';
  title?: string;
  jobId?: string;
  applicationId?: string;
  members: MemberDoc[];
  /** Denormalized for the multikey index that lists a user's conversations. */
  memberIds: string[];
  /** Read positions by member (`readKey(userId)`): one document answers "seen" for everyone. */
  reads?: Record<string, number>;
  /** Delivered positions by member (`readKey(userId)`), apart from reads (read implies it). */
  delivered?: Record<string, number>;
  /** Seqs of the latest messages that mentioned a member (`readKey(userId)`), capped, oldest first. */
  mentioned?: Record<string, number[]>;
  /** Each member's own organisation (`readKey(userId)`): mute, pin, archive, marked unread. */
  organised?: Record<string, OrganisationDoc>;
  createdBy: string;
  createdAt: Date;
  /** The last seq handed out: the allocator, never shown as such. */
  lastSeq: number;
  version: number;
  lastMessage?: PreviewDoc;
  lastActivityAt: Date;
  directKey?: string;
  /**
   * The domain's one shape (`RequestRecord`). Absent on conversations stored before requests
   * existed (a send then leaves only `left` there), and without `allowance` before it was
   * kept: read as none, and as 0.
   */
  request?: Partial<Pick<RequestRecord, 'state' | 'allowance'>> &
    Omit<RequestRecord, 'state' | 'allowance'>;
  /** Open invitations by member (`readKey(userId)`): who invited them, and whether declined. */
  invitations?: Record<string, InvitationDoc>;
  /** Members whose invitation is pending, and those who declined it (for filters and guards). */
  invited?: string[];
  declinedInvites?: string[];
  blocked?: boolean;
  /** The most recent reservations, newest last (capped, see ReservationDoc). */
  reservations?: ReservationDoc[];
  archived?: boolean;
  metaVersion?: number;
  metaChangedAt?: Date;
}

export interface MessageDoc {
  _id: Types.ObjectId;
  conversationId: string;
  seq: number;
  version: number;
  senderId: string;
  clientMessageId: string;
  kind?: 'user' | 'system';
  body: string;
  attachments?: { id: string; fileName: string; contentType: string; size: number }[];
  createdAt: Date;
  editedAt?: Date;
  deletedAt?: Date;
  deletedBy?: string;
  replyTo?: string;
  mentions?: string[];
  reactions?: { emoji: string; userId: string }[];
  /** The content policy's and the pre-send hook's decision (MessageSafety), as stored. */
  safety?: MessageSafety;
  /** An action message's card (dates as BSON dates), answers pushed by `revise`. */
  action?: ActionCard;
  /** Sent or edited while the sender was shadow-banned: theirs alone. */
  shadow?: boolean;
  /** `searchKey`s of the body's words (user messages while not deleted): what search finds. */
  searchKeys?: string[];
}

export interface OrganisationDoc {
  muted?: boolean;
  pinnedAt?: Date;
  archivedSeq?: number;
  markedUnread?: boolean;
}

/** A person's own settings, keyed by user id (no document: the defaults). */
export interface PreferenceDoc {
  _id: string;
  receiptsHidden?: boolean;
  updatedAt: Date;
}

export interface ContactDoc {
  userId: string;
  contactId: string;
  since: Date;
}

/** User ids may contain dots, which field paths cannot: `.` becomes `%2E` (ids never hold `%`). */
export function readKey(userId: string): string {
  return userId.replaceAll('.', '%2E');
}

const conversationSchema = new Schema<ConversationDoc>(
  {
    kind: { type: String, enum: ['direct', 'group'], required: true },
    title: String,
    jobId: String,
    applicationId: String,
    members: [
      new Schema<MemberDoc>(
        {
          userId: { type: String, required: true },
          role: { type: String, required: true },
          joinedAt: { type: Date, required: true },
        },
        { _id: false },
      ),
    ],
    memberIds: { type: [String], required: true },
    reads: { type: Schema.Types.Mixed },
    delivered: { type: Schema.Types.Mixed },
    mentioned: { type: Schema.Types.Mixed },
    organised: { type: Schema.Types.Mixed },
    createdBy: { type: String, required: true },
    createdAt: { type: Date, required: true },
    lastSeq: { type: Number, required: true, default: 0 },
    version: { type: Number, required: true, default: 0 },
    lastMessage: {
      type: new Schema(
        {
          id: String,
          seq: Number,
          senderId: String,
          body: String,
          createdAt: Date,
          deleted: Boolean,
          rv: Number,
        },
        { _id: false },
      ),
      required: false,
    },
    lastActivityAt: { type: Date, required: true },
    directKey: { type: String },
    request: { type: Schema.Types.Mixed },
    invitations: { type: Schema.Types.Mixed },
    invited: { type: [String], default: undefined },
    declinedInvites: { type: [String], default: undefined },
    blocked: { type: Boolean },
    reservations: { type: Schema.Types.Mixed },
    archived: { type: Boolean },
    metaVersion: { type: Number },
    metaChangedAt: { type: Date },
  },
  { collection: 'conversations', versionKey: false, autoIndex: false },
);
conversationSchema.index({ memberIds: 1, lastActivityAt: -1, _id: -1 });
conversationSchema.index({ directKey: 1 }, { unique: true, sparse: true });
// The requests a user received, most recent first.
conversationSchema.index({ 'request.to': 1, lastActivityAt: -1, _id: -1 });
// The group invitations a user has not answered, most recent first.
conversationSchema.index({ invited: 1, lastActivityAt: -1, _id: -1 });

const messageSchema = new Schema<MessageDoc>(
  {
    conversationId: { type: String, required: true },
    seq: { type: Number, required: true },
    version: { type: Number, required: true },
    senderId: { type: String, required: true },
    clientMessageId: { type: String, required: true },
    kind: { type: String, enum: ['user', 'system'] },
    body: { type: String, default: '' },
    attachments: { type: Schema.Types.Mixed },
    createdAt: { type: Date, required: true },
    editedAt: Date,
    deletedAt: Date,
    deletedBy: String,
    safety: { type: Schema.Types.Mixed },
    replyTo: String,
    mentions: { type: [String], default: undefined },
    reactions: { type: Schema.Types.Mixed },
    action: { type: Schema.Types.Mixed },
    shadow: Boolean,
    searchKeys: { type: [String], default: undefined },
  },
  { collection: 'messages', versionKey: false, autoIndex: false },
);
messageSchema.index({ conversationId: 1, seq: 1 }, { unique: true });
messageSchema.index({ conversationId: 1, version: 1 }, { unique: true });
messageSchema.index({ conversationId: 1, senderId: 1, clientMessageId: 1 }, { unique: true });
// A person's own messages: erasure and export.
messageSchema.index({ senderId: 1, createdAt: 1 });
// Search: one key per (conversation, word), so a query reads only the searcher's conversations'
// entries of one word, newest first (a multikey index every server supports; no $text).
messageSchema.index({ searchKeys: 1, createdAt: -1, _id: -1 });

const preferenceSchema = new Schema<PreferenceDoc>(
  {
    _id: { type: String, required: true },
    receiptsHidden: { type: Boolean },
    updatedAt: { type: Date, required: true },
  },
  { collection: 'preferences', versionKey: false, autoIndex: false },
);

const contactSchema = new Schema<ContactDoc>(
  {
    userId: { type: String, required: true },
    contactId: { type: String, required: true },
    since: { type: Date, required: true },
  },
  { collection: 'contacts', versionKey: false, autoIndex: false },
);
contactSchema.index({ userId: 1, contactId: 1 }, { unique: true });
// A user's presence audience: the most recent contacts first.
contactSchema.index({ userId: 1, since: -1 });

/** `blocker` blocks `blocked`; looked up either way. */
export interface BlockDoc {
  blocker: string;
  blocked: string;
  since: Date;
}

const blockSchema = new Schema<BlockDoc>(
  {
    blocker: { type: String, required: true },
    blocked: { type: String, required: true },
    since: { type: Date, required: true },
  },
  { collection: 'blocks', versionKey: false, autoIndex: false },
);
blockSchema.index({ blocker: 1, blocked: 1 }, { unique: true });
blockSchema.index({ blocked: 1, blocker: 1 });
blockSchema.index({ blocker: 1, since: -1, blocked: -1 });

export interface ReportDoc {
  _id: Types.ObjectId;
  reporterId: string;
  reportedUserId: string;
  conversationId: string;
  messageId?: string;
  reason: string;
  note?: string;
  snapshot?: { senderId: string; body: string; createdAt: Date };
  createdAt: Date;
  /** 'resolved': written before reports had a state machine (read as dismissed or actioned). */
  status: ReportStatus | 'resolved';
  resolution?: string;
  resolvedBy?: string;
  resolvedAt?: Date;
  history?: { from: ReportStatus; to: ReportStatus; resolution: string; by: string; at: Date }[];
}

const reportSchema = new Schema<ReportDoc>(
  {
    reporterId: { type: String, required: true },
    reportedUserId: { type: String, required: true },
    conversationId: { type: String, required: true },
    messageId: String,
    reason: { type: String, required: true },
    note: String,
    snapshot: { type: Schema.Types.Mixed },
    createdAt: { type: Date, required: true },
    status: { type: String, required: true },
    resolution: String,
    resolvedBy: String,
    resolvedAt: Date,
    history: { type: [Schema.Types.Mixed], default: undefined },
  },
  { collection: 'reports', versionKey: false, autoIndex: false },
);
// The moderation list: newest first, all or by status.
reportSchema.index({ createdAt: -1, _id: -1 });
reportSchema.index({ status: 1, createdAt: -1, _id: -1 });
// The reports about a message a moderator deleted.
reportSchema.index({ messageId: 1, createdAt: 1 });

// The server API's collections: the outbox (webhook events and offline checks) and the
// record of erasures.

export interface OutboxDoc extends Omit<OutboxEntry, 'id'> {
  _id: string;
  /**
   * A check that notified is kept until then, so its id cannot be scheduled again; a dead
   * letter is forgotten then (TTL).
   */
  expireAt?: Date;
}

const outboxSchema = new Schema<OutboxDoc>(
  {
    _id: { type: String, required: true },
    kind: { type: String, required: true },
    endpoint: String,
    payload: { type: String, required: true },
    state: { type: String, required: true },
    attempts: { type: Number, required: true },
    dueAt: { type: Date, required: true },
    createdAt: { type: Date, required: true },
    lastError: String,
    lease: String,
    authors: { type: [String], default: [] },
    subject: String,
    expireAt: Date,
  },
  { collection: 'outbox', versionKey: false, autoIndex: false },
);
// What a deliverer claims: the pending entry due first.
outboxSchema.index({ state: 1, dueAt: 1 });
// Dead letters for admins, newest first.
outboxSchema.index({ state: 1, createdAt: -1, _id: -1 });
outboxSchema.index({ authors: 1 });
// What a deleted message's redaction finds.
outboxSchema.index({ subject: 1 });
outboxSchema.index({ expireAt: 1 }, { expireAfterSeconds: 0 });

const erasureSchema = new Schema<ErasureRecord>(
  {
    userId: { type: String, required: true },
    requestedBy: { type: String, required: true },
    at: { type: Date, required: true },
    messages: { type: Number, required: true },
    conversations: { type: Number, required: true },
  },
  { collection: 'erasures', versionKey: false, autoIndex: false },
);
erasureSchema.index({ userId: 1, at: -1 });

/** Every model of the store, registered once on its connection (`connect` builds their indexes). */
export function defineModels(connection: Connection) {
  return {
    conversations: connection.model('Conversation', conversationSchema),
    messages: connection.model('Message', messageSchema),
    contacts: connection.model('Contact', contactSchema),
    blocks: connection.model('Block', blockSchema),
    reports: connection.model('Report', reportSchema),
    preferences: connection.model('Preference', preferenceSchema),
    // The driver's collection, typed by its string ids (the model's is typed for ObjectIds).
    outbox: connection.model('OutboxEntry', outboxSchema) as unknown as {
      collection: mongo.Collection<OutboxDoc>;
    },
    erasures: connection.model('Erasure', erasureSchema),
    ...moderationModels(connection),
  };
}
export type Models = ReturnType<typeof defineModels>;

/** The index key of one word of a message of one conversation. */
export function searchKey(conversationId: string, word: string): string {
  return `${conversationId} ${word}`;
}

/** The keys a user message's body is found by. */
export function searchKeysOf(conversationId: string, body: string): string[] {
  return searchWords(body).map((w) => searchKey(conversationId, w));
}
