import { Schema, type Types } from 'mongoose';

// Collections and indexes. Queries stay within what Amazon DocumentDB supports:
// no $facet, no collation, no arrayFilters, no pipeline updates, no partial-index filters.

export interface MemberDoc {
  userId: string;
  role: 'owner' | 'member';
  joinedAt: Date;
}

/**
 * One per version handed out, pushed in the same update that takes the version, newest last:
 * the n-th entry from the end holds version `version - n` (and, counting message entries,
 * seq `lastSeq - m`). That is how a retry finds the position its first attempt was given.
 */
export interface ReservationDoc {
  /** A hash of `<senderId>|<clientMessageId>`: short, so the list stays small. */
  k: string;
  /** 1 when the change took a seq too (a new message). */
  m: 1 | 0;
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
  createdBy: string;
  createdAt: Date;
  /** The last seq handed out: the allocator, never shown as such. */
  lastSeq: number;
  version: number;
  lastMessage?: { id: string; seq: number; senderId: string; body: string; createdAt: Date };
  lastActivityAt: Date;
  directKey?: string;
  /** The most recent reservations, newest last (capped, see ReservationDoc). */
  reservations?: ReservationDoc[];
}

export interface MessageDoc {
  _id: Types.ObjectId;
  conversationId: string;
  seq: number;
  version: number;
  senderId: string;
  clientMessageId: string;
  body: string;
  createdAt: Date;
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

export const conversationSchema = new Schema<ConversationDoc>(
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
    createdBy: { type: String, required: true },
    createdAt: { type: Date, required: true },
    lastSeq: { type: Number, required: true, default: 0 },
    version: { type: Number, required: true, default: 0 },
    lastMessage: {
      type: new Schema(
        { id: String, seq: Number, senderId: String, body: String, createdAt: Date },
        { _id: false },
      ),
      required: false,
    },
    lastActivityAt: { type: Date, required: true },
    directKey: { type: String },
    reservations: { type: Schema.Types.Mixed },
  },
  { collection: 'conversations', versionKey: false, autoIndex: false },
);
conversationSchema.index({ memberIds: 1, lastActivityAt: -1, _id: -1 });
conversationSchema.index({ directKey: 1 }, { unique: true, sparse: true });

export const messageSchema = new Schema<MessageDoc>(
  {
    conversationId: { type: String, required: true },
    seq: { type: Number, required: true },
    version: { type: Number, required: true },
    senderId: { type: String, required: true },
    clientMessageId: { type: String, required: true },
    body: { type: String, required: true },
    createdAt: { type: Date, required: true },
  },
  { collection: 'messages', versionKey: false, autoIndex: false },
);
messageSchema.index({ conversationId: 1, seq: 1 }, { unique: true });
messageSchema.index({ conversationId: 1, version: 1 }, { unique: true });
messageSchema.index({ conversationId: 1, senderId: 1, clientMessageId: 1 }, { unique: true });

export const contactSchema = new Schema<ContactDoc>(
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
