import {
  MENTION_LIMITS,
  newRequestRecord,
  requestOf,
  reportTarget,
  toPreview,
  type ActionCard,
  type Conversation,
  type RequestRecord,
  type SendSubject,
  type Message,
  type Report,
  type ReportResolution,
} from '@jobsphere/chat-domain';
import {
  readKey,
  type ConversationDoc,
  type MessageDoc,
  type PreviewDoc,
  type ReportDoc,
} from './models.js';

// Documents to the domain's entities and back. The preview is the domain's (`toPreview`).

/** Never read on the way out: the allocator's bookkeeping. */
export const PUBLIC_FIELDS = { reservations: 0, directKey: 0, lastSeq: 0 } as const;

/** The conversation's request record (documents from before it was kept read as none). */
export function requestRecordOf(doc: Pick<ConversationDoc, 'request'>): RequestRecord {
  const r = doc.request;
  return r
    ? { ...r, state: r.state ?? 'none', allowance: r.allowance ?? 0 }
    : newRequestRecord(undefined);
}

/** What the send decision reads of a conversation document. */
export function sendSubjectOf(
  doc: Pick<
    ConversationDoc,
    'kind' | 'memberIds' | 'invited' | 'declinedInvites' | 'blocked' | 'request'
  >,
): SendSubject {
  return {
    kind: doc.kind,
    memberIds: doc.memberIds,
    invited: invitedOf(doc),
    blocked: doc.blocked === true,
    request: requestRecordOf(doc),
  };
}

/** Members whose invitation is open (pending or declined). */
export function invitedOf(doc: Pick<ConversationDoc, 'invited' | 'declinedInvites'>): string[] {
  return [...(doc.invited ?? []), ...(doc.declinedInvites ?? [])];
}

/** Members less those whose invitation is open: who a conversation's messages go to. */
export function audienceOfDoc(
  doc: Pick<ConversationDoc, 'memberIds' | 'invited' | 'declinedInvites'>,
): string[] {
  const open = new Set(invitedOf(doc));
  return open.size === 0 ? doc.memberIds : doc.memberIds.filter((id) => !open.has(id));
}

export function toConversation(doc: ConversationDoc): Conversation {
  const reads = doc.reads ?? {};
  const delivered = doc.delivered ?? {};
  const organised = doc.organised ?? {};
  const request = requestOf(requestRecordOf(doc));
  return {
    id: doc._id.toHexString(),
    kind: doc.kind,
    ...(doc.title != null && { title: doc.title }),
    ...(doc.jobId != null && { jobId: doc.jobId }),
    ...(doc.applicationId != null && { applicationId: doc.applicationId }),
    members: doc.members.map((m) => {
      const invitation = doc.invitations?.[readKey(m.userId)];
      return {
        userId: m.userId,
        role: m.role,
        joinedAt: m.joinedAt,
        lastReadSeq: reads[readKey(m.userId)] ?? 0,
        ...(delivered[readKey(m.userId)] !== undefined && {
          lastDeliveredSeq: delivered[readKey(m.userId)],
        }),
        // Sliced here too: a server that ignores `$slice` (FerretDB v1) still answers the cap.
        ...(doc.mentioned?.[readKey(m.userId)] && {
          mentionSeqs: doc.mentioned[readKey(m.userId)]!.slice(-MENTION_LIMITS.maxMentionSeqsKept),
        }),
        ...(invitation && { invitation: { from: invitation.from, state: invitation.state } }),
        ...(organised[readKey(m.userId)] && { organisation: { ...organised[readKey(m.userId)] } }),
      };
    }),
    createdBy: doc.createdBy,
    createdAt: doc.createdAt,
    ...(doc.lastMessage?.id != null && { lastMessage: fromPreviewDoc(doc.lastMessage) }),
    ...(request && { request }),
    blocked: doc.blocked === true,
    lastActivityAt: doc.lastActivityAt,
    version: doc.version,
    ...(doc.archived && { archived: true }),
    ...(doc.metaVersion != null && { metaVersion: doc.metaVersion }),
    ...(doc.metaChangedAt != null && { metaChangedAt: doc.metaChangedAt }),
  };
}

/** The preview of `message` as stored, `rv` the version of the revision it shows (if any). */
export function toPreviewDoc(message: Message, rv?: number): PreviewDoc {
  return { ...toPreview(message), ...(rv !== undefined && { rv }) };
}

function fromPreviewDoc(p: PreviewDoc): NonNullable<Conversation['lastMessage']> {
  return {
    id: p.id,
    seq: p.seq,
    senderId: p.senderId,
    body: p.body,
    createdAt: p.createdAt,
    ...(p.deleted && { deleted: true }),
  };
}

export function toMessage(doc: MessageDoc): Message {
  return {
    id: doc._id.toHexString(),
    conversationId: doc.conversationId,
    seq: doc.seq,
    version: doc.version,
    senderId: doc.senderId,
    clientMessageId: doc.clientMessageId,
    kind: doc.kind ?? 'user',
    body: doc.body ?? '',
    ...(doc.attachments?.length && { attachments: doc.attachments.map((a) => ({ ...a })) }),
    createdAt: doc.createdAt,
    ...(doc.editedAt && { editedAt: doc.editedAt }),
    ...(doc.deletedAt && { deletedAt: doc.deletedAt }),
    ...(doc.deletedBy && { deletedBy: doc.deletedBy }),
    ...(doc.safety && { safety: doc.safety }),
    ...(doc.replyTo !== undefined && { replyTo: doc.replyTo }),
    ...(doc.mentions?.length && { mentions: [...doc.mentions] }),
    ...(doc.reactions?.length && {
      reactions: doc.reactions.map((r) => ({ emoji: r.emoji, userId: r.userId })),
    }),
    ...(doc.action && { action: toActionCard(doc.action) }),
    ...(doc.shadow && { shadow: true }),
  };
}

/** A card as stored: copied, so callers never share the driver's objects. */
export function toActionCard(card: ActionCard): ActionCard {
  return {
    title: card.title,
    actions: card.actions.map((a) => ({ ...a })),
    ...(card.expiresAt && { expiresAt: card.expiresAt }),
    once: card.once,
    answers: (card.answers ?? []).map((a) => ({
      userId: a.userId,
      actionId: a.actionId,
      at: a.at,
    })),
  };
}

export function toReport(doc: ReportDoc): Report {
  return {
    id: doc._id.toHexString(),
    reporterId: doc.reporterId,
    reportedUserId: doc.reportedUserId,
    conversationId: doc.conversationId,
    ...(doc.messageId && { messageId: doc.messageId }),
    reason: doc.reason as Report['reason'],
    ...(doc.note && { note: doc.note }),
    ...(doc.snapshot && { snapshot: { ...doc.snapshot } }),
    createdAt: doc.createdAt,
    status:
      doc.status === 'resolved' ? reportTarget(doc.resolution as ReportResolution) : doc.status,
    ...(doc.resolution && { resolution: doc.resolution as ReportResolution }),
    ...(doc.resolvedBy && { resolvedBy: doc.resolvedBy }),
    ...(doc.resolvedAt && { resolvedAt: doc.resolvedAt }),
    history: (doc.history ?? []).map((t) => ({
      ...t,
      resolution: t.resolution as ReportResolution,
    })),
  };
}
