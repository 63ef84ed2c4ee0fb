import { ValidationError } from './errors.js';
import {
  createConversationSchema,
  historyQuerySchema,
  sendMessageSchema,
  syncSchema,
} from './schemas.js';
import { parsePayload } from './validate.js';

const send = { conversationId: 'c1', clientMessageId: 'm-1', body: 'hello' };

describe('payload validation', () => {
  it('accepts a well-formed send', () => {
    expect(parsePayload(sendMessageSchema, send)).toEqual(send);
  });

  it.each([
    ['a non-object', 'hello'],
    ['null', null],
    ['a blank body', { ...send, body: '   ' }],
    ['a body over 4000 characters', { ...send, body: 'x'.repeat(4001) }],
    ['a body of 2001 emoji (4002 UTF-16 units)', { ...send, body: '😀'.repeat(2001) }],
    ['a body of zero-width characters only', { ...send, body: '\u200b\u200c\u200d\ufeff' }],
    ['a body of control characters only', { ...send, body: '\u0001\u0002' }],
    ['a body of Hangul fillers and braille blanks', { ...send, body: '\u3164\u2800 \u115f' }],
    ['a body with a NUL in it', { ...send, body: 'hi\u0000there' }],
    ['a body with an escape sequence', { ...send, body: 'red \u001b[31m text' }],
    ['a body with a lone surrogate', { ...send, body: 'broken \ud800 text' }],
    ['a missing clientMessageId', { conversationId: 'c1', body: 'hi' }],
    ['an unknown field (e.g. a spoofed sender)', { ...send, senderId: 'someone-else' }],
    ['an id with odd characters', { ...send, conversationId: 'c1 $where' }],
    ['an object as id', { ...send, conversationId: { $gt: '' } }],
  ])('rejects %s with INVALID_PAYLOAD and the offending path', (_, payload) => {
    let error: unknown;
    try {
      parsePayload(sendMessageSchema, payload);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).code).toBe('INVALID_PAYLOAD');
    expect((error as ValidationError).issues.length).toBeGreaterThan(0);
  });

  it('keeps what people write: 4000 UTF-16 units, emoji, line breaks (normalized), tabs, RTL marks', () => {
    expect(parsePayload(sendMessageSchema, { ...send, body: 'x'.repeat(4000) }).body).toHaveLength(
      4000,
    );
    expect(parsePayload(sendMessageSchema, { ...send, body: '😀'.repeat(2000) }).body).toHaveLength(
      4000,
    );
    expect(parsePayload(sendMessageSchema, { ...send, body: 'a\r\nb\rc\td' }).body).toBe(
      'a\nb\nc\td',
    );
    expect(parsePayload(sendMessageSchema, { ...send, body: '\u200fשלום\u200e' }).body).toBe(
      '\u200fשלום\u200e',
    );
  });

  it('refuses titles that are blank, multi-line or carry control characters, and trims the rest', () => {
    const group = { kind: 'group', memberIds: ['b'] };
    for (const title of ['   ', '\u200b', 'two\nlines', 'bell\u0007']) {
      expect(() => parsePayload(createConversationSchema, { ...group, title })).toThrow(
        ValidationError,
      );
    }
    expect(parsePayload(createConversationSchema, { ...group, title: '  Panel  ' })).toMatchObject({
      title: 'Panel',
    });
  });

  it('bounds how much one sync may ask for', () => {
    const many = Array.from({ length: 201 }, (_, i) => ({
      conversationId: `c${i}`,
      afterVersion: 0,
    }));
    expect(() => parsePayload(syncSchema, { conversations: many })).toThrow(ValidationError);
    expect(() =>
      parsePayload(syncSchema, { conversations: [{ conversationId: 'c', afterVersion: -1 }] }),
    ).toThrow(ValidationError);
    expect(() =>
      parsePayload(syncSchema, { conversations: [{ conversationId: 'c', afterSeq: 1 }] }),
    ).toThrow(ValidationError);
  });

  it('reads history queries from strings, with a default page size', () => {
    expect(parsePayload(historyQuerySchema, { before: '10' })).toEqual({ before: 10, limit: 50 });
    expect(() => parsePayload(historyQuerySchema, { before: '10', after: '2' })).toThrow(
      /either before or after/,
    );
    expect(() => parsePayload(historyQuerySchema, { limit: '1000' })).toThrow(ValidationError);
  });

  it('tells direct and group creation apart', () => {
    expect(
      parsePayload(createConversationSchema, { kind: 'direct', userId: 'bob', jobId: 'j1' }),
    ).toEqual({
      kind: 'direct',
      userId: 'bob',
      jobId: 'j1',
    });
    expect(() =>
      parsePayload(createConversationSchema, { kind: 'group', memberIds: ['a'] }),
    ).toThrow(/title/);
  });
});
