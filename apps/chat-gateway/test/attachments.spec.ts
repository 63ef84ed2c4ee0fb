import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { type NestExpressApplication } from '@nestjs/platform-express';
import {
  ErrorCode,
  type Chat,
  type ChatStore,
  type Conversation,
  type MessageDraft,
  type Principal,
  type UploadSlotDto,
} from '@jobsphere/chat-domain';
import { MemoryChatStore } from '@jobsphere/chat-domain/memory';
import { getFreePort, signTestToken, startS3Server, type S3Server } from '@jobsphere/testing';
import { AppModule } from '../src/app.module.js';
import { CHAT } from '../src/chat/chat.tokens.js';
import { HttpErrorFilter } from '../src/common/http-exception.filter.js';
import { DEV_JWT_SECRET, loadConfig } from '../src/config/app-config.js';
import { configureHttp } from '../src/http/http-pipeline.js';
import { BudgetService } from '../src/limits/budget.service.js';
import { MetricsService } from '../src/metrics/metrics.service.js';

// The attachments flow over real HTTP, once per storage: S3 (s3rver behind S3's POST policy
// checks, driven by the real AWS SDK presigners) and the embedded local folder. The chat store is
// a stand-in holding one conversation (alice and bob); everything about attachments is real.

const MAX_BYTES = 4096;
const DOWNLOAD_TTL_MS = 1500;
const PENDING_TTL_MS = 60_000;
const alice = { userId: 'alice', role: 'candidate' as const };
const pdf = (n: number) => Buffer.concat([Buffer.from('%PDF-1.7\n'), Buffer.alloc(n - 9, 0x41)]);

function oneConversationStore(): ChatStore & { drafts: MessageDraft[] } {
  const at = new Date();
  const conversation: Conversation = {
    id: 'c1',
    kind: 'direct',
    members: ['alice', 'bob'].map((userId) => ({
      userId,
      role: 'member',
      joinedAt: at,
      lastReadSeq: 0,
    })),
    blocked: false,
    createdBy: 'alice',
    createdAt: at,
    lastActivityAt: at,
    version: 0,
  };
  const drafts: MessageDraft[] = [];
  const stored = new Map<string, MessageDraft & { seq: number }>();
  return {
    drafts,
    kind: 'memory',
    conversations: { get: (id: string) => Promise.resolve(id === 'c1' ? conversation : null) },
    messages: {
      append: (draft: MessageDraft) => {
        const key = `${draft.senderId}/${draft.clientMessageId}`;
        const duplicate = stored.has(key);
        if (!duplicate) {
          drafts.push(draft);
          stored.set(key, { ...draft, seq: stored.size + 1 });
        }
        const m = stored.get(key)!;
        return Promise.resolve({
          message: { ...m, id: `m${m.seq}`, version: m.seq, kind: 'user' as const },
          duplicate,
          memberIds: ['alice', 'bob'],
        });
      },
    },
    // Nobody here is banned or shadow-banned: the moderation records of an empty store.
    moderation: new MemoryChatStore().moderation,
    ping: () => Promise.resolve(),
    close: () => Promise.resolve(),
  } as unknown as ChatStore & { drafts: MessageDraft[] };
}

interface Harness {
  url: string;
  chat: Chat;
  store: ReturnType<typeof oneConversationStore>;
  /** Moves the gateway's clock (what pending expiry is measured by). */
  advance(ms: number): void;
  s3?: S3Server;
  close(): Promise<void>;
}

async function startHarness(mode: 's3' | 'local'): Promise<Harness> {
  const port = await getFreePort();
  const dir = await mkdtemp(join(tmpdir(), 'attachments-'));
  const s3 = mode === 's3' ? await startS3Server() : undefined;
  if (s3) {
    // The SDK's default credential chain, as on an instance.
    process.env['AWS_ACCESS_KEY_ID'] = s3.accessKeyId;
    process.env['AWS_SECRET_ACCESS_KEY'] = s3.secretAccessKey;
  }
  const config = loadConfig({
    NODE_ENV: 'test',
    PORT: String(port),
    LOG_LEVEL: 'error',
    ATTACHMENTS_MAX_BYTES: String(MAX_BYTES),
    ATTACHMENTS_DOWNLOAD_TTL_MS: String(DOWNLOAD_TTL_MS),
    ATTACHMENTS_PENDING_TTL_MS: String(PENDING_TTL_MS),
    ...(s3
      ? {
          ATTACHMENTS_BUCKET: s3.bucket,
          ATTACHMENTS_REGION: s3.region,
          AWS_ENDPOINT_URL_S3: s3.endpoint,
        }
      : { ATTACHMENTS_DIR: dir, ATTACHMENTS_PUBLIC_URL: `http://127.0.0.1:${port}` }),
  });
  let offset = 0;
  const store = oneConversationStore();
  const app = await NestFactory.create<NestExpressApplication>(
    AppModule.forRoot({
      config,
      store,
      metrics: new MetricsService(),
      clock: { now: () => new Date(Date.now() + offset) },
    }),
    { logger: false, bodyParser: false, abortOnError: false },
  );
  configureHttp(app, config, app.get(BudgetService), new Logger('Http'));
  app.useGlobalFilters(new HttpErrorFilter());
  await app.listen(port, '127.0.0.1');
  return {
    url: `http://127.0.0.1:${port}`,
    chat: app.get<Chat>(CHAT),
    store,
    advance: (ms) => (offset += ms),
    ...(s3 && { s3 }),
    close: async () => {
      await app.close();
      await s3?.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

const bearer = async (userId: string) => ({
  authorization: `Bearer ${await signTestToken({ secret: DEV_JWT_SECRET, userId })}`,
  'content-type': 'application/json',
});

/** Posts the slot's form the way a browser would: the fields, then the file. */
async function upload(
  slot: UploadSlotDto,
  bytes: Buffer,
  tamper: Record<string, string> = {},
): Promise<{ status: number; text: string }> {
  const form = new FormData();
  for (const [name, value] of Object.entries({ ...slot.upload.fields, ...tamper }))
    form.append(name, value);
  form.append('file', new Blob([bytes]), 'upload.bin');
  const answer = await fetch(slot.upload.url, { method: 'POST', body: form });
  return { status: answer.status, text: await answer.text() };
}

describe.each(['s3', 'local'] as const)('attachments through %s storage', (mode) => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness(mode);
  });
  afterAll(() => h.close());

  const requestSlot = async (
    userId: string,
    body: Record<string, unknown> = {},
  ): Promise<{ status: number; json: Record<string, unknown> }> => {
    const answer = await fetch(`${h.url}/attachments`, {
      method: 'POST',
      headers: await bearer(userId),
      body: JSON.stringify({
        conversationId: 'c1',
        fileName: 'Alice CV.pdf',
        contentType: 'application/pdf',
        size: 1000,
        ...body,
      }),
    });
    return { status: answer.status, json: (await answer.json()) as Record<string, unknown> };
  };
  const slotFor = async (size: number, extra: Record<string, unknown> = {}) => {
    const { status, json } = await requestSlot('alice', { size, ...extra });
    expect(status).toBe(201);
    return json as unknown as UploadSlotDto;
  };
  const link = async (userId: string, attachmentId: string) => {
    const answer = await fetch(`${h.url}/conversations/c1/attachments/${attachmentId}`, {
      headers: await bearer(userId),
    });
    return { status: answer.status, json: (await answer.json()) as Record<string, unknown> };
  };
  const send = (clientMessageId: string, attachmentIds: string[], who: Principal = alice) =>
    h.chat.send(who, { conversationId: 'c1', clientMessageId, body: 'my CV', attachmentIds });

  it('a member uploads a CV, sends it, and the other member downloads the same bytes as an attachment', async () => {
    const bytes = pdf(1000);
    const slot = await slotFor(1000);
    expect(slot.upload.method).toBe('POST');
    expect((await upload(slot, bytes)).status).toBe(204);
    if (h.s3) expect(await h.s3.tagsOf(slot.id)).toEqual({ 'attachment-state': 'pending' });

    const { message } = await send('cv-1', [slot.id]);
    expect(message.attachments).toEqual([
      { id: slot.id, fileName: 'Alice CV.pdf', contentType: 'application/pdf', size: 1000 },
    ]);
    if (h.s3) expect(await h.s3.tagsOf(slot.id)).toEqual({ 'attachment-state': 'attached' });

    const { status, json } = await link('bob', slot.id);
    expect(status).toBe(200);
    expect(Date.parse(json['expiresAt'] as string)).toBeLessThanOrEqual(
      Date.now() + DOWNLOAD_TTL_MS,
    );
    const file = await fetch(json['url'] as string);
    expect(file.status).toBe(200);
    expect(Buffer.from(await file.arrayBuffer()).equals(bytes)).toBe(true);
    expect(file.headers.get('content-type')).toBe('application/pdf');
    expect(file.headers.get('content-disposition')).toBe(
      `attachment; filename="Alice CV.pdf"; filename*=UTF-8''Alice%20CV.pdf`,
    );
    if (mode === 'local') expect(file.headers.get('x-content-type-options')).toBe('nosniff');
  });

  it('a send retried with the same clientMessageId after the claim answers the same message', async () => {
    const slot = await slotFor(500);
    expect((await upload(slot, pdf(500))).status).toBe(204);
    const first = await send('cv-retry', [slot.id]);
    const again = await send('cv-retry', [slot.id]);
    expect(again).toEqual({ message: first.message, duplicate: true });
    // ...but the same upload cannot go with another message.
    await expect(send('cv-other', [slot.id])).rejects.toMatchObject({ code: ErrorCode.NotFound });
  });

  it('refuses a slot for a type off the allow-list, a name that does not fit it, or a size over the cap', async () => {
    const cases = [
      [{ contentType: 'text/html', fileName: 'cv.html' }, 'contentType'],
      [{ contentType: 'application/x-msdownload', fileName: 'cv.exe' }, 'contentType'],
      [{ fileName: 'cv.pdf.exe' }, 'fileName'],
      [{ size: MAX_BYTES + 1 }, 'size'],
    ] as const;
    for (const [body, path] of cases) {
      const { status, json } = await requestSlot('alice', body);
      expect(status).toBe(400);
      expect(json).toMatchObject({
        error: { code: 'INVALID_PAYLOAD', issues: [expect.objectContaining({ path })] },
      });
    }
  });

  it('the storage itself refuses a file larger than its slot, or of another type than signed', async () => {
    const slot = await slotFor(100);
    const tooBig = await upload(slot, pdf(100 + 2048));
    expect(tooBig.status).toBe(mode === 's3' ? 400 : 413);
    expect(tooBig.text).toContain(mode === 's3' ? 'EntityTooLarge' : 'PAYLOAD_TOO_LARGE');
    const otherType = await upload(slot, pdf(100), { 'Content-Type': 'text/html' });
    expect(otherType.status).toBe(403);
    // Nothing arrived, so nothing can be sent.
    await expect(send('cv-big', [slot.id])).rejects.toMatchObject({ code: ErrorCode.NotFound });
    expect(h.store.drafts.some((d) => d.clientMessageId === 'cv-big')).toBe(false);
  });

  it('a non-member gets neither a slot nor a link, the same answer whether the file exists', async () => {
    const slot = await slotFor(300);
    expect((await upload(slot, pdf(300))).status).toBe(204);
    await send('cv-members', [slot.id]);
    expect(await requestSlot('mallory')).toMatchObject({
      status: 404,
      json: { error: { code: 'NOT_A_MEMBER' } },
    });
    const real = await link('mallory', slot.id);
    const made_up = await link('mallory', 'no-such-file');
    expect(real).toEqual(made_up);
    expect(real).toMatchObject({ status: 404, json: { error: { code: 'NOT_A_MEMBER' } } });
    expect(await link('bob', 'no-such-file')).toMatchObject({
      status: 404,
      json: { error: { code: 'NOT_FOUND' } },
    });
  });

  it("someone else's upload id in a send is refused and nothing is stored", async () => {
    const slot = await slotFor(200);
    expect((await upload(slot, pdf(200))).status).toBe(204);
    const bob = { userId: 'bob', role: 'recruiter' as const };
    await expect(send('steal', [slot.id], bob)).rejects.toMatchObject({ code: ErrorCode.NotFound });
    expect(h.store.drafts.some((d) => d.clientMessageId === 'steal')).toBe(false);
    // A slot that was never uploaded cannot be sent either.
    const empty = await slotFor(200);
    await expect(send('empty', [empty.id])).rejects.toMatchObject({ code: ErrorCode.NotFound });
    // The owner still can.
    await expect(send('mine', [slot.id])).resolves.toMatchObject({ duplicate: false });
  });

  it('a download link stops working once it expired', async () => {
    const slot = await slotFor(100);
    expect((await upload(slot, pdf(100))).status).toBe(204);
    await send('cv-expiring', [slot.id]);
    const { json } = await link('bob', slot.id);
    expect((await fetch(json['url'] as string)).status).toBe(200);
    // The marker is the link's own expiry.
    await new Promise((resolve) =>
      setTimeout(resolve, Date.parse(json['expiresAt'] as string) - Date.now() + 50),
    );
    expect((await fetch(json['url'] as string)).status).toBe(403);
  });

  it('an upload no message referenced within the pending lifetime can no longer be sent', async () => {
    const slot = await slotFor(100);
    expect((await upload(slot, pdf(100))).status).toBe(204);
    h.advance(PENDING_TTL_MS + 1);
    await expect(send('too-late', [slot.id])).rejects.toMatchObject({ code: ErrorCode.NotFound });
    expect(h.store.drafts.some((d) => d.clientMessageId === 'too-late')).toBe(false);
  });
});
