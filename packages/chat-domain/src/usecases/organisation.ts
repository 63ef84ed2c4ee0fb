import { type Conversation, type Principal } from '../entities.js';
import { ConflictError, NotMemberError, ValidationError } from '../errors.js';
import { toOrganisationDto } from '../mappers.js';
import { type ConversationPage, type OrganisationChange } from '../ports.js';
import { type OrganisedDto } from '../responses.js';
import { LIMITS, lastMessageSeq, organisationOf } from '../rules.js';
import { type OrganiseInput } from '../schemas.js';
import { type ChatDeps, type Origin, except, memberConversation } from './context.js';

function pinCapError(): ConflictError {
  return new ConflictError(
    `at most ${LIMITS.maxPinned} pinned conversations: unpin one before pinning another`,
  );
}

async function organise(
  deps: ChatDeps,
  conversationId: string,
  userId: string,
  change: OrganisationChange,
): Promise<Conversation> {
  const after = await deps.store.conversations.organise(conversationId, userId, change);
  if (after === null) throw new NotMemberError(conversationId);
  return after;
}

/**
 * Pins within the cap: refused before any write when the person already has the cap pinned;
 * two pins racing past it are both counted after their write, and whichever sees the count over
 * the cap takes its pin back, so the cap holds across instances.
 */
async function pin(deps: ChatDeps, conversation: Conversation, userId: string): Promise<void> {
  const pinned = deps.store.conversations;
  if ((await pinned.countPinned(userId, LIMITS.maxPinned)) >= LIMITS.maxPinned) throw pinCapError();
  await organise(deps, conversation.id, userId, { pinnedAt: deps.clock.now(), archivedSeq: null });
  if ((await pinned.countPinned(userId, LIMITS.maxPinned)) > LIMITS.maxPinned) {
    await organise(deps, conversation.id, userId, { pinnedAt: null });
    throw pinCapError();
  }
}

/**
 * A person mutes, pins, archives or marks unread one conversation for themself only: stored on
 * their member entry, told to their other devices (`conversation:organised`), never to anyone
 * else. Pinning takes a conversation out of the archive and archiving unpins it.
 */
export async function organiseConversation(
  deps: ChatDeps,
  principal: Principal,
  input: OrganiseInput,
  origin: Origin = {},
): Promise<OrganisedDto> {
  const { conversationId, muted, pinned, archived, unread } = input;
  if (pinned === true && archived === true)
    throw new ValidationError('a conversation cannot be pinned and archived at once');
  const conversation = await memberConversation(deps, principal, conversationId);
  const own = organisationOf(conversation, principal.userId);
  if (pinned === true && own.pinnedAt === undefined)
    await pin(deps, conversation, principal.userId);
  const change: OrganisationChange = {
    ...(muted !== undefined && { muted }),
    ...(pinned === false && { pinnedAt: null }),
    ...(archived === true && { archivedSeq: lastMessageSeq(conversation), pinnedAt: null }),
    ...(archived === false && { archivedSeq: null }),
    ...(unread !== undefined && { markedUnread: unread }),
  };
  const after =
    Object.keys(change).length > 0 || pinned === true
      ? await organise(deps, conversationId, principal.userId, change)
      : conversation;
  const organised = { conversationId, ...toOrganisationDto(after, principal.userId) };
  deps.fanout.toUsers([principal.userId], 'conversation:organised', organised, except(origin));
  return organised;
}

/** Reading a conversation takes its "marked unread" away, on every device of the reader. */
export async function clearMarkedUnread(
  deps: ChatDeps,
  conversation: Conversation,
  userId: string,
  origin: Origin,
): Promise<void> {
  if (organisationOf(conversation, userId).markedUnread !== true) return;
  const after = await organise(deps, conversation.id, userId, { markedUnread: false });
  deps.fanout.toUsers(
    [userId],
    'conversation:organised',
    { conversationId: conversation.id, ...toOrganisationDto(after, userId) },
    except(origin),
  );
}

/** The inbox's first page starts with the person's pinned conversations (at most the cap). */
export async function withPinnedFirst(
  deps: ChatDeps,
  userId: string,
  query: { cursor?: string; box?: string },
  page: ConversationPage,
): Promise<ConversationPage> {
  if (query.cursor !== undefined || (query.box ?? 'inbox') !== 'inbox') return page;
  const pinned = await deps.store.conversations.listForMember(userId, {
    limit: LIMITS.maxPinned,
    box: 'pinned',
  });
  return { ...page, conversations: [...pinned.conversations, ...page.conversations] };
}
