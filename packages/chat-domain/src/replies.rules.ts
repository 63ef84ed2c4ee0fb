import { type Message } from './entities.js';
import { ValidationError } from './errors.js';
import { seenBy } from './rules.js';

/**
 * Why a reply's target is refused. A sender may quote only a message of the same conversation
 * that they can see: one that exists there, is not deleted (erasure deletes too) and was sent
 * after they joined. Another conversation's message is answered exactly like an unknown id, so
 * a reply leaks nothing of conversations the sender is not in.
 */
export type ReplyRefusal = 'not-found' | 'deleted' | 'before-join';

/** Decided once, evaluated by every store beside the append (the target is read with it). */
export function replyRefusal(
  target: Pick<
    Message,
    'conversationId' | 'createdAt' | 'deletedAt' | 'senderId' | 'shadow'
  > | null,
  conversationId: string,
  senderJoinedAt: Date | undefined,
  senderId: string,
): ReplyRefusal | null {
  // A shadow-banned sender's message is seen by that sender only: to anyone else it is not there.
  if (!target || target.conversationId !== conversationId || !seenBy(senderId)(target))
    return 'not-found';
  if (target.deletedAt) return 'deleted';
  if (senderJoinedAt && target.createdAt < senderJoinedAt) return 'before-join';
  return null;
}

const REPLY_REFUSALS: Record<ReplyRefusal, string> = {
  'not-found': 'no such message in this conversation',
  deleted: 'the message replied to was deleted',
  'before-join': 'the message replied to was sent before you joined',
};

/** The error a refused reply answers: INVALID_PAYLOAD naming `replyTo`; nothing is stored. */
export function replyRefusalError(refusal: ReplyRefusal): ValidationError {
  const message = REPLY_REFUSALS[refusal];
  return new ValidationError(`cannot reply: ${message}`, [{ path: 'replyTo', message }]);
}
