import type { MessageKind } from '../entities.js';
import type { SendRefusal, SendSubject } from '../send-decision.js';

/**
 * The send decision's table: states a conversation can be brought to through the store's
 * ports, who sends, and what must happen. The decision's unit test and every store's contract
 * run the same rows, so a store's compiled guard is held to the decision row by row.
 * Direct conversations are between `opener` and `recipient`; a group has both as members;
 * `stranger` belongs to neither.
 */
export interface SendCase {
  conversation: 'direct' | 'group';
  /** `spent`: pending with the whole allowance sent; `accepted`: answered yes. */
  request: 'none' | 'pending' | 'spent' | 'declined' | 'accepted';
  blocked: boolean;
  sender: 'opener' | 'recipient' | 'stranger';
  kind: MessageKind;
  expect: 'sends' | 'spends-allowance' | 'accepts-request' | SendRefusal['reason'];
}

/** The opener's allowance in every row with a request. */
export const CASE_ALLOWANCE = 2;

const row = (
  conversation: SendCase['conversation'],
  request: SendCase['request'],
  blocked: boolean,
  sender: SendCase['sender'],
  kind: MessageKind,
  expect: SendCase['expect'],
): SendCase => ({ conversation, request, blocked, sender, kind, expect });

export const SEND_CASES: readonly SendCase[] = [
  row('direct', 'none', false, 'opener', 'user', 'sends'),
  row('direct', 'none', false, 'recipient', 'user', 'sends'),
  row('direct', 'none', false, 'stranger', 'user', 'not-member'),
  row('direct', 'none', true, 'opener', 'user', 'blocked'),
  row('direct', 'none', true, 'recipient', 'user', 'blocked'),
  row('direct', 'none', true, 'stranger', 'user', 'not-member'),
  row('direct', 'none', true, 'stranger', 'system', 'sends'),
  row('direct', 'pending', false, 'opener', 'user', 'spends-allowance'),
  row('direct', 'pending', false, 'recipient', 'user', 'accepts-request'),
  row('direct', 'pending', false, 'stranger', 'user', 'not-member'),
  row('direct', 'pending', true, 'opener', 'user', 'blocked'),
  row('direct', 'pending', true, 'recipient', 'user', 'blocked'),
  row('direct', 'spent', false, 'opener', 'user', 'request-pending'),
  row('direct', 'spent', false, 'recipient', 'user', 'accepts-request'),
  row('direct', 'spent', false, 'stranger', 'system', 'sends'),
  row('direct', 'declined', false, 'opener', 'user', 'request-declined'),
  row('direct', 'declined', false, 'recipient', 'user', 'accepts-request'),
  row('direct', 'declined', true, 'recipient', 'user', 'blocked'),
  row('direct', 'declined', false, 'stranger', 'system', 'sends'),
  row('direct', 'accepted', false, 'opener', 'user', 'sends'),
  row('direct', 'accepted', false, 'recipient', 'user', 'sends'),
  row('group', 'none', false, 'opener', 'user', 'sends'),
  row('group', 'none', false, 'recipient', 'user', 'sends'),
  row('group', 'none', false, 'stranger', 'user', 'not-member'),
  row('group', 'none', false, 'stranger', 'system', 'sends'),
];

export const CASE_USERS = {
  opener: 'case-opener',
  recipient: 'case-recipient',
  stranger: 'case-stranger',
};

/** A row's name in test output. */
export function describeCase(c: SendCase): string {
  const state = [
    c.conversation,
    c.request === 'none' ? '' : `request ${c.request}`,
    c.blocked ? 'blocked' : '',
  ]
    .filter(Boolean)
    .join(', ');
  return `${c.kind === 'system' ? 'the platform' : `the ${c.sender}`} in a ${state} conversation: ${c.expect}`;
}

/** The row's conversation as the decision reads it (what a store holds in that state). */
export function subjectOf(c: SendCase): SendSubject {
  const { opener, recipient } = CASE_USERS;
  const asked = c.request !== 'none';
  return {
    kind: c.conversation,
    memberIds: [opener, recipient],
    blocked: c.blocked,
    request: asked
      ? {
          state:
            c.request === 'accepted' ? 'none' : c.request === 'declined' ? 'declined' : 'pending',
          from: opener,
          to: recipient,
          left: c.request === 'spent' ? 0 : CASE_ALLOWANCE,
          allowance: CASE_ALLOWANCE,
        }
      : { state: 'none', left: 0, allowance: 0 },
  };
}
