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

  it('bounds how much one sync may ask for', () => {
    const many = Array.from({ length: 201 }, (_, i) => ({ conversationId: `c${i}`, afterSeq: 0 }));
    expect(() => parsePayload(syncSchema, { conversations: many })).toThrow(ValidationError);
    expect(() =>
      parsePayload(syncSchema, { conversations: [{ conversationId: 'c', afterSeq: -1 }] }),
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
