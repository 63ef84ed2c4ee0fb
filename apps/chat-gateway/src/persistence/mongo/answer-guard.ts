import type { ActionAnswer } from '@jobsphere/chat-domain';

// The domain's answer decision (`decideAnswer`) in the one conditional update that records an
// answer. A card's actions and expiry never change once posted, so what they decide (no such
// action, a link) is asked of the decision on the message as read before; what changes (the
// answers so far) and the expiry are compiled into the update's filter, so of two answers
// racing on any instances, the document takes one. The action contract holds both stores to it.
// (Not `$elemMatch` on the actions: FerretDB v1 refuses field conditions inside it.)

/** The messages whose card still lets `answer` answer now (its action checked on the read). */
export function answerGuard(answer: ActionAnswer): Record<string, unknown> {
  return {
    'action.actions.id': answer.actionId,
    $and: [
      // expired
      {
        $or: [
          { 'action.expiresAt': { $exists: false } },
          { 'action.expiresAt': { $gt: answer.at } },
        ],
      },
      // answered: one in all, or one per member (`$nor`, not `$ne`, for FerretDB v1's arrays)
      {
        $or: [
          { 'action.once': true, 'action.answers': { $size: 0 } },
          { 'action.once': false, $nor: [{ 'action.answers.userId': answer.userId }] },
        ],
      },
    ],
  };
}

/** The answer recorded with the version it takes. */
export function answerChange(answer: ActionAnswer, version: number) {
  return {
    $set: { version },
    $push: {
      'action.answers': { userId: answer.userId, actionId: answer.actionId, at: answer.at },
    },
  };
}
