import { waitUntil } from '@jobsphere/testing';
import {
  type ConversationDto,
  type ConversationList,
  type HistoryPage,
  type MessageDto,
  type SyncResult,
} from '@jobsphere/chat-domain';
import { startEnvironment, type Environment } from '../support/environment.js';
import { connectClient, mintTokens, restAs, type ChatClient } from '../support/gateway.js';

const ALLOWANCE = 2;

type Seen = { name: string; payload: unknown }[];
type Answer = { ok: true; data: unknown } | { ok: false; error: { code: string } };
type RawSocket = {
  timeout(ms: number): { emitWithAck(event: string, payload: unknown): Promise<unknown> };
};

/** Every event one raw socket receives, in order. */
function record(socket: ChatClient): Seen {
  const seen: Seen = [];
  socket.onAny((name: string, payload: unknown) => seen.push({ name, payload }));
  return seen;
}

/** The events that mention `userId` anywhere (sender, typer, reader, presence...). */
const about = (events: Seen, userId: string) =>
  events.filter((e) => JSON.stringify(e.payload).includes(`"${userId}"`));

/** Emits any event with any payload, as a hostile client would, and returns the ack. */
async function emit(socket: ChatClient, event: string, payload: unknown): Promise<Answer> {
  return (await (socket as unknown as RawSocket)
    .timeout(5_000)
    .emitWithAck(event, payload)) as Answer;
}

const codeOf = (answer: Answer) => (answer.ok ? 'OK' : answer.error.code);
const restCode = (r: { status: number; body: unknown }) => [
  r.status,
  (r.body as { error?: { code: string } }).error?.code ?? 'OK',
];

// The side doors of issue 22 (items 1-3), tried the way a hostile recruiter would: the group
// beside the request, the edit and the typing beside the send, the group beside the block.
// Two gateway instances share Redis and the store; attacker and victim sit on different ones.
describe('no side doors: groups, edits and typing under consent and blocks (two instances)', () => {
  let env: Environment;
  let A: string;
  let B: string;
  const tokens: Record<string, string> = {};
  let n = 0;

  const api = restAs(tokens);
  const send = (socket: ChatClient, conversationId: string, body: string) =>
    emit(socket, 'message:send', { conversationId, clientMessageId: `sd-${++n}`, body });
  const sentMessage = (answer: Answer): MessageDto => {
    if (!answer.ok) throw new Error(`send refused: ${answer.error.code}`);
    return (answer.data as { message: MessageDto }).message;
  };
  const group = async (url: string, creator: string, memberIds: string[]) =>
    api<ConversationDto>(url, creator, 'POST', '/conversations', {
      kind: 'group',
      title: `Group ${++n}`,
      memberIds,
    });
  /** A group whose invited members all accepted, as a real hiring panel forms. */
  const panel = async (url: string, creator: string, memberIds: string[]) => {
    const created = await group(url, creator, memberIds);
    if (created.status !== 201) throw new Error(`group refused: HTTP ${created.status}`);
    for (const member of memberIds) {
      const answer = await api(url, member, 'POST', `/conversations/${created.body.id}/accept`);
      // 409: nothing to answer (a contact of the creator is in from the start).
      if (answer.status !== 200 && answer.status !== 409)
        throw new Error(`${member} could not accept: HTTP ${answer.status}`);
    }
    return created.body;
  };
  /** The marker: one more message from a third person, then everything before it has arrived. */
  const marker = async (socket: ChatClient, conversationId: string, seen: Seen[]) => {
    const body = `marker ${++n}`;
    sentMessage(await send(socket, conversationId, body));
    await waitUntil(
      `"${body}" on every device`,
      () => seen.every((s) => s.some((e) => (e.payload as MessageDto | undefined)?.body === body)),
      5_000,
    );
  };

  beforeAll(async () => {
    env = await startEnvironment({
      gateways: 2,
      env: { TRUST_REQUEST_ALLOWANCE: String(ALLOWANCE) },
    });
    [A, B] = env.gateways.map((g) => g.url) as [string, string];
    await mintTokens(tokens, [
      ['vic', 'candidate'],
      ['mal', 'recruiter'],
      ['tom', 'recruiter'],
      ['ann', 'candidate'],
      ['ben', 'candidate'],
      ['cy', 'candidate'],
      ['eve', 'recruiter'],
      ['rex', 'recruiter'],
      ['lea', 'candidate'],
      ['otto', 'recruiter'],
      ['pia', 'candidate'],
      ['quin', 'recruiter'],
      ['rui', 'candidate'],
      ['sal', 'recruiter'],
    ]);
  }, 60_000);

  afterAll(async () => {
    await env?.dispose();
  });

  describe('consent for groups', () => {
    it('a recruiter’s two-person “group” with a stranger is an invitation: none of its messages, no contact, no presence until she accepts', async () => {
      const vicB = await connectClient(B, tokens.vic!);
      const malA = await connectClient(A, tokens.mal!);
      const vicSees = record(vicB);

      const created = await group(A, 'mal', ['vic']);
      expect(created.status).toBe(201);
      const id = created.body.id;
      // Mallory, on the other instance, sends far more than a request would allow.
      for (let i = 1; i <= ALLOWANCE + 3; i++)
        expect(codeOf(await send(malA, id, `apply now ${i}`))).toBe('OK');

      // Vic's devices get the invitation and nothing else: no message, no typing, no presence.
      await waitUntil(
        'the invitation at Vic',
        () => vicSees.some((e) => e.name === 'conversation:created'),
        5_000,
      );
      expect(codeOf(await emit(malA, 'typing:start', { conversationId: id }))).toBe('OK');
      const invitation = vicSees.find((e) => e.name === 'conversation:created')!
        .payload as ConversationDto;
      expect(invitation).toMatchObject({ id, invitation: { from: 'mal', state: 'pending' } });
      expect(invitation.lastMessage).toBeUndefined();
      // What reaches Vic, on the other instance, once a later event from Mallory has arrived.
      const eveA = await connectClient(A, tokens.eve!);
      const eveDirect = await api<ConversationDto>(A, 'eve', 'POST', '/conversations', {
        kind: 'direct',
        userId: 'vic',
      });
      sentMessage(await send(eveA, eveDirect.body.id, 'unrelated marker'));
      await waitUntil(
        'the marker at Vic',
        () => vicSees.some((e) => (e.payload as MessageDto).body === 'unrelated marker'),
        5_000,
      );
      expect(
        vicSees.filter(
          (e) => ['message:new', 'typing'].includes(e.name) && about([e], 'mal').length,
        ),
      ).toEqual([]);

      // Vic's inbox does not show it; her invitations do, without the messages.
      const inbox = await api<ConversationList>(B, 'vic', 'GET', '/conversations');
      expect(inbox.body.conversations.map((c) => c.id)).not.toContain(id);
      const invitations = await api<ConversationList>(
        B,
        'vic',
        'GET',
        '/conversations?box=requests',
      );
      const listed = invitations.body.conversations.find((c) => c.id === id);
      expect(listed).toMatchObject({
        invitation: { from: 'mal', state: 'pending' },
        unreadCount: 0,
      });
      expect(listed?.lastMessage).toBeUndefined();
      expect(restCode(await api(B, 'vic', 'GET', `/conversations/${id}/messages`))).toEqual([
        403,
        'INVITATION_PENDING',
      ]);
      const synced = await emit(vicB, 'sync', {
        conversations: [{ conversationId: id, afterVersion: 0 }],
      });
      expect((synced as { data: SyncResult }).data.conversations[0]).toMatchObject({
        messages: [],
        error: { code: 'INVITATION_PENDING' },
      });

      // No contact was made: Mallory cannot see Vic online, and a direct conversation is a request.
      expect(await emit(malA, 'presence:query', { userIds: ['vic'] })).toEqual({
        ok: true,
        data: { users: [] },
      });
      const direct = await api<ConversationDto>(A, 'mal', 'POST', '/conversations', {
        kind: 'direct',
        userId: 'vic',
      });
      expect(direct.body.request).toEqual({ from: 'mal', to: 'vic', state: 'pending' });
      // Mallory sees Vic as invited, and nothing of hers (no read position).
      const asMal = await api<ConversationDto>(A, 'mal', 'GET', `/conversations/${id}`);
      expect(asMal.body.members.find((m) => m.userId === 'vic')).toMatchObject({
        lastReadSeq: 0,
        invitation: { from: 'mal', state: 'pending' },
      });

      // Vic accepts: the group opens with its history, and from now on it is an ordinary one.
      const accepted = await api<ConversationDto>(B, 'vic', 'POST', `/conversations/${id}/accept`);
      expect(accepted.status).toBe(200);
      expect(accepted.body.invitation).toBeUndefined();
      const history = await api<HistoryPage>(B, 'vic', 'GET', `/conversations/${id}/messages`);
      expect(history.body.messages.map((m) => m.body)).toHaveLength(ALLOWANCE + 3);
    });

    it('a declined invitation leaves the invitee’s lists; what the group sends afterwards never reaches her, and she can still leave', async () => {
      const annB = await connectClient(B, tokens.ann!);
      const tomA = await connectClient(A, tokens.tom!);
      const annSees = record(annB);
      const created = await group(A, 'tom', ['ann', 'ben']);
      const id = created.body.id;
      expect(restCode(await api(B, 'ann', 'POST', `/conversations/${id}/decline`))).toEqual([
        200,
        'OK',
      ]);
      expect(restCode(await api(A, 'ben', 'POST', `/conversations/${id}/accept`))).toEqual([
        200,
        'OK',
      ]);
      const benB = await connectClient(B, tokens.ben!);
      const benSees = record(benB);
      sentMessage(await send(tomA, id, 'declined or not, read this'));
      await marker(tomA, id, [benSees]);
      expect(annSees.filter((e) => e.name === 'message:new')).toEqual([]);
      for (const box of ['', '?box=requests']) {
        const list = await api<ConversationList>(B, 'ann', 'GET', `/conversations${box}`);
        expect(list.body.conversations.map((c) => c.id)).not.toContain(id);
      }
      // Sending as a way in is refused too: the invitee answers the invitation first.
      expect(codeOf(await send(annB, id, 'hi'))).toBe('INVITATION_PENDING');
      // Ben, who accepted, sees Ann as invited: her decline is hers, not shown to the group.
      const asBen = await api<ConversationDto>(B, 'ben', 'GET', `/conversations/${id}`);
      expect(asBen.body.members.find((m) => m.userId === 'ann')?.invitation).toEqual({
        from: 'tom',
        state: 'pending',
      });
      expect(restCode(await api(B, 'ann', 'POST', `/conversations/${id}/leave`))).toEqual([
        200,
        'OK',
      ]);
      expect(restCode(await api(B, 'ann', 'GET', `/conversations/${id}`))).toEqual([
        404,
        'NOT_A_MEMBER',
      ]);
    });

    it('any member can leave a group: nothing reaches them afterwards, live or through sync; the last owner leaving archives it', async () => {
      const id = (await panel(A, 'rex', ['cy', 'lea'])).id;
      const rexA = await connectClient(A, tokens.rex!);
      const cyB = await connectClient(B, tokens.cy!);
      const leaB = await connectClient(B, tokens.lea!);
      const cySees = record(cyB);
      const leaSees = record(leaB);
      sentMessage(await send(rexA, id, 'before Cy left'));

      const left = await emit(cyB, 'conversation:leave', { conversationId: id });
      expect(codeOf(left)).toBe('OK');
      const mark = cySees.length;
      sentMessage(await send(rexA, id, 'after Cy left'));
      await marker(rexA, id, [leaSees]);
      expect(cySees.slice(mark).filter((e) => e.name === 'message:new')).toEqual([]);
      expect(codeOf(await send(cyB, id, 'still here?'))).toBe('NOT_A_MEMBER');
      const synced = await emit(cyB, 'sync', {
        conversations: [{ conversationId: id, afterVersion: 0 }],
      });
      expect((synced as { data: SyncResult }).data.conversations[0]).toMatchObject({
        messages: [],
        error: { code: 'NOT_A_MEMBER' },
      });
      const asLea = await api<ConversationDto>(B, 'lea', 'GET', `/conversations/${id}`);
      expect(asLea.body.members.map((m) => m.userId).sort()).toEqual(['lea', 'rex']);

      // A direct conversation is not left, it is blocked or declined.
      const direct = await api<ConversationDto>(A, 'rex', 'POST', '/conversations', {
        kind: 'direct',
        userId: 'lea',
      });
      expect(
        restCode(await api(A, 'rex', 'POST', `/conversations/${direct.body.id}/leave`)),
      ).toEqual([409, 'CONFLICT']);

      // The last owner may hand the group over instead, to a member who joined.
      const other = (await panel(A, 'eve', ['lea', 'cy'])).id;
      const heirless = await api(A, 'eve', 'POST', `/conversations/${other}/leave`, {
        handOverTo: 'nobody',
      });
      expect(restCode(heirless)).toEqual([400, 'INVALID_PAYLOAD']);
      expect(
        restCode(
          await api(A, 'eve', 'POST', `/conversations/${other}/leave`, { handOverTo: 'lea' }),
        ),
      ).toEqual([200, 'OK']);
      const handed = await api<ConversationDto>(B, 'cy', 'GET', `/conversations/${other}`);
      expect(handed.body.archived).toBeUndefined();
      expect(handed.body.members.map((m) => [m.userId, m.role])).toEqual([
        ['lea', 'owner'],
        ['cy', 'member'],
      ]);

      // The only owner leaves: the group is archived for the one left in it.
      expect(restCode(await api(A, 'rex', 'POST', `/conversations/${id}/leave`))).toEqual([
        200,
        'OK',
      ]);
      const after = await api<ConversationDto>(B, 'lea', 'GET', `/conversations/${id}`);
      expect(after.body).toMatchObject({ archived: true });
      expect(after.body.members.map((m) => m.userId)).toEqual(['lea']);
    });
  });

  describe('blocks apply in groups too', () => {
    it('after a block, the blocked person’s group messages, edits, typing and reading reach the blocker on no device, live or through sync; the blocker sees where something was hidden', async () => {
      const id = (await panel(A, 'otto', ['pia', 'quin'])).id;
      const quinB = await connectClient(B, tokens.quin!); // the blocked one, on B
      const piaA = await connectClient(A, tokens.pia!); // the blocker, on A
      const piaB = await connectClient(B, tokens.pia!);
      const ottoB = await connectClient(B, tokens.otto!);
      const earlier = sentMessage(await send(quinB, id, 'hello panel'));
      expect(codeOf(await emit(piaA, 'user:block', { userId: 'quin' }))).toBe('OK');
      const piaSees = [record(piaA), record(piaB)];

      // Quin goes on in the group as if nothing happened.
      const after = sentMessage(await send(quinB, id, 'Pia, answer me'));
      expect(
        codeOf(
          await emit(quinB, 'message:edit', {
            conversationId: id,
            messageId: earlier.id,
            body: 'Pia, I know where you work',
          }),
        ),
      ).toBe('OK');
      expect(codeOf(await emit(quinB, 'typing:start', { conversationId: id }))).toBe('OK');
      expect(
        codeOf(await emit(quinB, 'conversation:read', { conversationId: id, seq: after.seq })),
      ).toBe('OK');
      await marker(ottoB, id, piaSees);
      // The block itself shows Quin offline to Pia; nothing else of Quin's may arrive.
      const offline = (e: Seen[number]) =>
        e.name === 'presence' && (e.payload as { online: boolean }).online === false;
      for (const seen of piaSees)
        expect(about(seen, 'quin').filter((e) => !offline(e))).toEqual([]);

      // History and sync: the places are there, the words are not.
      const history = await api<HistoryPage>(A, 'pia', 'GET', `/conversations/${id}/messages`);
      const hidden = history.body.messages.filter((m) => m.senderId === 'quin');
      expect(hidden.map((m) => [m.seq, m.body, m.hidden])).toEqual([
        [earlier.seq, '', true],
        [after.seq, '', true],
      ]);
      const synced = await emit(piaB, 'sync', {
        conversations: [{ conversationId: id, afterVersion: 0 }],
      });
      const entry = (synced as { data: SyncResult }).data.conversations[0]!;
      expect(JSON.stringify(entry)).not.toContain('answer me');
      expect(JSON.stringify(entry)).not.toContain('know where');
      expect(entry.messages.filter((m) => m.senderId === 'quin').every((m) => m.hidden)).toBe(true);
      // The list's preview does not show Quin's words either.
      const list = await api<ConversationList>(A, 'pia', 'GET', '/conversations');
      expect(JSON.stringify(list.body)).not.toContain('answer me');
      // Otto, who blocked nobody, has everything.
      const ottos = await api<HistoryPage>(B, 'otto', 'GET', `/conversations/${id}/messages`);
      expect(ottos.body.messages.map((m) => m.body)).toContain('Pia, answer me');
    });

    it('the blocker’s read position is hidden from the blocked person in GET /conversations/:id and in the list, not only live', async () => {
      const id = (await panel(A, 'sal', ['rui', 'vic'])).id;
      const salA = await connectClient(A, tokens.sal!);
      const last = sentMessage(await send(salA, id, 'read me'));
      expect(restCode(await api(B, 'rui', 'PUT', '/users/sal/block'))).toEqual([200, 'OK']);
      expect(
        restCode(await api(B, 'rui', 'POST', `/conversations/${id}/read`, { seq: last.seq })),
      ).toEqual([200, 'OK']);
      const one = await api<ConversationDto>(A, 'sal', 'GET', `/conversations/${id}`);
      expect(one.body.members.find((m) => m.userId === 'rui')?.lastReadSeq).toBe(0);
      const list = await api<ConversationList>(A, 'sal', 'GET', '/conversations');
      const listed = list.body.conversations.find((c) => c.id === id)!;
      expect(listed.members.find((m) => m.userId === 'rui')?.lastReadSeq).toBe(0);
      // Vic, who is nobody's blocker, still sees Rui's position.
      const asVic = await api<ConversationDto>(B, 'vic', 'GET', `/conversations/${id}`);
      expect(asVic.body.members.find((m) => m.userId === 'rui')?.lastReadSeq).toBe(last.seq);
    });

    it('nobody can put a blocker and the blocked person in one group: not a third party, not a member of both', async () => {
      expect(restCode(await api(A, 'ben', 'PUT', '/users/mal/block'))).toEqual([200, 'OK']);
      // Tom, a third recruiter, tries to seat the two together, on the other instance.
      expect(restCode(await group(B, 'tom', ['ben', 'mal']))).toEqual([403, 'BLOCKED']);
      expect(restCode(await group(B, 'tom', ['cy', 'mal', 'ben']))).toEqual([403, 'BLOCKED']);
      // Mallory herself, or with a friend.
      expect(restCode(await group(A, 'mal', ['ben']))).toEqual([403, 'BLOCKED']);
      // Without the pair it still works.
      expect(restCode(await group(B, 'tom', ['cy', 'mal']))).toEqual([201, 'OK']);
    });
  });

  describe('a refusal stops every path', () => {
    it('after a decline, the opener’s edits of already delivered messages and typing are refused, and nothing reaches the recipient', async () => {
      const annA = await connectClient(A, tokens.ann!);
      const eveB = await connectClient(B, tokens.eve!);
      const opened = await api<ConversationDto>(B, 'eve', 'POST', '/conversations', {
        kind: 'direct',
        userId: 'ann',
        jobId: 'decline-job',
      });
      const id = opened.body.id;
      const annSees = record(annA);
      const delivered = sentMessage(await send(eveB, id, 'a job for you'));
      await waitUntil(
        'the first message at Ann',
        () => annSees.some((e) => (e.payload as MessageDto).body === 'a job for you'),
        5_000,
      );
      const mark = annSees.length;
      expect(restCode(await api(A, 'ann', 'POST', `/conversations/${id}/decline`))).toEqual([
        200,
        'OK',
      ]);
      const attempts = {
        edit: codeOf(
          await emit(eveB, 'message:edit', {
            conversationId: id,
            messageId: delivered.id,
            body: 'call me 555',
          }),
        ),
        editRest: restCode(
          await api(B, 'eve', 'PATCH', `/conversations/${id}/messages/${delivered.id}`, {
            body: 'x',
          }),
        ),
        typing: codeOf(await emit(eveB, 'typing:start', { conversationId: id })),
        send: codeOf(await send(eveB, id, 'one more')),
      };
      expect(attempts).toEqual({
        edit: 'REQUEST_DECLINED',
        editRest: [403, 'REQUEST_DECLINED'],
        typing: 'REQUEST_DECLINED',
        send: 'REQUEST_DECLINED',
      });
      // The message Ann has is the one she declined.
      const history = await api<HistoryPage>(A, 'ann', 'GET', `/conversations/${id}/messages`);
      expect(history.body.messages.map((m) => [m.body, m.editedAt])).toEqual([
        ['a job for you', undefined],
      ]);
      // A marker from someone else: nothing of Eve's arrived before it.
      const salB = await connectClient(B, tokens.sal!);
      const salDirect = await api<ConversationDto>(B, 'sal', 'POST', '/conversations', {
        kind: 'direct',
        userId: 'ann',
      });
      sentMessage(await send(salB, salDirect.body.id, 'marker for Ann'));
      await waitUntil(
        'the marker at Ann',
        () => annSees.some((e) => (e.payload as MessageDto).body === 'marker for Ann'),
        5_000,
      );
      // Her own decline is all that mentions Eve.
      expect(about(annSees.slice(mark), 'eve').map((e) => e.name)).toEqual([
        'conversation:updated',
      ]);
    });

    it('once the allowance is spent, the opener’s edits and typing are refused like her sends', async () => {
      const benA = await connectClient(A, tokens.ben!);
      const rexB = await connectClient(B, tokens.rex!);
      const opened = await api<ConversationDto>(B, 'rex', 'POST', '/conversations', {
        kind: 'direct',
        userId: 'ben',
      });
      const id = opened.body.id;
      const sent: MessageDto[] = [];
      for (let i = 1; i <= ALLOWANCE; i++)
        sent.push(sentMessage(await send(rexB, id, `pitch ${i}`)));
      const benSees = record(benA);
      const attempts = {
        send: codeOf(await send(rexB, id, 'pitch 3')),
        edit: codeOf(
          await emit(rexB, 'message:edit', {
            conversationId: id,
            messageId: sent[0]!.id,
            body: 'pitch 3, in disguise',
          }),
        ),
        typing: codeOf(await emit(rexB, 'typing:start', { conversationId: id })),
      };
      expect(attempts).toEqual({
        send: 'REQUEST_PENDING',
        edit: 'REQUEST_PENDING',
        typing: 'REQUEST_PENDING',
      });
      // Ben replies: the request is accepted, and Rex may edit again.
      sentMessage(await send(benA, id, 'ok, tell me more'));
      expect(
        codeOf(
          await emit(rexB, 'message:edit', {
            conversationId: id,
            messageId: sent[0]!.id,
            body: 'pitch 1 (fixed)',
          }),
        ),
      ).toBe('OK');
      await waitUntil(
        'the edit at Ben',
        () => benSees.some((e) => e.name === 'message:updated'),
        5_000,
      );
      expect(
        benSees
          .filter((e) => e.name === 'message:updated')
          .map((e) => (e.payload as MessageDto).body),
      ).toEqual(['pitch 1 (fixed)']);
      expect(benSees.filter((e) => e.name === 'typing')).toEqual([]);
    });
  });
});
