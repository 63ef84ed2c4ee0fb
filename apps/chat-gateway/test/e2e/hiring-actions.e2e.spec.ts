import { createServer, type Server } from 'node:http';
import { type AddressInfo } from 'node:net';
import { waitUntil } from '@jobsphere/testing';
import {
  type MessageDto,
  type SendResult,
  type ServiceConversationResult,
  type SyncResult,
} from '@jobsphere/chat-domain';
import { SignJWT } from 'jose';
import { collect, connectClient, rest, tokenFor, type ChatClient } from '../support/gateway.js';
import { startEnvironment, type Environment, type Topology } from '../support/environment.js';

// Action messages over two gateway instances on one Redis and one store: the platform posts a
// card, one person's two devices (one on each instance) answer it at the same moment, exactly
// one answer is stored, and every device of every member sees the winner, live and after sync;
// the platform hears it as a signed webhook.

const SERVICE_SECRET = 'hiring-e2e-service-secret-0123456789abcdef';
const WEBHOOK_SECRET = `whsec_${Buffer.from('hiring-e2e-webhook-signing-key!!').toString('base64')}`;

const serviceToken = () =>
  new SignJWT({ scope: 'conversations:write messages:write', token_use: 'service' })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject('jobsphere-backend')
    .setAudience('jobsphere-chat-service')
    .setIssuedAt()
    .setExpirationTime('1h')
    .sign(new TextEncoder().encode(SERVICE_SECRET));

type Ack<T> = { ok: true; data: T } | { ok: false; error: { code: string } };

describe.each<Topology>(['standalone', 'cluster'])(
  'action messages across instances (%s Redis)',
  (topology) => {
    let env: Environment;
    let service: string;
    let hooks: Server;
    const events: { type: string; data: Record<string, unknown> }[] = [];
    const api = <T>(method: string, path: string, body?: unknown, token = service) =>
      rest<T>(env.gateways[0]!.url, token, method, path, body);
    const device = async (userId: string, gateway: 0 | 1) =>
      connectClient(env.gateways[gateway]!.url, await tokenFor(userId, 'candidate'));
    const answer = (
      socket: ChatClient,
      conversationId: string,
      messageId: string,
      actionId: string,
    ) =>
      socket
        .timeout(5_000)
        .emitWithAck('message:action', { conversationId, messageId, actionId }) as Promise<
        Ack<MessageDto>
      >;

    beforeAll(async () => {
      hooks = createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => {
          events.push(JSON.parse(Buffer.concat(chunks).toString('utf8')) as (typeof events)[0]);
          res.writeHead(204).end();
        });
      });
      await new Promise<void>((resolve) => hooks.listen(0, '127.0.0.1', resolve));
      env = await startEnvironment({
        topology,
        gateways: 2,
        env: {
          SERVICE_TOKEN_SECRET: SERVICE_SECRET,
          WEBHOOK_URLS: `http://127.0.0.1:${(hooks.address() as AddressInfo).port}/hooks`,
          WEBHOOK_SECRET,
          WEBHOOK_POLL_MS: '50',
        },
      });
      service = await serviceToken();
    }, 90_000);

    afterAll(async () => {
      await env?.dispose();
      await new Promise<void>((resolve) => hooks?.close(() => resolve()));
    });

    it('two devices on two instances answer at once: one wins, every device sees the winner live and after sync, the platform hears it once', async () => {
      const opened = await api<ServiceConversationResult>('POST', '/service/v1/conversations', {
        idempotencyKey: `panel-${topology}`,
        kind: 'group',
        title: 'Interview panel',
        memberIds: ['rita', 'carl'],
      });
      const conversationId = opened.body.conversation.id;
      const [phone, laptop, recruiter] = await Promise.all([
        device('carl', 0),
        device('carl', 1),
        device('rita', 1),
      ]);
      const seen = [phone, laptop, recruiter].map((s) => collect(s, 'message:updated'));
      const posted = await api<SendResult>(
        'POST',
        `/service/v1/conversations/${conversationId}/action-messages`,
        {
          idempotencyKey: 'slots-1',
          title: 'Interview',
          text: 'Which time suits you?',
          actions: [
            { id: 'mon', label: 'Monday 10:00', kind: 'slot', startsAt: '2027-01-04T10:00:00Z' },
            { id: 'tue', label: 'Tuesday 14:00', kind: 'slot', startsAt: '2027-01-05T14:00:00Z' },
            { id: 'job', label: 'The job', kind: 'link', url: 'https://jobs.example/42' },
          ],
        },
      );
      expect(posted.status).toBe(201);
      const card = posted.body.message;
      expect(card.action).toMatchObject({ title: 'Interview', once: true, answers: [] });

      const acks = await Promise.all([
        answer(phone, conversationId, card.id, 'mon'),
        answer(laptop, conversationId, card.id, 'tue'),
      ]);
      const won = acks.filter((a) => a.ok);
      const lost = acks.filter((a) => !a.ok);
      expect(won).toHaveLength(1);
      expect(lost.map((a) => !a.ok && a.error.code)).toEqual(['ALREADY_ANSWERED']);
      const winner = (won[0] as { data: MessageDto }).data;
      expect(winner.action?.answers).toHaveLength(1);
      const loser = acks.indexOf(lost[0]!) === 0 ? 0 : 1;
      // The losing device and the recruiter learn the winner live; the winner had it in its ack.
      await waitUntil(
        'the loser and the recruiter see the answer',
        () => seen[loser]!.length === 1 && seen[2]!.length === 1,
        5_000,
      );
      expect(seen[loser]![0]).toEqual(winner);
      expect(seen[2]![0]).toEqual(winner);

      // REST after the socket: the other slot is refused with the same code; a link is no answer.
      const other = winner.action?.answers[0]?.actionId === 'mon' ? 'tue' : 'mon';
      const token = await tokenFor('carl', 'candidate');
      const late = await rest<{ error: { code: string } }>(
        env.gateways[1]!.url,
        token,
        'POST',
        `/conversations/${conversationId}/messages/${card.id}/action`,
        { actionId: other },
      );
      expect([late.status, late.body]).toEqual([
        409,
        { error: expect.objectContaining({ code: 'ALREADY_ANSWERED' }) },
      ]);
      const link = await rest<{ error: { code: string } }>(
        env.gateways[0]!.url,
        token,
        'POST',
        `/conversations/${conversationId}/messages/${card.id}/action`,
        { actionId: 'job' },
      );
      expect([link.status, link.body.error.code]).toEqual([400, 'INVALID_PAYLOAD']);

      // A device that was away finds the answer through sync.
      const synced = (await recruiter.timeout(5_000).emitWithAck('sync', {
        conversations: [{ conversationId, afterVersion: card.version }],
      })) as Ack<SyncResult>;
      expect(synced.ok && synced.data.conversations[0]?.messages).toEqual([winner]);

      await waitUntil(
        'the platform hears of the answer',
        () => events.some((e) => e.type === 'message.answered'),
        10_000,
      );
      const answered = events.filter((e) => e.type === 'message.answered');
      expect(answered).toHaveLength(1);
      expect(answered[0]?.data['answer']).toEqual(
        expect.objectContaining({ userId: 'carl', actionId: winner.action?.answers[0]?.actionId }),
      );
    }, 60_000);

    it('only the platform posts a card: a user token is refused and nothing is stored', async () => {
      const token = await tokenFor('rita', 'recruiter');
      const refused = await rest(
        env.gateways[0]!.url,
        token,
        'POST',
        '/service/v1/conversations/000000000000000000000000/action-messages',
        {
          idempotencyKey: 'x',
          title: 'T',
          text: 'x',
          actions: [{ id: 'a', label: 'A', kind: 'reply' }],
        },
      );
      expect(refused.status).toBe(401);
      const tooMany = await api<{ error: { code: string } }>(
        'POST',
        '/service/v1/conversations/000000000000000000000000/action-messages',
        {
          idempotencyKey: 'x',
          title: 'T',
          text: 'x',
          actions: Array.from({ length: 6 }, (_, i) => ({
            id: `a${i}`,
            label: 'A',
            kind: 'reply',
          })),
        },
      );
      expect([tooMany.status, tooMany.body.error.code]).toEqual([400, 'INVALID_PAYLOAD']);
    });
  },
);
