import { type Conversation, type Message, type Principal } from '../entities.js';
import { type AttachmentStore } from '../attachments.js';
import { UnavailableError } from '../errors.js';
import { type ChatStore, type Clock, type FanOut, type UnannouncedSends } from '../ports.js';
import { TRUST_DEFAULTS, assertMember } from '../rules.js';

export interface ChatDeps {
  store: ChatStore;
  fanout: FanOut;
  clock: Clock;
  /**
   * How long a change may still be on its way into the store after its version was taken.
   * A sync cursor never passes a change younger than this, so a device resuming from it
   * misses nothing that was in flight. Default 10 s.
   */
  settleMs?: number;
  /** Message requests and edits (defaults: TRUST_DEFAULTS). */
  trust?: { requestAllowance?: number; editWindowMs?: number };
  /** Uploaded files; without it messages carry text only. maxBytes defaults to ATTACHMENT_DEFAULTS. */
  attachments?: { store: AttachmentStore; maxBytes?: number };
  /** Sends answered UNAVAILABLE, announced by their retry if they landed (default: none kept). */
  unannounced?: UnannouncedSends;
}

/** Where a request came from, so its own device is not sent its own echo. */
export interface Origin {
  socketId?: string;
}

export const DEFAULT_SETTLE_MS = 10_000;

export function trustOf(deps: ChatDeps) {
  return {
    requestAllowance: deps.trust?.requestAllowance ?? TRUST_DEFAULTS.requestAllowance,
    editWindowMs: deps.trust?.editWindowMs ?? TRUST_DEFAULTS.editWindowMs,
  };
}

export function except(origin: Origin): { exceptSocketId?: string } {
  return origin.socketId ? { exceptSocketId: origin.socketId } : {};
}

/** The conversation, if the principal is a member; the same error whether it exists or not. */
export async function memberConversation(
  deps: ChatDeps,
  principal: Principal,
  conversationId: string,
): Promise<Conversation> {
  return assertMember(
    await deps.store.conversations.get(conversationId),
    principal.userId,
    conversationId,
  );
}

/** When a message last changed: what the sync cursor's settle window is measured against. */
export function changedAt(m: Message): number {
  return Math.max(m.createdAt.getTime(), m.editedAt?.getTime() ?? 0, m.deletedAt?.getTime() ?? 0);
}

/** One send's identity for `UnannouncedSends`: what a retry repeats. */
function sendKey(conversationId: string, senderId: string, clientMessageId: string): string {
  return `${conversationId}:${senderId}:${clientMessageId}`;
}

/**
 * A send failed with UNAVAILABLE: its write may still land. Marked, so that the retry which
 * then finds it stored announces it; a mark that cannot be kept changes nothing of the answer.
 */
export async function markIfUnavailable(
  deps: ChatDeps,
  error: unknown,
  conversationId: string,
  senderId: string,
  clientMessageId: string,
): Promise<void> {
  if (!(error instanceof UnavailableError) || !deps.unannounced) return;
  await deps.unannounced
    .mark(sendKey(conversationId, senderId, clientMessageId))
    .catch(() => undefined);
}

/**
 * Whether a stored send is news to its audience: a first store always; a duplicate only when an
 * earlier attempt was answered UNAVAILABLE and so never announced (once).
 */
export async function needsAnnouncing(
  deps: ChatDeps,
  duplicate: boolean,
  conversationId: string,
  senderId: string,
  clientMessageId: string,
): Promise<boolean> {
  if (!duplicate) return true;
  if (!deps.unannounced) return false;
  return deps.unannounced
    .take(sendKey(conversationId, senderId, clientMessageId))
    .catch(() => false);
}
