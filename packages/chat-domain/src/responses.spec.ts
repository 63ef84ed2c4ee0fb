import { type Conversation } from './entities.js';
import { toConversationDto, toMessageDto } from './mappers.js';
import { conversationDtoSchema, messageDtoSchema } from './responses.js';

const at = new Date('2026-12-01T10:00:00.000Z');
const conversation: Conversation = {
  id: 'c1',
  kind: 'group',
  title: 'Backend role',
  jobId: 'job-7',
  applicationId: 'app-1',
  members: [
    { userId: 'rita', role: 'owner', joinedAt: at, lastReadSeq: 2 },
    { userId: 'sam', role: 'member', joinedAt: at, lastReadSeq: 0 },
  ],
  createdBy: 'rita',
  createdAt: at,
  lastActivityAt: at,
  lastMessage: { id: 'm2', seq: 2, senderId: 'rita', body: 'Monday?', createdAt: at },
  blocked: false,
  version: 3,
};

// The mappers produce what clients receive; the schemas are what the contract documents. Parsing
// drops unknown keys, so equality proves every field sent is documented and every value valid.
describe('response schemas', () => {
  it('document every field of a conversation as a member sees it', () => {
    for (const viewer of ['rita', 'sam']) {
      const dto = toConversationDto(conversation, viewer);
      expect(conversationDtoSchema.parse(dto)).toEqual(dto);
    }
  });

  it('document every field of a message', () => {
    const dto = toMessageDto({
      id: 'm1',
      conversationId: 'c1',
      seq: 1,
      version: 1,
      senderId: 'sam',
      clientMessageId: 'k-1',
      kind: 'user',
      body: 'Hi',
      createdAt: at,
    });
    expect(messageDtoSchema.parse(dto)).toEqual(dto);
  });

  it('document an edited message with attachments and a deleted one', () => {
    const edited = toMessageDto({
      id: 'm1',
      conversationId: 'c1',
      seq: 1,
      version: 4,
      senderId: 'sam',
      clientMessageId: 'k-1',
      kind: 'user',
      body: 'Hi, CV attached',
      attachments: [{ id: 'a1', fileName: 'cv.pdf', contentType: 'application/pdf', size: 1200 }],
      createdAt: at,
      editedAt: at,
    });
    expect(messageDtoSchema.parse(edited)).toEqual(edited);
    const deleted = toMessageDto({
      id: 'm2',
      conversationId: 'c1',
      seq: 2,
      version: 5,
      senderId: 'sam',
      clientMessageId: 'k-2',
      kind: 'user',
      body: '',
      createdAt: at,
      deletedAt: at,
      deletedBy: 'sam',
    });
    expect(messageDtoSchema.parse(deleted)).toEqual(deleted);
    expect(deleted).not.toHaveProperty('deletedBy');
  });

  it('document a pending request as both sides see it', () => {
    const request: Conversation = {
      ...conversation,
      kind: 'direct',
      title: undefined,
      request: { from: 'rita', to: 'sam', state: 'pending' },
    };
    for (const viewer of ['rita', 'sam']) {
      const dto = toConversationDto(request, viewer);
      expect(conversationDtoSchema.parse(dto)).toEqual(dto);
      expect(dto.request).toEqual({ from: 'rita', to: 'sam', state: 'pending' });
    }
  });
});
