import { createChatClient, type ChatClient, type ChatClientOptions } from '../../src/index.js';
import { tokenOf, type FakeGateway } from './fake-gateway.js';

/** A client of `userId` wired to the fake gateway, on its fake clock, with fixed jitter. */
export function fakeClient(
  gateway: FakeGateway,
  userId: string,
  options: Partial<ChatClientOptions> = {},
): ChatClient {
  return createChatClient({
    url: 'http://gateway-a.test',
    userId,
    token: tokenOf(userId),
    socketFactory: gateway.factory,
    fetch: gateway.fetch,
    clock: gateway.sdkClock,
    random: () => 0.5,
    ...options,
  });
}

/** Ids of what a device shows, in order. */
export const shown = (client: ChatClient, conversationId: string) =>
  client.conversation(conversationId)?.messages.map((m) => m.id) ?? [];
