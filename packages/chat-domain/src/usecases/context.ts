import { type Conversation, type Message, type Principal } from '../entities.js';
import { type AttachmentStore } from '../attachments.js';
import { DomainError, UnavailableError } from '../errors.js';
import {
  type AppendResult,
  type ChatStore,
  type Clock,
  type FanOut,
  type MessageDraft,
  type UnannouncedSends,
} from '../ports.js';
import { type ReactionSettings } from '../reactions.rules.js';
import { type ModerationGate } from '../moderation.js';
import { TRUST_DEFAULTS, assertMember } from '../rules.js';
import { type ContentPolicySettings } from '../content-policy.js';
import { type PreSendHook } from '../presend.js';
import { type ResponseTimeRecording } from '../response-times.js';

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
  /** The built-in content policy (absent or disabled: messages are not scanned). */
  contentPolicy?: ContentPolicySettings;
  /** The platform's pre-send hook (absent: no call, no cost). */
  presend?: PreSendHook;
  /** Which reactions, and how many (defaults: REACTION_DEFAULTS). */
  reactions?: Partial<ReactionSettings>;
  /** Restrictions and slow mode on the send path, shared across instances (default: in process). */
  moderation?: ModerationGate;
  /** Response-time figures recorded after each stored send (absent: none recorded). */
  responseTimes?: ResponseTimeRecording;
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
export function sendKey(
  draft: Pick<MessageDraft, 'conversationId' | 'senderId' | 'clientMessageId'>,
): string {
  return `${draft.conversationId}:${draft.senderId}:${draft.clientMessageId}`;
}

/** How many times one instance re-checks an unannounced send before leaving it to the retry. */
const RECHECK_ROUNDS = 3;

/**
 * A send failed with UNAVAILABLE (or a store error mapped to it): its write may still land.
 * Marked, so that a retry which finds it stored announces it; and checked again by this instance
 * (the same draft appended again: stored by then, or now) in case no retry comes, e.g. the
 * sender's device saw it in a sync first. Whichever takes the mark announces, so once. A mark
 * that cannot be kept changes nothing of the answer.
 */
export async function markIfUnavailable(
  deps: ChatDeps,
  error: unknown,
  draft: MessageDraft,
  announce: (landed: AppendResult) => Promise<void>,
): Promise<void> {
  if (mayHaveLanded(error)) await deferAnnouncement(deps, draft, announce, RECHECK_ROUNDS);
}

/**
 * A stored send, told to its audience when it is news to them (`needsAnnouncing`). Telling it
 * may need the store (who is behind a block in a group, the conversation a reply accepted); if
 * the store stops answering right after the write, the send is still acknowledged (it is
 * stored, and a retry would only be a duplicate nobody announces) and the telling is deferred
 * like an UNAVAILABLE send's: marked, re-checked by this instance, announced once.
 */
export async function announceStored(
  deps: ChatDeps,
  draft: MessageDraft,
  landed: AppendResult,
  announce: (landed: AppendResult) => Promise<void>,
): Promise<void> {
  if (!(await needsAnnouncing(deps, landed.duplicate, draft))) return;
  // The re-check's append is a duplicate: what only the first write knew comes along.
  const later = (again: AppendResult) =>
    announce({ ...again, acceptedRequest: landed.acceptedRequest ?? again.acceptedRequest });
  await announce(landed).catch(() => deferAnnouncement(deps, draft, later, RECHECK_ROUNDS));
}

async function deferAnnouncement(
  deps: ChatDeps,
  draft: MessageDraft,
  announce: (landed: AppendResult) => Promise<void>,
  rounds: number,
): Promise<void> {
  const marks = deps.unannounced;
  if (!marks) return;
  const key = sendKey(draft);
  const recheck = async () => {
    if (!(await marks.take(key))) return; // a retry announced it already
    try {
      const landed = await deps.store.messages.append(draft);
      await announce(landed);
    } catch (again) {
      // Still unavailable: checked again, then the mark waits for the client's retry. Refused
      // now: nothing stored.
      if (!mayHaveLanded(again)) return;
      if (rounds > 1) await deferAnnouncement(deps, draft, announce, rounds - 1);
      else await marks.mark(key);
    }
  };
  await marks.mark(key, recheck).catch(() => undefined);
}

/**
 * UNAVAILABLE, or any error that is not the domain's (a driver's network error, mapped to
 * UNAVAILABLE at the boundary): the write may have been stored. A refusal stored nothing.
 */
function mayHaveLanded(error: unknown): boolean {
  return !(error instanceof DomainError) || error instanceof UnavailableError;
}

/**
 * Whether a stored send is news to its audience: a first store always; a duplicate only when an
 * earlier attempt was answered UNAVAILABLE and nobody announced it since (once).
 */
async function needsAnnouncing(
  deps: ChatDeps,
  duplicate: boolean,
  draft: MessageDraft,
): Promise<boolean> {
  if (!duplicate) return true;
  if (!deps.unannounced) return false;
  return deps.unannounced.take(sendKey(draft)).catch(() => false);
}
