import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitUntil } from '@jobsphere/testing';
import {
  type ConversationDto,
  type DownloadLinkDto,
  type MessageDto,
  type ReportDto,
  type ServiceConversationResult,
  type UploadSlotDto,
} from '@jobsphere/chat-domain';
import { SignJWT } from 'jose';
import {
  TEST_JWT_SECRET,
  connectClient,
  openAccepted,
  rest,
  tokenFor,
  type ChatClient,
} from '../support/gateway.js';
import { startEnvironment, type Environment } from '../support/environment.js';

// Attachments, the server API, erasure, events and reports where they meet the next path over:
// the deleted message beside its file, the second service beside the first, the erased person's
// old token beside their erasure, the other instance beside the one that changed something.
// Two gateway instances on one Redis and one store; files in one shared local folder.

const SERVICE_SECRET = 'lifecycle-e2e-service-secret-0123456789abcdef';
const WEBHOOK_SECRET = `whsec_${Buffer.from('lifecycle-e2e-webhook-signing-key').toString('base64')}`;
const PENDING_FILES = 5;
const SOCKET_CAP = 20;
const DEAD_LETTER_TTL_MS = 10_000;
const MAX_DEAD_LETTERS = 3;
const cv = Buffer.concat([Buffer.from('%PDF-1.7\n'), Buffer.alloc(1200, 0x41)]);

type ErrorBody = { error: { code: string; message: string } };

function serviceToken(service: string) {
  return new SignJWT({
    scope: 'conversations:write messages:write members:write users:erase webhooks:admin',
    token_use: 'service',
  })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(service)
    .setAudience('jobsphere-chat-service')
    .setIssuedAt()
    .setExpirationTime('1h')
    .sign(new TextEncoder().encode(SERVICE_SECRET));
}

/** A user token issued at an exact time (epoch seconds), as the identity service would. */
function tokenIssuedAt(userId: string, iat: number) {
  return new SignJWT({ role: 'candidate' })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(userId)
    .setIssuedAt(iat)
    .setExpirationTime(iat + 3600)
    .sign(new TextEncoder().encode(TEST_JWT_SECRET));
}

async function upload(slot: UploadSlotDto, bytes: Buffer): Promise<number> {
  const form = new FormData();
  for (const [name, value] of Object.entries(slot.upload.fields)) form.append(name, value);
  form.append('file', new Blob([bytes]), 'cv.pdf');
  return (await fetch(slot.upload.url, { method: 'POST', body: form })).status;
}

/** The platform's endpoint: takes every event, except those `refuse` picks (always 500). */
class Receiver {
  readonly events: { id: string; type: string; data: Record<string, unknown>; raw: string }[] = [];
  refuse: (event: { type: string; data: Record<string, unknown> }) => boolean = () => false;
  private server!: Server;
  url = '';

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        const event = JSON.parse(raw) as Receiver['events'][number];
        this.events.push({ ...event, raw });
        res.writeHead(this.refuse(event) ? 500 : 204).end();
      });
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hooks`;
  }

  stop(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

describe('lifecycle across two instances: files, the server API, erasure, events, reports', () => {
  let env: Environment;
  let dir: string;
  let receiver: Receiver;
  const tokens: Record<string, string> = {};
  const A = () => env.gateways[0]!.url;
  const B = () => env.gateways[1]!.url;
  const token = async (userId: string, role: 'candidate' | 'recruiter' | 'admin' = 'candidate') =>
    (tokens[userId] ??= await tokenFor(userId, role));
  const as = async <T>(url: string, userId: string, method: string, path: string, body?: unknown) =>
    rest<T>(url, await token(userId), method, path, body);
  const service = async <T>(name: string, method: string, path: string, body?: unknown) =>
    rest<T>(A(), await serviceToken(name), method, path, body);
  const send = async (
    socket: ChatClient,
    conversationId: string,
    key: string,
    body: string,
    attachmentIds?: string[],
  ) => {
    const ack = (await socket.timeout(5_000).emitWithAck('message:send', {
      conversationId,
      clientMessageId: key,
      body,
      ...(attachmentIds && { attachmentIds }),
    })) as { ok: true; data: { message: MessageDto } } | { ok: false; error: { code: string } };
    if (!ack.ok) throw new Error(`send failed: ${ack.error.code}`);
    return ack.data.message;
  };
  /** A conversation between a recruiter and a candidate who already talk, its file, and the link. */
  const sentWithFile = async (recruiter: string, candidate: string, key: string) => {
    const conversation = await openAccepted(
      A(),
      await token(recruiter, 'recruiter'),
      await token(candidate),
      {
        userId: candidate,
        jobId: `job-${key}`,
      },
    );
    const slot = await as<UploadSlotDto>(A(), candidate, 'POST', '/attachments', {
      conversationId: conversation.id,
      fileName: 'CV.pdf',
      contentType: 'application/pdf',
      size: cv.length,
    });
    expect(slot.status).toBe(201);
    expect(await upload(slot.body, cv)).toBe(204);
    const socket = await connectClient(A(), await token(candidate));
    const message = await send(socket, conversation.id, key, 'my CV', [slot.body.id]);
    socket.close();
    const path = `/conversations/${conversation.id}/attachments/${slot.body.id}`;
    const link = await as<DownloadLinkDto>(B(), recruiter, 'GET', path);
    expect(link.status).toBe(200);
    expect((await fetch(link.body.url)).status).toBe(200);
    return { conversation, message, path, url: link.body.url };
  };
  /** The file is gone for everyone: no new link on either instance, the old link answers 404. */
  const expectRevoked = async (reader: string, path: string, oldUrl: string) => {
    for (const url of [A(), B()]) {
      const refused = await as<ErrorBody>(url, reader, 'GET', path);
      expect([refused.status, refused.body.error?.code]).toEqual([404, 'NOT_FOUND']);
    }
    expect((await fetch(oldUrl)).status).toBe(404);
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lifecycle-e2e-'));
    receiver = new Receiver();
    await receiver.start();
    env = await startEnvironment({
      gateways: 2,
      env: {
        ATTACHMENTS_DIR: dir,
        ATTACHMENTS_PENDING_MAX_FILES: String(PENDING_FILES),
        SOCKET_MAX_PER_USER: String(SOCKET_CAP),
        SERVICE_TOKEN_SECRET: SERVICE_SECRET,
        WEBHOOK_URLS: receiver.url,
        WEBHOOK_SECRET,
        WEBHOOK_MAX_ATTEMPTS: '1',
        WEBHOOK_POLL_MS: '50',
        WEBHOOK_TIMEOUT_MS: '1000',
        WEBHOOK_DEAD_LETTER_TTL_MS: String(DEAD_LETTER_TTL_MS),
        WEBHOOK_DEAD_LETTERS_MAX: String(MAX_DEAD_LETTERS),
      },
    });
    await token('mod', 'admin');
  }, 90_000);

  afterAll(async () => {
    await env?.dispose();
    await receiver?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  describe('the socket cap', () => {
    it('lets exactly the cap of 100 simultaneous handshakes of one user in over two instances', async () => {
      const userId = 'many-tabs';
      const results = await Promise.all(
        Array.from({ length: 100 }, async (_, i) =>
          connectClient(i % 2 ? B() : A(), await token(userId), 15_000).then(
            (socket) => ({ socket, code: 'CONNECTED' }),
            (error: { data?: { code?: string } }) => ({
              socket: undefined,
              code: error.data?.code,
            }),
          ),
        ),
      );
      const codes = new Map<string | undefined, number>();
      for (const r of results) codes.set(r.code, (codes.get(r.code) ?? 0) + 1);
      expect(Object.fromEntries(codes)).toEqual({
        CONNECTED: SOCKET_CAP,
        TOO_MANY_CONNECTIONS: 100 - SOCKET_CAP,
      });
      for (const r of results) r.socket?.close();
    }, 60_000);
  });

  describe('attachments live and die with their message', () => {
    it('deleting the message revokes its file on both instances, links already handed out included', async () => {
      const { conversation, message, path, url } = await sentWithFile(
        'rec-del',
        'cand-del',
        'del-1',
      );
      const deleted = await as(
        B(),
        'cand-del',
        'DELETE',
        `/conversations/${conversation.id}/messages/${message.id}`,
      );
      expect(deleted.status).toBe(200);
      await expectRevoked('rec-del', path, url);
    });

    it('resolving a report message_deleted revokes the file', async () => {
      const { conversation, message, path, url } = await sentWithFile(
        'rec-rep',
        'cand-rep',
        'rep-1',
      );
      const report = await as<{ id: string }>(A(), 'rec-rep', 'POST', '/reports', {
        conversationId: conversation.id,
        messageId: message.id,
        reason: 'inappropriate',
      });
      expect(report.status).toBe(201);
      const resolved = await as(B(), 'mod', 'POST', `/admin/reports/${report.body.id}/resolve`, {
        resolution: 'message_deleted',
      });
      expect(resolved.status).toBe(200);
      await expectRevoked('rec-rep', path, url);
    });

    it('erasing the uploader revokes their files', async () => {
      const { path, url } = await sentWithFile('rec-era', 'cand-era', 'era-1');
      const erased = await service<{ complete: boolean }>(
        'svc-a',
        'POST',
        '/service/v1/users/cand-era/erasure',
      );
      expect(erased.body.complete).toBe(true);
      await expectRevoked('rec-era', path, url);
    });

    it('refuses pending uploads past the per-person quota with UPLOAD_QUOTA_EXCEEDED, on either instance, also when they race', async () => {
      const conversation = await openAccepted(
        A(),
        await token('rec-q', 'recruiter'),
        await token('hoarder'),
        { userId: 'hoarder' },
      );
      const ask = (i: number) =>
        as<ErrorBody>(i % 2 ? B() : A(), 'hoarder', 'POST', '/attachments', {
          conversationId: conversation.id,
          fileName: `big-${i}.pdf`,
          contentType: 'application/pdf',
          size: 10 * 1024 * 1024,
        });
      // 30 at once over both instances: never more than the quota, the rest refused.
      const burst = await Promise.all(Array.from({ length: 30 }, (_, i) => ask(i)));
      const answer = (a: { status: number; body: ErrorBody }) =>
        a.status === 201 ? 'CREATED' : `${a.status} ${a.body.error?.code}`;
      const created = burst.filter((a) => a.status === 201).length;
      expect(created).toBeLessThanOrEqual(PENDING_FILES);
      expect(new Set(burst.map(answer).filter((a) => a !== 'CREATED'))).toEqual(
        new Set(['429 UPLOAD_QUOTA_EXCEEDED']),
      );
      // One at a time the quota fills exactly, and the next one is refused.
      const more: string[] = [];
      for (let i = 30; i < 30 + PENDING_FILES + 1 - created; i++) more.push(answer(await ask(i)));
      expect(more).toEqual([
        ...Array<string>(PENDING_FILES - created).fill('CREATED'),
        '429 UPLOAD_QUOTA_EXCEEDED',
      ]);
    });

    it.each([
      ['a prototype key as the type', { contentType: '__proto__', fileName: 'cv.pdf' }],
      ['constructor as the type', { contentType: 'constructor', fileName: 'cv.pdf' }],
      ['toString as the type', { contentType: 'toString', fileName: 'cv.pdf' }],
      [
        'a right-to-left override in the name',
        { contentType: 'image/png', fileName: 'CV_\u202Efdp.png' },
      ],
      [
        'an isolate in the name',
        { contentType: 'application/pdf', fileName: 'CV\u2067.exe\u2069.pdf' },
      ],
      [
        'a zero-width joiner in the name',
        { contentType: 'application/pdf', fileName: 'C\u200DV.pdf' },
      ],
      [
        'a line separator in the name',
        { contentType: 'application/pdf', fileName: 'CV\u2028x.pdf' },
      ],
    ])('refuses %s with 400 INVALID_PAYLOAD', async (_, input) => {
      const conversation = await openAccepted(
        A(),
        await token('rec-v', 'recruiter'),
        await token('cand-v'),
        {
          userId: 'cand-v',
        },
      );
      const refused = await as<ErrorBody>(A(), 'cand-v', 'POST', '/attachments', {
        conversationId: conversation.id,
        size: 100,
        ...input,
      });
      expect([refused.status, refused.body.error?.code]).toEqual([400, 'INVALID_PAYLOAD']);
    });
  });

  describe('the server API stays inside its lane', () => {
    it('a second service passing the first one’s group key gets a group of its own, never the first one’s', async () => {
      const first = await service<ServiceConversationResult>(
        'svc-a',
        'POST',
        '/service/v1/conversations',
        {
          idempotencyKey: 'team-42',
          kind: 'group',
          title: 'Hiring team',
          memberIds: ['hr-1', 'hr-2'],
        },
      );
      expect(first.status).toBe(201);
      const secret = await service(
        'svc-a',
        'POST',
        `/service/v1/conversations/${first.body.conversation.id}/messages`,
        {
          idempotencyKey: 'm1',
          body: 'salary band is 90-110',
        },
      );
      expect(secret.status).toBe(201);
      const second = await service<ServiceConversationResult>(
        'svc-b',
        'POST',
        '/service/v1/conversations',
        {
          idempotencyKey: 'team-42',
          kind: 'group',
          title: 'Mine now',
          memberIds: ['intruder-1', 'intruder-2'],
        },
      );
      expect(second.status).toBe(201);
      expect(second.body.conversation.id).not.toBe(first.body.conversation.id);
      expect(JSON.stringify(second.body)).not.toMatch(/hr-1|salary/);
      // The first service repeating its own key still gets its own group back.
      const again = await service<ServiceConversationResult>(
        'svc-a',
        'POST',
        '/service/v1/conversations',
        {
          idempotencyKey: 'team-42',
          kind: 'group',
          title: 'Hiring team',
          memberIds: ['hr-1', 'hr-2'],
        },
      );
      expect([again.status, again.body.conversation.id]).toEqual([200, first.body.conversation.id]);
    });

    it('refuses removing a member from a direct conversation; the pair stays and an outsider still cannot read it', async () => {
      const opened = await service<ServiceConversationResult>(
        'svc-a',
        'POST',
        '/service/v1/conversations',
        {
          idempotencyKey: 'd-1',
          kind: 'direct',
          memberIds: ['rec-lane', 'cand-lane'],
        },
      );
      const id = opened.body.conversation.id;
      const socket = await connectClient(B(), await token('rec-lane', 'recruiter'));
      await send(socket, id, 'k1', 'the offer is attached');
      socket.close();
      const removed = await service<ErrorBody>(
        'svc-a',
        'DELETE',
        `/service/v1/conversations/${id}/members/cand-lane`,
      );
      expect([removed.status, removed.body.error?.code]).toEqual([400, 'INVALID_PAYLOAD']);
      const seen = await as<ConversationDto>(B(), 'cand-lane', 'GET', `/conversations/${id}`);
      expect(seen.status).toBe(200);
      expect(seen.body.members.map((m) => m.userId).sort()).toEqual(['cand-lane', 'rec-lane']);
    });
  });

  describe('erasure', () => {
    it('revokes the erased person’s earlier tokens on every instance, sockets and REST, and keeps others’ blocks on them', async () => {
      const old = await token('mallory');
      // Victim blocks Mallory before Mallory is erased.
      const blocked = await as(A(), 'victim', 'PUT', '/users/mallory/block');
      expect(blocked.status).toBe(200);
      const erased = await service<{ complete: boolean }>(
        'svc-a',
        'POST',
        '/service/v1/users/mallory/erasure',
      );
      expect(erased.body.complete).toBe(true);
      const erasedAt = Math.floor(Date.now() / 1000);
      for (const url of [A(), B()]) {
        const refusedRest = await rest<ErrorBody>(url, old, 'GET', '/conversations');
        expect([refusedRest.status, refusedRest.body.error?.code]).toEqual([401, 'UNAUTHORIZED']);
        const refusedSocket = await connectClient(url, old).then(
          (s) => (s.close(), 'CONNECTED'),
          (error: { data?: { code?: string } }) => error.data?.code,
        );
        expect(refusedSocket).toBe('UNAUTHORIZED');
      }
      // A token issued after the erasure is a new start: it works, and the block still holds.
      const fresh = await tokenIssuedAt('mallory', erasedAt + 1);
      const opened = await rest<ErrorBody>(B(), fresh, 'POST', '/conversations', {
        kind: 'direct',
        userId: 'victim',
      });
      expect([opened.status, opened.body.error?.code]).toEqual([403, 'BLOCKED']);
      const blocks = await as<{ users: { userId: string }[] }>(B(), 'victim', 'GET', '/blocks');
      expect(blocks.body.users.map((u) => u.userId)).toEqual(['mallory']);
    });
  });

  describe('events for every change the platform mirrors', () => {
    it('sends message.updated with the new words and message.deleted with none, and redacts a dead letter of a deleted message', async () => {
      const conversation = await openAccepted(
        A(),
        await token('rec-ev', 'recruiter'),
        await token('cand-ev'),
        {
          userId: 'cand-ev',
        },
      );
      const socket = await connectClient(B(), await token('cand-ev'));
      // The platform is down for this one message's creation: it becomes a dead letter.
      const secretWords = `call me at 555-${Date.now()}`;
      receiver.refuse = (e) =>
        e.type === 'message.created' && JSON.stringify(e.data).includes(secretWords);
      const message = await send(socket, conversation.id, 'ev-1', secretWords);
      let deadId = '';
      await waitUntil(
        'the creation is a dead letter',
        async () => {
          const page = await service<{ entries: { id: string; event: { data: unknown } }[] }>(
            'svc-a',
            'GET',
            '/service/v1/webhooks/dead-letters',
          );
          deadId =
            page.body.entries.find((e) => JSON.stringify(e.event).includes(message.id))?.id ?? '';
          return deadId !== '';
        },
        10_000,
      );
      receiver.refuse = () => false;
      const edited = await socket.timeout(5_000).emitWithAck('message:edit', {
        conversationId: conversation.id,
        messageId: message.id,
        body: 'call me on the platform',
      });
      expect(edited.ok).toBe(true);
      const about = () => receiver.events.filter((e) => e.raw.includes(message.id));
      await waitUntil(
        'message.updated arrived',
        () => about().some((e) => e.type === 'message.updated'),
        10_000,
      );
      const updated = about().find((e) => e.type === 'message.updated')!;
      expect(updated.data).toMatchObject({
        message: { id: message.id, body: 'call me on the platform', editedAt: expect.any(String) },
      });
      expect(updated.raw).not.toContain(secretWords);
      const removed = await socket.timeout(5_000).emitWithAck('message:delete', {
        conversationId: conversation.id,
        messageId: message.id,
      });
      expect(removed.ok).toBe(true);
      socket.close();
      await waitUntil(
        'message.deleted arrived',
        () => about().some((e) => e.type === 'message.deleted'),
        10_000,
      );
      const deleted = about().find((e) => e.type === 'message.deleted')!;
      expect(deleted.data).toMatchObject({
        message: { id: message.id, body: '', deletedAt: expect.any(String) },
      });
      for (const e of about().filter((x) => x.type !== 'message.created'))
        expect(e.raw).not.toContain(secretWords);
      // The dead letter lost the words with the message, and a replay sends none of them.
      const page = await service<{ entries: { id: string }[] }>(
        'svc-a',
        'GET',
        '/service/v1/webhooks/dead-letters',
      );
      const dead = page.body.entries.find((e) => e.id === deadId)!;
      expect(JSON.stringify(dead)).not.toContain(secretWords);
      const before = receiver.events.length;
      const replayed = await service(
        'svc-a',
        'POST',
        `/service/v1/webhooks/dead-letters/${deadId}/replay`,
      );
      expect(replayed.status).toBe(204);
      await waitUntil(
        'the replay arrived',
        () =>
          receiver.events.length > before &&
          receiver.events.slice(before).some((e) => e.raw.includes(message.id)),
        10_000,
      );
      for (const e of receiver.events.slice(before)) expect(e.raw).not.toContain(secretWords);
    }, 40_000);
  });

  describe('dead letters', () => {
    it('keeps only the newest of them, and forgets them after their lifetime (no replay then)', async () => {
      const conversation = await openAccepted(
        A(),
        await token('rec-dl', 'recruiter'),
        await token('cand-dl'),
        { userId: 'cand-dl' },
      );
      receiver.refuse = (e) =>
        e.type === 'message.created' && JSON.stringify(e.data).includes(conversation.id);
      const socket = await connectClient(B(), await token('cand-dl'));
      const sent: MessageDto[] = [];
      for (let i = 0; i < 5; i++)
        sent.push(await send(socket, conversation.id, `dl-${i}`, `undelivered ${i}`));
      socket.close();
      const listed = async () => {
        const page = await service<{ entries: { id: string; event: { data: unknown } }[] }>(
          'svc-a',
          'GET',
          '/service/v1/webhooks/dead-letters',
        );
        return page.body.entries
          .filter((e) => JSON.stringify(e.event).includes(conversation.id))
          .map((e) => ({
            id: e.id,
            body: sent.findIndex((m) => JSON.stringify(e.event).includes(m.id)),
          }));
      };
      const refusedAll = () =>
        sent.every((m) =>
          receiver.events.some((e) => e.type === 'message.created' && e.raw.includes(m.id)),
        );
      // Every creation was refused (one attempt each), and only the newest three are kept.
      let kept: { id: string; body: number }[] = [];
      await waitUntil(
        'the newest three dead letters, and only them',
        async () => {
          kept = await listed();
          return refusedAll() && kept.map((k) => k.body).join() === '4,3,2';
        },
        10_000,
      );
      receiver.refuse = () => false;
      // After their lifetime they are gone, and cannot be replayed.
      await waitUntil(
        'the dead letters expired',
        async () => (await listed()).length === 0,
        3 * DEAD_LETTER_TTL_MS,
      );
      const replay = await service<ErrorBody>(
        'svc-a',
        'POST',
        `/service/v1/webhooks/dead-letters/${kept[0]!.id}/replay`,
      );
      expect([replay.status, replay.body.error?.code]).toEqual([404, 'NOT_FOUND']);
    }, 60_000);
  });

  describe('reports move through open → dismissed | actioned', () => {
    it('dismissed then message_deleted reads actioned, with both steps audited; actioned is final', async () => {
      const conversation = await openAccepted(
        A(),
        await token('rec-sm', 'recruiter'),
        await token('cand-sm'),
        {
          userId: 'cand-sm',
        },
      );
      const socket = await connectClient(A(), await token('rec-sm', 'recruiter'));
      const message: MessageDto = await send(
        socket,
        conversation.id,
        'sm-1',
        'send me 200 USD for the test',
      );
      socket.close();
      const report = await as<{ id: string }>(B(), 'cand-sm', 'POST', '/reports', {
        conversationId: conversation.id,
        messageId: message.id,
        reason: 'scam',
      });
      const resolve = (url: string, resolution: string) =>
        as<ReportDto & ErrorBody>(url, 'mod', 'POST', `/admin/reports/${report.body.id}/resolve`, {
          resolution,
        });
      expect((await resolve(A(), 'dismissed')).body).toMatchObject({ status: 'dismissed' });
      const actioned = await resolve(B(), 'message_deleted');
      expect(actioned.status).toBe(200);
      expect(actioned.body).toMatchObject({
        status: 'actioned',
        resolution: 'message_deleted',
        history: [
          { from: 'open', to: 'dismissed', by: 'mod', at: expect.any(String) },
          {
            from: 'dismissed',
            to: 'actioned',
            by: 'mod',
            resolution: 'message_deleted',
            at: expect.any(String),
          },
        ],
      });
      const again = await resolve(A(), 'dismissed');
      expect([again.status, again.body.error?.code]).toEqual([409, 'CONFLICT']);
      const list = await as<{ reports: ReportDto[] }>(
        A(),
        'mod',
        'GET',
        '/admin/reports?status=actioned',
      );
      expect(list.body.reports.find((r) => r.id === report.body.id)?.status).toBe('actioned');

      // The path next to it: dismissed, then the admin deletes the message through the
      // moderation route. The report follows the message: actioned, the step audited.
      const socket2 = await connectClient(A(), await token('rec-sm', 'recruiter'));
      const second = await send(socket2, conversation.id, 'sm-2', 'wire the fee first');
      socket2.close();
      const report2 = await as<{ id: string }>(B(), 'cand-sm', 'POST', '/reports', {
        conversationId: conversation.id,
        messageId: second.id,
        reason: 'scam',
      });
      const dismissed2 = await as<ReportDto>(
        A(),
        'mod',
        'POST',
        `/admin/reports/${report2.body.id}/resolve`,
        {
          resolution: 'dismissed',
        },
      );
      expect(dismissed2.body.status).toBe('dismissed');
      const removed = await as(
        B(),
        'mod',
        'DELETE',
        `/admin/conversations/${conversation.id}/messages/${second.id}`,
      );
      expect(removed.status).toBe(200);
      const after = await as<{ reports: ReportDto[] }>(
        A(),
        'mod',
        'GET',
        '/admin/reports?status=actioned',
      );
      expect(after.body.reports.find((r) => r.id === report2.body.id)).toMatchObject({
        status: 'actioned',
        history: [
          { from: 'open', to: 'dismissed' },
          { from: 'dismissed', to: 'actioned', resolution: 'message_deleted', by: 'mod' },
        ],
      });
    });
  });
});
