import {
  signTestServiceToken,
  signTestToken,
  startMongoWireServer,
  waitUntil,
  type MongoHandle,
} from '@jobsphere/testing';
import {
  TEMPLATE_LIMITS,
  type ErrorResponse,
  type MessageDto,
  type ScheduledSendDto,
  type TemplateDto,
} from '@jobsphere/chat-domain';
import {
  ContractValidator,
  checkedCall,
  readCommittedDocument,
  type CheckedCall,
} from '../support/contract.js';
import { startGatewayProcess, type GatewayProcess } from '../support/gateway.js';

const SERVICE_SECRET = 'templates-contract-secret-0123456789abcdefgh';
const JWT_SECRET = 'templates-contract-jwt-secret-0123456789abcd';
const REST_PER_USER = 60;
const SERVICE_BUDGET = 60;
const HUGE = JSON.stringify({ name: 'x', body: 'x'.repeat(70 * 1024) });
const isTemplateOperation = (answer: string) =>
  answer.startsWith('template') || answer.startsWith('serviceTemplate');

const userToken = (userId: string, role: 'candidate' | 'recruiter', companyId?: string) =>
  signTestToken({ secret: JWT_SECRET, userId, role, ...(companyId && { companyId }) });

const serviceToken = (service: string, scope = 'conversations:write templates:write') =>
  signTestServiceToken({ secret: SERVICE_SECRET, service, scopes: scope.split(' ') });

// The message templates' routes (issue 27), for recruiters and for the platform, against a real
// gateway process whose store (the MongoDB emulator) can be stalled, with the content policy
// refusing links in accepted conversations: every answer is validated against the committed
// docs/openapi.json, and the last test proves every documented answer of these routes was seen.
describe('the templates contract (docs/openapi.json) against a real gateway', () => {
  let mongo: MongoHandle;
  let gateway: GatewayProcess;
  const contract = new ContractValidator(readCommittedDocument());
  let ip = 0;
  let rita: string;
  let rob: string;
  let olga: string;
  let carl: string;
  let service: string;
  let conversationId: string;
  let own: TemplateDto;
  let acme: TemplateDto;

  function call<T = unknown>(method: string, path: string, options: CheckedCall = {}) {
    const n = ++ip;
    return checkedCall<T>(contract, gateway.url, method, path, {
      ...options,
      ip: `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`,
    });
  }

  beforeAll(async () => {
    mongo = await startMongoWireServer();
    console.log(`store: ${mongo.description}`);
    gateway = await startGatewayProcess({
      MONGODB_URI: mongo.uri,
      JWT_SECRET,
      SERVICE_TOKEN_SECRET: SERVICE_SECRET,
      TRUST_PROXY_HOPS: '1',
      RATE_LIMIT_REST_PER_MIN: String(REST_PER_USER),
      RATE_LIMIT_SERVICE_PER_MIN: String(SERVICE_BUDGET),
      STORE_TIMEOUT_MS: '300',
      CONTENT_ACCEPTED_LINKS: 'reject',
    });
    [rita, rob, olga, carl, service] = await Promise.all([
      userToken('rita', 'recruiter', 'acme'),
      userToken('rob', 'recruiter', 'acme'),
      userToken('olga', 'recruiter', 'globex'),
      userToken('carl', 'candidate'),
      serviceToken('backend'),
    ]);
    const opened = await call<{ conversation: { id: string } }>(
      'POST',
      '/service/v1/conversations',
      {
        token: service,
        json: { idempotencyKey: 'tpl-1', kind: 'direct', memberIds: ['rita', 'carl'] },
      },
    );
    conversationId = opened.body.conversation.id;
  }, 60_000);

  afterAll(async () => {
    await gateway?.process.dispose();
    await mongo?.stop();
    const seen = [...contract.seen.keys()].filter(isTemplateOperation).length;
    const documented = contract.documented().filter(isTemplateOperation).length;
    console.log(
      `[figure] templates contract: ${seen} of ${documented} operation/status pairs seen`,
    );
  });

  /** Every template route with a body that passes validation where one is taken. */
  const userRoutes = (id: string) =>
    [
      ['GET', '/templates', undefined],
      ['POST', '/templates', { name: 'Flood', body: 'x' }],
      ['PATCH', `/templates/${id}`, { name: 'Renamed' }],
      ['DELETE', `/templates/${id}`, undefined],
      ['POST', `/templates/${id}/send`, { conversationId, clientMessageId: 'flood' }],
      [
        'POST',
        `/templates/${id}/schedule`,
        { conversationId, sendAt: new Date(Date.now() + 3_600_000).toISOString() },
      ],
      ['POST', `/templates/${id}/preview`, { conversationId }],
    ] as const;
  const serviceRoutes = (id: string) =>
    [
      ['GET', '/service/v1/companies/acme/templates', undefined],
      ['POST', '/service/v1/companies/acme/templates', { name: 'Flood', body: 'x' }],
      ['PATCH', `/service/v1/companies/acme/templates/${id}`, { name: 'Renamed' }],
      ['DELETE', `/service/v1/companies/acme/templates/${id}`, undefined],
      [
        'PUT',
        `/service/v1/conversations/${conversationId}/template-variables`,
        { variables: { 'job.title': 'Welder' } },
      ],
      ['GET', `/service/v1/conversations/${conversationId}/template-variables`, undefined],
    ] as const;

  it('lets the platform keep a company’s templates and set a conversation’s values', async () => {
    const set = await call<{ variables: Record<string, string> }>(
      'PUT',
      `/service/v1/conversations/${conversationId}/template-variables`,
      {
        token: service,
        json: {
          variables: {
            'candidate.firstName': 'Carl',
            'job.title': '{{recruiter.firstName}} $& Welder',
            'job.link': 'https://evil.example/apply',
          },
        },
      },
    );
    expect(set.status).toBe(200);
    const read = await call<{ variables: Record<string, string> }>(
      'GET',
      `/service/v1/conversations/${conversationId}/template-variables`,
      { token: service },
    );
    expect(read.body.variables).toEqual(set.body.variables);
    const created = await call<TemplateDto>('POST', '/service/v1/companies/acme/templates', {
      token: service,
      json: { name: 'Acme welcome', body: 'Welcome to Acme, {{candidate.firstName}}' },
    });
    expect([created.status, created.body.scope]).toEqual([201, 'company']);
    acme = created.body;
    const changed = await call<TemplateDto>(
      'PATCH',
      `/service/v1/companies/acme/templates/${acme.id}`,
      { token: service, json: { name: 'Acme hello' } },
    );
    expect([changed.status, changed.body.name]).toEqual([200, 'Acme hello']);
    const gone = await call<TemplateDto>('POST', '/service/v1/companies/acme/templates', {
      token: service,
      json: { name: 'Short-lived', body: 'x' },
    });
    expect(
      (
        await call('DELETE', `/service/v1/companies/acme/templates/${gone.body.id}`, {
          token: service,
        })
      ).status,
    ).toBe(204);
    const listed = await call<{ templates: TemplateDto[] }>(
      'GET',
      '/service/v1/companies/acme/templates',
      { token: service },
    );
    expect(listed.body.templates.map((t) => t.name)).toEqual(['Acme hello']);
  });

  it('lets a recruiter keep, preview, send and schedule templates, filled server-side', async () => {
    const created = await call<TemplateDto>('POST', '/templates', {
      token: rita,
      json: { name: 'Invite', body: 'Hi {{candidate.firstName}}, about {{job.title}}?' },
    });
    expect([created.status, created.body.variables]).toEqual([
      201,
      ['candidate.firstName', 'job.title'],
    ]);
    own = created.body;
    const listed = await call<{ templates: TemplateDto[] }>('GET', '/templates', { token: rita });
    expect(listed.body.templates.map((t) => [t.name, t.scope])).toEqual([
      ['Acme hello', 'company'],
      ['Invite', 'own'],
    ]);
    // Olga is of another company: she sees neither.
    const hers = await call<{ templates: TemplateDto[] }>('GET', '/templates', { token: olga });
    expect(hers.body.templates).toEqual([]);
    const preview = await call<{ body: string }>('POST', `/templates/${own.id}/preview`, {
      token: rita,
      json: { conversationId },
    });
    // The value's template syntax and `$&` stay text.
    expect(preview.body.body).toBe('Hi Carl, about {{recruiter.firstName}} $& Welder?');
    const sent = await call<{ message: MessageDto; duplicate: boolean }>(
      'POST',
      `/templates/${own.id}/send`,
      { token: rita, json: { conversationId, clientMessageId: 'tpl-send-1' } },
    );
    expect([sent.status, sent.body.message.body]).toEqual([201, preview.body.body]);
    const again = await call<{ message: MessageDto; duplicate: boolean }>(
      'POST',
      `/templates/${own.id}/send`,
      { token: rita, json: { conversationId, clientMessageId: 'tpl-send-1' } },
    );
    expect([again.status, again.body.duplicate, again.body.message.id]).toEqual([
      200,
      true,
      sent.body.message.id,
    ]);
    const company = await call<{ message: MessageDto }>('POST', `/templates/${acme.id}/send`, {
      token: rita,
      json: { conversationId, clientMessageId: 'tpl-send-2' },
    });
    expect([company.status, company.body.message.body]).toEqual([201, 'Welcome to Acme, Carl']);
    const scheduled = await call<ScheduledSendDto>('POST', `/templates/${own.id}/schedule`, {
      token: rita,
      json: { conversationId, sendAt: new Date(Date.now() + 3_600_000).toISOString() },
    });
    expect([scheduled.status, scheduled.body.body]).toEqual([201, preview.body.body]);
    const renamed = await call<TemplateDto>('PATCH', `/templates/${own.id}`, {
      token: rita,
      json: { body: 'Hello {{candidate.firstName}}' },
    });
    expect([renamed.status, renamed.body.variables]).toEqual([200, ['candidate.firstName']]);
    const spare = await call<TemplateDto>('POST', '/templates', {
      token: rita,
      json: { name: 'Spare', body: 'x' },
    });
    expect((await call('DELETE', `/templates/${spare.body.id}`, { token: rita })).status).toBe(204);
  });

  it('refuses hostile and foreign use with the documented status and code, storing nothing', async () => {
    const linky = await call<TemplateDto>('POST', '/templates', {
      token: rita,
      json: { name: 'Apply', body: 'Apply at {{job.link}}' },
    });
    const missing = await call<TemplateDto>('POST', '/templates', {
      token: rita,
      json: { name: 'Needs', body: 'Hi {{recruiter.firstName}}' },
    });
    const send = (id: string) => `/templates/${id}/send`;
    const at = new Date(Date.now() + 3_600_000).toISOString();
    const refusals: [string, string, CheckedCall, number, string][] = [
      ['GET', '/templates', { token: carl }, 403, 'FORBIDDEN'],
      ['POST', '/templates', { token: carl, json: { name: 'x', body: 'y' } }, 403, 'FORBIDDEN'],
      ['PATCH', `/templates/${own.id}`, { token: carl, json: { name: 'x' } }, 403, 'FORBIDDEN'],
      ['DELETE', `/templates/${own.id}`, { token: carl }, 403, 'FORBIDDEN'],
      [
        'POST',
        send(own.id),
        { token: carl, json: { conversationId, clientMessageId: 'c1' } },
        403,
        'FORBIDDEN',
      ],
      [
        'POST',
        `/templates/${own.id}/schedule`,
        { token: carl, json: { conversationId, sendAt: at } },
        403,
        'FORBIDDEN',
      ],
      [
        'POST',
        `/templates/${own.id}/preview`,
        { token: carl, json: { conversationId } },
        403,
        'FORBIDDEN',
      ],
      ['POST', '/templates', { token: rita, json: { name: 'INVITE', body: 'x' } }, 409, 'CONFLICT'],
      [
        'POST',
        '/templates',
        { token: rita, json: { name: 'Bad', body: 'Hi {{__proto__}}' } },
        400,
        'INVALID_PAYLOAD',
      ],
      [
        'POST',
        '/templates',
        { token: rita, json: { name: 'Bad', body: 'Hi {{{candidate.firstName}}}' } },
        400,
        'INVALID_PAYLOAD',
      ],
      [
        'POST',
        '/templates',
        { token: rita, json: { name: 'Bad', body: 'x', companyId: 'globex' } },
        400,
        'INVALID_PAYLOAD',
      ],
      [
        'POST',
        '/templates',
        { token: rita, raw: { body: HUGE, type: 'application/json' } },
        413,
        'PAYLOAD_TOO_LARGE',
      ],
      [
        'POST',
        '/templates',
        { token: rita, raw: { body: 'x', type: 'text/plain' } },
        415,
        'UNSUPPORTED_MEDIA_TYPE',
      ],
      ['PATCH', `/templates/${own.id}`, { token: rita, json: {} }, 400, 'INVALID_PAYLOAD'],
      ['PATCH', `/templates/${own.id}`, { token: rita, json: { name: 'apply' } }, 409, 'CONFLICT'],
      ['PATCH', `/templates/${own.id}`, { token: rob, json: { name: 'Mine' } }, 404, 'NOT_FOUND'],
      ['PATCH', `/templates/${acme.id}`, { token: rita, json: { name: 'Mine' } }, 404, 'NOT_FOUND'],
      [
        'PATCH',
        `/templates/${own.id}`,
        { token: rita, raw: { body: HUGE, type: 'application/json' } },
        413,
        'PAYLOAD_TOO_LARGE',
      ],
      [
        'PATCH',
        `/templates/${own.id}`,
        { token: rita, raw: { body: 'x', type: 'text/plain' } },
        415,
        'UNSUPPORTED_MEDIA_TYPE',
      ],
      ['DELETE', `/templates/${own.id}`, { token: rob }, 404, 'NOT_FOUND'],
      [
        'POST',
        send(missing.body.id),
        { token: rita, json: { conversationId, clientMessageId: 'm1' } },
        400,
        'INVALID_PAYLOAD',
      ],
      [
        'POST',
        send(own.id),
        { token: rita, json: { conversationId, clientMessageId: 'bad id!' } },
        400,
        'INVALID_PAYLOAD',
      ],
      [
        'POST',
        send(own.id),
        { token: olga, json: { conversationId, clientMessageId: 'o1' } },
        404,
        'NOT_FOUND',
      ],
      [
        'POST',
        send(acme.id),
        { token: olga, json: { conversationId, clientMessageId: 'o2' } },
        404,
        'NOT_FOUND',
      ],
      [
        'POST',
        send(acme.id),
        { token: rob, json: { conversationId, clientMessageId: 'r1' } },
        404,
        'NOT_A_MEMBER',
      ],
      [
        'POST',
        send(linky.body.id),
        { token: rita, json: { conversationId, clientMessageId: 'l1' } },
        422,
        'CONTENT_REJECTED',
      ],
      [
        'POST',
        send(own.id),
        { token: rita, raw: { body: HUGE, type: 'application/json' } },
        413,
        'PAYLOAD_TOO_LARGE',
      ],
      [
        'POST',
        send(own.id),
        { token: rita, raw: { body: 'x', type: 'text/plain' } },
        415,
        'UNSUPPORTED_MEDIA_TYPE',
      ],
      [
        'POST',
        `/templates/${missing.body.id}/schedule`,
        { token: rita, json: { conversationId, sendAt: at } },
        400,
        'INVALID_PAYLOAD',
      ],
      [
        'POST',
        `/templates/${own.id}/schedule`,
        { token: olga, json: { conversationId, sendAt: at } },
        404,
        'NOT_FOUND',
      ],
      [
        'POST',
        `/templates/${own.id}/schedule`,
        { token: rita, raw: { body: HUGE, type: 'application/json' } },
        413,
        'PAYLOAD_TOO_LARGE',
      ],
      [
        'POST',
        `/templates/${own.id}/schedule`,
        { token: rita, raw: { body: 'x', type: 'text/plain' } },
        415,
        'UNSUPPORTED_MEDIA_TYPE',
      ],
      [
        'POST',
        `/templates/${missing.body.id}/preview`,
        { token: rita, json: { conversationId } },
        400,
        'INVALID_PAYLOAD',
      ],
      [
        'POST',
        `/templates/${own.id}/preview`,
        { token: rob, json: { conversationId } },
        404,
        'NOT_FOUND',
      ],
      [
        'POST',
        `/templates/${own.id}/preview`,
        { token: rita, raw: { body: HUGE, type: 'application/json' } },
        413,
        'PAYLOAD_TOO_LARGE',
      ],
      [
        'POST',
        `/templates/${own.id}/preview`,
        { token: rita, raw: { body: 'x', type: 'text/plain' } },
        415,
        'UNSUPPORTED_MEDIA_TYPE',
      ],
    ];
    for (const [method, path, options, status, code] of refusals) {
      const answer = await call<ErrorResponse>(method, path, options);
      expect([method, path, answer.status, answer.body.error?.code]).toEqual([
        method,
        path,
        status,
        code,
      ]);
    }
    const missed = await call<ErrorResponse>('POST', send(missing.body.id), {
      token: rita,
      json: { conversationId, clientMessageId: 'm2' },
    });
    expect(missed.body.error.message).toBe(
      'the conversation has no value for {{recruiter.firstName}}',
    );
    // Nothing refused was stored: the history holds the two sends of the case before.
    const history = await call<{ messages: MessageDto[] }>(
      'GET',
      `/conversations/${conversationId}/messages`,
      { token: rita },
    );
    expect(history.body.messages.map((m) => m.body).sort()).toEqual(
      ['Hi Carl, about {{recruiter.firstName}} $& Welder?', 'Welcome to Acme, Carl'].sort(),
    );
  });

  it('refuses the server API’s bad calls with the documented status and code', async () => {
    const onlyConversations = await serviceToken('backend', 'conversations:write');
    const company = '/service/v1/companies/acme/templates';
    const variables = `/service/v1/conversations/${conversationId}/template-variables`;
    const refusals: [string, string, CheckedCall, number, string][] = [
      ['GET', company, { token: onlyConversations }, 403, 'FORBIDDEN'],
      ['GET', '/service/v1/companies/a%20b/templates', { token: service }, 400, 'INVALID_PAYLOAD'],
      [
        'POST',
        company,
        { token: service, json: { name: 'acme HELLO', body: 'x' } },
        409,
        'CONFLICT',
      ],
      [
        'POST',
        company,
        { token: service, json: { name: 'x', body: '{{job}}' } },
        400,
        'INVALID_PAYLOAD',
      ],
      [
        'POST',
        company,
        { token: service, raw: { body: HUGE, type: 'application/json' } },
        413,
        'PAYLOAD_TOO_LARGE',
      ],
      [
        'POST',
        company,
        { token: service, raw: { body: 'x', type: 'text/plain' } },
        415,
        'UNSUPPORTED_MEDIA_TYPE',
      ],
      ['PATCH', `${company}/${acme.id}`, { token: service, json: {} }, 400, 'INVALID_PAYLOAD'],
      [
        'PATCH',
        `/service/v1/companies/globex/templates/${acme.id}`,
        { token: service, json: { name: 'Mine' } },
        404,
        'NOT_FOUND',
      ],
      [
        'PATCH',
        `${company}/${own.id}`,
        { token: service, json: { name: 'Mine' } },
        404,
        'NOT_FOUND',
      ],
      [
        'PATCH',
        `${company}/${acme.id}`,
        { token: service, raw: { body: HUGE, type: 'application/json' } },
        413,
        'PAYLOAD_TOO_LARGE',
      ],
      [
        'PATCH',
        `${company}/${acme.id}`,
        { token: service, raw: { body: 'x', type: 'text/plain' } },
        415,
        'UNSUPPORTED_MEDIA_TYPE',
      ],
      [
        'DELETE',
        '/service/v1/companies/a%20b/templates/x',
        { token: service },
        400,
        'INVALID_PAYLOAD',
      ],
      [
        'DELETE',
        `/service/v1/companies/globex/templates/${acme.id}`,
        { token: service },
        404,
        'NOT_FOUND',
      ],
      [
        'PUT',
        variables,
        { token: service, json: { variables: { __proto__x: 'y' } } },
        400,
        'INVALID_PAYLOAD',
      ],
      [
        'PUT',
        variables,
        {
          token: service,
          raw: { body: '{"variables":{"__proto__":"x"}}', type: 'application/json' },
        },
        400,
        'INVALID_PAYLOAD',
      ],
      [
        'PUT',
        variables,
        {
          token: service,
          json: { variables: { 'job.title': 'x'.repeat(TEMPLATE_LIMITS.maxValueLength + 1) } },
        },
        400,
        'INVALID_PAYLOAD',
      ],
      [
        'PUT',
        variables,
        {
          token: service,
          json: {
            variables: Object.fromEntries(
              Array.from({ length: TEMPLATE_LIMITS.maxConversationVariables + 1 }, (_, i) => [
                `job.v${i}`,
                'x',
              ]),
            ),
          },
        },
        400,
        'INVALID_PAYLOAD',
      ],
      [
        'PUT',
        '/service/v1/conversations/nope/template-variables',
        { token: service, json: { variables: {} } },
        404,
        'NOT_FOUND',
      ],
      [
        'PUT',
        variables,
        { token: service, raw: { body: HUGE, type: 'application/json' } },
        413,
        'PAYLOAD_TOO_LARGE',
      ],
      [
        'PUT',
        variables,
        { token: service, raw: { body: 'x', type: 'text/plain' } },
        415,
        'UNSUPPORTED_MEDIA_TYPE',
      ],
      [
        'GET',
        '/service/v1/conversations/a%20b/template-variables',
        { token: service },
        400,
        'INVALID_PAYLOAD',
      ],
      [
        'GET',
        '/service/v1/conversations/nope/template-variables',
        { token: service },
        404,
        'NOT_FOUND',
      ],
    ];
    for (const [method, path, options, status, code] of refusals) {
      const answer = await call<ErrorResponse>(method, path, options);
      expect([method, path, answer.status, answer.body.error?.code]).toEqual([
        method,
        path,
        status,
        code,
      ]);
    }
    const other = await call<TemplateDto>('POST', company, {
      token: service,
      json: { name: 'Acme two', body: 'x' },
    });
    const clash = await call<ErrorResponse>('PATCH', `${company}/${acme.id}`, {
      token: service,
      json: { name: 'ACME two' },
    });
    expect([other.status, clash.status, clash.body.error.code]).toEqual([201, 409, 'CONFLICT']);
    // Each route needs its own scope: a token without it is refused.
    const onlyTemplates = await serviceToken('backend', 'templates:write');
    for (const [method, path, json] of serviceRoutes(acme.id)) {
      const token = path.includes('template-variables') ? onlyTemplates : onlyConversations;
      const answer = await call<ErrorResponse>(method, path, { token, json });
      expect([path, answer.status, answer.body.error?.code]).toEqual([path, 403, 'FORBIDDEN']);
    }
    // The hostile values changed nothing.
    const read = await call<{ variables: Record<string, string> }>('GET', variables, {
      token: service,
    });
    expect(read.body.variables['candidate.firstName']).toBe('Carl');
  });

  it('answers 401 without a token and 429 once a budget is spent, on every route', async () => {
    for (const [method, path, json] of [...userRoutes(own.id), ...serviceRoutes(acme.id)]) {
      const anonymous = await call<ErrorResponse>(method, path, { json });
      expect([path, anonymous.status]).toEqual([path, 401]);
    }
    for (const [index, [method, path, json]] of userRoutes(own.id).entries()) {
      const token = await userToken(`flooder-${index}`, 'recruiter');
      let answer = await call<ErrorResponse>(method, path, { token, json });
      for (let i = 0; i < REST_PER_USER && answer.status !== 429; i++)
        answer = await call<ErrorResponse>(method, path, { token, json });
      expect([path, answer.status, answer.body.error?.code]).toEqual([path, 429, 'RATE_LIMITED']);
    }
    for (const [index, [method, path, json]] of serviceRoutes(acme.id).entries()) {
      const token = await serviceToken(`flooder-${index}`);
      let answer = await call<ErrorResponse>(method, path, { token, json });
      for (let i = 0; i < SERVICE_BUDGET && answer.status !== 429; i++)
        answer = await call<ErrorResponse>(method, path, { token, json });
      expect([path, answer.status, answer.body.error?.code]).toEqual([path, 429, 'RATE_LIMITED']);
    }
  });

  it('answers 503 on every route while the store stalls', async () => {
    const [user, platform] = [
      await userToken('staller', 'recruiter', 'acme'),
      await serviceToken('staller'),
    ];
    mongo.pause();
    try {
      for (const [method, path, json] of userRoutes(own.id)) {
        const answer = await call<ErrorResponse>(method, path, { token: user, json });
        expect([path, answer.status, answer.body.error?.code]).toEqual([path, 503, 'UNAVAILABLE']);
      }
      for (const [method, path, json] of serviceRoutes(acme.id)) {
        const answer = await call<ErrorResponse>(method, path, { token: platform, json });
        expect([path, answer.status, answer.body.error?.code]).toEqual([path, 503, 'UNAVAILABLE']);
      }
    } finally {
      mongo.resume();
    }
    await waitUntil(
      'the store answers again',
      async () => (await call('GET', '/health/ready')).status === 200,
      10_000,
    );
  });

  it('has seen every documented answer of the template routes but the 500s', () => {
    const documented = contract.documented().filter(isTemplateOperation);
    expect(documented.length).toBeGreaterThan(0);
    const unseen = documented.filter((answer) => !contract.seen.has(answer));
    expect(unseen).toEqual(documented.filter((answer) => answer.endsWith(' 500')));
  });
});
