import { waitUntil } from '@jobsphere/testing';
import {
  type AuditLog,
  type ConversationDto,
  type ConversationList,
  type HistoryPage,
  type MessageDto,
  type ModerationList,
  type SyncResult,
} from '@jobsphere/chat-domain';
import { startEnvironment, type Environment } from '../support/environment.js';
import {
  collect,
  connectClient,
  mintTokens,
  openAccepted,
  restAs,
  type ChatClient,
} from '../support/gateway.js';

type Answer<T = unknown> =
  { ok: true; data: T } | { ok: false; error: { code: string; retryAfterMs?: number } };
type RawSocket = {
  timeout(ms: number): { emitWithAck(event: string, payload: unknown): Promise<unknown> };
};

async function emit<T = unknown>(socket: ChatClient, event: string, payload: unknown) {
  return (await (socket as unknown as RawSocket)
    .timeout(5_000)
    .emitWithAck(event, payload)) as Answer<T>;
}

let counter = 0;
const send = (socket: ChatClient, conversationId: string, body: string, key?: string) =>
  emit<{ message: MessageDto; duplicate: boolean }>(socket, 'message:send', {
    conversationId,
    clientMessageId: key ?? `mod-${++counter}-${Date.now()}`,
    body,
  });

// Bans, shadow-bans and slow mode over two gateway instances sharing Redis and the store, as
// the people involved see them.
describe('moderation across two instances', () => {
  let env: Environment;
  let A: string;
  let B: string;
  const tokens: Record<string, string> = {};
  const api = restAs(tokens);
  const sync = async (socket: ChatClient, conversationId: string) => {
    const answer = await emit<SyncResult>(socket, 'sync', {
      conversations: [{ conversationId, afterVersion: 0 }],
    });
    if (!answer.ok) throw new Error(`sync refused: ${answer.error.code}`);
    return answer.data.conversations[0]!.messages;
  };

  beforeAll(async () => {
    env = await startEnvironment({ gateways: 2 });
    [A, B] = env.gateways.map((g) => g.url) as [string, string];
    await mintTokens(tokens, [
      ['eve', 'recruiter'],
      ['ana', 'candidate'],
      ['sam', 'recruiter'],
      ['lea', 'candidate'],
      ['kim', 'candidate'],
      ['rob', 'recruiter'],
      ['judy', 'admin'],
    ]);
  }, 60_000);

  afterAll(async () => {
    await env?.dispose();
  });

  it('a banned user connected on two instances is cut off on both, refused everywhere with BANNED, audited, and back after an unban', async () => {
    const conversation = await openAccepted(A, tokens.eve!, tokens.ana!, { userId: 'ana' });
    const eveA = await connectClient(A, tokens.eve!);
    const eveB = await connectClient(B, tokens.eve!);
    const anaA = await connectClient(A, tokens.ana!);
    expect((await send(eveA, conversation.id, 'before the ban')).ok).toBe(true);

    // Not for anyone but admins.
    const refused = await api<{ error: { code: string } }>(
      A,
      'ana',
      'POST',
      '/admin/users/eve/ban',
      {
        reason: 'no',
      },
    );
    expect(refused.status).toBe(403);

    const banned = await api(B, 'judy', 'POST', '/admin/users/eve/ban', {
      reason: 'asked candidates for an onboarding fee',
    });
    expect(banned.status).toBe(200);
    expect(banned.body).toMatchObject({ userId: 'eve', kind: 'banned', by: 'judy' });
    // Both sockets, on both instances, are closed by the server.
    await waitUntil(
      'both of eve’s sockets closed',
      () => eveA.disconnected && eveB.disconnected,
      5_000,
    );

    // Her token opens no socket anywhere, with a code the app can show.
    for (const url of [A, B]) {
      const error = (await connectClient(url, tokens.eve!).then(
        () => null,
        (e: unknown) => e,
      )) as { data?: { code?: string } } | null;
      expect(error?.data?.code).toBe('BANNED');
    }
    // Nothing over REST either: new conversations, uploads, edits.
    const opened = await api<{ error: { code: string } }>(A, 'eve', 'POST', '/conversations', {
      kind: 'direct',
      userId: 'lea',
    });
    expect([opened.status, opened.body.error.code]).toEqual([403, 'BANNED']);
    const upload = await api<{ error: { code: string } }>(B, 'eve', 'POST', '/attachments', {
      conversationId: conversation.id,
      fileName: 'cv.pdf',
      contentType: 'application/pdf',
      size: 1000,
    });
    expect([upload.status, upload.body.error.code]).toEqual([403, 'BANNED']);
    const mine = (
      await api<HistoryPage>(A, 'eve', 'GET', `/conversations/${conversation.id}/messages`)
    ).body.messages[0]!;
    const edit = await api<{ error: { code: string } }>(
      B,
      'eve',
      'PATCH',
      `/conversations/${conversation.id}/messages/${mine.id}`,
      { body: 'pay here' },
    );
    expect([edit.status, edit.body.error.code]).toEqual([403, 'BANNED']);

    const audit = await api<AuditLog>(A, 'judy', 'GET', '/admin/audit?userId=eve');
    expect(audit.body.entries).toEqual([
      expect.objectContaining({
        actor: 'judy',
        action: 'user.banned',
        subjectUserId: 'eve',
        reason: 'asked candidates for an onboarding fee',
      }),
    ]);

    // Unbanned: she connects and sends again, and ana hears it live.
    const unbanned = await api(A, 'judy', 'POST', '/admin/users/eve/unban', { reason: 'appeal' });
    expect(unbanned.body).toEqual({ userId: 'eve', kind: null });
    const back = await connectClient(B, tokens.eve!);
    const anaHears = collect(anaA, 'message:new');
    expect((await send(back, conversation.id, 'after the unban')).ok).toBe(true);
    await waitUntil(
      'ana hears eve again',
      () => anaHears.some((m) => m.body === 'after the unban'),
      5_000,
    );
    const after = await api<AuditLog>(B, 'judy', 'GET', '/admin/audit?userId=eve');
    expect(after.body.entries.map((e) => e.action)).toEqual(['user.unbanned', 'user.banned']);
  }, 30_000);

  it('a shadow-banned user’s messages reach their own devices live and through sync, and nobody else, live, sync, history, preview or unread', async () => {
    const conversation = await openAccepted(A, tokens.sam!, tokens.lea!, { userId: 'lea' });
    const samA = await connectClient(A, tokens.sam!);
    const samB = await connectClient(B, tokens.sam!);
    const leaA = await connectClient(A, tokens.lea!);
    const leaB = await connectClient(B, tokens.lea!);
    const first = await send(samA, conversation.id, 'hello lea');
    if (!first.ok) throw new Error('first send refused');
    await emit(leaA, 'conversation:read', {
      conversationId: conversation.id,
      seq: first.data.message.seq,
    });

    const shadowed = await api(A, 'judy', 'POST', '/admin/users/sam/shadow-ban', {
      reason: 'moves candidates to telegram',
    });
    expect(shadowed.body).toMatchObject({ kind: 'shadow-banned' });
    const samOther = collect(samB, 'message:new');
    const samEdits = collect(samB, 'message:updated');
    const leaLive = [collect(leaA, 'message:new'), collect(leaB, 'message:new')];
    const leaEdits = [collect(leaA, 'message:updated'), collect(leaB, 'message:updated')];
    const leaTyping = collect(leaB, 'typing');

    // Sam notices nothing: acked, stored, on his other device at once.
    const hidden = await send(samA, conversation.id, 'pay the fee on telegram');
    if (!hidden.ok) throw new Error(`shadow send refused: ${hidden.error.code}`);
    expect(hidden.data.message.body).toBe('pay the fee on telegram');
    await waitUntil('sam’s other device has it', () => samOther.length === 1, 5_000);
    expect((await emit(samA, 'typing:start', { conversationId: conversation.id })).ok).toBe(true);
    const edited = await emit<MessageDto>(samA, 'message:edit', {
      conversationId: conversation.id,
      messageId: hidden.data.message.id,
      body: 'pay the fee on whatsapp',
    });
    expect(edited.ok).toBe(true);
    await waitUntil('sam’s other device has the edit', () => samEdits.length === 1, 5_000);

    // A marker: lea's own message reaches her devices after everything sam did.
    const marker = await send(leaA, conversation.id, 'marker from lea');
    if (!marker.ok) throw new Error('marker refused');
    await waitUntil('lea’s other device has her marker', () => leaLive[1]!.length === 1, 5_000);
    for (const seen of leaLive) expect(seen.map((m) => m.senderId)).not.toContain('sam');
    expect(leaEdits.flat()).toEqual([]);
    expect(leaTyping).toEqual([]);

    // Sync and history: lea never sees it; sam's devices do, edited.
    expect((await sync(leaB, conversation.id)).map((m) => m.body)).toEqual([
      'hello lea',
      'marker from lea',
    ]);
    expect((await sync(samB, conversation.id)).map((m) => m.body)).toEqual([
      'hello lea',
      'pay the fee on whatsapp',
      'marker from lea',
    ]);
    const leaHistory = await api<HistoryPage>(
      B,
      'lea',
      'GET',
      `/conversations/${conversation.id}/messages`,
    );
    expect(leaHistory.body.messages.map((m) => m.body)).toEqual(['hello lea', 'marker from lea']);

    // Another shadow message after lea's marker: her list shows her own as the last one, nothing unread.
    expect((await send(samB, conversation.id, 'still there?')).ok).toBe(true);
    const list = await api<ConversationList>(A, 'lea', 'GET', '/conversations');
    const entry = list.body.conversations.find((c) => c.id === conversation.id)!;
    expect(entry.lastMessage).toMatchObject({ body: 'marker from lea', senderId: 'lea' });
    expect(entry.unreadCount).toBe(0);

    // Lifted: sam's next message counts as one unread for lea, not three.
    await api(A, 'judy', 'POST', '/admin/users/sam/shadow-unban', {});
    expect((await send(samA, conversation.id, 'a normal message')).ok).toBe(true);
    await waitUntil(
      'lea hears sam again',
      () => leaLive[0]!.some((m) => m.senderId === 'sam'),
      5_000,
    );
    const seen = await api<ConversationDto>(B, 'lea', 'GET', `/conversations/${conversation.id}`);
    expect(seen.body.unreadCount).toBe(1);
    expect(seen.body.lastMessage?.body).toBe('a normal message');
  }, 30_000);

  it('slow mode holds across instances: of two sends at once on two instances exactly one passes, the other gets SLOW_MODE with its wait', async () => {
    const conversation = await openAccepted(A, tokens.rob!, tokens.kim!, { userId: 'kim' });
    const kimA = await connectClient(A, tokens.kim!);
    const kimB = await connectClient(B, tokens.kim!);
    const robA = await connectClient(A, tokens.rob!);
    const robB = await connectClient(B, tokens.rob!);
    const told = collect(kimB, 'conversation:slow-mode');

    const set = await api(B, 'judy', 'PUT', `/admin/conversations/${conversation.id}/slow-mode`, {
      seconds: 60,
      reason: 'heated thread',
    });
    expect(set.body).toEqual({ conversationId: conversation.id, slowModeSeconds: 60 });
    await waitUntil('kim is told', () => told.length === 1, 5_000);

    for (const [first, second] of [
      [kimA, kimB],
      [robA, robB],
    ] as const) {
      const keys = [`race-${++counter}`, `race-${++counter}`];
      const answers = await Promise.all([
        send(first, conversation.id, 'one', keys[0]),
        send(second, conversation.id, 'two', keys[1]),
      ]);
      const passed = answers.filter((a) => a.ok);
      const slowed = answers.filter((a) => !a.ok);
      expect(passed).toHaveLength(1);
      expect(slowed).toHaveLength(1);
      const error = (slowed[0] as { error: { code: string; retryAfterMs?: number } }).error;
      expect(error.code).toBe('SLOW_MODE');
      expect(error.retryAfterMs).toBeGreaterThan(50_000);
      expect(error.retryAfterMs).toBeLessThanOrEqual(60_000);
      // The send that passed, retried on the other instance, is the same message, not refused.
      const winner = answers.indexOf(passed[0]!);
      const retry = await send(winner === 0 ? second : first, conversation.id, 'x', keys[winner]);
      expect(retry).toMatchObject({ ok: true, data: { duplicate: true } });
    }
    const history = await api<HistoryPage>(
      A,
      'kim',
      'GET',
      `/conversations/${conversation.id}/messages`,
    );
    expect(history.body.messages).toHaveLength(2);

    // Off: kim sends again at once.
    await api(A, 'judy', 'PUT', `/admin/conversations/${conversation.id}/slow-mode`, {
      seconds: 0,
    });
    expect((await send(kimB, conversation.id, 'free again')).ok).toBe(true);
    const audit = await api<AuditLog>(A, 'judy', 'GET', '/admin/audit?actor=judy');
    expect(audit.body.entries.filter((e) => e.conversationId === conversation.id)).toEqual([
      expect.objectContaining({ action: 'conversation.slow-mode', slowModeSeconds: 0 }),
      expect.objectContaining({
        action: 'conversation.slow-mode',
        slowModeSeconds: 60,
        reason: 'heated thread',
      }),
    ]);
  }, 30_000);

  it('the moderation list shows reports beside other flags, filtered and paged; resolving one is audited', async () => {
    const conversation = await openAccepted(A, tokens.rob!, tokens.ana!, { userId: 'ana' });
    const robA = await connectClient(A, tokens.rob!);
    const sent = await send(robA, conversation.id, 'send me your bank details');
    if (!sent.ok) throw new Error('send refused');
    const reported = await api<{ id: string }>(B, 'ana', 'POST', '/reports', {
      conversationId: conversation.id,
      messageId: sent.data.message.id,
      reason: 'scam',
      note: 'asks for bank details',
    });
    expect(reported.status).toBe(201);
    const list = await api<ModerationList>(
      A,
      'judy',
      'GET',
      '/admin/moderation?source=report&userId=rob',
    );
    expect(list.body.flags).toEqual([
      expect.objectContaining({
        id: `report:${reported.body.id}`,
        source: 'report',
        reason: 'scam',
        state: 'open',
        userId: 'rob',
        conversationId: conversation.id,
        messageId: sent.data.message.id,
        detail: 'asks for bank details',
      }),
    ]);
    // The content policy saw the same message: its flag is listed beside the report.
    expect(
      (await api<ModerationList>(A, 'judy', 'GET', '/admin/moderation?source=policy&userId=rob'))
        .body.flags,
    ).toEqual([
      expect.objectContaining({
        id: `policy:${sent.data.message.id}`,
        source: 'policy',
        reason: 'scam:bank-details',
        state: 'open',
        messageId: sent.data.message.id,
      }),
    ]);
    expect(
      (await api<ModerationList>(A, 'judy', 'GET', '/admin/moderation?source=hook&userId=rob')).body
        .flags,
    ).toEqual([]);
    const bad = await api<{ error: { code: string } }>(
      A,
      'judy',
      'GET',
      '/admin/moderation?source=gossip',
    );
    expect([bad.status, bad.body.error.code]).toEqual([400, 'INVALID_PAYLOAD']);
    const capped = await api(A, 'judy', 'GET', '/admin/moderation?limit=1000');
    expect(capped.status).toBe(400);
    expect((await api(A, 'ana', 'GET', '/admin/moderation')).status).toBe(403);

    await api(B, 'judy', 'POST', `/admin/reports/${reported.body.id}/resolve`, {
      resolution: 'message_deleted',
    });
    const actioned = await api<ModerationList>(
      B,
      'judy',
      'GET',
      `/admin/moderation?conversationId=${conversation.id}`,
    );
    // The report is actioned; the policy's flag waits for its own decision.
    expect(actioned.body.flags.map((f) => `${f.source}:${f.state}`).sort()).toEqual([
      'policy:open',
      'report:actioned',
    ]);
    const audit = await api<AuditLog>(A, 'judy', 'GET', '/admin/audit?userId=rob');
    expect(audit.body.entries.map((e) => e.action)).toEqual(
      expect.arrayContaining(['report.resolved']),
    );
  }, 30_000);
});
