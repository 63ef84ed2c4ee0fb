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
      body: 'Hi',
      createdAt: at,
    });
    expect(messageDtoSchema.parse(dto)).toEqual(dto);
  });
});
