import type { SendAttempt } from '@jobsphere/chat-domain';
import type { mongo } from 'mongoose';
import type { Alongside } from './version-allocator.js';
import type { ConversationDoc } from './models.js';

// The domain's send decision (`decideSend`) compiled into the filter and update of the send's
// one conditional update: the filter matches exactly the conversations where the decision
// admits the attempt, so the common send is one round trip with no read before it. A refused
// send is named by the decision itself (messages.mongo.ts asks it on the document), and the
// store contract runs the decision's table of cases (`SEND_CASES`) against this filter.

/** The conversations where `decideSend` admits `attempt`. */
export function sendGuard(attempt: SendAttempt): mongo.Filter<ConversationDoc> {
  if (attempt.kind === 'system') return {};
  const sender = attempt.senderId;
  const action = attempt.action ?? 'send';
  // Reading and answering a platform card need membership and no open invitation only.
  const membershipOnly = action === 'read' || action === 'answer';
  return {
    // not-member
    memberIds: sender,
    // invitation-pending
    invited: { $ne: sender },
    declinedInvites: { $ne: sender },
    ...(!membershipOnly && {
      // blocked
      blocked: { $ne: true },
    }),
    // No open request, or its recipient (a send replies and accepts it), or its opener within
    // the allowance (request-declined, request-pending otherwise); a deletion only takes away.
    ...(!membershipOnly &&
      action !== 'delete' && {
        $or: [
          { 'request.state': { $nin: ['pending', 'declined'] } },
          { 'request.to': sender },
          { 'request.state': 'pending', 'request.left': { $gt: 0 } },
        ],
      }),
  };
}

/**
 * What an admitted send changes in the same update (`SendChanges.spendsAllowance`): one of the
 * request's `left`, spent on every admitted user message. `left` is read only while pending,
 * when every admitted user message is the opener's or the recipient's reply that ends the
 * request, so spending it unconditionally is the decision's change wherever it matters, and
 * needs no branch the update cannot express (DocumentDB has no pipeline updates).
 */
export function sendChanges(attempt: SendAttempt): Alongside {
  const action = attempt.action ?? 'send';
  return attempt.kind === 'system' || (action !== 'send' && action !== 'edit')
    ? {}
    : { $inc: { 'request.left': -1 } };
}
