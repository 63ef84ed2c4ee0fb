import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startMongoWireServer, waitUntil, type MongoHandle } from '@jobsphere/testing';
import {
  type ConversationDto,
  type DownloadLinkDto,
  type UploadSlotDto,
  type ConversationList,
  type ErrorResponse,
  type HistoryPage,
  type MessageDto,
  type ReportDto,
  type ReportsPage,
  type TargetHealth,
} from '@jobsphere/chat-domain';
import { SignJWT } from 'jose';
import createClient, { type Client } from 'openapi-fetch';
import { DEV_JWT_SECRET } from '../../src/config/app-config.js';
import { DEV_SERVICE_TOKEN_SECRET } from '../../src/config/platform-config.js';
import { type paths } from '../contract/openapi-types.js';
import {
  ContractValidator,
  checkedCall,
  readCommittedDocument,
  type CheckedCall,
} from '../support/contract.js';
import {
  closeAllClients,
  connectClient,
  startGatewayProcess,
  type GatewayProcess,
  acceptInvitations,
} from '../support/gateway.js';

// Rita and Sam make every documented call of the suite within one minute: their budget holds them all.
const REST_PER_USER = 80;
const REST_PER_IP = 10;
const HUGE = JSON.stringify({ kind: 'direct', userId: 'x'.repeat(70 * 1024) });

// Every route and every status it can answer, against the real gateway process (the store is
// the MongoDB emulator, so it can be stalled): each answer must be documented for that
// status, with its content type, required headers and a body that validates (ajv) against the
// committed docs/openapi.json. The last test proves every documented answer was seen.
describe('the REST contract (docs/openapi.json) against a real gateway', () => {
  let mongo: MongoHandle;
  let gateway: GatewayProcess;
  let attachmentsDir: string;
  const contract = new ContractValidator(readCommittedDocument());
  let clientIp = 0;
  const tokens: Record<string, string> = {};

  beforeAll(async () => {
    mongo = await startMongoWireServer();
    console.log(`store: ${mongo.description}`);
    attachmentsDir = await mkdtemp(join(tmpdir(), 'contract-attachments-'));
    gateway = await startGatewayProcess({
      ATTACHMENTS_DIR: attachmentsDir,
      MONGODB_URI: mongo.uri,
      // The development secret: /dev/token exists, and tests mint their tokens with it.
      JWT_SECRET: DEV_JWT_SECRET,
      // Behind one trusted proxy: each call has its own client IP unless it says otherwise.
      TRUST_PROXY_HOPS: '1',
      RATE_LIMIT_REST_PER_IP_PER_MIN: String(REST_PER_IP),
      RATE_LIMIT_REST_PER_MIN: String(REST_PER_USER),
      STORE_TIMEOUT_MS: '300',
      SHUTDOWN_DRAIN_MS: '3000',
    });
  }, 60_000);

  afterAll(async () => {
    closeAllClients();
    await gateway?.process.dispose();
    await mongo?.stop();
    await rm(attachmentsDir, { recursive: true, force: true });
    const answers = [...contract.seen.values()].reduce((a, b) => a + b, 0);
    console.log(
      `[figure] contract: ${answers} real answers validated against docs/openapi.json, ` +
        `${contract.seen.size} of ${contract.documented().length} documented operation/status pairs seen`,
    );
  });

  type Call = CheckedCall;

  /** One request; each gets its own client IP, so per-IP budgets are spent only on purpose. */
  function call<T = unknown>(method: string, path: string, options: Call = {}) {
    const n = ++clientIp;
    return checkedCall<T>(contract, gateway.url, method, path, {
      ...options,
      ip: options.ip ?? `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`,
    });
  }

  async function mint(userId: string, role: 'candidate' | 'recruiter' | 'admin' = 'candidate') {
    const answer = await call<{ token: string }>('POST', '/dev/token', { json: { userId, role } });
    expect(answer.status).toBe(200);
    return answer.body.token;
  }

  /** Requests a client gets wrong: [method, path, options, status, error code]. */
  type Refusal = [string, string, Call, number, string];

  /** Each refusal answered with its documented status and error code. */
  async function expectRefusals(refusals: Refusal[]) {
    for (const [method, path, options, status, code] of refusals) {
      const answer = await call<ErrorResponse>(method, path, options);
      expect([method, path, answer.status, answer.body.error.code]).toEqual([
        method,
        path,
        status,
        code,
      ]);
    }
  }

  /** Sends until the budget answers 429; every answer on the way is checked too. */
  async function exhaust(method: string, path: string, options: Call, budget: number) {
    for (let i = 0; i <= budget; i++) {
      const answer = await call<ErrorResponse>(method, path, options);
      if (answer.status === 429) return answer;
    }
    throw new Error(`${method} ${path}: no 429 within ${budget + 1} calls`);
  }

  // Set by the success tests: a message of Rita's and a report, for the routes that name them.
  let messageId = 'none';
  let reportId = 'none';

  /** Every route behind the bearer guard; `admin` ones answer 403 to anyone else. */
  const conversationRoutes = (id: string) =>
    [
      ['POST', '/conversations', { kind: 'direct', userId: 'someone' }],
      ['GET', '/conversations', undefined],
      ['GET', `/conversations/${id}`, undefined],
      ['GET', `/conversations/${id}/messages`, undefined],
      ['POST', `/conversations/${id}/read`, { seq: 0 }],
      ['POST', `/conversations/${id}/accept`, undefined],
      ['POST', `/conversations/${id}/decline`, undefined],
      ['POST', `/conversations/${id}/leave`, {}],
      ['PATCH', `/conversations/${id}/messages/${messageId}`, { body: 'edited' }],
      ['DELETE', `/conversations/${id}/messages/${messageId}`, undefined],
      ['POST', `/conversations/${id}/messages/${messageId}/reactions`, { emoji: '👍', on: true }],
      ['PUT', '/users/someone/block', undefined],
      ['DELETE', '/users/someone/block', undefined],
      ['GET', '/blocks', undefined],
      ['POST', '/reports', { conversationId: id, reason: 'spam' }],
      ['GET', '/admin/reports', undefined, 'admin'],
      ['POST', `/admin/reports/${reportId}/resolve`, { resolution: 'dismissed' }, 'admin'],
      ['DELETE', `/admin/conversations/${id}/messages/${messageId}`, undefined, 'admin'],
      ['GET', '/admin/moderation', undefined, 'admin'],
      ['GET', '/admin/audit', undefined, 'admin'],
      ['GET', '/admin/users/someone/restriction', undefined, 'admin'],
      ['POST', '/admin/users/someone/ban', { reason: 'spam' }, 'admin'],
      ['POST', '/admin/users/someone/unban', {}, 'admin'],
      ['POST', '/admin/users/someone/shadow-ban', { reason: 'spam' }, 'admin'],
      ['POST', '/admin/users/someone/shadow-unban', {}, 'admin'],
      ['PUT', `/admin/conversations/${id}/slow-mode`, { seconds: 0 }, 'admin'],
      [
        'POST',
        '/attachments',
        { conversationId: id, fileName: 'cv.pdf', contentType: 'application/pdf', size: 10 },
      ],
      ['GET', `/conversations/${id}/attachments/some-upload`, undefined],
      ['POST', '/delivered', { positions: [{ conversationId: id, seq: 0 }] }],
      ['GET', '/me/settings', undefined],
      ['PATCH', '/me/settings', { receipts: true }],
      ['PATCH', `/conversations/${id}/me`, { muted: false }],
      ['POST', `/conversations/${id}/messages/${messageId}/action`, { actionId: 'yes' }],
      [
        'POST',
        '/scheduled-messages',
        {
          conversationId: id,
          body: 'later',
          sendAt: new Date(Date.now() + 3_600_000).toISOString(),
        },
      ],
      ['GET', '/scheduled-messages', undefined],
      ['PATCH', '/scheduled-messages/some-id', { body: 'x' }],
      ['DELETE', '/scheduled-messages/some-id', undefined],
      ['GET', '/search?q=hello', undefined],
    ] as const;

  let group: ConversationDto;

  it('serves exactly the committed document in development', async () => {
    const served = await call('GET', '/openapi.json');
    expect(served.body).toEqual(readCommittedDocument());
  });

  it('answers the health checks and metrics as documented', async () => {
    expect((await call('GET', '/health/live')).body).toEqual({ status: 'ok' });
    const target = await call<TargetHealth>('GET', '/health');
    expect(target.status).toBe(200);
    expect(target.body.dependencies['store']?.status).toBe('up');
    expect((await call('GET', '/health/ready')).status).toBe(200);
    const metrics = await call<string>('GET', '/metrics');
    expect(metrics.body).toContain('chat_connected_sockets');
  });

  it('mints development tokens, and refuses bad bodies and a spent IP budget', async () => {
    tokens['rita'] = await mint('rita', 'recruiter');
    tokens['sam'] = await mint('sam');
    tokens['cora'] = await mint('cora');
    tokens['mallory'] = await mint('mallory');
    tokens['judy'] = await mint('judy', 'admin');
    const bad = await call<ErrorResponse>('POST', '/dev/token', {
      json: { userId: 'x', role: 'root' },
    });
    expect([bad.status, bad.body.error.issues?.map((i) => i.path)]).toEqual([400, ['role']]);
    const malformed = await call<ErrorResponse>('POST', '/dev/token', {
      raw: { body: '{"userId":', type: 'application/json' },
    });
    expect([malformed.status, malformed.body.error.code]).toEqual([400, 'INVALID_PAYLOAD']);
    expect(
      (await call('POST', '/dev/token', { raw: { body: HUGE, type: 'application/json' } })).status,
    ).toBe(413);
    expect(
      (await call('POST', '/dev/token', { raw: { body: 'hi', type: 'text/plain' } })).status,
    ).toBe(415);
    const ip = '203.0.113.7';
    const spent = await exhaust(
      'POST',
      '/dev/token',
      { ip, json: { userId: 'x', role: 'candidate' } },
      REST_PER_IP,
    );
    expect(spent.body.error.code).toBe('RATE_LIMITED');
    expect(Number(spent.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect((await call('GET', '/openapi.json', { ip })).status).toBe(429);
  });

  it('answers every conversation route with its documented success body', async () => {
    const rita = tokens['rita']!;
    const created = await call<ConversationDto>('POST', '/conversations', {
      token: rita,
      json: { kind: 'group', title: 'Backend role', memberIds: ['sam', 'cora'], jobId: 'job-7' },
    });
    expect(created.status).toBe(201);
    group = created.body;
    // Sam and Cora were invited (not Rita's contacts yet): they accept to take part.
    await acceptInvitations(gateway.url, group.id, [tokens['sam']!, tokens['cora']!]);
    const direct = { kind: 'direct', userId: 'sam', jobId: 'job-7', applicationId: 'app-1' };
    const first = await call<ConversationDto>('POST', '/conversations', {
      token: rita,
      json: direct,
    });
    const again = await call<ConversationDto>('POST', '/conversations', {
      token: rita,
      json: direct,
    });
    expect([first.status, again.status, again.body.id]).toEqual([201, 200, first.body.id]);

    // Messages go over the socket; REST then shows them (lastMessage, history, unread).
    const socket = await connectClient(gateway.url, rita);
    for (const [i, body] of [
      'Hello both',
      'Interview on Monday?',
      'Bring your portfolio',
    ].entries())
      expect(
        await socket.emitWithAck('message:send', {
          conversationId: group.id,
          clientMessageId: `m-${i}`,
          body,
        }),
      ).toMatchObject({ ok: true });
    socket.close();

    const sam = tokens['sam']!;
    const list = await call<ConversationList>('GET', '/conversations?limit=1', { token: sam });
    expect(list.body.conversations[0]).toMatchObject({
      id: group.id,
      unreadCount: 3,
      lastMessage: { body: 'Bring your portfolio' },
    });
    const next = await call<ConversationList>(
      'GET',
      `/conversations?limit=1&cursor=${encodeURIComponent(list.body.nextCursor!)}`,
      { token: sam },
    );
    expect(next.body.conversations.map((c) => c.id)).toEqual([first.body.id]);
    expect(
      (await call<ConversationDto>('GET', `/conversations/${group.id}`, { token: sam })).body.title,
    ).toBe('Backend role');
    const newest = await call<HistoryPage>('GET', `/conversations/${group.id}/messages?limit=2`, {
      token: sam,
    });
    expect([newest.body.messages.map((m) => m.body), newest.body.hasMore]).toEqual([
      ['Interview on Monday?', 'Bring your portfolio'],
      true,
    ]);
    const older = await call<HistoryPage>(
      'GET',
      `/conversations/${group.id}/messages?before=${newest.body.messages[0]!.seq}`,
      { token: sam },
    );
    expect(older.body.messages.map((m) => m.body)).toEqual(['Hello both']);
    const lastSeq = newest.body.messages[1]!.seq;
    const read = await call('POST', `/conversations/${group.id}/read`, {
      token: sam,
      json: { seq: lastSeq },
    });
    expect(read.body).toEqual({ conversationId: group.id, lastReadSeq: lastSeq, unreadCount: 0 });
  });

  it('answers the trust and moderation routes with their documented success bodies', async () => {
    const [rita, sam, judy] = [tokens['rita']!, tokens['sam']!, tokens['judy']!];
    const [dana, eve] = [await mint('dana'), await mint('eve')];
    const direct = (
      await call<ConversationList>('GET', '/conversations', { token: sam })
    ).body.conversations.find((c) => c.kind === 'direct')!;
    const socket = await connectClient(gateway.url, rita);
    const sent: MessageDto[] = [];
    for (const body of ['Can you start in May?', 'wrong chat']) {
      const ack = await socket.emitWithAck('message:send', {
        conversationId: direct.id,
        clientMessageId: `t-${sent.length}`,
        body,
      });
      if (!ack.ok) throw new Error(`send refused: ${ack.error.code}`);
      sent.push(ack.data.message);
    }
    socket.close();
    messageId = sent[0]!.id;
    const edited = await call<MessageDto>(
      'PATCH',
      `/conversations/${direct.id}/messages/${messageId}`,
      {
        token: rita,
        json: { body: 'Can you start in June?' },
      },
    );
    expect([edited.status, edited.body.body, typeof edited.body.editedAt]).toEqual([
      200,
      'Can you start in June?',
      'string',
    ]);
    const deleted = await call<MessageDto>(
      'DELETE',
      `/conversations/${direct.id}/messages/${sent[1]!.id}`,
      {
        token: rita,
      },
    );
    expect([deleted.status, deleted.body.body, typeof deleted.body.deletedAt]).toEqual([
      200,
      '',
      'string',
    ]);

    // Strangers' conversations are requests: Dana accepts hers, Eve declines hers.
    const toDana = await call<ConversationDto>('POST', '/conversations', {
      token: rita,
      json: { kind: 'direct', userId: 'dana' },
    });
    expect(toDana.body.request).toEqual({ from: 'rita', to: 'dana', state: 'pending' });
    const box = await call<ConversationList>('GET', '/conversations?box=requests', { token: dana });
    expect(box.body.conversations.map((c) => c.id)).toEqual([toDana.body.id]);
    const accepted = await call<ConversationDto>(
      'POST',
      `/conversations/${toDana.body.id}/accept`,
      {
        token: dana,
      },
    );
    expect([accepted.status, accepted.body.request]).toEqual([200, undefined]);
    // Dana is Rita's contact now: a group of theirs needs no invitation, and Dana may leave it.
    const pair = await call<ConversationDto>('POST', '/conversations', {
      token: rita,
      json: { kind: 'group', title: 'Short-lived', memberIds: ['dana'] },
    });
    expect(pair.body.members.map((m) => m.invitation)).toEqual([undefined, undefined]);
    const left = await call<{ left: true }>('POST', `/conversations/${pair.body.id}/leave`, {
      token: dana,
      json: {},
    });
    expect([left.status, left.body]).toEqual([200, { left: true }]);
    const toEve = await call<ConversationDto>('POST', '/conversations', {
      token: rita,
      json: { kind: 'direct', userId: 'eve' },
    });
    const declined = await call<ConversationDto>(
      'POST',
      `/conversations/${toEve.body.id}/decline`,
      {
        token: eve,
      },
    );
    expect([declined.status, declined.body.request?.state]).toEqual([200, 'declined']);

    // Reactions: on (with "mine"), not one emoji, past the per-person cap (3), from a
    // non-member, and from the opener of a declined request (refused before the message is read).
    const reactions = `/conversations/${direct.id}/messages/${messageId}/reactions`;
    const react = (token: string, emoji: string, path = reactions) =>
      call<MessageDto>('POST', path, { token, json: { emoji, on: true } });
    const liked = await react(sam, '👍');
    expect([liked.status, liked.body.reactions]).toEqual([
      200,
      [{ emoji: '👍', count: 1, mine: true }],
    ]);
    expect((await react(sam, 'ok')).status).toBe(400);
    for (const emoji of ['🎉', '❤️']) expect((await react(sam, emoji)).status).toBe(200);
    expect((await react(sam, '😂')).body).toMatchObject({ error: { code: 'CONFLICT' } });
    expect((await react(judy, '👍')).body).toMatchObject({ error: { code: 'NOT_A_MEMBER' } });
    const declinedPath = `/conversations/${toEve.body.id}/messages/000000000000000000000000/reactions`;
    expect((await react(rita, '👍', declinedPath)).body).toMatchObject({
      error: { code: 'REQUEST_DECLINED' },
    });

    expect((await call('PUT', '/users/mallory/block', { token: sam })).body).toEqual({
      blocked: true,
    });
    const blocks = await call<{ users: { userId: string }[] }>('GET', '/blocks', { token: sam });
    expect(blocks.body.users.map((u) => u.userId)).toEqual(['mallory']);
    expect((await call('DELETE', '/users/mallory/block', { token: sam })).body).toEqual({
      blocked: false,
    });

    const receipt = await call<{ id: string; status: string }>('POST', '/reports', {
      token: sam,
      json: { conversationId: direct.id, messageId, reason: 'other', note: 'pushy' },
    });
    expect([receipt.status, receipt.body.status]).toEqual([201, 'open']);
    reportId = receipt.body.id;
    const reports = await call<ReportsPage>('GET', '/admin/reports?status=open', { token: judy });
    expect(reports.body.reports.map((r) => [r.id, r.reporterId, r.reportedUserId])).toEqual([
      [reportId, 'sam', 'rita'],
    ]);
    const resolved = await call<ReportDto>('POST', `/admin/reports/${reportId}/resolve`, {
      token: judy,
      json: { resolution: 'dismissed' },
    });
    expect([resolved.status, resolved.body.status]).toEqual([200, 'dismissed']);
    const removed = await call<MessageDto>(
      'DELETE',
      `/admin/conversations/${direct.id}/messages/${messageId}`,
      {
        token: judy,
      },
    );
    expect([removed.status, removed.body.body]).toEqual([200, '']);
  });

  it('refuses what a client gets wrong on the trust and moderation routes', async () => {
    const [rita, sam, mallory, judy] = ['rita', 'sam', 'mallory', 'judy'].map(
      (u) => tokens[u]!,
    ) as [string, string, string, string];
    const direct = (
      await call<ConversationList>('GET', '/conversations', { token: sam })
    ).body.conversations.find((c) => c.kind === 'direct')!;
    const edit = `/conversations/${direct.id}/messages/${messageId}`;
    const refusals: Refusal[] = [
      ['POST', `/conversations/${group.id}/accept`, { token: mallory }, 404, 'NOT_A_MEMBER'],
      ['POST', `/conversations/${direct.id}/accept`, { token: rita }, 409, 'CONFLICT'],
      ['POST', `/conversations/${group.id}/decline`, { token: mallory }, 404, 'NOT_A_MEMBER'],
      ['POST', `/conversations/${direct.id}/decline`, { token: sam }, 409, 'CONFLICT'],
      [
        'POST',
        `/conversations/${group.id}/leave`,
        { token: mallory, json: {} },
        404,
        'NOT_A_MEMBER',
      ],
      ['POST', `/conversations/${direct.id}/leave`, { token: sam, json: {} }, 409, 'CONFLICT'],
      // Only the last owner hands over.
      [
        'POST',
        `/conversations/${group.id}/leave`,
        { token: sam, json: { handOverTo: 'cora' } },
        400,
        'INVALID_PAYLOAD',
      ],
      [
        'POST',
        `/conversations/${group.id}/leave`,
        { token: sam, raw: { body: HUGE, type: 'application/json' } },
        413,
        'PAYLOAD_TOO_LARGE',
      ],
      [
        'POST',
        `/conversations/${group.id}/leave`,
        { token: sam, raw: { body: 'x', type: 'text/plain' } },
        415,
        'UNSUPPORTED_MEDIA_TYPE',
      ],
      ['PATCH', edit, { token: rita, json: { body: '' } }, 400, 'INVALID_PAYLOAD'],
      ['PATCH', edit, { token: sam, json: { body: 'not mine' } }, 403, 'FORBIDDEN'],
      ['PATCH', edit, { token: mallory, json: { body: 'x' } }, 404, 'NOT_A_MEMBER'],
      // Deleted by the moderator in the test before: it cannot be edited any more.
      ['PATCH', edit, { token: rita, json: { body: 'back' } }, 409, 'CONFLICT'],
      [
        'PATCH',
        edit,
        { token: rita, raw: { body: HUGE, type: 'application/json' } },
        413,
        'PAYLOAD_TOO_LARGE',
      ],
      [
        'PATCH',
        edit,
        { token: rita, raw: { body: 'x', type: 'text/plain' } },
        415,
        'UNSUPPORTED_MEDIA_TYPE',
      ],
      [
        'DELETE',
        `/conversations/${direct.id}/messages/bad%20id`,
        { token: rita },
        400,
        'INVALID_PAYLOAD',
      ],
      ['DELETE', edit, { token: sam }, 403, 'FORBIDDEN'],
      [
        'POST',
        `${edit}/reactions`,
        { token: rita, raw: { body: HUGE, type: 'application/json' } },
        413,
        'PAYLOAD_TOO_LARGE',
      ],
      [
        'POST',
        `${edit}/reactions`,
        { token: rita, raw: { body: 'x', type: 'text/plain' } },
        415,
        'UNSUPPORTED_MEDIA_TYPE',
      ],
      ['DELETE', edit, { token: mallory }, 404, 'NOT_A_MEMBER'],
      ['PUT', '/users/rita/block', { token: rita }, 400, 'INVALID_PAYLOAD'],
      ['DELETE', '/users/bad%20id/block', { token: rita }, 400, 'INVALID_PAYLOAD'],
      ['GET', '/blocks?limit=0', { token: rita }, 400, 'INVALID_PAYLOAD'],
      [
        'POST',
        '/reports',
        { token: sam, json: { conversationId: direct.id, reason: 'meh' } },
        400,
        'INVALID_PAYLOAD',
      ],
      [
        'POST',
        '/reports',
        { token: mallory, json: { conversationId: group.id, reason: 'spam' } },
        404,
        'NOT_A_MEMBER',
      ],
      [
        'POST',
        '/reports',
        { token: sam, raw: { body: HUGE, type: 'application/json' } },
        413,
        'PAYLOAD_TOO_LARGE',
      ],
      [
        'POST',
        '/reports',
        { token: sam, raw: { body: 'x', type: 'text/plain' } },
        415,
        'UNSUPPORTED_MEDIA_TYPE',
      ],
      ['GET', '/admin/reports', { token: rita }, 403, 'FORBIDDEN'],
      ['GET', '/admin/reports?limit=0', { token: judy }, 400, 'INVALID_PAYLOAD'],
      [
        'POST',
        `/admin/reports/${reportId}/resolve`,
        { token: sam, json: { resolution: 'dismissed' } },
        403,
        'FORBIDDEN',
      ],
      [
        'POST',
        `/admin/reports/${reportId}/resolve`,
        { token: judy, json: { resolution: 'ban' } },
        400,
        'INVALID_PAYLOAD',
      ],
      [
        'POST',
        '/admin/reports/no-such-report/resolve',
        { token: judy, json: { resolution: 'dismissed' } },
        404,
        'NOT_FOUND',
      ],
      [
        'POST',
        `/admin/reports/${reportId}/resolve`,
        { token: judy, raw: { body: HUGE, type: 'application/json' } },
        413,
        'PAYLOAD_TOO_LARGE',
      ],
      [
        'POST',
        `/admin/reports/${reportId}/resolve`,
        { token: judy, raw: { body: 'x', type: 'text/plain' } },
        415,
        'UNSUPPORTED_MEDIA_TYPE',
      ],
      [
        'DELETE',
        `/admin/conversations/${direct.id}/messages/${messageId}`,
        { token: rita },
        403,
        'FORBIDDEN',
      ],
      [
        'DELETE',
        `/admin/conversations/${direct.id}/messages/bad%20id`,
        { token: judy },
        400,
        'INVALID_PAYLOAD',
      ],
      [
        'DELETE',
        `/admin/conversations/${direct.id}/messages/no-such-message`,
        { token: judy },
        404,
        'NOT_FOUND',
      ],
    ];
    await expectRefusals(refusals);
  });

  it('answers the receipts routes with their documented bodies, and refuses bad bodies', async () => {
    const { sam } = tokens;
    const delivered = await call<{ conversations: unknown[] }>('POST', '/delivered', {
      token: sam,
      json: { positions: [{ conversationId: group.id, seq: 0 }] },
    });
    expect(delivered.status).toBe(200);
    expect((await call('GET', '/me/settings', { token: sam })).body).toEqual({ receipts: true });
    const off = await call('PATCH', '/me/settings', { token: sam, json: { receipts: false } });
    expect([off.status, off.body]).toEqual([200, { receipts: false }]);
    const on = await call('PATCH', '/me/settings', { token: sam, json: { receipts: true } });
    expect([on.status, on.body]).toEqual([200, { receipts: true }]);
    const bad = { token: sam };
    const refusals: Refusal[] = [
      ['POST', '/delivered', { ...bad, json: { positions: [] } }, 400, 'INVALID_PAYLOAD'],
      ['PATCH', '/me/settings', { ...bad, json: { receipts: 'no' } }, 400, 'INVALID_PAYLOAD'],
      ['PATCH', '/me/settings', { ...bad, json: { other: 1 } }, 400, 'INVALID_PAYLOAD'],
    ];
    for (const [method, path] of [
      ['POST', '/delivered'],
      ['PATCH', '/me/settings'],
    ] as const) {
      refusals.push(
        [
          method,
          path,
          { ...bad, raw: { body: HUGE, type: 'application/json' } },
          413,
          'PAYLOAD_TOO_LARGE',
        ],
        [
          method,
          path,
          { ...bad, raw: { body: 'x', type: 'text/plain' } },
          415,
          'UNSUPPORTED_MEDIA_TYPE',
        ],
      );
    }
    await expectRefusals(refusals);
  });

  it('answers the organisation route with its documented body, and refuses what a client gets wrong', async () => {
    // Their own people: the budgets of the others' tests stay untouched.
    const olive = await mint('organiser', 'recruiter');
    const ids: string[] = [];
    for (let i = 0; i <= 10; i++) {
      const opened = await call<{ id: string }>('POST', '/conversations', {
        token: olive,
        json: { kind: 'direct', userId: `organised-${i}` },
      });
      expect(opened.status).toBe(201);
      ids.push(opened.body.id);
    }
    const muted = await call<{ conversationId: string; muted?: boolean }>(
      'PATCH',
      `/conversations/${ids[0]}/me`,
      { token: olive, json: { muted: true } },
    );
    expect([muted.status, muted.body.conversationId, muted.body.muted]).toEqual([
      200,
      ids[0],
      true,
    ]);
    for (const id of ids.slice(0, 10)) {
      const pinned = await call('PATCH', `/conversations/${id}/me`, {
        token: olive,
        json: { pinned: true },
      });
      expect(pinned.status).toBe(200);
    }
    const mine = { token: olive };
    const path = `/conversations/${ids[0]}/me`;
    const refusals: Refusal[] = [
      [
        'PATCH',
        `/conversations/${ids[10]}/me`,
        { ...mine, json: { pinned: true } },
        409,
        'CONFLICT',
      ],
      ['PATCH', path, { ...mine, json: {} }, 400, 'INVALID_PAYLOAD'],
      ['PATCH', path, { ...mine, json: { muted: 'yes' } }, 400, 'INVALID_PAYLOAD'],
      [
        'PATCH',
        `/conversations/${group.id}/me`,
        { ...mine, json: { muted: true } },
        404,
        'NOT_A_MEMBER',
      ],
      [
        'PATCH',
        path,
        { ...mine, raw: { body: HUGE, type: 'application/json' } },
        413,
        'PAYLOAD_TOO_LARGE',
      ],
      [
        'PATCH',
        path,
        { ...mine, raw: { body: 'x', type: 'text/plain' } },
        415,
        'UNSUPPORTED_MEDIA_TYPE',
      ],
    ];
    await expectRefusals(refusals);
  });

  it('answers the moderation routes with their documented bodies, and refuses what a client gets wrong', async () => {
    // Their own people: the budgets of the others' tests stay untouched.
    const judy = await mint('moderator', 'admin');
    const rita = await mint('not-a-moderator', 'recruiter');
    const ok: [string, string, unknown][] = [
      ['POST', '/admin/users/zed/ban', { reason: 'fees' }],
      ['POST', '/admin/users/zed/unban', { reason: 'appeal' }],
      ['POST', '/admin/users/zed/shadow-ban', { reason: 'telegram' }],
      ['POST', '/admin/users/zed/shadow-unban', {}],
      ['GET', '/admin/users/zed/restriction', undefined],
      ['PUT', `/admin/conversations/${group.id}/slow-mode`, { seconds: 0 }],
      ['GET', '/admin/moderation?source=report', undefined],
      ['GET', '/admin/audit?userId=zed', undefined],
    ];
    for (const [method, path, json] of ok) {
      const answer = await call(method, path, { token: judy, json });
      expect([method, path, answer.status]).toEqual([method, path, 200]);
    }
    const audit = await call<{ entries: { action: string }[] }>('GET', '/admin/audit?userId=zed', {
      token: judy,
    });
    expect(audit.body.entries.map((e) => e.action)).toEqual([
      'user.shadow-unbanned',
      'user.shadow-banned',
      'user.unbanned',
      'user.banned',
    ]);
    const bodies = ok.filter(([, , json]) => json !== undefined);
    const refusals: Refusal[] = [
      ...ok.map(([method, path, json]): [string, string, Call, number, string] => [
        method,
        path,
        { token: rita, json },
        403,
        'FORBIDDEN',
      ]),
      ...bodies.flatMap(([method, path]): [string, string, Call, number, string][] => [
        [method, path, { token: judy, json: { reason: 7, seconds: -1 } }, 400, 'INVALID_PAYLOAD'],
        [
          method,
          path,
          { token: judy, raw: { body: HUGE, type: 'application/json' } },
          413,
          'PAYLOAD_TOO_LARGE',
        ],
        [
          method,
          path,
          { token: judy, raw: { body: '{}', type: 'text/plain' } },
          415,
          'UNSUPPORTED_MEDIA_TYPE',
        ],
      ]),
      ['GET', '/admin/users/bad%20id/restriction', { token: judy }, 400, 'INVALID_PAYLOAD'],
      ['GET', '/admin/moderation?state=lost', { token: judy }, 400, 'INVALID_PAYLOAD'],
      ['GET', '/admin/audit?limit=0', { token: judy }, 400, 'INVALID_PAYLOAD'],
      [
        'PUT',
        '/admin/conversations/000000000000000000000000/slow-mode',
        { token: judy, json: { seconds: 5 } },
        404,
        'NOT_FOUND',
      ],
    ];
    await expectRefusals(refusals);
  });

  it('answers search with its documented body, and refuses regex characters and a foreign conversation', async () => {
    // Users of their own: the other tests count on their users' REST budgets.
    const sam = await mint('search-sam');
    const rita = await mint('search-rita', 'recruiter');
    const found = await call<{ hits: unknown[] }>('GET', '/search?q=hello&limit=5', { token: sam });
    expect(found.status).toBe(200);
    expect(Array.isArray(found.body.hits)).toBe(true);
    const mine = await call<ConversationDto>('POST', '/conversations', {
      token: rita,
      json: { kind: 'direct', userId: 'search-stranger' },
    });
    const refusals: [string, string, number, string][] = [
      ['/search?q=a.*b', sam, 400, 'INVALID_PAYLOAD'],
      [`/search?q=x&conversationId=${mine.body.id}`, sam, 404, 'NOT_A_MEMBER'],
    ];
    for (const [path, token, status, code] of refusals) {
      const answer = await call<ErrorResponse>('GET', path, { token });
      expect([path, answer.status, answer.body.error.code]).toEqual([path, status, code]);
    }
  });

  it('refuses what a client gets wrong with the documented status and code', async () => {
    const { rita, sam, mallory } = tokens;
    for (const [method, path, json] of conversationRoutes(group.id)) {
      const anonymous = await call<ErrorResponse>(method, path, { json });
      expect([path, anonymous.status, anonymous.headers.get('www-authenticate')]).toEqual([
        path,
        401,
        'Bearer realm="jobsphere-chat"',
      ]);
    }
    const invalid = await call('GET', '/conversations', { token: `${rita}x` });
    expect(invalid.headers.get('www-authenticate')).toContain('error="invalid_token"');

    const refusals: Refusal[] = [
      ['POST', '/conversations', { token: rita, json: { kind: 'group' } }, 400, 'INVALID_PAYLOAD'],
      [
        'POST',
        '/conversations',
        { token: rita, raw: { body: '{', type: 'application/json' } },
        400,
        'INVALID_PAYLOAD',
      ],
      ['GET', '/conversations?limit=0', { token: rita }, 400, 'INVALID_PAYLOAD'],
      [
        'GET',
        `/conversations/${group.id}/messages?before=2&after=1`,
        { token: rita },
        400,
        'INVALID_PAYLOAD',
      ],
      [
        'POST',
        `/conversations/${group.id}/read`,
        { token: rita, json: { seq: -1 } },
        400,
        'INVALID_PAYLOAD',
      ],
      [
        'POST',
        `/conversations/${group.id}/read`,
        { token: rita, json: { seq: 99 } },
        400,
        'INVALID_PAYLOAD',
      ],
      [
        'POST',
        '/conversations',
        { token: sam, json: { kind: 'group', title: 'x', memberIds: ['b'] } },
        403,
        'FORBIDDEN',
      ],
      ['GET', `/conversations/${group.id}`, { token: mallory }, 404, 'NOT_A_MEMBER'],
      ['GET', `/conversations/${group.id}/messages`, { token: mallory }, 404, 'NOT_A_MEMBER'],
      [
        'POST',
        `/conversations/${group.id}/read`,
        { token: mallory, json: { seq: 1 } },
        404,
        'NOT_A_MEMBER',
      ],
      [
        'POST',
        '/conversations',
        { token: rita, raw: { body: HUGE, type: 'application/json' } },
        413,
        'PAYLOAD_TOO_LARGE',
      ],
      [
        'POST',
        `/conversations/${group.id}/read`,
        { token: rita, raw: { body: HUGE, type: 'application/json' } },
        413,
        'PAYLOAD_TOO_LARGE',
      ],
      [
        'POST',
        '/conversations',
        { token: rita, raw: { body: 'hi', type: 'text/plain' } },
        415,
        'UNSUPPORTED_MEDIA_TYPE',
      ],
      [
        'POST',
        `/conversations/${group.id}/read`,
        { token: rita, raw: { body: 'seq=1', type: 'application/x-www-form-urlencoded' } },
        415,
        'UNSUPPORTED_MEDIA_TYPE',
      ],
    ];
    await expectRefusals(refusals);
  });

  it('answers every attachment route (local folder) with its documented bodies and refusals', async () => {
    const { rita, mallory } = tokens;
    const tom = await mint('tom');
    const direct = await call<ConversationDto>('POST', '/conversations', {
      token: rita,
      json: { kind: 'direct', userId: 'tom', jobId: 'job-files' },
    });
    const request = (token: string | undefined, json: Record<string, unknown> = {}) =>
      call<UploadSlotDto>('POST', '/attachments', {
        ...(token && { token }),
        json: {
          conversationId: direct.body.id,
          fileName: 'cv.pdf',
          contentType: 'application/pdf',
          size: 11,
          ...json,
        },
      });
    const form = (fields: Record<string, string>, file?: Buffer) => {
      const f = new FormData();
      for (const [name, value] of Object.entries(fields)) f.append(name, value);
      if (file) f.append('file', new Blob([file]), 'cv.pdf');
      return f;
    };
    const slot = await request(rita);
    expect(slot.status).toBe(201);
    const uploadPath = new URL(slot.body.upload.url).pathname;
    const refusals: Refusal[] = [
      [
        'POST',
        '/attachments',
        {
          token: rita,
          json: {
            conversationId: direct.body.id,
            fileName: 'x.html',
            contentType: 'text/html',
            size: 1,
          },
        },
        400,
        'INVALID_PAYLOAD',
      ],
      [
        'POST',
        '/attachments',
        {
          token: mallory,
          json: {
            conversationId: direct.body.id,
            fileName: 'cv.pdf',
            contentType: 'application/pdf',
            size: 1,
          },
        },
        404,
        'NOT_A_MEMBER',
      ],
      [
        'POST',
        '/attachments',
        { token: rita, raw: { body: HUGE, type: 'application/json' } },
        413,
        'PAYLOAD_TOO_LARGE',
      ],
      [
        'POST',
        '/attachments',
        { token: rita, raw: { body: 'cv', type: 'text/plain' } },
        415,
        'UNSUPPORTED_MEDIA_TYPE',
      ],
      ['POST', uploadPath, { form: form(slot.body.upload.fields) }, 400, 'INVALID_PAYLOAD'],
      [
        'POST',
        uploadPath,
        { form: form({ ...slot.body.upload.fields, size: '5000' }, Buffer.alloc(11)) },
        403,
        'FORBIDDEN',
      ],
      [
        'POST',
        uploadPath,
        { form: form(slot.body.upload.fields, Buffer.alloc(2048)) },
        413,
        'PAYLOAD_TOO_LARGE',
      ],
      ['POST', uploadPath, { json: slot.body.upload.fields }, 415, 'UNSUPPORTED_MEDIA_TYPE'],
    ];
    await expectRefusals(refusals);
    const cv = Buffer.from('%PDF-1.7 cv');
    expect(
      (await call('POST', uploadPath, { form: form(slot.body.upload.fields, cv) })).status,
    ).toBe(204);

    const socket = await connectClient(gateway.url, rita!);
    expect(
      await socket.emitWithAck('message:send', {
        conversationId: direct.body.id,
        clientMessageId: 'cv-1',
        body: 'My CV',
        attachmentIds: [slot.body.id],
      }),
    ).toMatchObject({ ok: true, data: { message: { attachments: [{ id: slot.body.id }] } } });
    socket.close();

    const linkPath = `/conversations/${direct.body.id}/attachments/${slot.body.id}`;
    const link = await call<DownloadLinkDto>('GET', linkPath, { token: tom });
    expect(link.status).toBe(200);
    expect(
      (
        await call<ErrorResponse>('GET', `/conversations/${direct.body.id}/attachments/nope`, {
          token: tom,
        })
      ).body.error.code,
    ).toBe('NOT_FOUND');
    const url = new URL(link.body.url);
    const file = await call<string>('GET', url.pathname + url.search);
    expect([file.status, file.body, file.headers.get('x-content-type-options')]).toEqual([
      200,
      cv.toString(),
      'nosniff',
    ]);
    const forged = new URL(url);
    forged.searchParams.set('name', 'invoice.pdf');
    expect(
      (await call<ErrorResponse>('GET', forged.pathname + forged.search)).body.error.code,
    ).toBe('FORBIDDEN');
    await rm(join(attachmentsDir, 'files', slot.body.id));
    expect((await call<ErrorResponse>('GET', url.pathname + url.search)).body.error.code).toBe(
      'NOT_FOUND',
    );

    // The upload and download routes spend the client IP's budget like any other.
    const ip = '203.0.113.9';
    expect(
      (await exhaust('POST', uploadPath, { ip, form: form(slot.body.upload.fields) }, REST_PER_IP))
        .body.error.code,
    ).toBe('RATE_LIMITED');
    expect((await call('GET', url.pathname + url.search, { ip })).status).toBe(429);
  });

  it('answers the hiring routes (action messages, scheduled sends) with their documented bodies and refusals', async () => {
    // Their own conversation and fresh budgets: the other cases spent Rita's and Sam's.
    const [rita, sam, mallory] = [
      await mint('hiro', 'recruiter'),
      await mint('hana'),
      tokens['mallory']!,
    ];
    const service = await new SignJWT({
      scope: 'conversations:write messages:write',
      token_use: 'service',
    })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('jobsphere-backend')
      .setAudience('jobsphere-chat-service')
      .setIssuedAt()
      .setExpirationTime('1h')
      .sign(new TextEncoder().encode(DEV_SERVICE_TOKEN_SECRET));
    const opened = await call<{ conversation: { id: string } }>(
      'POST',
      '/service/v1/conversations',
      {
        token: service,
        json: {
          idempotencyKey: 'contract-panel',
          kind: 'group',
          title: 'Panel',
          memberIds: ['hiro', 'hana'],
        },
      },
    );
    const panel = opened.body.conversation;
    const expiresAt = new Date(Date.now() + 2_000).toISOString();
    const posted = await call<{ message: { id: string } }>(
      'POST',
      `/service/v1/conversations/${panel.id}/action-messages`,
      {
        token: service,
        json: {
          idempotencyKey: 'contract-card',
          title: 'Interview',
          text: 'Pick one',
          actions: [
            { id: 'yes', label: 'Yes', kind: 'reply' },
            { id: 'no', label: 'No', kind: 'reply' },
          ],
          expiresAt,
          once: false,
        },
      },
    );
    expect(posted.status).toBe(201);
    const action = `/conversations/${panel.id}/messages/${posted.body.message.id}/action`;
    const answered = await call<{ action: { answers: unknown[] } }>('POST', action, {
      token: rita,
      json: { actionId: 'yes' },
    });
    expect([answered.status, answered.body.action.answers.length]).toEqual([200, 1]);
    const scheduled = await call<{ id: string; state: string }>('POST', '/scheduled-messages', {
      token: rita,
      json: {
        conversationId: panel.id,
        body: 'See you Monday',
        sendAt: new Date(Date.now() + 3_600_000).toISOString(),
      },
    });
    expect([scheduled.status, scheduled.body.state]).toEqual([201, 'pending']);
    const one = `/scheduled-messages/${scheduled.body.id}`;
    expect((await call('GET', '/scheduled-messages', { token: rita })).status).toBe(200);
    expect((await call('PATCH', one, { token: rita, json: { body: 'Monday it is' } })).status).toBe(
      200,
    );
    expect((await call('DELETE', one, { token: rita })).status).toBe(200);
    const refusals: [string, string, Call, number, string][] = [
      ['POST', action, { token: rita, json: { actionId: 'no' } }, 409, 'ALREADY_ANSWERED'],
      ['POST', action, { token: rita, json: { actionId: 'maybe' } }, 400, 'INVALID_PAYLOAD'],
      ['POST', action, { token: mallory, json: { actionId: 'yes' } }, 404, 'NOT_A_MEMBER'],
      [
        'POST',
        action,
        { token: rita, raw: { body: HUGE, type: 'application/json' } },
        413,
        'PAYLOAD_TOO_LARGE',
      ],
      [
        'POST',
        action,
        { token: rita, raw: { body: 'x', type: 'text/plain' } },
        415,
        'UNSUPPORTED_MEDIA_TYPE',
      ],
      [
        'POST',
        '/scheduled-messages',
        {
          token: rita,
          json: { conversationId: panel.id, body: 'now', sendAt: new Date().toISOString() },
        },
        400,
        'INVALID_PAYLOAD',
      ],
      [
        'POST',
        '/scheduled-messages',
        {
          token: mallory,
          json: {
            conversationId: panel.id,
            body: 'x',
            sendAt: new Date(Date.now() + 3_600_000).toISOString(),
          },
        },
        404,
        'NOT_A_MEMBER',
      ],
      [
        'POST',
        '/scheduled-messages',
        { token: rita, raw: { body: HUGE, type: 'application/json' } },
        413,
        'PAYLOAD_TOO_LARGE',
      ],
      [
        'POST',
        '/scheduled-messages',
        { token: rita, raw: { body: 'x', type: 'text/plain' } },
        415,
        'UNSUPPORTED_MEDIA_TYPE',
      ],
      ['PATCH', one, { token: rita, json: { body: 'again' } }, 409, 'CONFLICT'],
      ['PATCH', one, { token: rita, json: {} }, 400, 'INVALID_PAYLOAD'],
      ['PATCH', one, { token: sam, json: { body: 'not mine' } }, 404, 'NOT_FOUND'],
      [
        'PATCH',
        one,
        { token: rita, raw: { body: HUGE, type: 'application/json' } },
        413,
        'PAYLOAD_TOO_LARGE',
      ],
      [
        'PATCH',
        one,
        { token: rita, raw: { body: 'x', type: 'text/plain' } },
        415,
        'UNSUPPORTED_MEDIA_TYPE',
      ],
      ['DELETE', one, { token: rita }, 409, 'CONFLICT'],
      ['DELETE', one, { token: sam }, 404, 'NOT_FOUND'],
    ];
    for (const [method, path, options, status, code] of refusals) {
      const answer = await call<ErrorResponse>(method, path, options);
      expect([method, path, answer.status, answer.body.error.code]).toEqual([
        method,
        path,
        status,
        code,
      ]);
    }
    // Past its expiry (a clock marker, not a sleep): the card is closed.
    await waitUntil('the card expires', () => Date.now() > Date.parse(expiresAt), 5_000);
    const late = await call<ErrorResponse>('POST', action, {
      token: rita,
      json: { actionId: 'no' },
    });
    expect([late.status, late.body.error.code]).toEqual([410, 'ACTION_EXPIRED']);
  });

  it('answers 429 with Retry-After on every conversation route once a user’s budget is spent', async () => {
    for (const [index, [method, path, json, role]] of conversationRoutes(group.id).entries()) {
      const token = await mint(`flooder-${index}`, role === 'admin' ? 'admin' : 'candidate');
      const spent = await exhaust(method, path, { token, json }, REST_PER_USER);
      expect([path, spent.body.error.code]).toEqual([path, 'RATE_LIMITED']);
      expect(spent.body.error.retryAfterMs).toBeGreaterThan(0);
    }
  });

  it('types a client generated by openapi-typescript, which works against the gateway', async () => {
    const api = createClient<paths>({
      baseUrl: gateway.url,
      headers: { authorization: `Bearer ${tokens['cora']}` },
      // Everything this client receives is checked against the document too.
      fetch: async (request: Request) => {
        const response = await fetch(request);
        const url = new URL(request.url);
        contract.check({
          method: request.method,
          path: url.pathname + url.search,
          status: response.status,
          headers: response.headers,
          text: await response.clone().text(),
        });
        return response;
      },
    });
    expect(await inbox(api)).toEqual([
      { title: 'Backend role', unread: 3, last: 'Bring your portfolio' },
    ]);
    const { error, response } = await api.GET('/conversations/{id}', {
      params: { path: { id: 'not-mine' } },
    });
    expect([response.status, error?.error.code]).toEqual([404, 'NOT_A_MEMBER']);
  });

  it('answers 503 on every conversation route while the store stalls, and health tells why', async () => {
    // Fresh users with their whole REST budget: every route reaches the store before anything else.
    const [user, admin] = [await mint('staller'), await mint('staller-admin', 'admin')];
    mongo.pause();
    try {
      for (const [method, path, json, role] of conversationRoutes(group.id)) {
        const token = role === 'admin' ? admin : user;
        const answer = await call<ErrorResponse>(method, path, { token, json });
        expect([path, answer.status, answer.body.error.code]).toEqual([path, 503, 'UNAVAILABLE']);
      }
      // The target check stays green (a shared dependency), readiness does not.
      const target = await call<TargetHealth>('GET', '/health');
      expect([target.status, target.body.dependencies['store']?.status]).toEqual([200, 'down']);
      expect((await call('GET', '/health/ready')).status).toBe(503);
    } finally {
      mongo.resume();
    }
    await waitUntil(
      'the store answers again',
      async () => (await call('GET', '/health/ready')).status === 200,
      10_000,
    );
  });

  it('answers 503 on /health and /health/ready while draining after SIGTERM', async () => {
    const exited = gateway.terminate();
    await waitUntil(
      '/health reports draining',
      async () => (await call('GET', '/health')).status === 503,
      2_000,
    );
    const target = await call<TargetHealth>('GET', '/health');
    expect(target.body.error).toEqual({ lifecycle: { status: 'down', message: 'draining' } });
    expect((await call('GET', '/health/ready')).status).toBe(503);
    expect(await exited).toBe(0);
  });

  it('has seen every documented answer but the 500s (a bug, by definition)', () => {
    // The server API's answers are proven in service-contract.e2e.spec.ts, the templates'
    // (operations `template…`) in contract-templates.e2e.spec.ts.
    const here = (answer: string) =>
      !answer.startsWith('service') && !answer.startsWith('template');
    const unseen = contract
      .documented()
      .filter((answer) => here(answer) && !contract.seen.has(answer));
    expect(unseen).toEqual(
      contract.documented().filter((answer) => here(answer) && answer.endsWith(' 500')),
    );
  });
});

/** What a client developer writes with the generated types: checked by the package's tsc. */
async function inbox(api: Client<paths>) {
  const { data, error } = await api.GET('/conversations', { params: { query: { limit: 10 } } });
  if (error) throw new Error(`${error.error.code}: ${error.error.message}`);
  return data.conversations
    .filter((c) => c.kind === 'group')
    .map((c) => ({ title: c.title ?? c.id, unread: c.unreadCount, last: c.lastMessage?.body }));
}
