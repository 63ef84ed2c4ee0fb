import { type Conversation, type Principal } from '../entities.js';
import { BlockedError } from '../errors.js';
import { memberIds, sharesActivity } from '../rules.js';
import { type ChatDeps, memberConversation } from './context.js';

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
 * A group is no block's business (the hiring team keeps talking), but its members' activity
 * is: who blocked whom, either way, sees none of the other's typing or reading there. A direct
 * conversation carries its block itself. Bounded by the group's size.
 */
export async function withoutBlocked(
  deps: ChatDeps,
  conversation: Conversation,
  userId: string,
  audience: string[],
): Promise<string[]> {
  if (conversation.kind !== 'group' || audience.length === 0) return audience;
  const blocked = new Set(await deps.store.contacts.blockedAmong(userId, audience));
  return blocked.size === 0 ? audience : audience.filter((id) => !blocked.has(id));
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
 * opener of a request the principal received). Nobody types across a block.
 */
export async function typingAudience(deps: ChatDeps, principal: Principal, conversationId: string) {
  const conversation = await memberConversation(deps, principal, conversationId);
  if (conversation.blocked) throw new BlockedError();
  const audience = memberIds(conversation).filter(
    (id) => id !== principal.userId && sharesActivity(conversation, principal.userId, id),
  );
  return {
    conversation,
    audience: await withoutBlocked(deps, conversation, principal.userId, audience),
  };
}
