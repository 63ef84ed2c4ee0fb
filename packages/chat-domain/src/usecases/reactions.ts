import { type Principal } from '../entities.js';
import { NotFoundError } from '../errors.js';
import { sidesOf, toViewerMessageDto } from '../mappers.js';
import { REACTION_DEFAULTS, type ReactionSettings } from '../reactions.rules.js';
import { type MessageDto } from '../responses.js';
import { audienceOf, seenBy } from '../rules.js';
import { type ReactInput } from '../schemas.js';
import { assertAdmitted } from '../send-decision.js';
import { type ChatDeps, type Origin, except, memberConversation, trustOf } from './context.js';
import { apartFrom, apartIn, withoutBlocked } from './presence.js';

export function reactionSettingsOf(deps: ChatDeps): ReactionSettings {
  return { ...REACTION_DEFAULTS, ...deps.reactions };
}

/**
 * Puts the caller's reaction on or off a message (a state: repeating it changes nothing and
 * tells nobody). A change takes a new version of the conversation, so devices that were away
 * get the message with its reactions through `sync`; live, the members who may see the message
 * get `message:reacted`.
 */
export async function react(
  deps: ChatDeps,
  principal: Principal,
  input: ReactInput,
  origin: Origin = {},
): Promise<MessageDto> {
  const [conversation, target] = await Promise.all([
    memberConversation(deps, principal, input.conversationId),
    deps.store.messages.get(input.conversationId, input.messageId),
  ]);
  // Refused where typing is (a block, a spent request, an open invitation): checked here for a
  // clear answer, and again by the store with the write.
  assertAdmitted(conversation, principal.userId, 'react', trustOf(deps).requestAllowance);
  const apart = apartIn(conversation, await apartFrom(deps, principal.userId, [conversation]));
  // Nothing of someone behind a block can be reacted to: it looks like no message at all.
  if (!target || apart.has(target.senderId) || !seenBy(principal.userId)(target))
    throw new NotFoundError('no such message in this conversation');
  const result = await deps.store.messages.react(
    conversation.id,
    input.messageId,
    { userId: principal.userId, emoji: input.emoji, on: input.on },
    reactionSettingsOf(deps),
  );
  if (!result) throw new NotFoundError('no such message in this conversation');
  const dto = toViewerMessageDto(result.message, principal.userId, {
    viewerId: principal.userId,
  });
  if (result.changed) {
    // A shadow-banned sender's message is theirs alone: so is every reaction to it.
    const audience = result.message.shadow
      ? [result.message.senderId]
      : await withoutBlocked(deps, conversation, result.message.senderId, audienceOf(conversation));
    // Each side sees the message as the content policy lets it (a masked body stays masked).
    for (const side of sidesOf(result.message, audience))
      deps.fanout.toUsers(
        side.users,
        'message:reacted',
        { message: side.dto, userId: principal.userId, emoji: input.emoji, on: input.on },
        except(origin),
      );
  }
  return dto;
}
