import { z } from 'zod';
import { LIMITS } from './rules.js';

// Ids are opaque strings minted by the identity service (users) or the store
// (conversations); a tight charset keeps them safe in keys, rooms and logs.
const id = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9_.:@-]+$/, 'only letters, digits and _ . : @ -');
const seq = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

export const jobContextSchema = z.object({ jobId: id.optional(), applicationId: id.optional() });

export const sendMessageSchema = z.strictObject({
  conversationId: id,
  clientMessageId: z
    .string()
    .min(1)
    .max(LIMITS.maxClientMessageIdLength)
    .regex(/^[A-Za-z0-9_-]+$/),
  body: z
    .string()
    .max(LIMITS.maxBodyLength, `at most ${LIMITS.maxBodyLength} characters`)
    .refine((s) => s.trim().length > 0, 'must not be blank'),
});

export const syncSchema = z.strictObject({
  conversations: z
    .array(z.strictObject({ conversationId: id, afterSeq: seq }))
    .max(LIMITS.maxSyncConversations),
  limit: z.number().int().min(1).max(LIMITS.maxSyncMessagesPerConversation).optional(),
});

export const markReadSchema = z.strictObject({ conversationId: id, seq });

export const typingSchema = z.strictObject({ conversationId: id });

export const presenceQuerySchema = z.strictObject({
  userIds: z.array(id).min(1).max(LIMITS.maxPresenceQuery),
});

export const authRefreshSchema = z.strictObject({ token: z.string().min(1).max(8192) });

export const createConversationSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('direct'), userId: id, ...jobContextSchema.shape }),
  z.strictObject({
    kind: z.literal('group'),
    title: z.string().trim().min(1).max(LIMITS.maxTitleLength),
    memberIds: z
      .array(id)
      .min(1)
      .max(LIMITS.maxGroupMembers - 1),
    ...jobContextSchema.shape,
  }),
]);

const pageSize = z.coerce
  .number()
  .int()
  .min(1)
  .max(LIMITS.maxPageSize)
  .default(LIMITS.defaultPageSize);

export const historyQuerySchema = z
  .strictObject({
    before: z.coerce.number().int().min(1).optional(),
    after: z.coerce.number().int().min(0).optional(),
    limit: pageSize,
  })
  .refine(
    (q) => q.before === undefined || q.after === undefined,
    'use either before or after, not both',
  );

export const listConversationsQuerySchema = z.strictObject({
  cursor: z.string().max(200).optional(),
  limit: pageSize,
});

export const markReadBodySchema = z.strictObject({ seq });

export type SendMessageInput = z.infer<typeof sendMessageSchema>;
export type SyncInput = z.infer<typeof syncSchema>;
export type MarkReadInput = z.infer<typeof markReadSchema>;
export type TypingInput = z.infer<typeof typingSchema>;
export type PresenceQueryInput = z.infer<typeof presenceQuerySchema>;
export type AuthRefreshInput = z.infer<typeof authRefreshSchema>;
export type CreateConversationInput = z.infer<typeof createConversationSchema>;
export type HistoryQuery = z.infer<typeof historyQuerySchema>;
export type ListConversationsQuery = z.infer<typeof listConversationsQuerySchema>;
