import { z } from 'zod';
import { actionCardDtoSchema } from './actions.js';
import { ErrorCode } from './errors.js';

// What the server answers, defined once: the TypeScript types below are derived from these
// schemas, and the gateway's OpenAPI document is generated from them. A schema with a `meta.id`
// becomes a named component of that document. Objects are closed (every field the server sends
// is listed here): a field added to a DTO without adding it here fails the contract e2e test.
// The browser SDK imports only the types, so zod never reaches its bundle.

const count = z.int().min(0);
const timestamp = z.iso.datetime().meta({ description: 'ISO 8601, UTC (`Date.toISOString()`).' });

export const errorCodeSchema = z.enum(ErrorCode).meta({
  id: 'ErrorCode',
  description:
    'Stable error codes: clients switch on these; one is never renamed. INVALID_PAYLOAD: a field ' +
    'is invalid (`issues` says which). UNAUTHORIZED: missing, invalid or expired token. ' +
    'FORBIDDEN: not allowed for this role. NOT_FOUND: no such route or resource. NOT_A_MEMBER: ' +
    'the same answer whether the conversation exists or not. CONFLICT: the change collides with ' +
    'the current state. RATE_LIMITED: wait `retryAfterMs`. BANNED: a moderator banned you. ' +
    'SLOW_MODE: the conversation allows one message per member every N seconds; wait ' +
    '`retryAfterMs`. TOO_MANY_CONNECTIONS: too many sockets ' +
    'of one user (socket handshake). UPLOAD_QUOTA_EXCEEDED: too many uploads not yet sent ' +
    '(files or bytes); SCHEDULE_QUOTA_EXCEEDED: too many scheduled sends waiting ' +
    '(files or bytes); TEMPLATE_QUOTA_EXCEEDED: as many templates as allowed. PAYLOAD_TOO_LARGE, UNSUPPORTED_MEDIA_TYPE: the request ' +
    'body. UNKNOWN_EVENT: an unknown socket event. UNAVAILABLE: a dependency did not answer in ' +
    'time; nothing was acknowledged: retry (a send with the same `clientMessageId`). INTERNAL: a ' +
    'bug.',
});

export const errorIssueSchema = z
  .object({
    path: z.string().meta({ description: 'The invalid field, dot-separated; `(root)` for all.' }),
    message: z.string(),
  })
  .meta({ id: 'ErrorIssue' });

export const errorBodySchema = z
  .object({
    code: errorCodeSchema,
    message: z.string().meta({ description: 'Safe to show; never echoes the request.' }),
    issues: z.array(errorIssueSchema).optional(),
    retryAfterMs: count
      .optional()
      .meta({ description: 'With RATE_LIMITED and SLOW_MODE: when to retry.' }),
    reason: z
      .string()
      .optional()
      .meta({
        description:
          'With CONTENT_REJECTED: why (`contact-details`, `link`, `scam` from the content policy, ' +
          "or the platform pre-send hook's own code).",
      }),
  })
  .meta({ id: 'ErrorBody' });

/** Every REST error answer. */
export const errorResponseSchema = z.object({ error: errorBodySchema }).meta({ id: 'Error' });

export const messageAttachmentSchema = z
  .object({
    id: z.string(),
    fileName: z.string(),
    contentType: z.string(),
    size: count.meta({ description: 'Bytes.' }),
  })
  .meta({ id: 'MessageAttachment', description: 'A file the message carries (uploaded first).' });

export const messageSafetyDtoSchema = z
  .object({
    notices: z
      .array(z.enum(['contact-hidden', 'link-hidden']))
      .optional()
      .meta({
        description:
          'To the other members: parts of the body were hidden (a message request with contact ' +
          'details or links); show a notice with the masked body.',
      }),
    warning: z
      .array(z.enum(['off-platform', 'fee', 'gift-card', 'crypto', 'bank-details']))
      .optional()
      .meta({
        description:
          'To the other members: signals of recruitment fraud; show a warning next to the message.',
      }),
    recipientBody: z.string().optional().meta({
      description: 'To the sender: what the other members see instead of the body (masked).',
    }),
  })
  .meta({
    id: 'MessageSafetyDto',
    description: 'What the content policy did, as the caller may see it.',
  });

export const replyPreviewDtoSchema = z
  .object({
    id: z.string(),
    seq: count.optional(),
    senderId: z.string().optional(),
    body: z.string().meta({ description: 'Cut to a preview; empty once deleted or hidden.' }),
    deleted: z.literal(true).optional(),
    hidden: z.literal(true).optional(),
  })
  .meta({
    id: 'ReplyPreviewDto',
    description:
      'The message replied to, in its current state when read (an edit or a deletion shows).',
  });

export const reactionSummaryDtoSchema = z
  .object({
    emoji: z.string(),
    count: count,
    mine: z.literal(true).optional().meta({ description: 'The caller reacted with it.' }),
  })
  .meta({ id: 'ReactionSummaryDto', description: 'One emoji on a message: how many, and mine.' });

export const messageDtoSchema = z
  .object({
    id: z.string(),
    conversationId: z.string(),
    seq: count.meta({ description: 'Position in the conversation: order by it.' }),
    version: count.meta({
      description: "The conversation's version at this message's last change (the sync cursor).",
    }),
    senderId: z.string(),
    clientMessageId: z.string(),
    kind: z.enum(['user', 'system']).meta({
      description: "'system' messages are posted by the platform and shown apart.",
    }),
    body: z.string().meta({ description: 'Empty once the message was deleted (see deletedAt).' }),
    attachments: z.array(messageAttachmentSchema).optional(),
    createdAt: timestamp,
    editedAt: timestamp.optional(),
    deletedAt: timestamp.optional(),
    action: actionCardDtoSchema
      .optional()
      .meta({ description: "An action message's buttons and answers (system messages only)." }),
    hidden: z
      .literal(true)
      .optional()
      .meta({
        description:
          'Sent by someone behind a block with the caller (in a group): its place is kept, its ' +
          'body, attachments and edits are not shown.',
      }),
    safety: messageSafetyDtoSchema.optional(),
    replyTo: replyPreviewDtoSchema.optional(),
    mentions: z
      .array(z.string())
      .optional()
      .meta({ description: 'Members of the group this message mentions (user ids).' }),
    reactions: z.array(reactionSummaryDtoSchema).optional(),
  })
  .meta({ id: 'MessageDto', description: 'A stored message, in its current state.' });

export const messagePreviewDtoSchema = messageDtoSchema
  .pick({ id: true, seq: true, senderId: true, body: true, createdAt: true })
  .extend({ deleted: z.boolean().optional(), hidden: z.literal(true).optional() })
  .meta({ id: 'MessagePreviewDto', description: 'The newest message, its body cut to a preview.' });

export const invitationDtoSchema = z
  .object({
    from: z.string().meta({ description: 'Who added the invitee.' }),
    state: z.enum(['pending', 'declined']).meta({
      description: "Only the invitee sees 'declined'; the others see 'pending' until accepted.",
    }),
  })
  .meta({
    id: 'InvitationDto',
    description:
      'Added to a group by someone who was not a contact: nothing of the group reaches the ' +
      'invitee, and nothing of theirs reaches it, until they accept.',
  });

export const conversationMemberDtoSchema = z
  .object({
    userId: z.string(),
    role: z.enum(['owner', 'member']),
    joinedAt: timestamp,
    lastReadSeq: count.meta({
      description:
        'What this member has read ("seen"); 0 when it is not shared with the caller (a request, ' +
        'an invitation, a block).',
    }),
    invitation: invitationDtoSchema.optional(),
    lastDeliveredSeq: count.optional().meta({
      description:
        'What a device of this member holds ("delivered"), at least `lastReadSeq`; 0 when it is ' +
        'not shared with the caller (as `lastReadSeq`, or either side turned receipts off).',
    }),
    receipts: z
      .literal(false)
      .optional()
      .meta({
        description:
          'Set on another member who turned receipts off: show no "seen" for them (not even ' +
          'inferred from their replies).',
      }),
  })
  .meta({ id: 'ConversationMemberDto' });

export const messageRequestDtoSchema = z
  .object({
    from: z.string(),
    to: z.string(),
    state: z.enum(['pending', 'declined']),
  })
  .meta({
    id: 'MessageRequestDto',
    description:
      'A direct conversation with someone never talked to: the opener waits, the recipient answers.',
  });

/** The caller's own organisation of a conversation; nobody else sees it. */
export const organisationDtoSchema = z
  .object({
    muted: z.boolean(),
    pinned: z.boolean(),
    archived: z.boolean().meta({ description: 'Archived by the caller (out of the inbox).' }),
    unread: z.boolean().meta({ description: 'Marked unread by the caller.' }),
  })
  .meta({ id: 'Organisation' });

/** A person's devices learn that they organised a conversation (`conversation:organised`). */
export const organisedDtoSchema = organisationDtoSchema
  .extend({ conversationId: z.string() })
  .meta({ id: 'Organised' });

export const conversationDtoSchema = z
  .object({
    id: z.string(),
    kind: z.enum(['direct', 'group']),
    title: z.string().optional(),
    jobId: z.string().optional(),
    applicationId: z.string().optional(),
    members: z.array(conversationMemberDtoSchema),
    createdBy: z.string(),
    createdAt: timestamp,
    lastActivityAt: timestamp,
    lastMessage: messagePreviewDtoSchema.optional(),
    request: messageRequestDtoSchema.optional().meta({
      description: 'Set while this is a request (pending) or after its recipient declined it.',
    }),
    invitation: invitationDtoSchema.optional().meta({
      description:
        "The caller's own open invitation to this group: accept or decline it (`/accept`, " +
        '`/decline`); until then its messages, history and sync answer INVITATION_PENDING.',
    }),
    blocked: z.boolean().meta({ description: 'One of the two people blocked the other.' }),
    lastSeq: count.meta({ description: 'Seq of the newest message (0 when empty).' }),
    version: count.meta({
      description: 'The change cursor: a device holding the conversation up to here syncs from it.',
    }),
    lastReadSeq: count.meta({ description: "The caller's read position." }),
    unreadCount: count,
    mentionCount: count.optional().meta({
      description: 'Unread messages that mention the caller (reading resets it); at most 50.',
    }),
    archived: z.boolean().optional().meta({ description: 'Closed by the platform.' }),
    organisation: organisationDtoSchema.optional().meta({
      description:
        'How the caller organised it (mute, pin, archive, marked unread); absent: none of them.',
    }),
  })
  .meta({ id: 'ConversationDto', description: 'A conversation as the caller sees it.' });

export const conversationListSchema = z
  .object({
    conversations: z.array(conversationDtoSchema),
    nextCursor: z.string().optional().meta({ description: 'Pass as `cursor` for the next page.' }),
    totalUnread: count.meta({
      description: "Unread messages over the caller's most recently active conversations.",
    }),
    totalUnreadCapped: z.boolean().meta({
      description: 'True when the caller has more conversations than `totalUnread` counts.',
    }),
    epoch: z.string().meta({
      description:
        "The store's epoch the versions in this list belong to; `sync` names it (see SyncResult).",
    }),
  })
  .meta({ id: 'ConversationList', description: 'Most recently active first.' });

export const historyPageSchema = z
  .object({
    messages: z.array(messageDtoSchema).meta({ description: 'Ascending by seq.' }),
    hasMore: z.boolean().meta({ description: 'More messages beyond this page, that direction.' }),
  })
  .meta({ id: 'HistoryPage' });

export const readResultSchema = z
  .object({ conversationId: z.string(), lastReadSeq: count, unreadCount: count })
  .meta({ id: 'ReadResult' });

export const presenceDtoSchema = z
  .object({ userId: z.string(), online: z.boolean(), lastSeenAt: timestamp.optional() })
  .meta({ id: 'PresenceDto' });

export const sendResultSchema = z
  .object({
    message: messageDtoSchema,
    duplicate: z.boolean().meta({ description: 'This clientMessageId was already stored.' }),
  })
  .meta({ id: 'SendResult' });

export const receiptDtoSchema = z
  .object({ userId: z.string(), lastReadSeq: count, lastDeliveredSeq: count })
  .meta({ id: 'ReceiptDto', description: "A member's read and delivered positions." });

export const deliveredResultSchema = z
  .object({
    conversations: z.array(z.object({ conversationId: z.string(), lastDeliveredSeq: count })),
  })
  .meta({
    id: 'DeliveredResult',
    description: 'Your delivered position in each conversation named that you are a member of.',
  });

export const settingsDtoSchema = z
  .object({
    receipts: z.boolean().meta({
      description: 'Read and delivered receipts shared (true, the default) or off both ways.',
    }),
  })
  .meta({ id: 'Settings' });

export const syncEntrySchema = z
  .object({
    conversationId: z.string(),
    messages: z.array(messageDtoSchema).meta({
      description: 'Changes after the version asked for, ascending by version, current state.',
    }),
    version: count.meta({ description: 'Where to resume: sync again from here while hasMore.' }),
    hasMore: z.boolean(),
    lastReadSeq: count,
    error: errorBodySchema.optional().meta({
      description: 'Set when the caller is not (or no longer) a member: drop the conversation.',
    }),
    conversation: conversationDtoSchema.optional().meta({
      description: 'The conversation itself changed (title, members, archived): replace it.',
    }),
    receipts: z
      .array(receiptDtoSchema)
      .optional()
      .meta({
        description:
          "The other members' read and delivered positions the caller may see (those above 0); " +
          'positions move no version, so every answer carries them.',
      }),
    organisation: organisationDtoSchema.optional().meta({
      description:
        "The caller's own organisation, when anything is set (absent: nothing muted, pinned, " +
        'archived or marked unread); it moves no version, so every answer carries it.',
    }),
  })
  .meta({ id: 'SyncEntry' });

export const syncResultSchema = z
  .object({
    conversations: z.array(syncEntrySchema),
    epoch: z.string().meta({
      description:
        "The store's epoch: send it with the next sync. A different one than the device holds " +
        'means the store was restored or reset: the versions held are void, start over.',
    }),
  })
  .meta({ id: 'SyncResult' });

export const conversationUpdateSchema = z
  .object({
    conversationId: z.string(),
    blocked: z.boolean(),
    request: messageRequestDtoSchema.nullable(),
    version: count.optional().meta({ description: 'With a change of the conversation itself.' }),
    title: z.string().optional(),
    archived: z.boolean().optional(),
    memberIds: z.array(z.string()).optional().meta({
      description: 'The members now; a device whose user is not among them drops the conversation.',
    }),
  })
  .meta({
    id: 'ConversationUpdate',
    description: 'A request answered, a block set or lifted, or members, title or archive changed.',
  });

export const blockedUsersPageSchema = z
  .object({
    users: z.array(z.object({ userId: z.string(), since: timestamp })),
    nextCursor: z.string().optional(),
  })
  .meta({ id: 'BlockedUsersPage' });

export const reportDtoSchema = z
  .object({
    id: z.string(),
    status: z.enum(['open', 'dismissed', 'actioned']).meta({
      description:
        'open → dismissed | actioned; dismissed → actioned; actioned (the message deleted) is final.',
    }),
    reason: z.enum(['spam', 'harassment', 'scam', 'inappropriate', 'other']),
    note: z.string().optional(),
    conversationId: z.string(),
    messageId: z.string().optional(),
    reporterId: z.string(),
    reportedUserId: z.string(),
    snapshot: z
      .object({ senderId: z.string(), body: z.string(), createdAt: timestamp })
      .optional()
      .meta({ description: 'The message as it was when reported.' }),
    createdAt: timestamp,
    resolution: z
      .enum(['dismissed', 'message_deleted'])
      .optional()
      .meta({ description: 'The latest step’s.' }),
    resolvedBy: z.string().optional(),
    resolvedAt: timestamp.optional(),
    history: z
      .array(
        z.object({
          from: z.enum(['open', 'dismissed', 'actioned']),
          to: z.enum(['open', 'dismissed', 'actioned']),
          resolution: z.enum(['dismissed', 'message_deleted']),
          by: z.string(),
          at: timestamp,
        }),
      )
      .meta({ description: 'Every step the report took, oldest first: who, when, what.' }),
  })
  .meta({ id: 'ReportDto', description: 'A report as moderators see it.' });

export const reportReceiptSchema = z
  .object({ id: z.string(), status: z.literal('open'), createdAt: timestamp })
  .meta({ id: 'ReportReceipt', description: 'The report was taken; nothing more is said.' });

export const reportsPageSchema = z
  .object({ reports: z.array(reportDtoSchema), nextCursor: z.string().optional() })
  .meta({ id: 'ReportsPage' });

// Health answers (Terminus' report): each check is `{ status: up | down, ...details }`.
const healthCheckSchema = z
  .object({ status: z.enum(['up', 'down']) })
  .catchall(z.unknown())
  .meta({ id: 'HealthCheck', description: 'One check: up or down, with its details.' });
const healthChecks = z.record(z.string(), healthCheckSchema);

export const healthReportSchema = z
  .object({
    status: z.enum(['ok', 'error', 'shutting_down']),
    info: healthChecks.optional().meta({ description: 'The checks that are up.' }),
    error: healthChecks.optional().meta({ description: 'The checks that are down.' }),
    details: healthChecks.meta({ description: 'Every check.' }),
  })
  .meta({ id: 'HealthReport' });

export const targetHealthSchema = healthReportSchema
  .extend({
    dependencies: healthChecks.meta({
      description: 'Store and Redis, each pinged with a 1 s timeout: reported, never failing.',
    }),
  })
  .meta({
    id: 'TargetHealth',
    description: "This instance's checks (lifecycle, heap) and, apart, its dependencies'.",
  });

export const livenessSchema = z.object({ status: z.literal('ok') }).meta({ id: 'Liveness' });

export type ErrorIssue = z.output<typeof errorIssueSchema>;
export type ErrorBody = z.output<typeof errorBodySchema>;
export type ErrorResponse = z.output<typeof errorResponseSchema>;
export type MessageAttachmentDto = z.output<typeof messageAttachmentSchema>;
export type MessageRequestDto = z.output<typeof messageRequestDtoSchema>;
export type ConversationUpdate = z.output<typeof conversationUpdateSchema>;
export type BlockedUsersPage = z.output<typeof blockedUsersPageSchema>;
export type ReportDto = z.output<typeof reportDtoSchema>;
export type ReportReceipt = z.output<typeof reportReceiptSchema>;
export type ReportsPage = z.output<typeof reportsPageSchema>;
export type MessageDto = z.output<typeof messageDtoSchema>;
export type MessagePreviewDto = z.output<typeof messagePreviewDtoSchema>;
export type ConversationMemberDto = z.output<typeof conversationMemberDtoSchema>;
export type InvitationDto = z.output<typeof invitationDtoSchema>;
export type ConversationDto = z.output<typeof conversationDtoSchema>;
export type ConversationList = z.output<typeof conversationListSchema>;
export type HistoryPage = z.output<typeof historyPageSchema>;
export type ReadResult = z.output<typeof readResultSchema>;
export type OrganisationDto = z.output<typeof organisationDtoSchema>;
export type OrganisedDto = z.output<typeof organisedDtoSchema>;
export type PresenceDto = z.output<typeof presenceDtoSchema>;
export type SendResult = z.output<typeof sendResultSchema>;
export type SyncEntry = z.output<typeof syncEntrySchema>;
export type SyncResult = z.output<typeof syncResultSchema>;
export type ReceiptDto = z.output<typeof receiptDtoSchema>;
export type DeliveredResult = z.output<typeof deliveredResultSchema>;
export type SettingsDto = z.output<typeof settingsDtoSchema>;
export type HealthReport = z.output<typeof healthReportSchema>;
export type TargetHealth = z.output<typeof targetHealthSchema>;
export type Liveness = z.output<typeof livenessSchema>;
