import { waitUntil } from '@jobsphere/testing';
import {
  type ConversationDto,
  type HistoryPage,
  type MessageDto,
  type SendResult,
} from '@jobsphere/chat-domain';
import { startEnvironment, type Environment } from '../support/environment.js';
import { connectClient, mintTokens, restAs, type ChatClient } from '../support/gateway.js';
import { PRESEND_SECRET, PresendPlatform } from '../support/presend-platform.js';

type Answer = { ok: true; data: unknown } | { ok: false; error: { code: string; reason?: string } };
type RawSocket = {
  timeout(ms: number): { emitWithAck(event: string, payload: unknown): Promise<unknown> };
};

const emit = async (socket: ChatClient, event: string, payload: unknown): Promise<Answer> =>
  (await (socket as unknown as RawSocket).timeout(5_000).emitWithAck(event, payload)) as Answer;

/** Every `message:new` / `message:updated` one socket receives, in order. */
function received(socket: ChatClient): MessageDto[] {
  const seen: MessageDto[] = [];
  socket.on('message:new', (m) => seen.push(m));
  socket.on('message:updated', (m) => seen.push(m));
  return seen;
}

// The content policy and the platform's pre-send hook over two gateway instances sharing Redis
// and the store: what the sender's devices and the recipient's see, live and in history, and a
// retry on the other instance answered from the first attempt's verdict.
describe('pre-send hook and content policy across two instances', () => {
  let env: Environment;
  let platform: PresendPlatform;
  let A: string;
  let B: string;
  const tokens: Record<string, string> = {};
  const sockets: ChatClient[] = [];
  let n = 0;

  const connect = async (url: string, user: string) => {
    const socket = await connectClient(url, tokens[user]!);
    sockets.push(socket);
    return socket;
  };
  const api = restAs(tokens);
  const history = async (url: string, user: string, id: string) =>
    (await api<HistoryPage>(url, user, 'GET', `/conversations/${id}/messages`)).body.messages;
  const open = async (opener: string, recipient: string) =>
    (
      await api<ConversationDto>(A, opener, 'POST', '/conversations', {
        kind: 'direct',
        userId: recipient,
      })
    ).body.id;

  beforeAll(async () => {
    platform = new PresendPlatform();
    const url = await platform.start();
    env = await startEnvironment({
      gateways: 2,
      env: {
        PRESEND_HOOK_URL: url,
        PRESEND_HOOK_SECRET: PRESEND_SECRET,
        PRESEND_HOOK_TIMEOUT_MS: '300',
        PRESEND_HOOK_FAILURE: 'open',
        CONTENT_ALLOWED_DOMAINS: 'jobsphere.com',
      },
    });
    [A, B] = env.gateways.map((g) => g.url) as [string, string];
    await mintTokens(tokens, [
      ['rita', 'recruiter'],
      ['cand', 'candidate'],
      ['sam', 'recruiter'],
      ['dana', 'candidate'],
      ['vic', 'recruiter'],
      ['val', 'candidate'],
    ]);
  }, 60_000);

  afterAll(async () => {
    for (const s of sockets.splice(0)) s.disconnect();
    await env?.dispose();
    await platform?.stop();
  });

  beforeEach(() => {
    platform.answer = () => ({ kind: 'json', body: { verdict: 'allow' } });
  });

  it('a request with contact details: the recipient on B sees it masked with a notice; the sender’s devices see what was sent', async () => {
    const ritaA = await connect(A, 'rita');
    const ritaB = await connect(B, 'rita');
    const candB = await connect(B, 'cand');
    const [ritaOther, candSees] = [received(ritaB), received(candB)];
    const id = await open('rita', 'cand');
    const body = 'Hi! WhatsApp me on six uno 2345678 or see jobsphere.com/jobs/7 and bit . ly/xY';
    const masked =
      'Hi! WhatsApp me on [contact details hidden] or see jobsphere.com/jobs/7 and [link hidden]';
    const ack = await emit(ritaA, 'message:send', {
      conversationId: id,
      clientMessageId: `m-${++n}`,
      body,
    });
    if (!ack.ok) throw new Error(`send refused: ${ack.error.code}`);
    expect((ack.data as SendResult).message).toMatchObject({
      body,
      safety: { recipientBody: masked },
    });
    await waitUntil(
      'both sides got it',
      () => candSees.length === 1 && ritaOther.length === 1,
      5_000,
    );
    expect(candSees[0]).toMatchObject({
      body: masked,
      safety: { notices: ['contact-hidden', 'link-hidden'], warning: ['off-platform'] },
    });
    expect(ritaOther[0]).toMatchObject({ body, safety: { recipientBody: masked } });
    expect(JSON.stringify(candSees[0])).not.toContain('2345678');
    expect((await history(B, 'cand', id))[0]).toMatchObject({ body: masked });
    expect((await history(A, 'rita', id))[0]).toMatchObject({ body });
    // The recipient replies (accepting): from now on contact details pass both ways.
    const reply = await emit(candB, 'message:send', {
      conversationId: id,
      clientMessageId: `m-${++n}`,
      body: 'Thanks, mine is 0687654321',
    });
    expect(reply.ok && (reply.data as SendResult).message.safety).toBeUndefined();
    const later = await emit(ritaA, 'message:send', {
      conversationId: id,
      clientMessageId: `m-${++n}`,
      body: 'Great, mail me at rita@example.com',
    });
    expect(later.ok).toBe(true);
    await waitUntil('the accepted message', () => candSees.length === 2, 5_000);
    expect(candSees[1]).toMatchObject({ body: 'Great, mail me at rita@example.com' });
    expect(candSees[1]!.safety).toBeUndefined();
  });

  it('an edit is screened like a send: the recipient’s copy is masked again, live on the other instance', async () => {
    const samA = await connect(A, 'sam');
    const danaB = await connect(B, 'dana');
    const danaSees = received(danaB);
    const id = await open('sam', 'dana');
    const sent = await emit(samA, 'message:send', {
      conversationId: id,
      clientMessageId: `m-${++n}`,
      body: 'hello',
    });
    if (!sent.ok) throw new Error('send refused');
    const messageId = (sent.data as SendResult).message.id;
    const edited = await emit(samA, 'message:edit', {
      conversationId: id,
      messageId,
      body: 'hello, call 0612345678',
    });
    expect(edited.ok).toBe(true);
    await waitUntil('the edit', () => danaSees.length === 2, 5_000);
    expect(danaSees[1]).toMatchObject({ body: 'hello, call [contact details hidden]' });
    expect(platform.drafts.filter((d) => d.senderId === 'sam').map((d) => d.action)).toEqual([
      'send',
      'edit',
    ]);
  });

  it('the hook rejects on A; the retry with the same clientMessageId on B gets the same reason without a second call', async () => {
    const vicA = await connect(A, 'vic');
    const vicB = await connect(B, 'vic');
    const id = await open('vic', 'val');
    platform.answer = () => ({ kind: 'json', body: { verdict: 'reject', reason: 'fee-request' } });
    const draft = { conversationId: id, clientMessageId: `m-${++n}`, body: 'pay 50 EUR to start' };
    const before = platform.calls;
    const first = await emit(vicA, 'message:send', draft);
    platform.answer = () => ({ kind: 'json', body: { verdict: 'allow' } });
    const retry = await emit(vicB, 'message:send', draft);
    expect(first).toEqual({
      ok: false,
      error: expect.objectContaining({ code: 'CONTENT_REJECTED', reason: 'fee-request' }),
    });
    expect(retry).toEqual(first);
    expect(platform.calls - before).toBe(1);
    expect(await history(B, 'vic', id)).toEqual([]);
  });

  it('a platform slower than the deadline: the open policy lets the send through, counted on that instance', async () => {
    const ritaB = await connect(B, 'rita');
    const id = await open('rita', 'val');
    platform.answer = () => ({ kind: 'hold' });
    const ack = await emit(ritaB, 'message:send', {
      conversationId: id,
      clientMessageId: `m-${++n}`,
      body: 'hello',
    });
    platform.release();
    expect(ack.ok).toBe(true);
    const metrics = await fetch(`${B}/metrics`).then((r) => r.text());
    expect(metrics).toMatch(/chat_presend_hook_faults_total\{fault="timeout",applied="open"\} 1\b/);
  });
});
