import {
  BlockedError,
  InvitationPendingError,
  NotMemberError,
  RequestDeclinedError,
  RequestPendingError,
} from './errors.js';
import {
  decideSend,
  newRequestRecord,
  requestOf,
  sendRefusalError,
  type ConversationAction,
  type SendDecision,
} from './send-decision.js';
import {
  CASE_ALLOWANCE,
  CASE_USERS,
  describeCase,
  SEND_CASES,
  subjectOf,
  type SendCase,
} from './testing/send-cases.js';

function outcome(decision: SendDecision): SendCase['expect'] {
  if (!decision.ok) return decision.refusal.reason;
  if (decision.changes.acceptsRequest) return 'accepts-request';
  if (decision.changes.spendsAllowance) return 'spends-allowance';
  return 'sends';
}

describe('the send decision', () => {
  it.each(SEND_CASES.map((c) => [describeCase(c), c] as const))('%s', (_name, c) => {
    const decision = decideSend(subjectOf(c), {
      senderId: c.kind === 'system' ? 'platform' : CASE_USERS[c.sender],
      kind: c.kind,
    });
    expect(outcome(decision)).toBe(c.expect);
    if (!decision.ok && decision.refusal.reason === 'request-pending')
      expect(decision.refusal.allowance).toBe(CASE_ALLOWANCE);
  });

  it('holds every path to the same rule: edits, deletions, typing and reading, and an open invitation', () => {
    const { opener, recipient } = CASE_USERS;
    const decide = (c: SendCase, senderId: string, action: ConversationAction, invited = false) =>
      outcome(
        decideSend(
          { ...subjectOf(c), ...(invited && { invited: [senderId] }) },
          { senderId, kind: 'user', action },
        ),
      );
    const state = (request: SendCase['request'], blocked = false): SendCase => ({
      conversation: 'direct',
      request,
      blocked,
      sender: 'opener',
      kind: 'user',
      expect: 'sends',
    });
    const actions = ['send', 'edit', 'delete', 'typing', 'read'] as const;
    const table = (c: SendCase, senderId: string, invited = false) =>
      Object.fromEntries(actions.map((a) => [a, decide(c, senderId, a, invited)]));
    // The opener of a pending request: an edit is a delivery, so it spends the allowance too.
    expect(table(state('pending'), opener)).toEqual({
      send: 'spends-allowance',
      edit: 'spends-allowance',
      delete: 'sends',
      typing: 'sends',
      read: 'sends',
    });
    // Spent or declined: nothing reaches the recipient any more, but a deletion or reading.
    expect(table(state('spent'), opener)).toEqual({
      send: 'request-pending',
      edit: 'request-pending',
      delete: 'sends',
      typing: 'request-pending',
      read: 'sends',
    });
    expect(table(state('declined'), opener)).toEqual({
      send: 'request-declined',
      edit: 'request-declined',
      delete: 'sends',
      typing: 'request-declined',
      read: 'sends',
    });
    // Only reading crosses a block.
    expect(table(state('none', true), recipient)).toEqual({
      send: 'blocked',
      edit: 'blocked',
      delete: 'blocked',
      typing: 'blocked',
      read: 'sends',
    });
    // The recipient's send accepts the request; nothing else it does does.
    expect(table(state('pending'), recipient)).toEqual({
      send: 'accepts-request',
      edit: 'sends',
      delete: 'sends',
      typing: 'sends',
      read: 'sends',
    });
    // An invitee does nothing in the group, not even read it, until accepting.
    const group = { ...state('none'), conversation: 'group' as const };
    expect(table(group, recipient, true)).toEqual(
      Object.fromEntries(actions.map((a) => [a, 'invitation-pending'])),
    );
    expect(sendRefusalError({ reason: 'invitation-pending' }, 'c1')).toBeInstanceOf(
      InvitationPendingError,
    );
  });

  it('refuses a reaction wherever typing is refused, and lets it spend nothing', () => {
    const { opener, recipient } = CASE_USERS;
    const base: SendCase = {
      conversation: 'direct',
      request: 'pending',
      blocked: false,
      sender: 'opener',
      kind: 'user',
      expect: 'sends',
    };
    const cases: [SendCase, string][] = [
      [base, opener],
      [{ ...base, request: 'spent' }, opener],
      [{ ...base, request: 'declined' }, opener],
      [{ ...base, request: 'none', blocked: true }, recipient],
      [base, recipient],
      [base, 'stranger'],
    ];
    for (const [c, senderId] of cases) {
      const react = outcome(decideSend(subjectOf(c), { senderId, kind: 'user', action: 'react' }));
      const typing = outcome(
        decideSend(subjectOf(c), { senderId, kind: 'user', action: 'typing' }),
      );
      expect(react).toBe(typing);
      expect(react).not.toBe('spends-allowance');
    }
  });

  it('names every refusal by its domain error, with the allowance a pending request grants', () => {
    expect(sendRefusalError({ reason: 'not-member' }, 'c1')).toBeInstanceOf(NotMemberError);
    expect(sendRefusalError({ reason: 'blocked' }, 'c1')).toBeInstanceOf(BlockedError);
    expect(sendRefusalError({ reason: 'request-declined' }, 'c1')).toBeInstanceOf(
      RequestDeclinedError,
    );
    const pending = sendRefusalError({ reason: 'request-pending', allowance: 1 }, 'c1');
    expect(pending).toBeInstanceOf(RequestPendingError);
    expect(pending.message).toContain('allows 1 message until');
  });

  it('stores one request shape: a new request is pending with its allowance; none shows nothing', () => {
    const record = newRequestRecord({ from: 'a', to: 'b' }, 3);
    expect(record).toEqual({ state: 'pending', from: 'a', to: 'b', left: 3, allowance: 3 });
    expect(requestOf(record)).toEqual({ from: 'a', to: 'b', state: 'pending', remaining: 3 });
    expect(requestOf({ ...record, state: 'none' })).toBeUndefined();
    expect(newRequestRecord(undefined)).toEqual({ state: 'none', left: 0, allowance: 0 });
  });
});
