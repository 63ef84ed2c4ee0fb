import {
  type Conversation,
  type ConversationKind,
  type MessageKind,
  type MessageRequest,
} from './entities.js';
import {
  BlockedError,
  InvitationPendingError,
  NotMemberError,
  RequestDeclinedError,
  RequestPendingError,
  type DomainError,
} from './errors.js';

/**
 * A conversation's request as every store keeps it: one shape, so the send decision reads the
 * same thing in every store. Every conversation has one (`none` when it never was a request or
 * was accepted), so a store whose send is one conditional update can spend the opener's
 * allowance without first asking which case it is in.
 */
export interface RequestRecord {
  state: 'none' | 'pending' | 'declined';
  /** The opener and the recipient, once there was a request. */
  from?: string;
  to?: string;
  /**
   * Messages the opener may still send while pending, of `allowance`. Read only while
   * pending; a store may spend it on any admitted send (while pending, every admitted user
   * message is the opener's, or the recipient's reply, which ends the request).
   */
  left: number;
  allowance: number;
}

/** The record of a new conversation: a request when opened with a stranger, else none. */
export function newRequestRecord(
  request: { from: string; to: string } | undefined,
  allowance = 0,
): RequestRecord {
  return request
    ? { state: 'pending', from: request.from, to: request.to, left: allowance, allowance }
    : { state: 'none', left: 0, allowance: 0 };
}

/** What members see of the record: the request while pending or declined, else none. */
export function requestOf(record: RequestRecord): MessageRequest | undefined {
  return (record.state === 'pending' || record.state === 'declined') &&
    record.from !== undefined &&
    record.to !== undefined
    ? { from: record.from, to: record.to, state: record.state, remaining: record.left }
    : undefined;
}

/** Whether `userId` sending now is the reply of an open request's recipient (it accepts it). */
export function repliesToRequest(record: RequestRecord, userId: string): boolean {
  return requestOf(record)?.to === userId;
}

/** What the send decision reads of a conversation. */
export interface SendSubject {
  kind: ConversationKind;
  memberIds: readonly string[];
  /** Members whose invitation to the group is open (pending or declined). */
  invited?: readonly string[];
  /** A block between the two people of a direct conversation. */
  blocked: boolean;
  request: RequestRecord;
}

/**
 * What reaches the others: a message (the default), an edit or a deletion of one of the
 * sender's, a typing indicator, or moving the read position. Each passes the same decision.
 */
export type ConversationAction =
  'send' | 'edit' | 'delete' | 'typing' | 'read' | 'react' | 'answer';

export interface SendAttempt {
  senderId: string;
  /** The platform's own messages come from no member, and no block or request stops them. */
  kind: MessageKind;
  /** Default 'send'. */
  action?: ConversationAction;
}

/** Why a send is refused; each reason is one domain error (`sendRefusalError`). */
export type SendRefusal =
  | { reason: 'not-member' }
  | { reason: 'invitation-pending' }
  | { reason: 'blocked' }
  | { reason: 'request-declined' }
  | { reason: 'request-pending'; allowance: number };

/** What an admitted send changes besides storing the message. */
export interface SendChanges {
  /** The opener of a pending request spends one message of its allowance. */
  spendsAllowance: boolean;
  /** The recipient of an open request replied: it is accepted, the two become contacts. */
  acceptsRequest: boolean;
}

export type SendDecision = { ok: true; changes: SendChanges } | { ok: false; refusal: SendRefusal };

const NO_CHANGES: SendChanges = { spendsAllowance: false, acceptsRequest: false };

/**
 * May this sender send here, and what does it change? The whole rule of a send, decided once:
 * the memory store evaluates it, the MongoDB store compiles the same guard into the filter of
 * its one conditional update and asks it to name a refusal. Checked in this order: member,
 * open invitation, block, request (declined, then the opener's allowance).
 *
 * Every other path that reaches the others passes the same rule (`attempt.action`): an edit of
 * an already delivered message is a delivery like a send (refused where a send is; the opener
 * of a pending request spends the allowance on it), typing is refused where a send is but
 * spends nothing, a deletion only takes away (allowed after a decline, not across a block),
 * and reading (like answering a platform card) needs membership and no open invitation only.
 * A reaction is refused where typing is and spends nothing either (one step: only a send or an
 * edit spends).
 */
export function decideSend(conversation: SendSubject, attempt: SendAttempt): SendDecision {
  if (attempt.kind === 'system') return { ok: true, changes: NO_CHANGES };
  const sender = attempt.senderId;
  const action = attempt.action ?? 'send';
  if (!conversation.memberIds.includes(sender))
    return { ok: false, refusal: { reason: 'not-member' } };
  if (conversation.invited?.includes(sender))
    return { ok: false, refusal: { reason: 'invitation-pending' } };
  if (action === 'read') return { ok: true, changes: NO_CHANGES };
  // Answering the platform's card picks one of its options: no words of the member's cross,
  // so like reading it needs membership and no open invitation only.
  if (action === 'answer') return { ok: true, changes: NO_CHANGES };
  if (conversation.blocked) return { ok: false, refusal: { reason: 'blocked' } };
  const request = requestOf(conversation.request);
  if (!request) return { ok: true, changes: NO_CHANGES };
  if (request.to === sender)
    return { ok: true, changes: { spendsAllowance: false, acceptsRequest: action === 'send' } };
  if (action === 'delete') return { ok: true, changes: NO_CHANGES };
  if (request.state === 'declined') return { ok: false, refusal: { reason: 'request-declined' } };
  if (conversation.request.left <= 0)
    return {
      ok: false,
      refusal: { reason: 'request-pending', allowance: conversation.request.allowance },
    };
  const spendsAllowance = action === 'send' || action === 'edit';
  return { ok: true, changes: { spendsAllowance, acceptsRequest: false } };
}

/** A conversation as the decision reads it, from what members see of it. */
export function sendSubjectOf(conversation: Conversation, allowance: number): SendSubject {
  const request = conversation.request;
  return {
    kind: conversation.kind,
    memberIds: conversation.members.map((m) => m.userId),
    invited: conversation.members.filter((m) => m.invitation).map((m) => m.userId),
    blocked: conversation.blocked,
    request: request
      ? {
          state: request.state,
          from: request.from,
          to: request.to,
          left: request.remaining ?? 0,
          allowance,
        }
      : { state: 'none', left: 0, allowance: 0 },
  };
}

/** Decides for a use case, and throws the refusal's error when refused. */
export function assertAdmitted(
  conversation: Conversation,
  actorId: string,
  action: ConversationAction,
  allowance: number,
): SendChanges {
  const decision = decideSend(sendSubjectOf(conversation, allowance), {
    senderId: actorId,
    kind: 'user',
    action,
  });
  if (!decision.ok) throw sendRefusalError(decision.refusal, conversation.id);
  return decision.changes;
}

/** The domain error that tells a sender why a send was refused. */
export function sendRefusalError(refusal: SendRefusal, conversationId: string): DomainError {
  switch (refusal.reason) {
    case 'not-member':
      return new NotMemberError(conversationId);
    case 'invitation-pending':
      return new InvitationPendingError();
    case 'blocked':
      return new BlockedError();
    case 'request-declined':
      return new RequestDeclinedError();
    case 'request-pending':
      return new RequestPendingError(refusal.allowance);
    default:
      return refusal satisfies never;
  }
}
