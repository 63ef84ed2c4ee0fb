import { type Conversation, type Principal } from '../entities.js';
import { BlockedError } from '../errors.js';
import { audienceOf, sharesActivity } from '../rules.js';
import { assertAdmitted } from '../send-decision.js';
import { type ChatDeps, memberConversation, trustOf } from './context.js';
import { standing } from './moderation.js';

/** Which of `userIds` may see each other's presence with `userId`: accepted, unblocked contacts, and the user. */
export async function visibleContacts(
  deps: ChatDeps,
  userId: string,
  userIds: string[],
): Promise<string[]> {
  const others = [...new Set(userIds)].filter((id) => id !== userId);
  const contacts = new Set(
    others.length > 0 ? await deps.store.contacts.among(userId, others) : [],
  );
  if (userIds.includes(userId)) contacts.add(userId);
  return [...new Set(userIds)].filter((id) => contacts.has(id));
}

/**
 * A group goes on when two of its members are apart (the hiring team keeps talking), but
 * nothing passes between those two there, either way: no message, edit, typing or reading. A
 * direct conversation carries its block itself. Bounded by the group's size.
 */
export async function withoutBlocked(
  deps: ChatDeps,
  conversation: Pick<Conversation, 'kind'>,
  userId: string,
  audience: string[],
): Promise<string[]> {
  if (conversation.kind !== 'group' || audience.length === 0) return audience;
  const blocked = new Set(await deps.store.contacts.blockedAmong(userId, audience));
  return blocked.size === 0 ? audience : audience.filter((id) => !blocked.has(id));
}

/**
 * The people behind a block with `viewerId` among the members of these conversations' groups:
 * what the viewer must not see of them (messages, previews, read positions). One query,
 * bounded by the conversations given (a page, a sync answer) times a group's size.
 */
export async function apartFrom(
  deps: ChatDeps,
  viewerId: string,
  conversations: readonly Conversation[],
): Promise<ReadonlySet<string>> {
  const others = new Set<string>();
  for (const c of conversations)
    if (c.kind === 'group')
      for (const m of c.members) if (m.userId !== viewerId) others.add(m.userId);
  if (others.size === 0) return new Set();
  return new Set(await deps.store.contacts.blockedAmong(viewerId, [...others]));
}

/** `apart` where it applies: in groups (a direct conversation carries its block itself). */
export function apartIn(conversation: Conversation, apart: ReadonlySet<string>) {
  return conversation.kind === 'group' ? apart : new Set<string>();
}

/** Who hears about a user's presence: the user's own devices and up to `limit - 1` contacts. */
export async function presenceAudience(
  deps: ChatDeps,
  userId: string,
  limit: number,
): Promise<string[]> {
  if (limit <= 1) return limit === 1 ? [userId] : [];
  return [userId, ...(await deps.store.contacts.audience(userId, limit - 1))];
}

/**
 * Who sees the principal typing here: the other members who may see its activity (not the
 * opener of a request the principal received, not an invitee). Typing is refused where a
 * message would be: across a block, after a decline, once a request's allowance is spent, and
 * to an invitee until they accept.
 */
export async function typingAudience(deps: ChatDeps, principal: Principal, conversationId: string) {
  const conversation = await memberConversation(deps, principal, conversationId);
  assertAdmitted(conversation, principal.userId, 'typing', trustOf(deps).requestAllowance);
  // Banned: refused; shadow-banned: typing reaches nobody, like their messages.
  if ((await standing(deps, principal.userId)).shadow) return { conversation, audience: [] };
  const audience = audienceOf(conversation).filter(
    (id) => id !== principal.userId && sharesActivity(conversation, principal.userId, id),
  );
  return {
    conversation,
    audience: await withoutBlocked(deps, conversation, principal.userId, audience),
  };
}

/**
 * Nobody sits a blocker and the person they blocked in one group: not a third party creating
 * it, not the platform adding someone. The answer does not say which pair.
 */
export async function assertNoBlockAmong(
  deps: ChatDeps,
  userIds: string[],
  joining: ReadonlySet<string> = new Set(userIds),
): Promise<void> {
  const pairs = await deps.store.contacts.blockedPairs(userIds);
  if (pairs.some(([a, b]) => joining.has(a) || joining.has(b)))
    throw new BlockedError('these people cannot all be in one conversation');
}
