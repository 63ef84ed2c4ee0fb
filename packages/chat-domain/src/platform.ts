import { z } from 'zod';
import { type Conversation, type Member, type Message } from './entities.js';
import { conversationDtoSchema, messageDtoSchema } from './responses.js';
import { idSchema, messageBodySchema, titleSchema } from './schemas.js';
import { LIMITS } from './rules.js';
import { auditEntryDtoSchema, restrictionDtoSchema } from './moderation.js';

// The platform's side of the chat: what JobSphere's backend does with a service credential
// (open conversations for an application, post system messages, manage members, erase and
// export a person), and the events it learns of through signed webhooks.

/** What a service token may be allowed to do; each route names the one it needs. */
export const SERVICE_SCOPES = [
  'conversations:write',
  'messages:write',
  'members:write',
  'users:erase',
  'users:export',
  'webhooks:admin',
  /** Read response-time figures (issue 27). */
  'stats:read',
  /** A company's message templates (issue 27). */
  'templates:write',
] as const;
export type ServiceScope = (typeof SERVICE_SCOPES)[number];

/** A backend service calling the server API (never a person). */
export interface ServicePrincipal {
  service: string;
  scopes: ServiceScope[];
}

/** Who the platform's own messages are from: never a user id (ids of users cannot hold `$`). */
export const SYSTEM_SENDER = '$system';

export const WEBHOOK_EVENT_TYPES = [
  'message.created',
  'message.updated',
  'message.deleted',
  /** A member answered an action message (`data.answer`). */
  'message.answered',
  'conversation.created',
  'member.added',
  'member.removed',
  'report.created',
  'notification.offline',
] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

/** The body of a webhook delivery (Standard Webhooks' suggested shape). */
export interface WebhookEvent {
  /** Stable across retries and instances: `webhook-id`, so receivers dedupe by it. */
  id: string;
  type: WebhookEventType;
  timestamp: string;
  data: Record<string, unknown>;
}

// ---------------------------------------------------------------------------------------------
// The durable outbox

/**
 * One thing to do later, durably: a webhook event for one endpoint, or the check whether a
 * recipient who did not read a message should be told offline (see OfflineCheck).
 */
export interface OutboxEntry {
  /** Deterministic: a retried step writes the same id, so nothing is doubled. */
  id: string;
  kind: 'webhook' | 'offline-check';
  /** For webhooks, the endpoint URL it goes to. */
  endpoint?: string;
  /** The JSON delivered (webhook), or the check's JSON. */
  payload: string;
  /** pending: waiting or leased; dead: gave up (admins can replay); done: a check that notified. */
  state: 'pending' | 'dead' | 'done';
  /** Claims so far (a claim is an attempt, whether or not it finished). */
  attempts: number;
  /** When it may be claimed: the retry time, or a lease's end while one instance works on it. */
  dueAt: Date;
  createdAt: Date;
  lastError?: string;
  /** Set by a claim: only the holder of the current lease may reschedule it. */
  lease?: string;
  /** Users whose words the payload carries: erasing one removes the entries. */
  authors: string[];
  /** What the payload is about (`msg:<messageId>`): deleting that redacts the entries. */
  subject?: string;
  /** A dead letter is forgotten then (WEBHOOK_DEAD_LETTER_TTL_MS after it died). */
  expireAt?: Date;
}

export type NewOutboxEntry = Omit<
  OutboxEntry,
  'state' | 'attempts' | 'lastError' | 'lease' | 'expireAt'
>;

/** What becomes of a dead letter: forgotten at `expireAt`; only the newest `keep` are kept. */
export interface DeadLetterPolicy {
  expireAt: Date;
  keep: number;
}

/**
 * The outbox, shared by every instance. An instance that dies with an entry leased loses
 * nothing: the lease ends at `dueAt` and another instance claims it again.
 */
export interface OutboxStore {
  /** Inserts the entries; an id already present (a retried step) is left as it is. */
  enqueue(entries: NewOutboxEntry[]): Promise<void>;
  /** Leases the pending entry due first (dueAt <= now) until now + leaseMs; counts an attempt. */
  claim(now: Date, leaseMs: number, lease: string): Promise<OutboxEntry | null>;
  /** Delivered (or a check settled without notifying): removed. */
  complete(id: string): Promise<void>;
  /** A check that notified: kept, so the same id cannot be scheduled again, until `expireAt`. */
  settle(id: string, expireAt: Date): Promise<void>;
  /** Due again at `dueAt`; ignored unless `lease` still holds the entry. */
  retry(id: string, lease: string, dueAt: Date, error: string): Promise<void>;
  /**
   * Gives up on it (ignored unless `lease` still holds the entry): a dead letter until
   * `policy.expireAt`, and the oldest dead letters past the newest `policy.keep` are removed.
   */
  deadLetter(id: string, lease: string, error: string, policy: DeadLetterPolicy): Promise<void>;
  /** Dead entries not expired at `now`, newest first, paged by an opaque cursor. */
  listDead(
    page: { limit: number; cursor?: string },
    now: Date,
  ): Promise<{
    entries: OutboxEntry[];
    nextCursor?: string;
  }>;
  /**
   * Rewrites the payload of every entry about `subject` (pending, leased or dead) with
   * `payload(entry)`: what was deleted leaves the outbox too. How many were rewritten.
   */
  redact(subject: string, payload: (entry: OutboxEntry) => string): Promise<number>;
  /** A dead entry is due again now with its attempts reset (and no expiry); false when there is none. */
  replay(id: string, now: Date): Promise<boolean>;
  /** Removes every entry carrying words of `userId` (erasure); how many went. */
  forgetAuthor(userId: string): Promise<number>;
}

/** Is a recipient who had not read `seq` by `dueAt` still offline: the payload of a check. */
export interface OfflineCheck {
  conversationId: string;
  recipientId: string;
  seq: number;
  /** The notification window the check belongs to (one notification per window). */
  window: number;
}

// ---------------------------------------------------------------------------------------------
// What the server API changes in the store

export interface ConversationChange {
  /** When it happens (the sync cursor's settle window is measured against it). */
  at: Date;
  title?: string;
  archived?: boolean;
  add?: Omit<Member, 'lastReadSeq'>[];
  remove?: string[];
  /** This member becomes an owner (the last owner leaving hands the group over). */
  owner?: string;
  /**
   * A member answers their open invitation: accepted, it is gone and they are contacts of the
   * joined members; declined, it stays declined. Nothing changes when there is none to answer.
   */
  answer?: { userId: string; accept: boolean };
}

export interface ConversationChangeResult {
  conversation: Conversation;
  /** Members who joined with this change, and who left (as they were). */
  added: Member[];
  removed: Member[];
  /** False when nothing was different: no version was taken. */
  changed: boolean;
}

export interface ErasureStep {
  /** Messages of the user turned into tombstones in this step. */
  messages: number;
  /** Conversations the user left in this step. */
  conversations: number;
  /** Nothing of the user is left to erase (reports, contacts, blocks, outbox included). */
  done: boolean;
}

export interface ErasureRecord {
  userId: string;
  requestedBy: string;
  at: Date;
  messages: number;
  conversations: number;
}

export interface UserExport {
  conversations: Conversation[];
  messages: Message[];
  truncated: boolean;
}

/**
 * The store operations of the server API. Each is one step a retry can repeat: a change
 * takes a version of the conversation (devices find it through `sync`), an erasure step
 * takes versions for the tombstones it makes.
 */
export interface PlatformStore {
  /**
   * Title, archived flag and members, atomically at one new version; the conversation's
   * `metaVersion` moves to it. Members already there (add) or absent (remove) are left alone;
   * a change that changes nothing takes no version. Null for an unknown conversation.
   */
  change(
    conversationId: string,
    change: ConversationChange,
  ): Promise<ConversationChangeResult | null>;
  /**
   * One bounded step of erasing a user: up to `limit` of their messages become tombstones
   * (body gone, attachments gone, each at a new version), then their memberships end (read
   * position gone), then report snapshots and notes of theirs lose their text and their
   * contacts and blocks go. Repeat until `done`.
   */
  eraseUserStep(userId: string, at: Date, limit: number): Promise<ErasureStep>;
  /** That an erasure happened (who, when, how much), never what was erased. */
  recordErasure(record: ErasureRecord): Promise<void>;
  /** The user's conversations (as member) and own messages, each up to its cap. */
  exportUser(
    userId: string,
    caps: { conversations: number; messages: number },
  ): Promise<UserExport>;
}

// ---------------------------------------------------------------------------------------------
// Server API inputs and answers

const idempotencyKey = z
  .string()
  .min(1)
  .max(LIMITS.maxClientMessageIdLength)
  .regex(/^[A-Za-z0-9_-]+$/, 'only letters, digits, _ and -')
  .meta({ description: 'Chosen by the caller: repeating a request with it changes nothing.' });

export const serviceOpenConversationSchema = z
  .strictObject({
    idempotencyKey,
    kind: z.enum(['direct', 'group']),
    memberIds: z
      .array(idSchema)
      .min(2)
      .max(LIMITS.maxGroupMembers)
      .meta({ description: 'Everyone in it: exactly two for a direct conversation.' }),
    createdBy: idSchema
      .optional()
      .meta({ description: 'The owner, one of memberIds (default: the first).' }),
    title: titleSchema.optional(),
    jobId: idSchema.optional(),
    applicationId: idSchema.optional(),
  })
  .superRefine((v, ctx) => {
    const unique = new Set(v.memberIds);
    if (unique.size !== v.memberIds.length)
      ctx.addIssue({ code: 'custom', path: ['memberIds'], message: 'must not repeat' });
    if (v.kind === 'direct' && unique.size !== 2)
      ctx.addIssue({ code: 'custom', path: ['memberIds'], message: 'exactly two for direct' });
    if (v.kind === 'group' && !v.title)
      ctx.addIssue({ code: 'custom', path: ['title'], message: 'required for a group' });
    if (v.createdBy && !unique.has(v.createdBy))
      ctx.addIssue({ code: 'custom', path: ['createdBy'], message: 'must be one of memberIds' });
  })
  .meta({ id: 'ServiceOpenConversation' });

export const systemMessageSchema = z
  .strictObject({ idempotencyKey, body: messageBodySchema })
  .meta({ id: 'SystemMessage' });

export const serviceConversationPatchSchema = z
  .strictObject({ title: titleSchema.optional(), archived: z.boolean().optional() })
  .refine((v) => v.title !== undefined || v.archived !== undefined, 'title or archived')
  .meta({ id: 'ServiceConversationPatch' });

export const addMembersSchema = z
  .strictObject({
    userIds: z
      .array(idSchema)
      .min(1)
      .max(LIMITS.maxGroupMembers - 1),
  })
  .meta({ id: 'AddMembers' });

export const serviceConversationResultSchema = z
  .object({
    conversation: conversationDtoSchema,
    created: z.boolean().meta({ description: 'False when the key or the pair had one already.' }),
  })
  .meta({ id: 'ServiceConversationResult' });

export const erasureResultSchema = z
  .object({
    userId: z.string(),
    complete: z.boolean().meta({
      description: 'False when the step budget ran out first: call again (it is idempotent).',
    }),
    messagesRedacted: z.int().min(0),
    conversationsLeft: z.int().min(0),
  })
  .meta({ id: 'ErasureResult' });

export const userExportSchema = z
  .object({
    userId: z.string(),
    exportedAt: z.iso.datetime(),
    conversations: z.array(conversationDtoSchema),
    messages: z.array(messageDtoSchema).meta({ description: 'Sent by the user, oldest first.' }),
    truncated: z.boolean().meta({ description: 'A cap was reached: not everything is here.' }),
    moderation: z
      .object({
        restriction: restrictionDtoSchema,
        actions: z
          .array(auditEntryDtoSchema)
          .meta({ description: 'Moderators’ actions about the user, newest first (capped).' }),
      })
      .optional(),
  })
  .meta({ id: 'UserExport' });

export const deadLetterSchema = z
  .object({
    id: z.string(),
    endpoint: z.string(),
    attempts: z.int().min(0),
    lastError: z.string().optional(),
    createdAt: z.iso.datetime(),
    event: z
      .record(z.string(), z.unknown())
      .meta({ description: 'The event as it would be sent.' }),
  })
  .meta({ id: 'DeadLetter' });

export const deadLettersPageSchema = z
  .object({ entries: z.array(deadLetterSchema), nextCursor: z.string().optional() })
  .meta({ id: 'DeadLettersPage' });

export const deadLettersQuerySchema = z.strictObject({
  cursor: z.string().max(200).optional(),
  limit: z.coerce.number().int().min(1).max(LIMITS.maxPageSize).default(LIMITS.defaultPageSize),
});

export type ServiceOpenConversationInput = z.infer<typeof serviceOpenConversationSchema>;
export type SystemMessageInput = z.infer<typeof systemMessageSchema>;
export type ServiceConversationPatch = z.infer<typeof serviceConversationPatchSchema>;
export type ServiceConversationResult = z.output<typeof serviceConversationResultSchema>;
export type ErasureResult = z.output<typeof erasureResultSchema>;
export type UserExportDto = z.output<typeof userExportSchema>;
export type DeadLetterDto = z.output<typeof deadLetterSchema>;
export type DeadLettersPage = z.output<typeof deadLettersPageSchema>;
