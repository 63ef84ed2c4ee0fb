import { z } from 'zod';
import { LIMITS } from './rules.js';
import { MENTION_LIMITS } from './mentions.rules.js';
import { REACTION_LIMITS } from './reactions.rules.js';

// Ids are opaque strings minted by the identity service (users) or the store
// (conversations); a tight charset keeps them safe in keys, rooms and logs.
const ID_PATTERN = /^[A-Za-z0-9_.:@-]+$/;
export const idSchema = z
  .string()
  .min(1)
  .max(64)
  .regex(ID_PATTERN, 'only letters, digits and _ . : @ -');
const seq = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

// C0 and C1 control characters other than tab and newline, and noncharacters: refused.
// (\p{Cc} is U+0000-001F and U+007F-009F; the lookahead lets tab and newline through.)
const CONTROL = /(?![\t\n])[\p{Cc}\uFFFE\uFFFF]/u;
// A lone surrogate cannot be encoded as UTF-8 (the store would reject it later).
const LONE_SURROGATE = /\p{Cs}/u;
// Nothing a reader would see: white space, format characters (zero-width, bidi marks), controls,
// and the fillers that render as blanks (Hangul fillers, braille blank).
const INVISIBLE_ONLY = /^[\p{White_Space}\p{Cf}\p{Cc}\u115F\u1160\u3164\uFFA0\u2800]*$/u;

/**
 * Text people read: line breaks normalized to \n, length in UTF-16 code units (what `length`
 * and a browser's maxlength count), no control characters, and something visible in it.
 */
function text(max: number, options: { multiline: boolean }) {
  return z
    .string()
    .transform((s) => (options.multiline ? s.replace(/\r\n?/g, '\n') : s))
    .superRefine((s, ctx) => {
      const issue = (message: string) => ctx.addIssue({ code: 'custom', message });
      if (s.length > max) return issue(`at most ${max} characters (UTF-16 code units)`);
      if (LONE_SURROGATE.test(s)) return issue('not valid Unicode text');
      if (!options.multiline && /\n/.test(s)) return issue('must be a single line');
      if (CONTROL.test(s)) return issue('must not contain control characters');
      if (INVISIBLE_ONLY.test(s)) return issue('must not be blank');
    });
}

export const messageBodySchema = text(LIMITS.maxBodyLength, { multiline: true }).meta({
  description: `Up to ${LIMITS.maxBodyLength} UTF-16 code units, not blank, no control characters.`,
});
export const titleSchema = text(LIMITS.maxTitleLength, { multiline: false })
  .transform((s) => s.trim())
  .meta({
    description: `One line, up to ${LIMITS.maxTitleLength} UTF-16 code units, not blank; trimmed.`,
  });

export const jobContextSchema = z.object({
  jobId: idSchema.optional(),
  applicationId: idSchema.optional(),
});

export const sendMessageSchema = z.strictObject({
  conversationId: idSchema,
  clientMessageId: z
    .string()
    .min(1)
    .max(LIMITS.maxClientMessageIdLength)
    .regex(/^[A-Za-z0-9_-]+$/, 'only letters, digits, _ and -'),
  body: messageBodySchema,
  /** Uploads to attach (POST /attachments first); each one at most once. */
  attachmentIds: z
    .array(idSchema)
    .min(1)
    .max(LIMITS.maxAttachmentsPerMessage)
    .refine((ids) => new Set(ids).size === ids.length, 'each attachment at most once')
    .optional()
    .meta({ description: `Up to ${LIMITS.maxAttachmentsPerMessage} upload ids, no repeats.` }),
  /** A message of this conversation the sender can see (not deleted, not before they joined). */
  replyTo: idSchema
    .optional()
    .meta({ description: 'The id of a message of this conversation this one replies to.' }),
  /** Members of the group mentioned; others named are dropped (the ack shows what was kept). */
  mentions: z
    .array(idSchema)
    .max(MENTION_LIMITS.maxMentionsPerMessage)
    .optional()
    .meta({
      description:
        `Up to ${MENTION_LIMITS.maxMentionsPerMessage} user ids of the group's members; ` +
        'non-members, the sender and direct conversations are dropped.',
    }),
});

export const syncSchema = z.strictObject({
  // Checked for size before the repeats are collapsed, so a huge list is refused outright.
  conversations: z
    .array(z.strictObject({ conversationId: idSchema, afterVersion: seq }))
    .max(LIMITS.maxSyncConversations * 2),
  limit: z.number().int().min(1).max(LIMITS.maxSyncMessagesPerConversation).optional(),
  /**
   * The store epoch the versions were read in (the last answer's `epoch`). When the store's epoch
   * differs (restored or reset), the versions mean nothing and every conversation is answered
   * from the start. Without it, the versions are taken as they are (clients before epochs).
   */
  epoch: z.string().min(1).max(LIMITS.maxEpochLength).optional(),
});

export const markReadSchema = z.strictObject({ conversationId: idSchema, seq });

/**
 * A device acknowledges what it holds: per conversation the highest seq it has, many at once
 * (the SDK batches and debounces; the server coalesces what does not move a position).
 */
export const markDeliveredSchema = z.strictObject({
  positions: z
    .array(z.strictObject({ conversationId: idSchema, seq }))
    .min(1)
    .max(LIMITS.maxDeliveredBatch)
    .meta({ description: `1 to ${LIMITS.maxDeliveredBatch} conversations.` }),
});

const organisationFields = {
  muted: z.boolean().optional().meta({
    description: 'No offline notification, left out of the unread total, still listed.',
  }),
  pinned: z.boolean().optional().meta({ description: 'Listed first; at most 10 per person.' }),
  archived: z.boolean().optional().meta({
    description: 'Out of the inbox until a new message arrives (unless muted); `box=archived`.',
  }),
  unread: z.boolean().optional().meta({
    description: 'true marks it unread until you read it; false clears the mark.',
  }),
};

/** A person organises one conversation for themself; what is left out stays as it is. */
export const organiseBodySchema = z
  .strictObject(organisationFields)
  .refine((o) => Object.values(o).some((v) => v !== undefined), {
    message: 'name at least one of muted, pinned, archived, unread',
  })
  .meta({ id: 'OrganiseConversation', minProperties: 1 });

export const organiseSchema = z
  .strictObject({ conversationId: idSchema, ...organisationFields })
  .refine((o) => [o.muted, o.pinned, o.archived, o.unread].some((v) => v !== undefined), {
    message: 'name at least one of muted, pinned, archived, unread',
  });

/** A person's own settings; each field optional, what is left out stays as it is. */
export const settingsUpdateSchema = z
  .strictObject({
    receipts: z.boolean().optional().meta({
      description:
        "false: nobody sees when you received or read their messages, and you see nobody's.",
    }),
  })
  .meta({ id: 'SettingsUpdate' });

export const typingSchema = z.strictObject({ conversationId: idSchema });

export const presenceQuerySchema = z.strictObject({
  userIds: z.array(idSchema).min(1).max(LIMITS.maxPresenceQuery),
});

export const authRefreshSchema = z.strictObject({ token: z.string().min(1).max(8192) });

export const createConversationSchema = z
  .discriminatedUnion('kind', [
    z
      .strictObject({ kind: z.literal('direct'), userId: idSchema, ...jobContextSchema.shape })
      .meta({ id: 'OpenDirectConversation' }),
    z
      .strictObject({
        kind: z.literal('group'),
        title: titleSchema,
        memberIds: z
          .array(idSchema)
          .min(1)
          .max(LIMITS.maxGroupMembers - 1)
          .meta({
            description: "Besides the creator; the creator's own id and repeats are ignored.",
          }),
        ...jobContextSchema.shape,
      })
      .meta({ id: 'CreateGroupConversation' }),
  ])
  .meta({ id: 'CreateConversation' });

const pageSize = z.coerce
  .number()
  .int()
  .min(1)
  .max(LIMITS.maxPageSize)
  .default(LIMITS.defaultPageSize);

export const historyQuerySchema = z
  .strictObject({
    before: z.coerce
      .number()
      .int()
      .min(1)
      .max(Number.MAX_SAFE_INTEGER)
      .optional()
      .meta({ description: 'The page just before this seq (paging back).' }),
    after: z.coerce
      .number()
      .int()
      .min(0)
      .max(Number.MAX_SAFE_INTEGER)
      .optional()
      .meta({ description: 'The page just after this seq (paging forward).' }),
    limit: pageSize,
  })
  .refine(
    (q) => q.before === undefined || q.after === undefined,
    'use either before or after, not both',
  );

export const listConversationsQuerySchema = z.strictObject({
  cursor: z
    .string()
    .max(200)
    .optional()
    .meta({ description: '`nextCursor` of the previous page.' }),
  limit: pageSize,
  /** The usual list, or the requests strangers sent (shown apart). */
  box: z.enum(['inbox', 'requests', 'archived']).default('inbox'),
});

export const editMessageSchema = z.strictObject({
  conversationId: idSchema,
  messageId: idSchema,
  body: messageBodySchema,
});

export const deleteMessageSchema = z.strictObject({
  conversationId: idSchema,
  messageId: idSchema,
});

/** Puts the caller's reaction on (`on: true`) or off a message: a state, so repeating is harmless. */
export const reactSchema = z.strictObject({
  conversationId: idSchema,
  messageId: idSchema,
  emoji: z.string().min(1).max(REACTION_LIMITS.maxEmojiLength),
  on: z.boolean(),
});

export const reactBodySchema = reactSchema.pick({ emoji: true, on: true });

export const editMessageBodySchema = z.strictObject({ body: messageBodySchema });

export const conversationRefSchema = z.strictObject({ conversationId: idSchema });

export const userRefSchema = z.strictObject({ userId: idSchema });

/** Leaving a group; its last owner may hand it over to a member who joined (else it is archived). */
export const leaveBodySchema = z
  .strictObject({
    handOverTo: idSchema.optional().meta({
      description:
        'For the last owner: the member who becomes owner. Without it the group is archived.',
    }),
  })
  .meta({ id: 'LeaveConversation' });

export const leaveConversationSchema = leaveBodySchema.extend({ conversationId: idSchema });

export const REPORT_REASONS = ['spam', 'harassment', 'scam', 'inappropriate', 'other'] as const;

export const reportSchema = z.strictObject({
  conversationId: idSchema,
  /** Without it the report is about the conversation (its other side, for a direct one). */
  messageId: idSchema.optional(),
  reason: z.enum(REPORT_REASONS),
  note: text(LIMITS.maxReportNoteLength, { multiline: true }).optional(),
});

export const listReportsQuerySchema = z.strictObject({
  status: z.enum(['open', 'dismissed', 'actioned']).optional(),
  cursor: z.string().max(200).optional(),
  limit: pageSize,
});

export const resolveReportSchema = z.strictObject({
  resolution: z.enum(['dismissed', 'message_deleted']),
});

export const blockedQuerySchema = z.strictObject({
  cursor: z.string().max(200).optional(),
  limit: pageSize,
});

export const markReadBodySchema = z
  .strictObject({ seq: seq.meta({ description: 'The newest seq read.' }) })
  .meta({ id: 'MarkRead' });

export type SendMessageInput = z.infer<typeof sendMessageSchema>;
export type SyncInput = z.infer<typeof syncSchema>;
export type MarkReadInput = z.infer<typeof markReadSchema>;
export type MarkDeliveredInput = z.infer<typeof markDeliveredSchema>;
export type SettingsUpdate = z.infer<typeof settingsUpdateSchema>;
export type OrganiseInput = z.infer<typeof organiseSchema>;
export type TypingInput = z.infer<typeof typingSchema>;
export type PresenceQueryInput = z.infer<typeof presenceQuerySchema>;
export type AuthRefreshInput = z.infer<typeof authRefreshSchema>;
export type CreateConversationInput = z.infer<typeof createConversationSchema>;
export type HistoryQuery = z.infer<typeof historyQuerySchema>;
export type ListConversationsQuery = z.infer<typeof listConversationsQuerySchema>;
export type EditMessageInput = z.infer<typeof editMessageSchema>;
export type DeleteMessageInput = z.infer<typeof deleteMessageSchema>;
export type ReactInput = z.infer<typeof reactSchema>;
export type ReportInput = z.infer<typeof reportSchema>;
export type LeaveConversationInput = z.infer<typeof leaveConversationSchema>;
export type ListReportsQuery = z.infer<typeof listReportsQuerySchema>;
