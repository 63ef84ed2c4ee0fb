import {
  ATTACHMENT_DEFAULTS,
  assertAcceptableUpload,
  type AttachmentContentType,
  type DownloadLinkDto,
  type UploadRequestInput,
  type UploadSlotDto,
} from '../attachments.js';
import { type Message, type MessageAttachment, type Principal } from '../entities.js';
import { NotFoundError, ValidationError } from '../errors.js';
import { type ChatDeps, memberConversation } from './context.js';
import { standing } from './moderation.js';

function attachmentStore(deps: ChatDeps) {
  if (!deps.attachments)
    throw new ValidationError('attachments are not enabled on this server', [
      { path: 'attachmentIds', message: 'not accepted here' },
    ]);
  return deps.attachments.store;
}

/**
 * A slot to upload one file for a conversation the caller may send in: the type must be on the
 * allow-list, the name must fit it, the size within the cap. The storage enforces the same.
 */
export async function requestUpload(
  deps: ChatDeps,
  principal: Principal,
  input: UploadRequestInput,
): Promise<UploadSlotDto> {
  const store = attachmentStore(deps);
  await standing(deps, principal.userId);
  assertAcceptableUpload(input, deps.attachments?.maxBytes ?? ATTACHMENT_DEFAULTS.maxBytes);
  // A blocked conversation still gets a slot: its send is refused (BLOCKED), the upload expires.
  const conversation = await memberConversation(deps, principal, input.conversationId);
  const slot = await store.createSlot({
    uploaderId: principal.userId,
    conversationId: conversation.id,
    fileName: input.fileName,
    contentType: input.contentType.toLowerCase() as AttachmentContentType,
    size: input.size,
    at: deps.clock.now(),
  });
  return { ...slot, expiresAt: slot.expiresAt.toISOString() };
}

/** A short-lived download link, for members only; the same answer whether the file exists or not. */
export async function attachmentLink(
  deps: ChatDeps,
  principal: Principal,
  conversationId: string,
  attachmentId: string,
): Promise<DownloadLinkDto> {
  const store = attachmentStore(deps);
  await memberConversation(deps, principal, conversationId);
  const link = await store.downloadLink(conversationId, attachmentId, deps.clock.now());
  if (!link) throw new NotFoundError('no such attachment in this conversation');
  return { url: link.url, expiresAt: link.expiresAt.toISOString() };
}

/** The key a send's claim is made under: the same for every retry of that send. */
export function messageKey(conversationId: string, senderId: string, clientMessageId: string) {
  return [conversationId, senderId, clientMessageId].map(encodeURIComponent).join(':');
}

/**
 * Claims the sender's uploads for the message being sent (before it is stored, so a stored
 * message never points at a file that could still expire). A retry claims the same again.
 */
export async function claimAttachments(
  deps: ChatDeps,
  principal: Principal,
  input: { conversationId: string; clientMessageId: string; attachmentIds?: string[] },
): Promise<MessageAttachment[] | undefined> {
  if (!input.attachmentIds?.length) return undefined;
  const store = attachmentStore(deps);
  const claimed = await store.claim({
    uploaderId: principal.userId,
    conversationId: input.conversationId,
    ids: input.attachmentIds,
    messageKey: messageKey(input.conversationId, principal.userId, input.clientMessageId),
    at: deps.clock.now(),
  });
  if (claimed.length !== input.attachmentIds.length)
    throw new NotFoundError('an attachment is not an upload of yours for this conversation');
  return claimed;
}

/** A deleted message takes its files with it: links refused from now on, objects deleted. */
export async function discardAttachments(deps: ChatDeps, message: Message): Promise<void> {
  await deps.attachments?.store.discardMessage(
    messageKey(message.conversationId, message.senderId, message.clientMessageId),
  );
}

/** Gives back what a send claimed, once the message was refused for good. */
export async function releaseAttachments(
  deps: ChatDeps,
  principal: Principal,
  input: { conversationId: string; clientMessageId: string },
): Promise<void> {
  await deps.attachments?.store.release({
    uploaderId: principal.userId,
    messageKey: messageKey(input.conversationId, principal.userId, input.clientMessageId),
  });
}
