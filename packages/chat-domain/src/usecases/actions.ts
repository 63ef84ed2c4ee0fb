import {
  ACTION_LIMITS,
  decideAnswer,
  newActionCard,
  type ActionCard,
  type ActionMessageInput,
  type AnswerActionInput,
  type AnswerRefusal,
} from '../actions.js';
import { type Principal } from '../entities.js';
import {
  ActionExpiredError,
  AlreadyAnsweredError,
  ConflictError,
  NotFoundError,
  ValidationError,
  type DomainError,
} from '../errors.js';
import { toMessageDto } from '../mappers.js';
import { type MessageDto, type SendResult } from '../responses.js';
import { audienceOf } from '../rules.js';
import { assertAdmitted } from '../send-decision.js';
import { type ChatDeps, type Origin, except, memberConversation, trustOf } from './context.js';
import { postAsPlatform } from './platform.js';

/** Passes of an answer that lost a race to another member's (once: false) before giving up. */
const ANSWER_PASSES = 3;

/**
 * The platform posts a card: a system message whose body is `text`, with up to
 * ACTION_LIMITS.maxActions buttons. Idempotent by the caller's key like any system message.
 */
export async function postActionMessage(
  deps: ChatDeps,
  conversationId: string,
  input: ActionMessageInput,
): Promise<SendResult> {
  const now = deps.clock.now().getTime();
  if (input.expiresAt !== undefined) {
    const at = new Date(input.expiresAt).getTime();
    if (at <= now || at - now > ACTION_LIMITS.maxExpiryMs)
      throw new ValidationError('expiresAt must be in the future, within a year', [
        { path: 'expiresAt', message: 'out of range' },
      ]);
  }
  return postAsPlatform(
    deps,
    conversationId,
    input.idempotencyKey,
    input.text,
    newActionCard(input),
  );
}

/** The error that tells a member why their answer was refused. */
export function answerRefusalError(refusal: AnswerRefusal, card?: ActionCard): DomainError {
  switch (refusal) {
    case 'not-actionable':
      return new ValidationError('this message has no actions', [
        { path: 'messageId', message: 'not an action message' },
      ]);
    case 'no-such-action':
      return new ValidationError('no such action on this message', [
        { path: 'actionId', message: 'not one of the message’s actions' },
      ]);
    case 'link':
      return new ValidationError('a link is opened, not answered', [
        { path: 'actionId', message: 'a link' },
      ]);
    case 'expired':
      return new ActionExpiredError();
    case 'answered':
      return new AlreadyAnsweredError(card?.once ?? true);
    default:
      return refusal satisfies never;
  }
}

/**
 * A member answers a card: a change of the message at a new version (every member's devices
 * get `message:updated` live and find it through sync; the platform gets `message.answered`).
 * The store applies it only where `decideAnswer` still admits it, atomically: of two devices
 * answering at once, on any instances, one wins and the other is told ALREADY_ANSWERED.
 * Repeating one's own answer (a retry) returns the message as it is.
 */
export async function answerAction(
  deps: ChatDeps,
  principal: Principal,
  input: AnswerActionInput,
  origin: Origin = {},
): Promise<MessageDto> {
  const conversation = await memberConversation(deps, principal, input.conversationId);
  assertAdmitted(conversation, principal.userId, 'answer', trustOf(deps).requestAllowance);
  for (let pass = 0; pass < ANSWER_PASSES; pass++) {
    const message = await deps.store.messages.get(conversation.id, input.messageId);
    if (!message) throw new NotFoundError('no such message in this conversation');
    if (message.deletedAt) throw new ConflictError('the message was deleted');
    const mine = message.action?.answers.find((a) => a.userId === principal.userId);
    if (mine?.actionId === input.actionId) return toMessageDto(message);
    const answer = { userId: principal.userId, actionId: input.actionId, at: deps.clock.now() };
    const decision = decideAnswer(message.action, answer);
    if (!decision.ok) throw answerRefusalError(decision.refusal, message.action);
    const revised = await deps.store.messages.revise(
      conversation.id,
      message.id,
      { kind: 'answer', ...answer },
      { actor: principal.userId },
    );
    if (!revised) continue; // another answer landed first: the decision names it next pass
    const dto = toMessageDto(revised);
    deps.fanout.toUsers(audienceOf(conversation), 'message:updated', dto, except(origin));
    return dto;
  }
  throw new ConflictError('the message changed meanwhile; look again');
}
