import { socketIoFactory } from '@jobsphere/chat-client';
import { waitUntil } from '@jobsphere/testing';
import {
  type ConversationDto,
  type ConversationList,
  type HistoryPage,
  type MessageDto,
  type ReportDto,
  type ReportsPage,
} from '@jobsphere/chat-domain';
import { Device } from '../support/device.js';
import { startEnvironment, type Environment } from '../support/environment.js';
import {
  acceptInvitations,
  connectClient,
  mintTokens,
  restAs,
  type ChatClient,
} from '../support/gateway.js';

const ALLOWANCE = 2;
const EDIT_WINDOW_MS = 4_000;
const ANSWERS_PER_MIN = 5;

/** Every event one raw socket receives, in order: to show what reached a user, and what did not. */
function record(socket: ChatClient): { name: string; payload: unknown }[] {
  const seen: { name: string; payload: unknown }[] = [];
  socket.onAny((name: string, payload: unknown) => seen.push({ name, payload }));
  return seen;
}

/** The events that mention `userId` anywhere (sender, typer, reader, presence...). */
const about = (events: { name: string; payload: unknown }[], userId: string) =>
  events.filter((e) => JSON.stringify(e.payload).includes(`"${userId}"`));

type RawSocket = {
  timeout(ms: number): { emitWithAck(event: string, payload: unknown): Promise<unknown> };
};
type Answer = { ok: true; data: unknown } | { ok: false; error: { code: string } };

/** Emits any event with any payload, as a hostile client would, and returns the ack. */
async function emit(socket: ChatClient, event: string, payload: unknown): Promise<Answer> {
  return (await (socket as unknown as RawSocket)
    .timeout(5_000)
    .emitWithAck(event, payload)) as Answer;
}

// Message requests, blocks, reports, edits and deletions over two gateway instances sharing
// Redis and the store, as the people involved see them, each with what a bad actor tries.
describe('trust and safety across two instances', () => {
  let env: Environment;
  let A: string;
  let B: string;
  const tokens: Record<string, string> = {};
  const devices: Device[] = [];

  const device = async (
    name: string,
    userId: string,
    role: 'candidate' | 'recruiter',
    url: string,
  ) => {
    const d = new Device(name, userId, role, [url]);
    devices.push(d);
    await d.start();
    return d;
  };
  const api = restAs(tokens);
  const history = async (url: string, user: string, id: string) =>
    (await api<HistoryPage>(url, user, 'GET', `/conversations/${id}/messages`)).body.messages;
  const send = async (socket: ChatClient, conversationId: string, body: string) =>
    emit(socket, 'message:send', {
      conversationId,
      clientMessageId: `c-${Math.random().toString(36).slice(2)}`,
      body,
    });
  /** A direct conversation both sides accepted (the recipient replied). */
  const contacts = async (opener: string, recipient: string, url: string) => {
    const opened = await api<ConversationDto>(url, opener, 'POST', '/conversations', {
      kind: 'direct',
      userId: recipient,
    });
    await api(url, recipient, 'POST', `/conversations/${opened.body.id}/accept`);
    return opened.body;
  };

  beforeAll(async () => {
    env = await startEnvironment({
      gateways: 2,
      env: {
        TRUST_REQUEST_ALLOWANCE: String(ALLOWANCE),
        TRUST_EDIT_WINDOW_MS: String(EDIT_WINDOW_MS),
        // Low enough to spend in a test; nobody else here answers more than twice.
        RATE_LIMIT_ANSWER_PER_MIN: String(ANSWERS_PER_MIN),
      },
    });
    [A, B] = env.gateways.map((g) => g.url) as [string, string];
    await mintTokens(tokens, [
      ['rita', 'recruiter'],
      ['cand', 'candidate'],
      ['dan', 'candidate'],
      ['erin', 'candidate'],
      ['bob', 'candidate'],
      ['mallory', 'recruiter'],
      ['carol', 'recruiter'],
      ['judy', 'admin'],
      ['flood', 'candidate'],
    ]);
  }, 60_000);

  afterAll(async () => {
    for (const d of devices.splice(0)) await d.close();
    await env?.dispose();
  });

  describe('message requests', () => {
    it('a stranger’s conversation arrives as a request: apart, capped, sharing nothing until accepted', async () => {
      const ritaA = await connectClient(A, tokens.rita!);
      const candB = await connectClient(B, tokens.cand!);
      const candPhone = await device('cand phone', 'cand', 'candidate', B);
      const ritaSees = record(ritaA);

      const opened = await api<ConversationDto>(A, 'rita', 'POST', '/conversations', {
        kind: 'direct',
        userId: 'cand',
        jobId: 'job-7',
      });
      expect(opened.status).toBe(201);
      const id = opened.body.id;
      expect(opened.body.request).toEqual({ from: 'rita', to: 'cand', state: 'pending' });
      const seqs: number[] = [];
      for (let i = 1; i <= ALLOWANCE; i++) {
        const ack = await send(ritaA, id, `hello ${i}`);
        if (!ack.ok) throw new Error(`send ${i} refused`);
        seqs.push((ack.data as { message: MessageDto }).message.seq);
      }

      // Over the allowance: refused, and nothing is stored.
      expect(await send(ritaA, id, 'one too many')).toMatchObject({
        ok: false,
        error: { code: 'REQUEST_PENDING' },
      });
      expect((await history(A, 'rita', id)).map((m) => m.body)).toEqual(['hello 1', 'hello 2']);

      // The recipient finds it in the requests box, not in the inbox.
      const inbox = await api<ConversationList>(B, 'cand', 'GET', '/conversations');
      const box = await api<ConversationList>(B, 'cand', 'GET', '/conversations?box=requests');
      expect(inbox.body.conversations.map((c) => c.id)).not.toContain(id);
      expect(box.body.conversations.map((c) => c.id)).toEqual([id]);
      await waitUntil(
        'the request on the phone',
        () => candPhone.client.requests().length === 1,
        5_000,
      );
      expect(candPhone.client.conversations().map((c) => c.id)).not.toContain(id);
      await waitUntil(
        'both messages on the phone',
        async () => {
          await candPhone.client.open(id);
          return candPhone.shown(id).length === ALLOWANCE;
        },
        5_000,
      );

      // Until accepted the recipient shares nothing: read receipts, typing, presence.
      expect(
        (await emit(candB, 'conversation:read', { conversationId: id, seq: seqs[1] })).ok,
      ).toBe(true);
      expect((await emit(candB, 'typing:start', { conversationId: id })).ok).toBe(true);
      expect(await emit(ritaA, 'presence:query', { userIds: ['cand'] })).toEqual({
        ok: true,
        data: { users: [] },
      });
      const rita = await api<ConversationDto>(A, 'rita', 'GET', `/conversations/${id}`);
      expect(rita.body.members.find((m) => m.userId === 'cand')!.lastReadSeq).toBe(0);

      // Accepting (from instance B, where cand's socket is: the marker follows the same path).
      const accepted = await api<ConversationDto>(B, 'cand', 'POST', `/conversations/${id}/accept`);
      expect(accepted.status).toBe(200);
      expect(accepted.body.request).toBeUndefined();
      await waitUntil(
        'conversation:updated at the opener',
        () => ritaSees.some((e) => e.name === 'conversation:updated'),
        5_000,
      );
      const beforeMarker = ritaSees.slice(
        0,
        ritaSees.findIndex((e) => e.name === 'conversation:updated'),
      );
      expect(about(beforeMarker, 'cand').map((e) => e.name)).toEqual(['conversation:created']);
      expect(ritaSees.find((e) => e.name === 'conversation:updated')!.payload).toEqual({
        conversationId: id,
        blocked: false,
        request: null,
      });
      // What cand read while it was a request reaches Rita once accepted ("Seen" at once).
      const readUpTo = (seq: number) =>
        ritaSees.some(
          (e) =>
            e.name === 'conversation:read' &&
            (e.payload as { lastReadSeq: number }).lastReadSeq === seq,
        );
      await waitUntil('the earlier read, on acceptance', () => readUpTo(seqs[1]!), 5_000);

      // Now an ordinary conversation: it sends, read receipts and presence are shared.
      const thanks = await send(ritaA, id, 'thanks for accepting');
      if (!thanks.ok) throw new Error('refused after the accept');
      const lastSeq = (thanks.data as { message: MessageDto }).message.seq;
      expect(
        (await emit(candB, 'conversation:read', { conversationId: id, seq: lastSeq })).ok,
      ).toBe(true);
      await waitUntil('the read receipt', () => readUpTo(lastSeq), 5_000);
      expect(await emit(ritaA, 'presence:query', { userIds: ['cand'] })).toMatchObject({
        ok: true,
        data: { users: [{ userId: 'cand', online: true }] },
      });
      await waitUntil(
        'the phone moved it to the inbox',
        () =>
          candPhone.client.conversations().some((c) => c.id === id) &&
          candPhone.client.requests().length === 0,
        5_000,
      );
    });

    it('declined: the opener cannot send any more, and the recipient’s lists drop it', async () => {
      const ritaA = await connectClient(A, tokens.rita!);
      const opened = await api<ConversationDto>(A, 'rita', 'POST', '/conversations', {
        kind: 'direct',
        userId: 'dan',
      });
      expect((await send(ritaA, opened.body.id, 'interested?')).ok).toBe(true);
      const declined = await api<ConversationDto>(
        B,
        'dan',
        'POST',
        `/conversations/${opened.body.id}/decline`,
      );
      expect(declined.body.request).toEqual({ from: 'rita', to: 'dan', state: 'declined' });
      expect(await send(ritaA, opened.body.id, 'are you sure?')).toMatchObject({
        ok: false,
        error: { code: 'REQUEST_DECLINED' },
      });
      for (const box of ['inbox', 'requests']) {
        const list = await api<ConversationList>(B, 'dan', 'GET', `/conversations?box=${box}`);
        expect(list.body.conversations).toEqual([]);
      }
      expect((await history(A, 'rita', opened.body.id)).map((m) => m.body)).toEqual([
        'interested?',
      ]);
    });

    it('the recipient’s reply makes it an ordinary conversation on both sides', async () => {
      const ritaA = await connectClient(A, tokens.rita!);
      const erinB = await connectClient(B, tokens.erin!);
      const ritaSees = record(ritaA);
      const opened = await api<ConversationDto>(A, 'rita', 'POST', '/conversations', {
        kind: 'direct',
        userId: 'erin',
      });
      expect((await send(erinB, opened.body.id, 'hi Rita, happy to talk')).ok).toBe(true);
      await waitUntil(
        'conversation:updated at the opener',
        () => ritaSees.some((e) => e.name === 'conversation:updated'),
        5_000,
      );
      const inbox = await api<ConversationList>(B, 'erin', 'GET', '/conversations');
      expect(inbox.body.conversations.map((c) => [c.id, c.request])).toEqual([
        [opened.body.id, undefined],
      ]);
      for (let i = 0; i <= ALLOWANCE; i++)
        expect((await send(ritaA, opened.body.id, `more ${i}`)).ok).toBe(true);
    });
  });

  it('the new events are budgeted like the others: a flood of answers is refused RATE_LIMITED', async () => {
    const flood = await connectClient(B, tokens.flood!);
    const codes: string[] = [];
    for (let i = 0; i <= ANSWERS_PER_MIN; i++) {
      const answer = await emit(flood, 'conversation:accept', { conversationId: `nope-${i}` });
      codes.push(answer.ok ? 'OK' : answer.error.code);
    }
    expect(codes).toEqual([...Array<string>(ANSWERS_PER_MIN).fill('NOT_A_MEMBER'), 'RATE_LIMITED']);
    // The REST route spends the same budget (on the same instance: no race with Redis).
    const rest429 = await api(B, 'flood', 'POST', '/conversations/nope/decline');
    expect(rest429.status).toBe(429);
  });

  describe('blocks', () => {
    it('a blocked user trying every event and route gets a refusal, and the blocker’s devices receive nothing', async () => {
      const direct = await contacts('mallory', 'bob', A);
      const group = await api<ConversationDto>(A, 'carol', 'POST', '/conversations', {
        kind: 'group',
        title: 'Panel',
        memberIds: ['bob', 'mallory'],
      });
      await acceptInvitations(B, group.body.id, [tokens.bob!, tokens.mallory!]);
      const bobA = await connectClient(A, tokens.bob!);
      const bobB = await connectClient(B, tokens.bob!);
      const malloryB = await connectClient(B, tokens.mallory!);
      const carolB = await connectClient(B, tokens.carol!);
      const earlier = await send(malloryB, direct.id, 'an earlier message');
      if (!earlier.ok) throw new Error('setup send failed');
      const earlierId = (earlier.data as { message: MessageDto }).message.id;
      // Something from Bob in each conversation that Mallory has not read yet.
      const seqOf = (a: Awaited<ReturnType<typeof send>>) =>
        a.ok ? (a.data as { message: MessageDto }).message.seq : Number.NaN;
      const bobsSeq = seqOf(await send(bobA, direct.id, 'hi Mallory'));
      const welcomeSeq = seqOf(await send(carolB, group.body.id, 'welcome to the panel'));

      const bobSees = [record(bobA), record(bobB)];
      const mallorySees = record(malloryB);
      expect(await emit(bobA, 'user:block', { userId: 'mallory' })).toEqual({
        ok: true,
        data: { blocked: true },
      });
      // Both sides hear it at once, on both instances; each is shown offline to the other.
      const offlineOf = (userId: string) => (e: { name: string; payload: unknown }) =>
        e.name === 'presence' &&
        (e.payload as { userId: string; online: boolean }).userId === userId;
      await waitUntil(
        'the block on every device',
        () =>
          bobSees.every((seen) => seen.some(offlineOf('mallory'))) &&
          mallorySees.some(offlineOf('bob')),
        5_000,
      );
      for (const seen of [...bobSees, mallorySees])
        expect(seen.find((e) => e.name === 'conversation:updated')!.payload).toEqual({
          conversationId: direct.id,
          blocked: true,
          request: null,
        });
      const mark = bobSees.map((seen) => seen.length);

      // Every socket event Mallory could aim at Bob.
      const refusals: Record<string, unknown> = {
        send: await send(malloryB, direct.id, 'you cannot block me'),
        typing: await emit(malloryB, 'typing:start', { conversationId: direct.id }),
        edit: await emit(malloryB, 'message:edit', {
          conversationId: direct.id,
          messageId: earlierId,
          body: 'edited',
        }),
        delete: await emit(malloryB, 'message:delete', {
          conversationId: direct.id,
          messageId: earlierId,
        }),
        accept: await emit(malloryB, 'conversation:accept', { conversationId: direct.id }),
      };
      expect(refusals).toEqual({
        send: { ok: false, error: expect.objectContaining({ code: 'BLOCKED' }) },
        typing: { ok: false, error: expect.objectContaining({ code: 'BLOCKED' }) },
        edit: { ok: false, error: expect.objectContaining({ code: 'BLOCKED' }) },
        delete: { ok: false, error: expect.objectContaining({ code: 'BLOCKED' }) },
        accept: { ok: false, error: expect.objectContaining({ code: 'CONFLICT' }) },
      });
      // Presence: Bob is not among the users Mallory may see.
      expect(await emit(malloryB, 'presence:query', { userIds: ['bob'] })).toEqual({
        ok: true,
        data: { users: [] },
      });
      // Reading is her own position: answered, never shown to Bob, here or in their group.
      expect(
        await emit(malloryB, 'conversation:read', { conversationId: direct.id, seq: bobsSeq }),
      ).toMatchObject({ ok: true, data: { lastReadSeq: bobsSeq } });
      expect(
        await emit(malloryB, 'conversation:read', {
          conversationId: group.body.id,
          seq: welcomeSeq,
        }),
      ).toMatchObject({ ok: true, data: { lastReadSeq: welcomeSeq } });
      // The hiring team's group goes on, but her typing there does not reach Bob.
      expect((await emit(malloryB, 'typing:start', { conversationId: group.body.id })).ok).toBe(
        true,
      );
      // Blocking back and reporting change nothing Bob sees.
      expect((await emit(malloryB, 'user:block', { userId: 'bob' })).ok).toBe(true);
      expect((await emit(malloryB, 'user:unblock', { userId: 'bob' })).ok).toBe(true);

      // Every route.
      const routes = {
        direct: await api(B, 'mallory', 'POST', '/conversations', {
          kind: 'direct',
          userId: 'bob',
        }),
        otherJob: await api(B, 'mallory', 'POST', '/conversations', {
          kind: 'direct',
          userId: 'bob',
          jobId: 'job-9',
        }),
        group: await api(B, 'mallory', 'POST', '/conversations', {
          kind: 'group',
          title: 'x',
          memberIds: ['bob'],
        }),
        edit: await api(
          B,
          'mallory',
          'PATCH',
          `/conversations/${direct.id}/messages/${earlierId}`,
          { body: 'x' },
        ),
        delete: await api(
          B,
          'mallory',
          'DELETE',
          `/conversations/${direct.id}/messages/${earlierId}`,
        ),
        accept: await api(B, 'mallory', 'POST', `/conversations/${direct.id}/accept`),
        read: await api(B, 'mallory', 'POST', `/conversations/${direct.id}/read`, { seq: 1 }),
      };
      expect(
        Object.fromEntries(
          Object.entries(routes).map(([k, r]) => [
            k,
            [r.status, (r.body as { error?: { code: string } }).error?.code],
          ]),
        ),
      ).toEqual({
        direct: [403, 'BLOCKED'],
        otherJob: [403, 'BLOCKED'],
        group: [403, 'BLOCKED'],
        edit: [403, 'BLOCKED'],
        delete: [403, 'BLOCKED'],
        accept: [409, 'CONFLICT'],
        read: [200, undefined],
      });
      expect(
        (
          await api(B, 'mallory', 'POST', '/reports', {
            conversationId: direct.id,
            reason: 'other',
          })
        ).status,
      ).toBe(201);

      // The marker: Carol, on Mallory's instance, writes to Bob after all of it.
      expect((await send(carolB, group.body.id, 'marker')).ok).toBe(true);
      await waitUntil(
        'the marker on both of Bob’s devices',
        () =>
          bobSees.every((seen) =>
            seen.some((e) => (e.payload as MessageDto | undefined)?.body === 'marker'),
          ),
        5_000,
      );
      for (const [i, seen] of bobSees.entries())
        expect(about(seen.slice(mark[i]), 'mallory')).toEqual([]);
      // Nothing was stored: her message is as it was, the conversation holds nothing new.
      expect(
        (await history(A, 'bob', direct.id)).map((m) => [m.body, m.editedAt, m.deletedAt]),
      ).toEqual([
        ['an earlier message', undefined, undefined],
        ['hi Mallory', undefined, undefined],
      ]);
      const bobList = await api<ConversationList>(A, 'bob', 'GET', '/conversations');
      expect(
        bobList.body.conversations
          .filter((c) => c.members.some((m) => m.userId === 'mallory'))
          .map((c) => c.id)
          .sort(),
      ).toEqual([direct.id, group.body.id].sort());

      // Unblocking restores the conversation, live on both sides.
      expect((await api(A, 'bob', 'DELETE', '/users/mallory/block')).body).toEqual({
        blocked: false,
      });
      await waitUntil(
        'the unblock at Mallory',
        () => mallorySees.filter((e) => e.name === 'conversation:updated').length === 2,
        5_000,
      );
      const resumed = await send(malloryB, direct.id, 'sorry');
      expect(resumed.ok).toBe(true);
      await waitUntil(
        'the message at Bob',
        () =>
          bobSees.every((seen) =>
            seen.some((e) => (e.payload as MessageDto | undefined)?.body === 'sorry'),
          ),
        5_000,
      );
      const blocks = await api(A, 'bob', 'GET', '/blocks');
      expect(blocks.body).toEqual({ users: [] });
    });
  });

  describe('reports', () => {
    it('a report is taken with a receipt, tells the reported user nothing, and only admins moderate it', async () => {
      const conversation = await contacts('rita', 'erin', A);
      const ritaB = await connectClient(B, tokens.rita!);
      const ritaSees = record(ritaB);
      const sent = await send(ritaB, conversation.id, 'send me your bank details');
      if (!sent.ok) throw new Error('setup send failed');
      const message = (sent.data as { message: MessageDto }).message;
      const mark = ritaSees.length;

      const receipt = await api<{ id: string; status: string }>(A, 'erin', 'POST', '/reports', {
        conversationId: conversation.id,
        messageId: message.id,
        reason: 'scam',
        note: 'asks for bank details',
      });
      expect(receipt.status).toBe(201);
      expect(receipt.body).toEqual({
        id: expect.any(String),
        status: 'open',
        createdAt: expect.any(String),
      });

      // Not an admin: refused on every moderation route.
      for (const [method, path, body] of [
        ['GET', '/admin/reports'],
        ['POST', `/admin/reports/${receipt.body.id}/resolve`, { resolution: 'dismissed' }],
        ['DELETE', `/admin/conversations/${conversation.id}/messages/${message.id}`],
      ] as const) {
        const refused = await api<{ error: { code: string } }>(A, 'erin', method, path, body);
        expect([method, path, refused.status, refused.body.error.code]).toEqual([
          method,
          path,
          403,
          'FORBIDDEN',
        ]);
      }

      // The admin sees it with the message as it was, and resolves it by deleting the message.
      const list = await api<ReportsPage>(B, 'judy', 'GET', '/admin/reports?status=open');
      const found = list.body.reports.find((r) => r.id === receipt.body.id)!;
      expect(found).toMatchObject({
        status: 'open',
        reason: 'scam',
        reporterId: 'erin',
        reportedUserId: 'rita',
        messageId: message.id,
        snapshot: { senderId: 'rita', body: 'send me your bank details' },
      });
      const resolved = await api<ReportDto>(
        B,
        'judy',
        'POST',
        `/admin/reports/${receipt.body.id}/resolve`,
        {
          resolution: 'message_deleted',
        },
      );
      expect(resolved.body).toMatchObject({
        status: 'actioned',
        resolution: 'message_deleted',
        resolvedBy: 'judy',
      });
      // The tombstone reaches the members live; no report, reporter or reason ever reached Rita.
      await waitUntil(
        'the tombstone at Rita',
        () => ritaSees.some((e) => e.name === 'message:updated'),
        5_000,
      );
      // (Presence of Rita's contacts coming and going is not about the report.)
      const after = ritaSees.slice(mark).filter((e) => e.name !== 'presence');
      expect(after.map((e) => e.name)).toEqual(['message:updated']);
      expect(after[0]!.payload).toMatchObject({
        id: message.id,
        body: '',
        deletedAt: expect.any(String),
      });
      expect(JSON.stringify(after)).not.toMatch(/erin|scam|report/);
      expect(
        (await api<ReportsPage>(B, 'judy', 'GET', '/admin/reports?status=open')).body.reports.map(
          (r) => r.id,
        ),
      ).not.toContain(receipt.body.id);
    });
  });

  describe('edit and delete', () => {
    let conversation: ConversationDto;
    let devicesOf: Device[];
    let offline = false;
    let offlinePhone: Device;

    beforeAll(async () => {
      conversation = await contacts('rita', 'bob', B);
      // The offline phone's network can be cut: its sockets then go to a port nobody listens on.
      offlinePhone = new Device('bob offline phone', 'bob', 'candidate', [A], {
        socketFactory: (url, options) =>
          socketIoFactory(offline ? 'http://127.0.0.1:9' : url, options),
      });
      devices.push(offlinePhone);
      await offlinePhone.start();
      devicesOf = [
        await device('rita laptop', 'rita', 'recruiter', A),
        await device('rita phone', 'rita', 'recruiter', B),
        await device('bob laptop', 'bob', 'candidate', A),
        await device('bob tablet', 'bob', 'candidate', B),
      ];
      for (const d of [...devicesOf, offlinePhone]) await d.client.open(conversation.id);
    });

    const shownBy = (d: Device, id: string) => d.shown(conversation.id).find((m) => m.id === id);

    it('an own edit within the window reaches every device of every member live, on both instances', async () => {
      const [ritaLaptop] = devicesOf as [Device];
      const sent = await ritaLaptop.sendAndWait(conversation.id, 'Interview at 10?');
      const edited = await ritaLaptop.client.edit(conversation.id, sent.id, 'Interview at 11?');
      expect(edited).toMatchObject({
        id: sent.id,
        body: 'Interview at 11?',
        editedAt: expect.any(String),
      });
      expect(edited.version).toBeGreaterThan(sent.version);
      await waitUntil(
        'the edit on every device',
        () =>
          [...devicesOf, offlinePhone].every(
            (d) => shownBy(d, sent.id)?.body === 'Interview at 11?',
          ),
        5_000,
      );
      for (const d of devicesOf)
        expect(d.shown(conversation.id).filter((m) => m.id === sent.id)).toHaveLength(1);
    });

    it('editing someone else’s message, or one past the window, is refused and nothing changes', async () => {
      const ritaA = await connectClient(A, tokens.rita!);
      const bobB = await connectClient(B, tokens.bob!);
      const ritaSees = record(ritaA);
      const sent = await send(ritaA, conversation.id, 'fixed text');
      if (!sent.ok) throw new Error('setup send failed');
      const message = (sent.data as { message: MessageDto }).message;

      expect(
        await emit(bobB, 'message:edit', {
          conversationId: conversation.id,
          messageId: message.id,
          body: 'bob was here',
        }),
      ).toMatchObject({
        ok: false,
        error: { code: 'FORBIDDEN' },
      });
      const rest403 = await api(
        B,
        'bob',
        'PATCH',
        `/conversations/${conversation.id}/messages/${message.id}`,
        { body: 'bob was here' },
      );
      expect(rest403.status).toBe(403);
      expect(
        (await api(B, 'bob', 'DELETE', `/conversations/${conversation.id}/messages/${message.id}`))
          .status,
      ).toBe(403);

      // The window is a setting (4 s here): past it, the sender's own edit is refused too.
      await waitUntil(
        'the edit window passed',
        () => Date.now() > Date.parse(message.createdAt) + EDIT_WINDOW_MS,
        10_000,
        100,
      );
      expect(
        await emit(ritaA, 'message:edit', {
          conversationId: conversation.id,
          messageId: message.id,
          body: 'too late',
        }),
      ).toMatchObject({
        ok: false,
        error: { code: 'EDIT_WINDOW_PASSED' },
      });
      const current = (await history(A, 'rita', conversation.id)).find((m) => m.id === message.id);
      expect(current).toEqual(message);
      // Nobody was told of a change: the next event at Rita is the marker.
      expect((await send(bobB, conversation.id, 'marker')).ok).toBe(true);
      await waitUntil(
        'the marker',
        () => ritaSees.some((e) => (e.payload as MessageDto).body === 'marker'),
        5_000,
      );
      expect(ritaSees.filter((e) => e.name === 'message:updated')).toEqual([]);
    });

    it('a delete leaves a tombstone live and in history; an offline device gets the edit and the delete from sync', async () => {
      const [ritaLaptop] = devicesOf as [Device];
      const first = await ritaLaptop.sendAndWait(conversation.id, 'first draft');
      const second = await ritaLaptop.sendAndWait(conversation.id, 'wrong chat, sorry');
      await waitUntil(
        'both on the phone',
        () => shownBy(offlinePhone, second.id) !== undefined,
        5_000,
      );
      const liveUpdates: string[] = [];
      offlinePhone.client.on('message:updated', ({ message, source }) =>
        liveUpdates.push(`${source}:${message.id}`),
      );

      offline = true;
      offlinePhone.client.reconnect();
      await waitUntil(
        'the phone offline',
        () => offlinePhone.client.status.state !== 'connected',
        5_000,
      );

      await ritaLaptop.client.edit(conversation.id, first.id, 'final draft');
      const tombstone = await ritaLaptop.client.delete(conversation.id, second.id);
      expect(tombstone).toMatchObject({ id: second.id, body: '', deletedAt: expect.any(String) });
      await waitUntil(
        'edit and tombstone on every online device',
        () =>
          devicesOf.every(
            (d) =>
              shownBy(d, first.id)?.body === 'final draft' &&
              shownBy(d, second.id)?.deletedAt !== undefined,
          ),
        5_000,
      );
      for (const d of devicesOf) expect(shownBy(d, second.id)!.body).toBe('');
      const stored = await history(B, 'bob', conversation.id);
      expect(stored.find((m) => m.id === second.id)).toMatchObject({
        body: '',
        deletedAt: expect.any(String),
      });
      expect(stored.find((m) => m.id === first.id)).toMatchObject({
        body: 'final draft',
        editedAt: expect.any(String),
      });
      // The phone still shows the old state: it missed both.
      expect(shownBy(offlinePhone, first.id)!.body).toBe('first draft');
      expect(shownBy(offlinePhone, second.id)!.body).toBe('wrong chat, sorry');

      offline = false;
      await waitUntil(
        'the phone caught up',
        () =>
          shownBy(offlinePhone, first.id)?.body === 'final draft' &&
          shownBy(offlinePhone, second.id)?.deletedAt !== undefined,
        10_000,
      );
      expect(shownBy(offlinePhone, second.id)!.body).toBe('');
      expect(liveUpdates.sort()).toEqual([`sync:${first.id}`, `sync:${second.id}`].sort());
      // Each message once, in seq order, after the catch-up.
      const ids = offlinePhone.shown(conversation.id).map((m) => m.id);
      expect(new Set(ids).size).toBe(ids.length);
    });
  });
});
