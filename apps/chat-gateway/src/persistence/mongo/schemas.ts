import { Schema, type Types } from 'mongoose';

// Collections and indexes. Queries stay within what Amazon DocumentDB supports:
// no $facet, no collation, no multi-condition $lookup, no partial-index filters.

export interface MemberDoc {
  userId: string;
  role: 'owner' | 'member';
  joinedAt: Date;
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
  createdBy: string;
  createdAt: Date;
  lastSeq: number;
  lastMessage?: { id: string; seq: number; senderId: string; body: string; createdAt: Date };
  lastActivityAt: Date;
  directKey?: string;
}

export interface MessageDoc {
  _id: Types.ObjectId;
  conversationId: string;
  seq: number;
  senderId: string;
  clientMessageId: string;
  body: string;
  createdAt: Date;
}

export interface ReadStateDoc {
  conversationId: string;
  userId: string;
  lastReadSeq: number;
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
    createdBy: { type: String, required: true },
    createdAt: { type: Date, required: true },
    lastSeq: { type: Number, required: true, default: 0 },
    lastMessage: {
      type: new Schema(
        { id: String, seq: Number, senderId: String, body: String, createdAt: Date },
        { _id: false },
      ),
      required: false,
    },
    lastActivityAt: { type: Date, required: true },
    directKey: { type: String },
  },
  { collection: 'conversations', versionKey: false, autoIndex: false },
);
conversationSchema.index({ memberIds: 1, lastActivityAt: -1, _id: -1 });
conversationSchema.index({ directKey: 1 }, { unique: true, sparse: true });

export const messageSchema = new Schema<MessageDoc>(
  {
    conversationId: { type: String, required: true },
    seq: { type: Number, required: true },
    senderId: { type: String, required: true },
    clientMessageId: { type: String, required: true },
    body: { type: String, required: true },
    createdAt: { type: Date, required: true },
  },
  { collection: 'messages', versionKey: false, autoIndex: false },
);
messageSchema.index({ conversationId: 1, seq: 1 }, { unique: true });
messageSchema.index({ conversationId: 1, senderId: 1, clientMessageId: 1 }, { unique: true });

export const readStateSchema = new Schema<ReadStateDoc>(
  {
    conversationId: { type: String, required: true },
    userId: { type: String, required: true },
    lastReadSeq: { type: Number, required: true, default: 0 },
  },
  { collection: 'read_states', versionKey: false, autoIndex: false },
);
readStateSchema.index({ userId: 1, conversationId: 1 }, { unique: true });
// Everyone's position in a conversation ("seen" per member).
readStateSchema.index({ conversationId: 1 });
