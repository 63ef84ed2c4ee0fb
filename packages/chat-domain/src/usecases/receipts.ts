import { type Conversation, type Principal } from '../entities.js';
import { type DeliveredResult, type SettingsDto } from '../responses.js';
import { decideSend, sendSubjectOf } from '../send-decision.js';
import { audienceOf, deliveredPosition, lastMessageSeq, sharesReceipts } from '../rules.js';
import { type MarkDeliveredInput, type SettingsUpdate } from '../schemas.js';
import { type ChatDeps, type Origin, except, trustOf } from './context.js';
import { withoutBlocked } from './presence.js';

const NOBODY: ReadonlySet<string> = new Set();

/**
 * Who among `userIds` turned receipts off: one query, bounded by the ids given (a page's or a
 * conversation's members).
 */
export async function hidingAmong(
  deps: ChatDeps,
  userIds: Iterable<string>,
): Promise<ReadonlySet<string>> {
  const ids = [...new Set(userIds)];
  if (ids.length === 0) return NOBODY;
  return new Set(await deps.store.preferences.hidingReceipts(ids));
}

/** Everyone a page of conversations names, for `hidingAmong`. */
export function membersOf(conversations: readonly Conversation[]): string[] {
  return conversations.flatMap((c) => c.members.map((m) => m.userId));
}

/**
 * Of `audience`, who may hear `subjectId`'s receipts in this conversation: those sharing activity
 * with them, none of either side hiding receipts, and (in a group) nobody behind a block.
 */
export async function receiptAudience(
  deps: ChatDeps,
  conversation: Conversation,
  subjectId: string,
): Promise<string[]> {
  const others = audienceOf(conversation).filter((id) => id !== subjectId);
  if (others.length === 0) return [];
  const hiding = await hidingAmong(deps, [subjectId, ...others]);
  if (hiding.has(subjectId)) return [];
  return withoutBlocked(
    deps,
    conversation,
    subjectId,
    others.filter((id) => sharesReceipts(conversation, subjectId, id, NOBODY, hiding)),
  );
}

/**
 * A device acknowledges what it holds, many conversations at once. Each position moves forward
 * only and never past the newest message; one that moves nothing costs no write and no event
 * (the server coalesces what the SDK's debounce let through). Conversations the caller is not
 * admitted to are left out of the answer: an acknowledgement is never refused as a whole.
 */
export async function markDelivered(
  deps: ChatDeps,
  principal: Principal,
  input: MarkDeliveredInput,
  origin: Origin = {},
): Promise<DeliveredResult> {
  const wanted = new Map<string, number>();
  for (const { conversationId, seq } of input.positions)
    wanted.set(conversationId, Math.max(seq, wanted.get(conversationId) ?? 0));
  const conversations = await deps.store.conversations.getMany([...wanted.keys()]);
  const allowance = trustOf(deps).requestAllowance;
  const answers = await Promise.all(
    conversations.map(async (conversation) => {
      const decision = decideSend(sendSubjectOf(conversation, allowance), {
        senderId: principal.userId,
        kind: 'user',
        action: 'read',
      });
      if (!decision.ok) return [];
      const current = deliveredPosition(conversation, principal.userId);
      const target = Math.min(wanted.get(conversation.id) ?? 0, lastMessageSeq(conversation));
      if (target <= current)
        return [{ conversationId: conversation.id, lastDeliveredSeq: current }];
      const moved = await deps.store.conversations.advanceDelivered(
        conversation.id,
        principal.userId,
        target,
      );
      if (moved === null) return [];
      const lastDeliveredSeq = Math.max(moved, current);
      const audience = await receiptAudience(deps, conversation, principal.userId);
      deps.fanout.toUsers(
        [...audience, principal.userId],
        'conversation:delivered',
        { conversationId: conversation.id, userId: principal.userId, lastDeliveredSeq },
        except(origin),
      );
      return [{ conversationId: conversation.id, lastDeliveredSeq }];
    }),
  );
  return { conversations: answers.flat() };
}

export async function getSettings(deps: ChatDeps, principal: Principal): Promise<SettingsDto> {
  const hiding = await hidingAmong(deps, [principal.userId]);
  return { receipts: !hiding.has(principal.userId) };
}

/** Changes the caller's settings; their other devices are told. */
export async function updateSettings(
  deps: ChatDeps,
  principal: Principal,
  input: SettingsUpdate,
  origin: Origin = {},
): Promise<SettingsDto> {
  if (input.receipts === undefined) return getSettings(deps, principal);
  const changed = await deps.store.preferences.setReceipts(
    principal.userId,
    input.receipts,
    deps.clock.now(),
  );
  const settings = { receipts: input.receipts };
  if (changed)
    deps.fanout.toUsers([principal.userId], 'settings:updated', settings, except(origin));
  return settings;
}
