import { type Conversation } from './entities.js';
import { ForbiddenError, NotMemberError, ValidationError } from './errors.js';
import { toPreview } from './mappers.js';
import {
  REPORT_TRANSITIONS,
  reportSources,
  reportTarget,
  LIMITS,
  assertCanCreateGroup,
  assertCanOpenDirect,
  assertMember,
  directKey,
  cutText,
  nextReadSeq,
  readPosition,
  unreadCount,
  utf8Length,
} from './rules.js';

const conversation: Conversation = {
  id: 'c1',
  kind: 'direct',
  members: [
    { userId: 'alice', role: 'owner', joinedAt: new Date(0), lastReadSeq: 3 },
    { userId: 'bob', role: 'member', joinedAt: new Date(0), lastReadSeq: 1 },
  ],
  createdBy: 'alice',
  createdAt: new Date(0),
  lastActivityAt: new Date(0),
  version: 3,
  blocked: false,
};

describe('membership', () => {
  it('lets members through and refuses everyone else with NOT_A_MEMBER', () => {
    expect(assertMember(conversation, 'bob', 'c1')).toBe(conversation);
    expect(() => assertMember(conversation, 'mallory', 'c1')).toThrow(NotMemberError);
    expect(() => assertMember(null, 'bob', 'c1')).toThrow(NotMemberError);
  });

  it('gives the same error for a missing conversation as for a foreign one', () => {
    const missing = (() => {
      try {
        assertMember(null, 'x', 'c9');
      } catch (e) {
        return e as NotMemberError;
      }
    })();
    const foreign = (() => {
      try {
        assertMember(conversation, 'x', 'c9');
      } catch (e) {
        return e as NotMemberError;
      }
    })();
    expect(missing?.message).toBe(foreign?.message);
    expect(missing?.code).toBe('NOT_A_MEMBER');
  });
});

describe('direct conversations', () => {
  it('have one key per pair and job context, whoever opens them', () => {
    expect(directKey('alice', 'bob')).toBe(directKey('bob', 'alice'));
    expect(directKey('alice', 'bob', { jobId: 'j1' })).toBe(
      directKey('bob', 'alice', { jobId: 'j1' }),
    );
    expect(directKey('alice', 'bob', { jobId: 'j1' })).not.toBe(
      directKey('alice', 'bob', { jobId: 'j2' }),
    );
    expect(directKey('alice', 'bob', { applicationId: 'a1' })).not.toBe(directKey('alice', 'bob'));
  });

  it('cannot be opened with oneself', () => {
    expect(() => assertCanOpenDirect({ userId: 'alice', role: 'candidate' }, 'alice')).toThrow(
      ValidationError,
    );
    expect(() => assertCanOpenDirect({ userId: 'alice', role: 'candidate' }, 'bob')).not.toThrow();
  });
});

describe('groups', () => {
  it('are created by recruiters and admins, not candidates', () => {
    expect(() => assertCanCreateGroup({ userId: 'c', role: 'candidate' }, ['c', 'r'])).toThrow(
      ForbiddenError,
    );
    expect(() =>
      assertCanCreateGroup({ userId: 'r', role: 'recruiter' }, ['r', 'c']),
    ).not.toThrow();
    expect(() => assertCanCreateGroup({ userId: 'a', role: 'admin' }, ['a', 'c'])).not.toThrow();
  });

  it('have between two and the maximum number of distinct members', () => {
    const r = { userId: 'r', role: 'recruiter' as const };
    expect(() => assertCanCreateGroup(r, ['r', 'r'])).toThrow(/between 2 and 50/);
    const max = Array.from({ length: LIMITS.maxGroupMembers }, (_, i) => `u${i}`);
    expect(() => assertCanCreateGroup(r, max)).not.toThrow();
    expect(() => assertCanCreateGroup(r, [...max, 'one-too-many'])).toThrow(ValidationError);
  });
});

describe('read state', () => {
  it('moves forward only', () => {
    expect(nextReadSeq(5, 3, 10)).toBe(5);
    expect(nextReadSeq(5, 8, 10)).toBe(8);
  });

  it('refuses a seq beyond the last message', () => {
    expect(() => nextReadSeq(0, 11, 10)).toThrow(/beyond the last message/);
  });

  it('counts unread as the messages after the read position, never negative', () => {
    expect(unreadCount(10, 4)).toBe(6);
    expect(unreadCount(4, 10)).toBe(0);
  });
});

describe('text helpers', () => {
  it('cuts a preview without splitting a surrogate pair', () => {
    expect(cutText('abc', 5)).toBe('abc');
    expect(cutText('abcdef', 3)).toBe('abc');
    // '😀' is two UTF-16 units: cutting after one of them would leave a lone surrogate.
    expect(cutText('ab😀', 3)).toBe('ab');
    expect(cutText('ab😀', 4)).toBe('ab😀');
  });

  it('counts UTF-8 bytes like the wire does', () => {
    for (const sample of ['', 'hello', 'héllo', '日本語', '😀 ok', 'a\ud800b']) {
      expect(utf8Length(sample)).toBe(new TextEncoder().encode(sample).length);
    }
  });

  it('reads a member position and cuts the preview body', () => {
    expect(readPosition(conversation, 'bob')).toBe(1);
    expect(readPosition(conversation, 'mallory')).toBe(0);
    const preview = toPreview({
      id: 'm',
      conversationId: 'c1',
      kind: 'user',
      seq: 4,
      version: 4,
      senderId: 'bob',
      clientMessageId: 'x',
      body: 'y'.repeat(LIMITS.previewLength + 10),
      createdAt: new Date(0),
    });
    expect(preview.body).toHaveLength(LIMITS.previewLength);
    expect(preview).toMatchObject({ id: 'm', seq: 4, senderId: 'bob' });
  });
});

describe('the report state machine', () => {
  it('goes open → dismissed | actioned, dismissed → actioned, and never out of actioned', () => {
    expect(reportTarget('dismissed')).toBe('dismissed');
    expect(reportTarget('message_deleted')).toBe('actioned');
    expect(reportSources('dismissed')).toEqual(['open']);
    expect(reportSources('actioned')).toEqual(['open', 'dismissed']);
    expect(REPORT_TRANSITIONS.actioned).toEqual([]);
    expect(reportSources('open')).toEqual([]);
  });
});
