import {
  ErrorCode,
  toConversationDto,
  toConversationUpdate,
  toMessageDto,
  type Conversation,
  type ServerToClientEvents,
} from '@jobsphere/chat-domain';
import { decodeFrame, encodePerRoom } from '@jobsphere/redis-kit';

/** socket.io-adapter's MessageType.BROADCAST (that package is redis-kit's, not the gateway's). */
const BROADCAST = 3;
// Every event the gateway fans out through the routed adapter, in the shape the mappers give it:
// what a device receives after the MessagePack frame must be what it would have received before.
// The map is typed by ServerToClientEvents: a new event fails the typecheck until it is listed.
const at = new Date('2026-12-01T10:00:00.000Z');
const conversation: Conversation = {
  id: 'c1',
  kind: 'group',
  title: 'Backend role — Zoë 🎉',
  jobId: 'job-7',
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
const message = toMessageDto({
  id: 'm1',
  conversationId: 'c1',
  seq: 1,
  version: 4,
  senderId: 'sam',
  clientMessageId: 'k-1',
  kind: 'user',
  body: 'Hi, CV attached — 漢字 "quoted" \\ \u0000',
  attachments: [{ id: 'a1', fileName: 'cv.pdf', contentType: 'application/pdf', size: 1200 }],
  createdAt: at,
  editedAt: at,
});
const deleted = toMessageDto({
  id: 'm3',
  conversationId: 'c1',
  seq: 3,
  version: 6,
  senderId: 'sam',
  clientMessageId: 'k-3',
  kind: 'user',
  body: '',
  createdAt: at,
  deletedAt: at,
  deletedBy: 'sam',
});

type Payloads = { [E in keyof ServerToClientEvents]: Parameters<ServerToClientEvents[E]>[0][] };
const samples: Payloads = {
  'message:new': [message],
  'message:updated': [message, deleted],
  'conversation:updated': [toConversationUpdate(conversation)],
  'conversation:created': [toConversationDto(conversation, 'sam')],
  'conversation:read': [{ conversationId: 'c1', userId: 'sam', lastReadSeq: 2 }],
  'conversation:delivered': [{ conversationId: 'c1', userId: 'sam', lastDeliveredSeq: 3 }],
  'settings:updated': [{ receipts: false }],
  'conversation:organised': [
    { conversationId: 'c1', muted: true, pinned: false, archived: true, unread: false },
  ],
  'message:reacted': [{ message, userId: 'rita', emoji: '👍🏽', on: true }],
  'mention:new': [{ conversationId: 'c1', messageId: 'm1', seq: 1, senderId: 'sam' }],
  typing: [
    { conversationId: 'c1', userId: 'sam', typing: true, expiresInMs: 5_000 },
    { conversationId: 'c1', userId: 'sam', typing: false },
  ],
  presence: [
    { userId: 'sam', online: true },
    { userId: 'rita', online: false, lastSeenAt: at.toISOString() },
  ],
  'sync:required': [{ reason: 'redis-reconnected' }],
  'server:draining': [{ reconnectAfterMs: 0 }],
  'auth:expiring': [{ expiresAt: at.toISOString(), graceMs: 30_000 }],
  'moderation:banned': [{ reason: 'asked for a fee — "pay now"', at: at.toISOString() }],
  'conversation:slow-mode': [{ conversationId: 'c1', slowModeSeconds: 30 }],
  'chat:error': [
    {
      event: 'message:send',
      error: {
        code: ErrorCode.InvalidPayload,
        message: 'body: too long',
        issues: [{ path: 'body', message: 'too long' }],
      },
    },
  ],
};

describe('routed adapter frames carry every server event unchanged', () => {
  const rooms = ['user:rita', 'user:sam', 'user:Zoë'];
  for (const [event, payloads] of Object.entries(samples)) {
    it(`${event}: every room's frame decodes to what the device would get`, () => {
      for (const payload of payloads as unknown[]) {
        const broadcast = (room: string) => ({
          uid: 'instance-1',
          nsp: '/',
          type: BROADCAST,
          data: {
            packet: { type: 2, nsp: '/', data: [event, payload] },
            opts: { rooms: [room], except: ['socket-of-the-sender'] },
          },
        });
        const frames = encodePerRoom(broadcast, rooms);
        rooms.forEach((room, i) => {
          // Socket.IO writes the packet to the device as JSON: compare what goes on the wire.
          expect(JSON.stringify(decodeFrame(frames[i]!))).toBe(JSON.stringify(broadcast(room)));
        });
      }
    });
  }
});
