import { signTestServiceToken, signTestToken, waitUntil } from '@jobsphere/testing';
import {
  type ConversationResponseTimesDto,
  type ServiceConversationResult,
  type SubjectResponseTimes,
} from '@jobsphere/chat-domain';
import { TEST_JWT_SECRET, connectClient, rest, type ChatClient } from '../support/gateway.js';
import { startEnvironment, type Environment } from '../support/environment.js';

// Response-time figures over two gateway instances on one Redis and one store: candidates write
// through both, one recruiter answers them all at the same moment through both (and twice at
// once in one conversation, from two devices), and the server API counts every answer once,
// for the recruiter and for the company in the recruiter's token.

const SERVICE_SECRET = 'response-times-e2e-secret-0123456789abcdef';
const CONVERSATIONS = 12;

type Ack = { ok: boolean };

describe('response-time figures across two instances', () => {
  let env: Environment;
  let service: string;
  const api = <T>(method: string, path: string, body?: unknown) =>
    rest<T>(env.gateways[0]!.url, service, method, path, body);
  const device = async (userId: string, role: 'candidate' | 'recruiter', gateway: number) =>
    connectClient(
      env.gateways[gateway]!.url,
      await signTestToken({
        secret: TEST_JWT_SECRET,
        userId,
        role,
        ...(role === 'recruiter' && { companyId: 'acme' }),
      }),
    );
  const say = (socket: ChatClient, conversationId: string, key: string): Promise<Ack> =>
    socket
      .timeout(5_000)
      .emitWithAck('message:send', { conversationId, clientMessageId: key, body: 'hello' });

  beforeAll(async () => {
    env = await startEnvironment({
      gateways: 2,
      env: { SERVICE_TOKEN_SECRET: SERVICE_SECRET },
    });
    service = await signTestServiceToken({
      secret: SERVICE_SECRET,
      scopes: ['conversations:write', 'stats:read'],
    });
  }, 90_000);

  afterAll(async () => {
    await env?.dispose();
  });

  it('counts every answer once when a recruiter answers on both instances at once', async () => {
    const ids: string[] = [];
    for (let i = 0; i < CONVERSATIONS; i++) {
      const opened = await api<ServiceConversationResult>('POST', '/service/v1/conversations', {
        idempotencyKey: `rt-${i}`,
        kind: 'direct',
        memberIds: [`cand-${i}`, 'rex'],
      });
      ids.push(opened.body.conversation.id);
    }
    // Each candidate writes twice (through either instance): one wait each, from the first.
    for (const [i, id] of ids.entries()) {
      const candidate = await device(`cand-${i}`, 'candidate', i % 2);
      expect(await say(candidate, id, 'q1')).toMatchObject({ ok: true });
      expect(await say(candidate, id, 'q2')).toMatchObject({ ok: true });
      candidate.close();
    }
    const [onA, onB] = await Promise.all([
      device('rex', 'recruiter', 0),
      device('rex', 'recruiter', 1),
    ]);
    // All at once: every conversation answered through one instance or the other, and the
    // first one answered from both devices at the same moment (two messages, one answer).
    const acks = await Promise.all([
      ...ids.map((id, i) => say(i % 2 ? onB : onA, id, 'a1')),
      say(onB, ids[0]!, 'a2'),
    ]);
    expect(acks.every((a) => a.ok)).toBe(true);
    const company = async () =>
      (await api<SubjectResponseTimes>('GET', '/service/v1/companies/acme/response-times')).body;
    await waitUntil(
      'every answer recorded',
      async () => (await company()).answers >= CONVERSATIONS,
      10_000,
      100,
    );
    const recruiter = await api<SubjectResponseTimes>(
      'GET',
      '/service/v1/recruiters/rex/response-times',
    );
    for (const figures of [await company(), recruiter.body])
      expect(figures).toMatchObject({
        windowDays: 30,
        answers: CONVERSATIONS,
        conversationsAnswered: CONVERSATIONS,
        medianResponseMs: expect.any(Number),
      });
    for (const id of ids) {
      const one = await api<ConversationResponseTimesDto>(
        'GET',
        `/service/v1/conversations/${id}/response-times`,
      );
      expect(one.body).toMatchObject({ answers: 1, firstAnswerMs: expect.any(Number) });
      expect(one.body.awaitingSince).toBeUndefined();
    }
  });
});
