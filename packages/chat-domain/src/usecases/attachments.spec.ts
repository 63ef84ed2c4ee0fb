import { type AttachmentStore, uploadRequestSchema } from '../attachments.js';
import { type Conversation, type MessageAttachment } from '../entities.js';
import { ErrorCode, NotFoundError, NotMemberError, UnavailableError } from '../errors.js';
import { type ChatStore, type MessageDraft } from '../ports.js';
import { sendMessageSchema } from '../schemas.js';
import { parsePayload } from '../validate.js';
import { createChat } from './index.js';

const at = new Date('2026-12-01T12:00:00Z');
const alice = { userId: 'alice', role: 'candidate' as const };
const mallory = { userId: 'mallory', role: 'candidate' as const };
const cv: MessageAttachment = {
  id: 'up1',
  fileName: 'cv.pdf',
  contentType: 'application/pdf',
  size: 1200,
};

function conversation(overrides: Partial<Conversation> = {}): Conversation {
  return {
    id: 'c1',
    kind: 'direct',
    members: [
      { userId: 'alice', role: 'owner', joinedAt: at, lastReadSeq: 0 },
      { userId: 'bob', role: 'member', joinedAt: at, lastReadSeq: 0 },
    ],
    blocked: false,
    createdBy: 'alice',
    createdAt: at,
    lastActivityAt: at,
    version: 0,
    ...overrides,
  };
}

/** Just enough of the ports: one conversation, appends recorded, claims recorded. */
function setup(options: { append?: (draft: MessageDraft) => Promise<never> } = {}) {
  const drafts: MessageDraft[] = [];
  const claims: { ids: string[]; messageKey: string }[] = [];
  const released: string[] = [];
  const slots: unknown[] = [];
  const discarded: string[] = [];
  const held = new Map<string, string>(); // upload id -> message key
  const stored = new Map<string, MessageDraft>();
  const deletedAt: { deletedAt?: Date } = {};
  const store = {
    conversations: { get: (id: string) => Promise.resolve(id === 'c1' ? conversation() : null) },
    // Nobody restricted, no slow mode.
    moderation: { restriction: () => Promise.resolve(null), slowMode: () => Promise.resolve(0) },
    messages: {
      append: (draft: MessageDraft) => {
        if (options.append) return options.append(draft);
        drafts.push(draft);
        const key = `${draft.senderId}/${draft.clientMessageId}`;
        const duplicate = stored.has(key);
        if (!duplicate) stored.set(key, draft);
        const first = stored.get(key)!;
        return Promise.resolve({
          message: { ...first, id: 'm1', seq: 1, version: 1, kind: 'user' as const },
          duplicate,
          memberIds: ['alice', 'bob'],
        });
      },
      get: (_c: string, id: string) => {
        const first = [...stored.values()][0];
        return Promise.resolve(
          first && id === 'm1'
            ? { ...first, id: 'm1', seq: 1, version: 1, kind: 'user' as const, ...deletedAt }
            : null,
        );
      },
      revise: (_c: string, _id: string, revision: { at: Date }) => {
        deletedAt.deletedAt = revision.at;
        const first = [...stored.values()][0]!;
        return Promise.resolve({
          ...first,
          id: 'm1',
          seq: 1,
          version: 2,
          kind: 'user' as const,
          body: '',
          deletedAt: revision.at,
        });
      },
    },
  } as unknown as ChatStore;
  const attachments: AttachmentStore = {
    createSlot: (request) => {
      slots.push(request);
      return Promise.resolve({
        id: 'up1',
        upload: { url: 'http://storage/upload', method: 'POST', fields: { key: 'k' } },
        expiresAt: new Date(at.getTime() + 60_000),
      });
    },
    claim: ({ uploaderId, ids, messageKey }) => {
      claims.push({ ids, messageKey });
      if (uploaderId !== 'alice' || ids.some((id) => id !== 'up1'))
        return Promise.reject(new NotFoundError('not yours'));
      if (held.has('up1') && held.get('up1') !== messageKey)
        return Promise.reject(new NotFoundError('taken'));
      held.set('up1', messageKey);
      return Promise.resolve([cv]);
    },
    release: ({ messageKey }) => {
      released.push(messageKey);
      for (const [id, key] of held) if (key === messageKey) held.delete(id);
      return Promise.resolve();
    },
    discardMessage: (messageKey) => {
      discarded.push(messageKey);
      return Promise.resolve(1);
    },
    discardUploader: () => Promise.resolve(0),
    downloadLink: (conversationId, id) =>
      Promise.resolve(
        conversationId === 'c1' && id === 'up1'
          ? { url: 'http://storage/up1?sig', expiresAt: new Date(at.getTime() + 300_000) }
          : null,
      ),
  };
  const fanned: unknown[] = [];
  const chat = createChat({
    store,
    fanout: { toUsers: (_ids, event, payload) => fanned.push({ event, payload }) },
    clock: { now: () => at },
    attachments: { store: attachments, maxBytes: 5_000 },
  });
  return { chat, drafts, claims, released, slots, fanned, discarded, stored };
}

const send = {
  conversationId: 'c1',
  clientMessageId: 'm-1',
  body: 'my CV',
  attachmentIds: ['up1'],
};

describe('attachments in the use cases', () => {
  it('a send stores the claimed uploads with the message, and a retry claims them again without failing', async () => {
    const { chat, drafts, claims } = setup();
    const first = await chat.send(alice, send);
    expect(first.message.attachments).toEqual([cv]);
    expect(drafts[0]!.attachments).toEqual([cv]);
    const again = await chat.send(alice, send);
    expect(again).toMatchObject({ duplicate: true, message: { attachments: [cv] } });
    expect(claims.map((c) => c.messageKey)).toEqual(['c1:alice:m-1', 'c1:alice:m-1']);
  });

  it("someone else's upload id in a send stores nothing and answers NOT_FOUND", async () => {
    const { chat, drafts } = setup();
    await expect(chat.send(mallory, { ...send, conversationId: 'c1' })).rejects.toMatchObject({
      code: ErrorCode.NotFound,
    });
    expect(drafts).toEqual([]);
  });

  it('the same upload cannot go with a second message', async () => {
    const { chat } = setup();
    await chat.send(alice, send);
    await expect(chat.send(alice, { ...send, clientMessageId: 'm-2' })).rejects.toMatchObject({
      code: ErrorCode.NotFound,
    });
  });

  it('a send refused for good gives the uploads back; one that timed out keeps them for its retry', async () => {
    const refused = setup({ append: () => Promise.reject(new NotMemberError('c1')) });
    await expect(refused.chat.send(alice, send)).rejects.toBeInstanceOf(NotMemberError);
    expect(refused.released).toEqual(['c1:alice:m-1']);
    const stalled = setup({ append: () => Promise.reject(new UnavailableError('store')) });
    await expect(stalled.chat.send(alice, send)).rejects.toBeInstanceOf(UnavailableError);
    expect(stalled.released).toEqual([]);
  });

  it('a text-only send touches no attachment store', async () => {
    const { chat, claims } = setup();
    const { attachmentIds: _, ...text } = send;
    const result = await chat.send(alice, text);
    expect(result.message.attachments).toBeUndefined();
    expect(claims).toEqual([]);
  });

  it('an upload slot is for members, of an accepted type whose name fits, within the cap', async () => {
    const { chat, slots } = setup();
    const request = {
      conversationId: 'c1',
      fileName: 'cv.pdf',
      contentType: 'application/pdf',
      size: 1200,
    };
    await expect(chat.requestUpload(alice, request)).resolves.toMatchObject({
      id: 'up1',
      expiresAt: '2026-12-01T12:01:00.000Z',
      upload: { method: 'POST' },
    });
    await expect(chat.requestUpload(mallory, request)).rejects.toMatchObject({
      code: ErrorCode.NotMember,
    });
    const refusals = [
      [{ ...request, contentType: 'application/x-msdownload', fileName: 'cv.exe' }, 'contentType'],
      [{ ...request, fileName: 'cv.pdf.exe' }, 'fileName'],
      [{ ...request, contentType: 'text/html', fileName: 'cv.html' }, 'contentType'],
      [{ ...request, size: 5_001 }, 'size'],
    ] as const;
    for (const [input, path] of refusals) {
      await expect(chat.requestUpload(alice, input)).rejects.toMatchObject({
        code: ErrorCode.InvalidPayload,
        issues: [expect.objectContaining({ path })],
      });
    }
    expect(slots).toHaveLength(1);
  });

  it('a download link goes to members only, the same answer whether the file exists', async () => {
    const { chat } = setup();
    await expect(chat.attachmentLink(alice, 'c1', 'up1')).resolves.toEqual({
      url: 'http://storage/up1?sig',
      expiresAt: '2026-12-01T12:05:00.000Z',
    });
    await expect(chat.attachmentLink(alice, 'c1', 'nope')).rejects.toMatchObject({
      code: ErrorCode.NotFound,
    });
    await expect(chat.attachmentLink(mallory, 'c1', 'up1')).rejects.toMatchObject({
      code: ErrorCode.NotMember,
    });
    await expect(chat.attachmentLink(mallory, 'c1', 'nope')).rejects.toMatchObject({
      code: ErrorCode.NotMember,
    });
  });

  it('deleting a message discards its files, and a repeated delete discards again (a retry after a failed discard)', async () => {
    const { chat, discarded } = setup();
    const sent = await chat.send(alice, send);
    await expect(chat.send(alice, send)).resolves.toMatchObject({ duplicate: true });
    const tombstone = await chat.delete(alice, {
      conversationId: 'c1',
      messageId: sent.message.id,
    });
    expect(tombstone).toMatchObject({ body: '', deletedAt: at.toISOString() });
    expect(discarded).toEqual(['c1:alice:m-1']);
    await chat.delete(alice, { conversationId: 'c1', messageId: sent.message.id });
    expect(discarded).toEqual(['c1:alice:m-1', 'c1:alice:m-1']);
  });

  it('refuses types off the closed list, prototype keys included, and names with bidi or format characters', async () => {
    const { chat, slots } = setup();
    const request = {
      conversationId: 'c1',
      fileName: 'cv.pdf',
      contentType: 'application/pdf',
      size: 10,
    };
    for (const contentType of ['__proto__', 'constructor', 'hasOwnProperty', 'valueOf'])
      await expect(chat.requestUpload(alice, { ...request, contentType })).rejects.toMatchObject({
        code: ErrorCode.InvalidPayload,
        issues: [expect.objectContaining({ path: 'contentType' })],
      });
    for (const fileName of [
      'CV_\u202Efdp.png',
      'a\u2066b.pdf',
      'a\u200Eb.pdf',
      'a\uFEFFb.pdf',
      'a\u2029b.pdf',
    ])
      expect(uploadRequestSchema.safeParse({ ...request, fileName }).success).toBe(false);
    expect(
      uploadRequestSchema.safeParse({ ...request, fileName: 'Lebenslauf – Müller.pdf' }).success,
    ).toBe(true);
    expect(slots).toEqual([]);
  });

  it('message:send takes up to the per-message cap of distinct attachment ids', () => {
    expect(parsePayload(sendMessageSchema, send)).toEqual(send);
    for (const attachmentIds of [[], ['a', 'a'], ['a', 'b', 'c', 'd', 'e', 'f'], ['bad id']]) {
      const result = sendMessageSchema.safeParse({ ...send, attachmentIds });
      expect(result.error?.issues[0]?.path[0]).toBe('attachmentIds');
    }
  });
});
