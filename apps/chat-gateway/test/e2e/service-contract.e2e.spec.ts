import {
  signTestServiceToken,
  signTestToken,
  startMongoWireServer,
  waitUntil,
  type MongoHandle,
} from '@jobsphere/testing';
import {
  SERVICE_SCOPES,
  type ConversationDto,
  type DeadLettersPage,
  type ErrorResponse,
  type ServiceConversationResult,
  type ServiceScope,
} from '@jobsphere/chat-domain';
import {
  ContractValidator,
  checkedCall,
  readCommittedDocument,
  type CheckedCall,
} from '../support/contract.js';
import {
  TEST_JWT_SECRET,
  closeAllClients,
  connectClient,
  startGatewayProcess,
  tokenFor,
  type ChatClient,
  type GatewayProcess,
} from '../support/gateway.js';

const SERVICE_SECRET = 'service-contract-secret-0123456789abcdefgh';
const SERVICE_BUDGET = 30;
const HUGE = JSON.stringify({ idempotencyKey: 'k', body: 'x'.repeat(70 * 1024) });

function serviceToken(service: string, scopes: readonly ServiceScope[] = SERVICE_SCOPES) {
  return signTestServiceToken({ secret: SERVICE_SECRET, scopes, service });
}

// Every server API route and every status it documents, against a real gateway process whose
// store (the MongoDB emulator) can be stalled and whose webhook endpoint refuses every
// connection (so dead letters exist): each answer validated against docs/openapi.json.
describe('the server API contract (docs/openapi.json) against a real gateway', () => {
  let mongo: MongoHandle;
  let gateway: GatewayProcess;
  const contract = new ContractValidator(readCommittedDocument());
  let token: string;
  let conversation: ConversationDto;

  beforeAll(async () => {
    mongo = await startMongoWireServer();
    console.log(`store: ${mongo.description}`);
    gateway = await startGatewayProcess({
      MONGODB_URI: mongo.uri,
      SERVICE_TOKEN_SECRET: SERVICE_SECRET,
      RATE_LIMIT_SERVICE_PER_MIN: String(SERVICE_BUDGET),
      STORE_TIMEOUT_MS: '300',
      // Port 9 on loopback (discard) refuses: every delivery fails at once and is given up.
      WEBHOOK_URLS: 'http://127.0.0.1:9/hooks',
      WEBHOOK_SECRET: `whsec_${Buffer.alloc(32, 3).toString('base64')}`,
      WEBHOOK_MAX_ATTEMPTS: '1',
      WEBHOOK_POLL_MS: '50',
      WEBHOOK_TIMEOUT_MS: '300',
      OFFLINE_NOTIFY: 'false',
    });
    token = await serviceToken('backend');
  }, 60_000);

  afterAll(async () => {
    await gateway?.process.dispose();
    await mongo?.stop();
    console.log(`[figure] server API contract: ${contract.seen.size} operation/status pairs seen`);
  });

  const call = <T = unknown>(method: string, path: string, options: CheckedCall = {}) =>
    checkedCall<T>(contract, gateway.url, method, path, options);

  /** An action message: one button, answered once. */
  const CARD = {
    idempotencyKey: 'a1',
    title: 'Interview',
    text: 'Pick a time',
    actions: [{ id: 'yes', kind: 'reply', label: 'Interested' }],
  };
  const routes = (id: string): [string, string, ServiceScope, unknown][] => [
    [
      'POST',
      '/service/v1/conversations',
      'conversations:write',
      { idempotencyKey: 'g1', kind: 'group', title: 'Panel', memberIds: ['rita', 'sam'] },
    ],
    ['PATCH', `/service/v1/conversations/${id}`, 'conversations:write', { archived: false }],
    ['PUT', `/service/v1/conversations/${id}/slow-mode`, 'conversations:write', { seconds: 0 }],
    [
      'POST',
      `/service/v1/conversations/${id}/messages`,
      'messages:write',
      { idempotencyKey: 's1', body: 'Interview on Monday' },
    ],
    ['POST', `/service/v1/conversations/${id}/action-messages`, 'messages:write', CARD],
    ['POST', `/service/v1/conversations/${id}/members`, 'members:write', { userIds: ['cora'] }],
    ['DELETE', `/service/v1/conversations/${id}/members/cora`, 'members:write', undefined],
    ['POST', '/service/v1/users/gone/erasure', 'users:erase', undefined],
    ['GET', '/service/v1/users/sam/export', 'users:export', undefined],
    ['GET', '/service/v1/webhooks/dead-letters', 'webhooks:admin', undefined],
    ['POST', '/service/v1/webhooks/dead-letters/none/replay', 'webhooks:admin', undefined],
    ['GET', `/service/v1/conversations/${id}/response-times`, 'stats:read', undefined],
    ['GET', '/service/v1/recruiters/rita/response-times', 'stats:read', undefined],
    ['GET', '/service/v1/companies/acme/response-times', 'stats:read', undefined],
  ];

  it('answers every route with its documented success body', async () => {
    const open = {
      idempotencyKey: 'g1',
      kind: 'group',
      title: 'Panel',
      memberIds: ['rita', 'sam'],
      jobId: 'job-1',
    };
    const created = await call<ServiceConversationResult>('POST', '/service/v1/conversations', {
      token,
      json: open,
    });
    const again = await call<ServiceConversationResult>('POST', '/service/v1/conversations', {
      token,
      json: open,
    });
    expect([created.status, again.status, again.body.conversation.id]).toEqual([
      201,
      200,
      created.body.conversation.id,
    ]);
    conversation = created.body.conversation;
    const id = conversation.id;
    expect(
      (
        await call<ConversationDto>('PATCH', `/service/v1/conversations/${id}`, {
          token,
          json: { title: 'Final panel' },
        })
      ).body.title,
    ).toBe('Final panel');
    expect(
      (
        await call('PUT', `/service/v1/conversations/${id}/slow-mode`, {
          token,
          json: { seconds: 0, reason: 'back to normal' },
        })
      ).body,
    ).toEqual({ conversationId: id, slowModeSeconds: 0 });
    const message = { idempotencyKey: 's1', body: 'Interview on Monday' };
    expect(
      (await call('POST', `/service/v1/conversations/${id}/messages`, { token, json: message }))
        .status,
    ).toBe(201);
    expect(
      (await call('POST', `/service/v1/conversations/${id}/messages`, { token, json: message }))
        .status,
    ).toBe(200);
    const card = `/service/v1/conversations/${id}/action-messages`;
    expect((await call('POST', card, { token, json: CARD })).status).toBe(201);
    expect((await call('POST', card, { token, json: CARD })).status).toBe(200);
    expect(
      (
        await call<ConversationDto>('POST', `/service/v1/conversations/${id}/members`, {
          token,
          json: { userIds: ['cora'] },
        })
      ).body.members,
    ).toHaveLength(3);
    expect(
      (
        await call<ConversationDto>('DELETE', `/service/v1/conversations/${id}/members/cora`, {
          token,
        })
      ).body.members,
    ).toHaveLength(2);
    expect(
      (await call<{ messages: unknown[] }>('GET', '/service/v1/users/sam/export', { token }))
        .status,
    ).toBe(200);
    expect((await call('POST', '/service/v1/users/gone/erasure', { token })).body).toMatchObject({
      complete: true,
    });
    // Response-time figures: a candidate waits in a direct conversation, a recruiter answers.
    const direct = await call<ServiceConversationResult>('POST', '/service/v1/conversations', {
      token,
      json: { idempotencyKey: 'd1', kind: 'direct', memberIds: ['cand', 'rita'] },
    });
    const directId = direct.body.conversation.id;
    // Real devices with the company in their tokens (JWT_COMPANY_CLAIM's default, org_id).
    const device = async (userId: string, role: 'candidate' | 'recruiter') =>
      connectClient(
        gateway.url,
        await signTestToken({ secret: TEST_JWT_SECRET, userId, role, companyId: 'acme' }),
      );
    const say = (socket: ChatClient, key: string): Promise<unknown> =>
      socket.timeout(5_000).emitWithAck('message:send', {
        conversationId: directId,
        clientMessageId: key,
        body: 'hi',
      });
    expect(await say(await device('cand', 'candidate'), 'q1')).toMatchObject({ ok: true });
    expect(await say(await device('rita', 'recruiter'), 'a1')).toMatchObject({ ok: true });
    closeAllClients();
    const figures = `/service/v1/conversations/${directId}/response-times`;
    await waitUntil(
      'the answer recorded',
      async () => (await call<{ answers: number }>('GET', figures, { token })).body.answers === 1,
      5_000,
      100,
    );
    for (const subject of ['recruiters/rita', 'companies/acme'])
      expect(
        (await call(`GET`, `/service/v1/${subject}/response-times`, { token })).body,
      ).toMatchObject({ windowDays: 90, answers: 1, conversationsAnswered: 1 });
    // The refused endpoint dead-letters every event at its first attempt.
    const poller = await serviceToken('poller');
    await waitUntil(
      'dead letters',
      async () =>
        (
          await call<DeadLettersPage>('GET', '/service/v1/webhooks/dead-letters?limit=1', {
            token: poller,
          })
        ).body.entries.length > 0,
      5_000,
      200,
    );
    const dead = (
      await call<DeadLettersPage>('GET', '/service/v1/webhooks/dead-letters?limit=1', { token })
    ).body.entries[0]!;
    expect(dead.lastError).toBeDefined();
    expect(
      (
        await call(
          'POST',
          `/service/v1/webhooks/dead-letters/${encodeURIComponent(dead.id)}/replay`,
          { token },
        )
      ).status,
    ).toBe(204);
  });

  it('refuses what a caller gets wrong with the documented status and code', async () => {
    const id = conversation.id;
    const token = await serviceToken('backend-2');
    const user = await tokenFor('rita', 'admin');
    const narrow = await serviceToken('narrow', []);
    for (const [method, path, scope, json] of routes(id)) {
      const anonymous = await call<ErrorResponse>(method, path, { json });
      expect([path, anonymous.status, anonymous.headers.get('www-authenticate')]).toEqual([
        path,
        401,
        'Bearer realm="jobsphere-chat-service"',
      ]);
      const asUser = await call<ErrorResponse>(method, path, { token: user, json });
      expect([path, asUser.status, asUser.body.error.code]).toEqual([path, 401, 'UNAUTHORIZED']);
      const scoped = await call<ErrorResponse>(method, path, { token: narrow, json });
      expect([path, scoped.status, scoped.headers.get('www-authenticate')]).toEqual([
        path,
        403,
        `Bearer realm="jobsphere-chat-service", error="insufficient_scope", scope="${scope}"`,
      ]);
    }
    const unknown = '000000000000000000000000';
    const refusals: [
      string,
      string,
      { json?: unknown; raw?: { body: string; type: string } },
      number,
      string,
    ][] = [
      [
        'POST',
        '/service/v1/conversations',
        { json: { idempotencyKey: 'x', kind: 'direct', memberIds: ['a'] } },
        400,
        'INVALID_PAYLOAD',
      ],
      ['PATCH', `/service/v1/conversations/${id}`, { json: {} }, 400, 'INVALID_PAYLOAD'],
      [
        'PUT',
        `/service/v1/conversations/${id}/slow-mode`,
        { json: { seconds: -1 } },
        400,
        'INVALID_PAYLOAD',
      ],
      [
        'PUT',
        `/service/v1/conversations/${unknown}/slow-mode`,
        { json: { seconds: 5 } },
        404,
        'NOT_FOUND',
      ],
      [
        'POST',
        `/service/v1/conversations/${id}/messages`,
        { json: { idempotencyKey: 'x', body: ' ' } },
        400,
        'INVALID_PAYLOAD',
      ],
      [
        'POST',
        `/service/v1/conversations/${id}/members`,
        { json: { userIds: [] } },
        400,
        'INVALID_PAYLOAD',
      ],
      [
        'DELETE',
        `/service/v1/conversations/${id}/members/not%20an%20id`,
        {},
        400,
        'INVALID_PAYLOAD',
      ],
      ['POST', '/service/v1/users/not%20an%20id/erasure', {}, 400, 'INVALID_PAYLOAD'],
      ['GET', '/service/v1/users/not%20an%20id/export', {}, 400, 'INVALID_PAYLOAD'],
      ['GET', '/service/v1/webhooks/dead-letters?limit=0', {}, 400, 'INVALID_PAYLOAD'],
      ['PATCH', `/service/v1/conversations/${unknown}`, { json: { title: 'x' } }, 404, 'NOT_FOUND'],
      [
        'POST',
        `/service/v1/conversations/${unknown}/messages`,
        { json: { idempotencyKey: 'x', body: 'x' } },
        404,
        'NOT_FOUND',
      ],
      [
        'POST',
        `/service/v1/conversations/${unknown}/members`,
        { json: { userIds: ['x'] } },
        404,
        'NOT_FOUND',
      ],
      ['DELETE', `/service/v1/conversations/${unknown}/members/x`, {}, 404, 'NOT_FOUND'],
      ['POST', '/service/v1/webhooks/dead-letters/none/replay', {}, 404, 'NOT_FOUND'],
      ['GET', `/service/v1/conversations/${unknown}/response-times`, {}, 404, 'NOT_FOUND'],
      ['GET', '/service/v1/conversations/not%20an%20id/response-times', {}, 400, 'INVALID_PAYLOAD'],
      ['GET', '/service/v1/recruiters/not%20an%20id/response-times', {}, 400, 'INVALID_PAYLOAD'],
      ['GET', '/service/v1/companies/not%20an%20id/response-times', {}, 400, 'INVALID_PAYLOAD'],
      [
        'POST',
        `/service/v1/conversations/${id}/action-messages`,
        { json: { ...CARD, idempotencyKey: 'a2', actions: [] } },
        400,
        'INVALID_PAYLOAD',
      ],
      [
        'POST',
        `/service/v1/conversations/${unknown}/action-messages`,
        { json: { ...CARD, idempotencyKey: 'a3' } },
        404,
        'NOT_FOUND',
      ],
    ];
    for (const [method, path, options, status, code] of refusals) {
      const answer = await call<ErrorResponse>(method, path, { token, ...options });
      expect([method, path, answer.status, answer.body.error.code]).toEqual([
        method,
        path,
        status,
        code,
      ]);
    }
    for (const [method, path, , json] of routes(id).filter(([, , , body]) => body !== undefined)) {
      const huge = await call<ErrorResponse>(method, path, {
        token,
        raw: { body: HUGE, type: 'application/json' },
      });
      const text = await call<ErrorResponse>(method, path, {
        token,
        raw: { body: JSON.stringify(json), type: 'text/plain' },
      });
      expect([path, huge.status, text.status]).toEqual([path, 413, 415]);
    }
  });

  it('answers 429 with Retry-After once a calling service spent its budget, on every route', async () => {
    for (const [index, [method, path, , json]] of routes(conversation.id).entries()) {
      const flooder = await serviceToken(`flooder-${index}`);
      let answer: { status: number; body: ErrorResponse; headers: Headers } | undefined;
      for (let i = 0; i <= SERVICE_BUDGET; i++) {
        answer = await call<ErrorResponse>(method, path, { token: flooder, json });
        if (answer.status === 429) break;
      }
      expect([path, answer?.status, answer?.body.error.code]).toEqual([path, 429, 'RATE_LIMITED']);
      expect(Number(answer?.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    }
  });

  it('answers 503 on every route while the store stalls', async () => {
    mongo.pause();
    try {
      for (const [index, [method, path, , json]] of routes(conversation.id).entries()) {
        const stalled = await serviceToken(`stalled-${index}`);
        const answer = await call<ErrorResponse>(method, path, { token: stalled, json });
        expect([path, answer.status, answer.body.error.code]).toEqual([path, 503, 'UNAVAILABLE']);
      }
    } finally {
      mongo.resume();
    }
  });

  it('has seen every documented answer of the server API but the 500s', () => {
    // The templates' routes (`serviceTemplate…`) are proven in contract-templates.e2e.spec.ts.
    const service = contract
      .documented()
      .filter((answer) => answer.startsWith('service') && !answer.startsWith('serviceTemplate'));
    const unseen = service.filter((answer) => !contract.seen.has(answer));
    expect(unseen).toEqual(service.filter((answer) => answer.endsWith(' 500')));
  });
});
