import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { signTestServiceToken, startNodeService, type ManagedProcess } from '@jobsphere/testing';
import {
  ChatConnectError,
  ChatError,
  createChatClient,
  socketIoFactory,
  type ChatClient,
  type ChatClientOptions,
  type ConversationView,
  type MessageDto,
  type SocketFactory,
  type UploadProgress,
} from '../../src/index.js';
import { SOCKET_PROTOCOL } from '@jobsphere/chat-domain';
import { GATEWAY_MAIN, JWT_SECRET, tokenFor } from './environment.js';

// What the SDK makes of the platform's changes (title, archive, members: live, and through
// sync when the live event was lost), of attachments (slot, upload, send, download) and of
// whose token it holds, against one real gateway process on its embedded default.

const SERVICE_SECRET = 'client-platform-service-secret-0123456789abcdef';

let gateway: ManagedProcess | undefined;
let url: string;
let files: string;
const clients: ChatClient[] = [];

beforeAll(async () => {
  files = mkdtempSync(join(tmpdir(), 'sdk-attachments-'));
  const service = await startNodeService({
    script: GATEWAY_MAIN,
    env: {
      PATH: process.env['PATH'],
      NODE_ENV: 'test',
      JWT_SECRET,
      SERVICE_TOKEN_SECRET: SERVICE_SECRET,
      ATTACHMENTS_DIR: files,
      LOG_LEVEL: 'info',
    },
  });
  gateway = service.process;
  url = service.url;
});

afterAll(async () => {
  for (const c of clients) await c.close();
  await gateway?.dispose();
  rmSync(files, { recursive: true, force: true });
});

function client(options: Partial<ChatClientOptions> & Pick<ChatClientOptions, 'token'>) {
  const c = createChatClient({ url, ...options });
  clients.push(c);
  return c;
}

async function signedIn(userId: string, options: Partial<ChatClientOptions> = {}) {
  const c = client({ token: await tokenFor(userId), ...options });
  await c.connect({ failFast: true });
  await c.loadConversations();
  return c;
}

/** Resolves once `predicate` holds for the client's state, re-checked on every change. */
function until<T>(c: ChatClient, what: string, read: () => T | undefined | false): Promise<T> {
  return new Promise((resolve, reject) => {
    const check = () => {
      const value = read();
      if (value === undefined || value === false) return false;
      off();
      clearTimeout(timer);
      resolve(value);
      return true;
    };
    const off = c.on('change', () => void check());
    const timer = setTimeout(() => {
      off();
      reject(new Error(`${c.userId}: timed out waiting for ${what}`));
    }, 10_000);
    check();
  });
}

async function serviceCall(method: string, path: string, body?: unknown): Promise<unknown> {
  const token = await signTestServiceToken({
    secret: SERVICE_SECRET,
    scopes: ['conversations:write', 'members:write', 'messages:write'],
  });
  const response = await fetch(`${url}/service/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });
  if (!response.ok)
    throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`);
  return response.json();
}

let groups = 0;
async function group(memberIds: string[]): Promise<string> {
  const answer = (await serviceCall('POST', '/conversations', {
    idempotencyKey: `sdk-group-${++groups}`,
    kind: 'group',
    title: 'Frontend hiring',
    memberIds,
    createdBy: memberIds[0],
  })) as { conversation: { id: string } };
  return answer.conversation.id;
}

const memberIds = (v: ConversationView | undefined) => v?.members.map((m) => m.userId).sort();

describe('whose token: the SDK acts only for the user its token names', () => {
  it('reads the user from the token when no userId is given', async () => {
    const ana = await signedIn('ana');
    expect(ana.userId).toBe('ana');
    const conversation = await ana.openDirect({ userId: 'ravi' });
    const message = await ana.whenSent(ana.send(conversation.id, 'hello').clientMessageId);
    expect(message.senderId).toBe('ana');
  });

  it("refuses another user's token at once, before anything reaches the server", async () => {
    const token = await tokenFor('ana');
    let refused: unknown;
    try {
      createChatClient({ url, userId: 'ravi', token });
    } catch (error) {
      refused = error;
    }
    expect(refused).toBeInstanceOf(ChatError);
    expect(refused).toMatchObject({ code: 'WRONG_USER' });
  });

  it("a token provider that gives another user's token: connect fails for good, REST too", async () => {
    const token = await tokenFor('ana');
    let asked = 0;
    const c = client({
      userId: 'ravi',
      token: () => {
        asked++;
        return token;
      },
    });
    const error = await c.connect().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ChatConnectError);
    expect(error).toMatchObject({ code: 'WRONG_USER' });
    expect(c.status.state).toBe('failed');
    expect(asked).toBe(1);
    await expect(c.loadConversations()).rejects.toMatchObject({ code: 'WRONG_USER' });
  });

  it('a token that is not a JWT and no userId: a clear error, not a guess', async () => {
    expect(() => createChatClient({ url, token: 'opaque' })).toThrow(ChatError);
    expect(() => createChatClient({ url, token: 'opaque' })).toThrow(/pass userId/);
  });
});

describe('the socket protocol version', () => {
  it("a gateway that does not speak the client's protocol refuses it once, saying which to update", async () => {
    let attempts = 0;
    const ahead: SocketFactory = (socketUrl, options) => {
      attempts++;
      return socketIoFactory(socketUrl, { ...options, protocol: options.protocol + 1 });
    };
    const c = client({ token: await tokenFor('ana'), socketFactory: ahead });
    const error = await c.connect().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ChatConnectError);
    expect(error).toMatchObject({
      code: 'UNSUPPORTED_PROTOCOL',
      message: expect.stringMatching(/socket protocol 2, this gateway 1: update the gateway/),
    });
    expect(c.status.state).toBe('failed');
    expect(attempts).toBe(1);
  });

  it('the SDK says its protocol in the handshake, and a client that says none is taken as the oldest', async () => {
    let sent: number | undefined;
    const c = client({
      token: await tokenFor('ana'),
      socketFactory: (socketUrl, options) => {
        sent = options.protocol;
        return socketIoFactory(socketUrl, options);
      },
    });
    await c.connect({ failFast: true });
    expect(sent).toBe(SOCKET_PROTOCOL.current);
    const { io } = await import('socket.io-client');
    const bare = io(url, { auth: { token: await tokenFor('leo') }, transports: ['websocket'] });
    await new Promise<void>((resolve, reject) => {
      bare.on('connect', resolve);
      bare.on('connect_error', reject);
    }).finally(() => bare.disconnect());
  });
});

describe('"seen" across a message request', () => {
  it('the recipient reads, then accepts: the opener sees it read at once, not at the next message', async () => {
    // Two people who never talked (the others here are contacts through the groups below).
    const [opener, recipient] = await Promise.all([signedIn('nina'), signedIn('omar')]);
    const { id } = await opener.openDirect({ userId: 'omar' });
    await opener.whenSent(opener.send(id, 'Hi Omar').clientMessageId);
    expect(opener.conversation(id)?.request?.state).toBe('pending');
    await recipient.loadRequests();
    await recipient.open(id);
    recipient.markRead(id);
    await until(recipient, 'read', () => recipient.conversation(id)?.unreadCount === 0);
    // Still a request: Ana is told nothing.
    const accepted = until(opener, 'the request accepted', () => {
      const v = opener.conversation(id);
      return v !== undefined && v.request === undefined && v;
    });
    await recipient.accept(id);
    await accepted;
    const seen = await until(opener, '"seen"', () => opener.conversation(id)?.peerReadSeq === 1);
    expect(seen).toBe(true);
  });

  it('a reply says "seen" up to it', async () => {
    const [opener, recipient] = await Promise.all([signedIn('paul'), signedIn('quinn')]);
    const { id } = await opener.openDirect({ userId: 'quinn' });
    expect(opener.conversation(id)?.request).toEqual({
      from: 'paul',
      to: 'quinn',
      state: 'pending',
    });
    await opener.whenSent(opener.send(id, 'one').clientMessageId);
    await opener.whenSent(opener.send(id, 'two').clientMessageId);
    await recipient.loadRequests();
    await recipient.whenSent(recipient.send(id, 'Yes?').clientMessageId);
    await until(opener, '"seen" up to the reply', () => opener.conversation(id)?.peerReadSeq === 3);
  });
});

describe('changes of the conversation itself', () => {
  it('title, archive and members changed by the platform show live on every member device', async () => {
    const id = await group(['ravi', 'ana', 'mia']);
    const [ana, mia] = [await signedIn('ana'), await signedIn('mia')];
    await until(ana, 'the group', () => ana.conversation(id));
    await until(mia, 'the group', () => mia.conversation(id));

    await serviceCall('PATCH', `/conversations/${id}`, { title: 'Interviews', archived: true });
    const view = await until(ana, 'the new title', () => {
      const v = ana.conversation(id);
      return v?.title === 'Interviews' && v;
    });
    expect(view.archived).toBe(true);

    await serviceCall('POST', `/conversations/${id}/members`, { userIds: ['leo'] });
    await until(ana, 'leo among the members', () =>
      memberIds(ana.conversation(id))?.includes('leo'),
    );
    expect(memberIds(ana.conversation(id))).toEqual(['ana', 'leo', 'mia', 'ravi']);

    const removed = new Promise<ChatError>((resolve) =>
      mia.on('conversation:removed', ({ conversationId, error }) => {
        if (conversationId === id) resolve(error);
      }),
    );
    await serviceCall('DELETE', `/conversations/${id}/members/mia`);
    expect(await removed).toMatchObject({ code: 'NOT_A_MEMBER' });
    expect(mia.conversation(id)).toBeUndefined();
    await until(ana, 'mia gone', () => !memberIds(ana.conversation(id))?.includes('mia'));
    expect(memberIds(ana.conversation(id))).toEqual(['ana', 'leo', 'ravi']);
  });

  it('a change whose live event was lost arrives through sync (the entry carries the conversation)', async () => {
    const id = await group(['ravi', 'ana']);
    // Ana's socket loses every conversation:updated, as the at-most-once adapter may.
    const losing: SocketFactory = (socketUrl, options) => {
      const socket = socketIoFactory(socketUrl, options);
      return {
        get connected() {
          return socket.connected;
        },
        on: (event, listener) => socket.on(event, listener),
        onAny: (listener) =>
          socket.onAny((event: string, ...args: unknown[]) => {
            if (event !== 'conversation:updated') listener(event, ...args);
          }),
        emit: (event, ...args) => socket.emit(event, ...args),
        disconnect: () => socket.disconnect(),
      };
    };
    const ana = await signedIn('ana', { socketFactory: losing });
    const ravi = await signedIn('ravi');
    await until(ana, 'the group', () => ana.conversation(id));

    await serviceCall('PATCH', `/conversations/${id}`, { title: 'Offer stage' });
    await until(ravi, 'the new title (live)', () => ravi.conversation(id)?.title === 'Offer stage');
    // A marker on the same socket: once Ravi's next message is shown, the update has been and gone.
    const marker = ravi.send(id, 'marker');
    const seen = new Promise<MessageDto>((resolve) =>
      ana.on('message', ({ message }) => {
        if (message.clientMessageId === marker.clientMessageId) resolve(message);
      }),
    );
    await seen;
    // The message's version is one past the lost change's: the gap is filled by sync.
    await until(ana, 'the new title (sync)', () => ana.conversation(id)?.title === 'Offer stage');
  });
});

describe('attachments', () => {
  it('attach with progress, send with the id, and the other member downloads the same bytes', async () => {
    const id = await group(['ravi', 'ana']);
    const [ana, ravi] = [await signedIn('ana'), await signedIn('ravi')];
    await until(ana, 'the group', () => ana.conversation(id));
    const bytes = new Uint8Array(64 * 1024).map((_, i) => (i * 7) % 251);
    const progress: UploadProgress[] = [];
    const attachmentId = await ana.attach(id, new Blob([bytes], { type: 'application/pdf' }), {
      fileName: 'cv.pdf',
      onProgress: (p) => progress.push(p),
    });
    expect(progress.at(-1)).toEqual({ loaded: bytes.length, total: bytes.length });

    const arrived = new Promise<MessageDto>((resolve) =>
      ravi.on('message', ({ message }) => {
        if (message.body === 'My CV') resolve(message);
      }),
    );
    const entry = ana.send(id, 'My CV', { attachmentIds: [attachmentId] });
    expect(entry.attachmentIds).toEqual([attachmentId]);
    const stored = await ana.whenSent(entry.clientMessageId);
    expect(stored.attachments).toEqual([
      { id: attachmentId, fileName: 'cv.pdf', contentType: 'application/pdf', size: bytes.length },
    ]);
    expect((await arrived).attachments?.[0]?.id).toBe(attachmentId);

    const link = await ravi.attachmentLink(id, attachmentId);
    const download = await fetch(link.url);
    expect(download.status).toBe(200);
    expect(new Uint8Array(await download.arrayBuffer())).toEqual(bytes);
  });

  it('a file that is not what the slot declared is refused, and a send with an unknown id stores nothing', async () => {
    const id = await group(['ravi', 'ana']);
    const ana = await signedIn('ana');
    await until(ana, 'the group', () => ana.conversation(id));
    const slot = await ana.requestUpload({
      conversationId: id,
      fileName: 'cover.txt',
      contentType: 'text/plain',
      size: 100,
    });
    await expect(ana.upload(slot, new Blob(['too short']))).rejects.toMatchObject({
      code: 'INVALID_PAYLOAD',
    });
    await expect(
      ana.requestUpload({
        conversationId: id,
        fileName: 'run.exe',
        contentType: 'text/plain',
        size: 1,
      }),
    ).rejects.toMatchObject({ code: 'INVALID_PAYLOAD' });

    const entry = ana.send(id, 'see attached', { attachmentIds: [slot.id] });
    await expect(ana.whenSent(entry.clientMessageId)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect(ana.conversation(id)?.messages.some((m) => m.body === 'see attached')).toBe(false);
  });
});
