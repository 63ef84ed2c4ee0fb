import type { ChatClient, ChatClientOptions, ChatError } from '../../src/index.js';
import { fakeClient } from './client.js';
import { FakeGateway } from './fake-gateway.js';

/**
 * The fake gateway of the running test (a live binding: a fresh one before each test of a spec
 * that calls `useFakeGateway()`).
 */
export let gateway: FakeGateway;
const clients: ChatClient[] = [];

/**
 * A fresh fake gateway before each test; after it, every client made here closed and no timer
 * left on the gateway's clock (nothing the SDK started may outlive a closed client).
 */
export function useFakeGateway(): void {
  beforeEach(() => {
    gateway = new FakeGateway();
  });
  afterEach(async () => {
    for (const c of clients.splice(0)) await c.close();
    expect(gateway.clock.countTimers()).toBe(0);
  });
}

/** A client of `userId` on the fake gateway, not connected yet; closed after the test. */
export function clientOf(userId: string, options: Partial<ChatClientOptions> = {}): ChatClient {
  const c = fakeClient(gateway, userId, options);
  clients.push(c);
  return c;
}

/** `c` connected (the gateway's clock moved to answer) with its conversation list loaded. */
export async function connect(c: ChatClient): Promise<ChatClient> {
  await Promise.all([c.connect(), gateway.advance(0)]);
  await c.loadConversations();
  return c;
}

/** A connected client of `userId` with its conversation list loaded. */
export function connected(userId: string, options: Partial<ChatClientOptions> = {}) {
  return connect(clientOf(userId, options));
}

/** The same, with every `error` event it emits collected from before it connects. */
export async function connectedWithErrors(
  userId: string,
  options: Partial<ChatClientOptions> = {},
): Promise<{ c: ChatClient; errors: ChatError[] }> {
  const c = clientOf(userId, options);
  const errors: ChatError[] = [];
  c.on('error', (e) => errors.push(e));
  await connect(c);
  return { c, errors };
}
