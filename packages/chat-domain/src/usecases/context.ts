import { type Conversation, type Message, type Principal } from '../entities.js';
import { type AttachmentStore } from '../attachments.js';
import { type ChatStore, type Clock, type FanOut } from '../ports.js';
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
