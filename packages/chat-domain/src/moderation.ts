import { z } from 'zod';
import { idSchema } from './schemas.js';
import { LIMITS } from './rules.js';

// Moderation that acts (issue 25 item 3): bans, shadow-bans, slow mode, the moderation list of
// flags (reports, the content policy's, the pre-send hook's) and the audit of every action.

/** Where a flag for moderators comes from. */
export const MODERATION_FLAG_SOURCES = ['report', 'policy', 'hook'] as const;
export type ModerationFlagSource = (typeof MODERATION_FLAG_SOURCES)[number];

/**
 * Something moderators should look at, as the content policy, the pre-send hook or a report
 * raises it: the shared shape every source fills (issue 25 items 1-3).
 */
export interface ModerationFlag {
  source: ModerationFlagSource;
  /** A short stable code (`scam.fee`, `hook.flag`, `spam`...) or the hook's reason text. */
  reason: string;
  at: Date;
}

/** A flag's place in the moderators' work: open until someone looks at it. */
export type ModerationFlagState = 'open' | 'dismissed' | 'actioned';

/** A flag as the moderation list keeps it: what it is about and where it stands. */
export interface ModerationFlagRecord extends ModerationFlag {
  /** Deterministic per source and subject (`policy:<messageId>`): raising it twice keeps one. */
  id: string;
  state: ModerationFlagState;
  /** Whom it is about (the message's sender). */
  userId: string;
  conversationId: string;
  messageId?: string;
  /** More about it, bounded (`MODERATION_LIMITS.maxDetailLength`): what the hook or policy saw. */
  detail?: string;
}

export type NewModerationFlag = Omit<ModerationFlagRecord, 'state'>;

/** What a moderator did to a person: the state it leaves them in. */
export type RestrictionKind = 'banned' | 'shadow-banned';

/** A person's standing restriction (none: no record). */
export interface UserRestriction {
  userId: string;
  kind: RestrictionKind;
  reason: string;
  by: string;
  at: Date;
}

/** Every moderator action, kept for good: who, when, what, why. */
export const AUDIT_ACTIONS = [
  'user.banned',
  'user.unbanned',
  'user.shadow-banned',
  'user.shadow-unbanned',
  'conversation.slow-mode',
  'report.resolved',
  'message.deleted',
  'flag.resolved',
] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

export interface AuditEntry {
  id: string;
  /** The admin's user id, or `service:<name>` for the platform. */
  actor: string;
  action: AuditAction;
  at: Date;
  reason?: string;
  /** The person it concerns, when it concerns one (what a data export of theirs includes). */
  subjectUserId?: string;
  conversationId?: string;
  messageId?: string;
  reportId?: string;
  /** Slow mode's new interval, in seconds (0: off). */
  slowModeSeconds?: number;
}

export type NewAuditEntry = Omit<AuditEntry, 'id'>;

export const MODERATION_LIMITS = {
  maxReasonLength: 500,
  maxDetailLength: 1_000,
  /** Slow mode: at most one message per member every this many seconds (1 h). */
  maxSlowModeSeconds: 3_600,
  /** Audit entries about one person in their data export. */
  exportAuditEntries: 1_000,
} as const;

/**
 * What moderation keeps. Every list is newest first, paged by an opaque cursor, each page
 * capped by its `limit`; no call's cost depends on how much is stored.
 */
export interface ModerationStore {
  /** Sets (or with null lifts) a person's restriction; the previous one, if any. */
  restrict(userId: string, restriction: UserRestriction | null): Promise<UserRestriction | null>;
  restriction(userId: string): Promise<UserRestriction | null>;
  /** Raises a flag; one with the same id already there is left as it is (a retried step). */
  flag(flag: NewModerationFlag): Promise<ModerationFlagRecord>;
  /**
   * Moves a flag to `state` (open -> dismissed | actioned, dismissed -> actioned; actioned is
   * final); null when it is not there or cannot move there.
   */
  resolveFlag(
    id: string,
    state: Exclude<ModerationFlagState, 'open'>,
  ): Promise<ModerationFlagRecord | null>;
  listFlags(query: ModerationFlagQuery): Promise<{
    flags: ModerationFlagRecord[];
    nextCursor?: string;
  }>;
  /** Sets a conversation's slow mode (0: off). */
  setSlowMode(conversationId: string, seconds: number): Promise<void>;
  /** The conversation's slow mode in seconds, 0 when off. */
  slowMode(conversationId: string): Promise<number>;
  audit(entry: NewAuditEntry): Promise<AuditEntry>;
  auditLog(query: AuditQuery): Promise<{ entries: AuditEntry[]; nextCursor?: string }>;
}

export interface ModerationFlagQuery {
  source?: ModerationFlagSource;
  state?: ModerationFlagState;
  userId?: string;
  conversationId?: string;
  limit: number;
  cursor?: string;
}

export interface AuditQuery {
  subjectUserId?: string;
  actor?: string;
  limit: number;
  cursor?: string;
}

/**
 * The fast, shared view of moderation on the send path (Redis across instances, memory on the
 * embedded default): a person's restriction, and slow mode's per-member slot, taken atomically.
 */
export interface ModerationGate {
  restriction(userId: string): Promise<UserRestriction | null>;
  /** After the store changed: every instance sees the new restriction from now on. */
  restrictionChanged(userId: string, restriction: UserRestriction | null): Promise<void>;
  /**
   * Takes `userId`'s slot in a conversation under slow mode: 0 when the send may go, else the
   * ms until it may. A retry of the send holding the slot (same `sendKey`) passes again.
   */
  takeSlot(conversationId: string, userId: string, sendKey: string): Promise<number>;
  /** Gives back a slot a refused send took (only while `sendKey` holds it). */
  releaseSlot(conversationId: string, userId: string, sendKey: string): Promise<void>;
  slowModeChanged(conversationId: string, seconds: number): Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// Inputs and answers

const reasonSchema = z
  .string()
  .trim()
  .min(1)
  .max(MODERATION_LIMITS.maxReasonLength)
  .meta({ description: 'Why: recorded in the audit log (and shown to the person when banned).' });

export const restrictUserSchema = z
  .strictObject({ reason: reasonSchema })
  .meta({ id: 'RestrictUser' });

export const liftRestrictionSchema = z
  .strictObject({ reason: reasonSchema.optional() })
  .meta({ id: 'LiftRestriction' });

export const slowModeSchema = z
  .strictObject({
    seconds: z.int().min(0).max(MODERATION_LIMITS.maxSlowModeSeconds).meta({
      description: 'At most one message per member every this many seconds; 0 turns it off.',
    }),
    reason: reasonSchema.optional(),
  })
  .meta({ id: 'SlowMode' });

const pageSize = z.coerce
  .number()
  .int()
  .min(1)
  .max(LIMITS.maxPageSize)
  .default(LIMITS.defaultPageSize);

export const moderationListQuerySchema = z.strictObject({
  source: z.enum(MODERATION_FLAG_SOURCES).optional(),
  state: z.enum(['open', 'dismissed', 'actioned']).optional(),
  userId: idSchema.optional(),
  conversationId: idSchema.optional(),
  cursor: z.string().max(200).optional(),
  limit: pageSize,
});

export const auditQuerySchema = z.strictObject({
  userId: idSchema.optional(),
  actor: z.string().min(1).max(80).optional(),
  cursor: z.string().max(200).optional(),
  limit: pageSize,
});

export const moderationFlagDtoSchema = z
  .object({
    id: z.string(),
    source: z.enum(MODERATION_FLAG_SOURCES),
    reason: z.string(),
    state: z.enum(['open', 'dismissed', 'actioned']),
    userId: z.string(),
    conversationId: z.string(),
    messageId: z.string().optional(),
    detail: z.string().optional(),
    at: z.iso.datetime(),
  })
  .meta({ id: 'ModerationFlag' });

export const moderationListSchema = z
  .object({ flags: z.array(moderationFlagDtoSchema), nextCursor: z.string().optional() })
  .meta({ id: 'ModerationList' });

export const restrictionDtoSchema = z
  .object({
    userId: z.string(),
    kind: z.enum(['banned', 'shadow-banned']).nullable().meta({ description: 'null: none.' }),
    reason: z.string().optional(),
    by: z.string().optional(),
    at: z.iso.datetime().optional(),
  })
  .meta({ id: 'UserRestriction' });

export const slowModeDtoSchema = z
  .object({ conversationId: z.string(), slowModeSeconds: z.int().min(0) })
  .meta({ id: 'SlowModeState' });

export const auditEntryDtoSchema = z
  .object({
    id: z.string(),
    actor: z.string(),
    action: z.enum(AUDIT_ACTIONS),
    at: z.iso.datetime(),
    reason: z.string().optional(),
    subjectUserId: z.string().optional(),
    conversationId: z.string().optional(),
    messageId: z.string().optional(),
    reportId: z.string().optional(),
    slowModeSeconds: z.int().optional(),
  })
  .meta({ id: 'AuditEntry' });

export const auditLogSchema = z
  .object({ entries: z.array(auditEntryDtoSchema), nextCursor: z.string().optional() })
  .meta({ id: 'AuditLog' });

export type RestrictUserInput = z.infer<typeof restrictUserSchema>;
export type LiftRestrictionInput = z.infer<typeof liftRestrictionSchema>;
export type SlowModeInput = z.infer<typeof slowModeSchema>;
export type ModerationListQuery = z.infer<typeof moderationListQuerySchema>;
export type AuditLogQuery = z.infer<typeof auditQuerySchema>;
export type ModerationFlagDto = z.output<typeof moderationFlagDtoSchema>;
export type ModerationList = z.output<typeof moderationListSchema>;
export type RestrictionDto = z.output<typeof restrictionDtoSchema>;
export type SlowModeDto = z.output<typeof slowModeDtoSchema>;
export type AuditEntryDto = z.output<typeof auditEntryDtoSchema>;
export type AuditLog = z.output<typeof auditLogSchema>;

/** Told to every device of a person when a moderator bans them, before they are disconnected. */
export interface BannedEvent {
  reason: string;
  at: string;
}

/** A conversation's slow mode changed: what its members' composers show. */
export interface SlowModeEvent {
  conversationId: string;
  slowModeSeconds: number;
}

export function toModerationFlagDto(f: ModerationFlagRecord): ModerationFlagDto {
  return {
    id: f.id,
    source: f.source,
    reason: f.reason,
    state: f.state,
    userId: f.userId,
    conversationId: f.conversationId,
    ...(f.messageId !== undefined && { messageId: f.messageId }),
    ...(f.detail !== undefined && { detail: f.detail }),
    at: f.at.toISOString(),
  };
}

export function toAuditEntryDto(e: AuditEntry): AuditEntryDto {
  return {
    id: e.id,
    actor: e.actor,
    action: e.action,
    at: e.at.toISOString(),
    ...(e.reason !== undefined && { reason: e.reason }),
    ...(e.subjectUserId !== undefined && { subjectUserId: e.subjectUserId }),
    ...(e.conversationId !== undefined && { conversationId: e.conversationId }),
    ...(e.messageId !== undefined && { messageId: e.messageId }),
    ...(e.reportId !== undefined && { reportId: e.reportId }),
    ...(e.slowModeSeconds !== undefined && { slowModeSeconds: e.slowModeSeconds }),
  };
}

/** The flag id of a source about one message: raising it again keeps one. */
export function flagId(source: ModerationFlagSource, messageId: string): string {
  return `${source}:${messageId}`;
}
