import {
  BlockedError,
  NotMemberError,
  RequestDeclinedError,
  RequestPendingError,
} from './errors.js';
import {
  decideSend,
  newRequestRecord,
  requestOf,
  sendRefusalError,
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
    expect(requestOf(record)).toEqual({ from: 'a', to: 'b', state: 'pending' });
    expect(requestOf({ ...record, state: 'none' })).toBeUndefined();
    expect(newRequestRecord(undefined)).toEqual({ state: 'none', left: 0, allowance: 0 });
  });
});
