import type { AuditEntry, ModerationFlagRecord, UserRestriction } from '@jobsphere/chat-domain';
import { Schema, type Connection, type mongo, type Types } from 'mongoose';

// Moderation's collections (issue 25): restrictions per person, slow mode per conversation,
// the flags of the moderation list, and the audit log.

export interface RestrictionDoc extends Omit<UserRestriction, 'userId'> {
  _id: string;
}

export interface SlowModeDoc {
  _id: string;
  seconds: number;
}

export interface FlagDoc extends Omit<ModerationFlagRecord, 'id'> {
  _id: string;
}

export interface AuditDoc extends Omit<AuditEntry, 'id'> {
  _id: Types.ObjectId;
}

const restrictionSchema = new Schema<RestrictionDoc>(
  {
    _id: { type: String, required: true },
    kind: { type: String, required: true },
    reason: { type: String, required: true },
    by: { type: String, required: true },
    at: { type: Date, required: true },
  },
  { collection: 'restrictions', versionKey: false, autoIndex: false },
);

const slowModeSchema = new Schema<SlowModeDoc>(
  { _id: { type: String, required: true }, seconds: { type: Number, required: true } },
  { collection: 'slow_modes', versionKey: false, autoIndex: false },
);

const flagSchema = new Schema<FlagDoc>(
  {
    _id: { type: String, required: true },
    source: { type: String, required: true },
    reason: { type: String, required: true },
    state: { type: String, required: true },
    userId: { type: String, required: true },
    conversationId: { type: String, required: true },
    messageId: String,
    detail: String,
    at: { type: Date, required: true },
  },
  { collection: 'moderation_flags', versionKey: false, autoIndex: false },
);
// The moderation list, newest first: all, or by one of its filters (others narrow the page).
flagSchema.index({ at: -1, _id: -1 });
flagSchema.index({ source: 1, at: -1, _id: -1 });
flagSchema.index({ state: 1, at: -1, _id: -1 });
flagSchema.index({ userId: 1, at: -1, _id: -1 });
flagSchema.index({ conversationId: 1, at: -1, _id: -1 });

const auditSchema = new Schema<AuditDoc>(
  {
    actor: { type: String, required: true },
    action: { type: String, required: true },
    at: { type: Date, required: true },
    reason: String,
    subjectUserId: String,
    conversationId: String,
    messageId: String,
    reportId: String,
    slowModeSeconds: Number,
  },
  { collection: 'audit_log', versionKey: false, autoIndex: false },
);
auditSchema.index({ at: -1, _id: -1 });
auditSchema.index({ subjectUserId: 1, at: -1, _id: -1 });
auditSchema.index({ actor: 1, at: -1, _id: -1 });

/** Typed by their string ids through the driver's collections (the models' expect ObjectIds). */
export function moderationModels(connection: Connection) {
  const model = <D extends mongo.Document>(name: string, schema: Schema<D>) =>
    connection.model(name, schema) as unknown as { collection: mongo.Collection<D> };
  return {
    restrictions: model('Restriction', restrictionSchema),
    slowModes: model('SlowMode', slowModeSchema),
    flags: model('ModerationFlag', flagSchema),
    audit: model('AuditEntry', auditSchema),
  };
}
