import { z } from 'zod';
import { idSchema, messageBodySchema } from './schemas.js';
import { type UserRole } from './entities.js';

// Scheduled and follow-up sends (issue 27): a message a person writes now that goes later, from
// a durable queue with leases like the webhook outbox, through the ordinary send at the time it
// goes (the send decision, and whatever policy the send path applies, then, not when written).

export const SCHEDULE_LIMITS = {
  /** Sends one person may have waiting at once (atomic across instances). */
  maxPendingPerSender: 50,
  /** How far ahead a send may be scheduled. */
  maxAheadMs: 90 * 24 * 3_600_000,
  /** The earliest: a little ahead, so "now" is a send, not a schedule. */
  minAheadMs: 5_000,
  /** A finished one (sent, skipped, refused, cancelled) stays listed this long. */
  keepFinishedMs: 7 * 24 * 3_600_000,
  /** The sender's list. */
  maxListed: 100,
  /** A follow-up reads at most this many messages after its anchor to see an answer. */
  followUpScan: 100,
} as const;

/**
 * pending: waiting (or being sent: `attempts > 0`, then no longer editable); sent: stored as
 * `messageId`; skipped: a follow-up the other side answered first; refused: the send decision
 * said no when it was time (`outcome` names the code); cancelled by the sender.
 */
export type ScheduledState = 'pending' | 'sent' | 'skipped' | 'refused' | 'cancelled';

export interface ScheduledSend {
  id: string;
  senderId: string;
  /** The sender's role when written (the send goes as this principal). */
  senderRole: UserRole;
  /** The sender's company when written (the send goes, and is counted, as acting for it). */
  senderCompanyId?: string;
  conversationId: string;
  body: string;
  sendAt: Date;
  /**
   * A follow-up goes only if no other member sent a message after seq `afterSeq` (the newest
   * when it was written) by `sendAt`.
   */
  followUp?: { afterSeq: number };
  state: ScheduledState;
  /** Claims so far; the first one closes editing (the send may be on its way). */
  attempts: number;
  /** When it may be claimed: `sendAt`, a retry's time, or a lease's end. */
  dueAt: Date;
  lease?: string;
  createdAt: Date;
  messageId?: string;
  /** Why it was refused or skipped (an error code, or `answered`). */
  outcome?: string;
  /** A finished one is forgotten then. */
  expireAt?: Date;
}

export type NewScheduledSend = Pick<
  ScheduledSend,
  | 'senderId'
  | 'senderRole'
  | 'senderCompanyId'
  | 'conversationId'
  | 'body'
  | 'sendAt'
  | 'followUp'
  | 'createdAt'
>;

export type ScheduledFinish =
  { state: 'sent'; messageId: string } | { state: 'skipped' | 'refused'; outcome: string };

/**
 * Scheduled sends of every instance. Exactly once comes from two halves: a claim leases one
 * entry to one worker (a dead worker's lease ends and another claims it again), and the send
 * uses the entry's id as its clientMessageId, so a second attempt after a lost one finds the
 * stored message instead of storing another.
 */
export interface ScheduledSendStore {
  /** Stores it, unless the sender has `maxPending` waiting already (false; atomic). */
  create(entry: NewScheduledSend, maxPending: number): Promise<ScheduledSend | null>;
  get(id: string): Promise<ScheduledSend | null>;
  /** The sender's, pending first by sendAt, then finished ones not expired at `now`, newest first. */
  listForSender(senderId: string, limit: number, now: Date): Promise<ScheduledSend[]>;
  /**
   * Changes body or time of one of the sender's while no attempt was made; cancels it the
   * same way. Null when it is not the sender's, not pending, or already being sent.
   */
  edit(
    id: string,
    senderId: string,
    change: { body?: string; sendAt?: Date } | { cancel: true; at: Date; expireAt: Date },
  ): Promise<ScheduledSend | null>;
  /** Leases the pending entry due first (dueAt <= now) until now + leaseMs; counts an attempt. */
  claim(now: Date, leaseMs: number, lease: string): Promise<ScheduledSend | null>;
  /** Finishes it (ignored unless `lease` still holds it); kept until `expireAt`. */
  finish(id: string, lease: string, result: ScheduledFinish, expireAt: Date): Promise<boolean>;
  /** Due again at `dueAt` (ignored unless `lease` still holds it). */
  retry(id: string, lease: string, dueAt: Date, error: string): Promise<void>;
}

export const scheduleMessageSchema = z
  .strictObject({
    conversationId: idSchema,
    body: messageBodySchema,
    sendAt: z.iso.datetime().meta({ description: 'When it goes (UTC).' }),
    followUp: z.boolean().default(false).meta({
      description: 'Goes only if no other member has written by then (a follow-up).',
    }),
  })
  .meta({ id: 'ScheduleMessage' });
export type ScheduleMessageInput = z.infer<typeof scheduleMessageSchema>;

export const scheduledPatchSchema = z
  .strictObject({ body: messageBodySchema.optional(), sendAt: z.iso.datetime().optional() })
  .refine((v) => v.body !== undefined || v.sendAt !== undefined, 'body or sendAt')
  .meta({ id: 'ScheduledPatch', minProperties: 1 });
export type ScheduledPatch = z.infer<typeof scheduledPatchSchema>;

const timestamp = z.iso.datetime();
export const scheduledSendDtoSchema = z
  .object({
    id: z.string(),
    conversationId: z.string(),
    body: z.string(),
    sendAt: timestamp,
    followUp: z.boolean(),
    state: z.enum(['pending', 'sent', 'skipped', 'refused', 'cancelled']),
    editable: z.boolean().meta({ description: 'False once it is on its way.' }),
    messageId: z.string().optional(),
    outcome: z.string().optional().meta({ description: 'Why refused or skipped.' }),
    createdAt: timestamp,
  })
  .meta({ id: 'ScheduledSend' });
export type ScheduledSendDto = z.output<typeof scheduledSendDtoSchema>;

export const scheduledListSchema = z
  .object({ scheduled: z.array(scheduledSendDtoSchema) })
  .meta({ id: 'ScheduledList' });

export function toScheduledDto(s: ScheduledSend): ScheduledSendDto {
  return {
    id: s.id,
    conversationId: s.conversationId,
    body: s.body,
    sendAt: s.sendAt.toISOString(),
    followUp: s.followUp !== undefined,
    state: s.state,
    editable: s.state === 'pending' && s.attempts === 0,
    ...(s.messageId && { messageId: s.messageId }),
    ...(s.outcome && { outcome: s.outcome }),
    createdAt: s.createdAt.toISOString(),
  };
}

/** The send's clientMessageId: every attempt of one entry is the same send. */
export const scheduledClientMessageId = (id: string) => `sched_${id}`;
