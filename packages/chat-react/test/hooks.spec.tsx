import { fileURLToPath } from 'node:url';
import { createChatClient, type ChatClient } from '@jobsphere/chat-client';
import { startNodeService, type ManagedProcess } from '@jobsphere/testing';
import { act, cleanup, render, renderHook, screen, waitFor } from '@testing-library/react';
import {
  ChatProvider,
  useChatClient,
  useConversations,
  useMessages,
  usePresence,
  useTyping,
  useUnread,
} from '../src/index.js';

// The hooks in a real React tree (react-dom in jsdom) over real clients of a real gateway
// process: what a person sees in the component follows what happens on the server.

const GATEWAY_MAIN = fileURLToPath(
  new URL('../../../apps/chat-gateway/dist/main.js', import.meta.url),
);

let gateway: ManagedProcess | undefined;
let url: string;
const clients: ChatClient[] = [];
const errors: unknown[][] = [];

beforeAll(async () => {
  const service = await startNodeService({
    script: GATEWAY_MAIN,
    env: {
      PATH: process.env['PATH'],
      // The dev secret: tokens come from the gateway's POST /dev/token, as on the try page.
      NODE_ENV: 'test',
      LOG_LEVEL: 'info',
      PRESENCE_OFFLINE_GRACE_MS: '50',
    },
  });
  gateway = service.process;
  url = service.url;
});

afterAll(async () => {
  for (const c of clients) await c.close();
  await gateway?.dispose();
});

const consoleError = console.error;
beforeEach(() => {
  errors.length = 0;
  console.error = (...args: unknown[]) => void errors.push(args);
});

afterEach(() => {
  cleanup();
  console.error = consoleError;
  // React says so on console.error when a snapshot is not cached or an update escapes act.
  expect(errors).toEqual([]);
});

async function signedIn(userId: string, role: 'candidate' | 'recruiter'): Promise<ChatClient> {
  const response = await fetch(`${url}/dev/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ userId, role }),
  });
  const { token } = (await response.json()) as { token: string };
  const client = createChatClient({ url, token });
  clients.push(client);
  await client.connect({ failFast: true });
  await client.loadConversations();
  return client;
}

function Inbox({ conversationId, peer }: { conversationId?: string; peer: string }) {
  const conversations = useConversations();
  const messages = useMessages(conversationId);
  const unread = useUnread();
  const presence = usePresence(peer);
  const typing = useTyping(conversationId);
  return (
    <main>
      <ul aria-label="conversations">
        {conversations.map((c) => (
          <li key={c.id}>with {c.members.map((m) => m.userId).join(' and ')}</li>
        ))}
      </ul>
      <ol aria-label="messages">
        {messages.map((m) => (
          <li key={m.id}>
            {m.senderId}: {m.body}
          </li>
        ))}
      </ol>
      <p data-testid="unread">{unread}</p>
      <p data-testid="presence">
        {presence === undefined ? 'unknown' : presence.online ? 'online' : 'offline'}
      </p>
      <p data-testid="typing">{typing.join(', ')}</p>
    </main>
  );
}

const text = (id: string) => screen.getByTestId(id).textContent;

describe('chat hooks over a real gateway', () => {
  it('a message request, the reply, typing, reading and leaving, as the component shows them', async () => {
    const [ana, ravi] = await Promise.all([
      signedIn('ana', 'candidate'),
      signedIn('ravi', 'recruiter'),
    ]);
    const view = render(
      <ChatProvider client={ana}>
        <Inbox peer="ravi" />
      </ChatProvider>,
    );
    expect(screen.getByRole('list', { name: 'conversations' }).children).toHaveLength(0);

    const conversation = await act(() => ana.openDirect({ userId: 'ravi' }));
    await screen.findByText('with ana and ravi');
    view.rerender(
      <ChatProvider client={ana}>
        <Inbox peer="ravi" conversationId={conversation.id} />
      </ChatProvider>,
    );
    act(() => void ana.send(conversation.id, 'Hi Ravi, is the role open?'));
    await screen.findByText('ana: Hi Ravi, is the role open?');
    // A request: nothing of Ravi is shared with Ana until he answers.
    expect(text('presence')).toBe('unknown');
    expect(text('unread')).toBe('0');

    await act(async () => {
      await ravi.loadRequests();
      ravi.send(conversation.id, 'Yes it is');
    });
    await screen.findByText('ravi: Yes it is');
    await waitFor(() => expect(text('unread')).toBe('1'));
    await waitFor(() => expect(text('presence')).toBe('online'));

    act(() => ravi.typing(conversation.id));
    await waitFor(() => expect(text('typing')).toBe('ravi'));
    act(() => ravi.stopTyping(conversation.id));
    await waitFor(() => expect(text('typing')).toBe(''));

    act(() => ana.markRead(conversation.id));
    expect(text('unread')).toBe('0');

    await act(() => ravi.close());
    await waitFor(() => expect(text('presence')).toBe('offline'));
  });

  it('a component re-renders only when what it reads changes', async () => {
    const [mia, leo] = await Promise.all([
      signedIn('mia', 'recruiter'),
      signedIn('leo', 'candidate'),
    ]);
    let renders = 0;
    function Badge() {
      renders++;
      return <span data-testid="badge">{useUnread()}</span>;
    }
    function Typing({ conversationId }: { conversationId: string }) {
      return <p data-testid="typing">{useTyping(conversationId).join(', ')}</p>;
    }
    const conversation = await act(() => mia.openDirect({ userId: 'leo' }));
    render(
      <ChatProvider client={leo}>
        <Badge />
        <Typing conversationId={conversation.id} />
      </ChatProvider>,
    );
    await act(async () => {
      await mia.whenSent(mia.send(conversation.id, 'Hello Leo').clientMessageId);
      await leo.loadRequests();
      await leo.accept(conversation.id);
    });
    await waitFor(() => expect(text('badge')).toBe('1'));
    const before = renders;
    // Typing changes the conversation's view, not the unread count.
    act(() => mia.typing(conversation.id));
    await waitFor(() => expect(text('typing')).toBe('mia'));
    act(() => mia.stopTyping(conversation.id));
    await waitFor(() => expect(text('typing')).toBe(''));
    expect(renders).toBe(before);
  });

  it('outside a ChatProvider the hooks say what is missing', () => {
    expect(() => renderHook(() => useChatClient())).toThrow(/wrap the component in <ChatProvider/);
    // React reports the thrown render on console.error; that one is expected here.
    errors.length = 0;
  });
});
