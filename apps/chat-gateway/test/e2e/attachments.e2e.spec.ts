import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startS3Server, waitUntil, type S3Server } from '@jobsphere/testing';
import {
  type ConversationDto,
  type DownloadLinkDto,
  type UploadSlotDto,
} from '@jobsphere/chat-domain';
import { collect, connectClient, rest, tokenFor, type ChatClient } from '../support/gateway.js';
import { startEnvironment, type Environment } from '../support/environment.js';

// Attachments as users meet them, over two gateway instances sharing Redis, the store and the
// storage: the S3 path (s3rver from npm behind S3's POST policy checks) and the local folder.
// Alice (candidate) is on instance A, Bob (recruiter) on B, Mallory (a stranger) on B.

const DOWNLOAD_TTL_MS = 1500;
const cv = Buffer.concat([Buffer.from('%PDF-1.7\n'), Buffer.alloc(1500, 0x42)]);

async function upload(slot: UploadSlotDto, bytes: Buffer): Promise<number> {
  const form = new FormData();
  for (const [name, value] of Object.entries(slot.upload.fields)) form.append(name, value);
  form.append('file', new Blob([bytes]), 'cv.pdf');
  return (await fetch(slot.upload.url, { method: 'POST', body: form })).status;
}

describe.each(['s3', 'local'] as const)('attachments across two instances (%s)', (mode) => {
  let env: Environment;
  let s3: S3Server | undefined;
  let dir: string;
  let tokens: Record<'alice' | 'bob' | 'mallory', string>;
  let aliceA: ChatClient;
  let bobB: ChatClient;
  let conversation: ConversationDto;
  const A = () => env.gateways[0]!.url;
  const B = () => env.gateways[1]!.url;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'attachments-e2e-'));
    s3 = mode === 's3' ? await startS3Server() : undefined;
    env = await startEnvironment({
      gateways: 2,
      env: {
        ATTACHMENTS_DOWNLOAD_TTL_MS: String(DOWNLOAD_TTL_MS),
        ...(s3
          ? {
              ATTACHMENTS_BUCKET: s3.bucket,
              ATTACHMENTS_REGION: s3.region,
              AWS_ENDPOINT_URL_S3: s3.endpoint,
              AWS_ACCESS_KEY_ID: s3.accessKeyId,
              AWS_SECRET_ACCESS_KEY: s3.secretAccessKey,
            }
          : // One folder shared by both instances (each links to itself).
            { ATTACHMENTS_DIR: dir }),
      },
    });
    tokens = {
      alice: await tokenFor('alice', 'candidate'),
      bob: await tokenFor('bob', 'recruiter'),
      mallory: await tokenFor('mallory', 'candidate'),
    };
    aliceA = await connectClient(A(), tokens.alice);
    bobB = await connectClient(B(), tokens.bob);
    // Bob reaches out; Alice's reply (with her CV) answers the request.
    const opened = await rest<ConversationDto>(B(), tokens.bob, 'POST', '/conversations', {
      kind: 'direct',
      userId: 'alice',
      jobId: `job-${mode}`,
    });
    expect(opened.status).toBe(201);
    conversation = opened.body;
  }, 60_000);

  afterAll(async () => {
    await env?.dispose();
    await s3?.close();
    await rm(dir, { recursive: true, force: true });
  });

  const slot = async (token: string, size = cv.length) =>
    rest<UploadSlotDto & { error?: { code: string } }>(A(), token, 'POST', '/attachments', {
      conversationId: conversation.id,
      fileName: 'Alice — CV.pdf',
      contentType: 'application/pdf',
      size,
    });
  const link = (url: string, token: string, attachmentId: string) =>
    rest<DownloadLinkDto & { error?: { code: string } }>(
      url,
      token,
      'GET',
      `/conversations/${conversation.id}/attachments/${attachmentId}`,
    );

  it('Alice sends her CV from A; Bob on B sees it and downloads the same bytes', async () => {
    const { status, body } = await slot(tokens.alice);
    expect(status).toBe(201);
    expect(await upload(body, cv)).toBe(204);
    const arrived = collect(bobB, 'message:new');
    const ack = await aliceA.emitWithAck('message:send', {
      conversationId: conversation.id,
      clientMessageId: `cv-${mode}`,
      body: 'Here is my CV',
      attachmentIds: [body.id],
    });
    if (!ack.ok) throw new Error(`send failed: ${ack.error.code}`);
    const attachment = {
      id: body.id,
      fileName: 'Alice — CV.pdf',
      contentType: 'application/pdf',
      size: cv.length,
    };
    expect(ack.data.message.attachments).toEqual([attachment]);

    // A resend after a lost ack: the same message, nothing new.
    const again = await aliceA.emitWithAck('message:send', {
      conversationId: conversation.id,
      clientMessageId: `cv-${mode}`,
      body: 'Here is my CV',
      attachmentIds: [body.id],
    });
    expect(again).toEqual({ ok: true, data: { message: ack.data.message, duplicate: true } });

    await waitUntil('message:new on B', () => arrived.length > 0, 5_000, 20);
    expect(arrived.map((m) => m.attachments)).toEqual([[attachment]]);

    const download = await link(B(), tokens.bob, body.id);
    expect(download.status).toBe(200);
    const file = await fetch(download.body.url);
    expect(file.status).toBe(200);
    expect(Buffer.from(await file.arrayBuffer()).equals(cv)).toBe(true);
    expect(file.headers.get('content-disposition')).toMatch(
      /^attachment; filename="Alice _ CV.pdf"; filename\*=UTF-8''Alice%20%E2%80%94%20CV\.pdf$/,
    );

    // A link stops working once it expired (the marker is its own expiry time).
    await new Promise((resolve) =>
      setTimeout(resolve, Date.parse(download.body.expiresAt) - Date.now() + 50),
    );
    expect((await fetch(download.body.url)).status).toBe(403);
  });

  it('Alice deletes the message on A: the link Bob already holds answers 404, and B gives no new one', async () => {
    const { body } = await slot(tokens.alice);
    expect(await upload(body, cv)).toBe(204);
    const sent = await aliceA.emitWithAck('message:send', {
      conversationId: conversation.id,
      clientMessageId: `regret-${mode}`,
      body: 'wrong file, sorry',
      attachmentIds: [body.id],
    });
    if (!sent.ok) throw new Error(sent.error.code);
    const held = await link(B(), tokens.bob, body.id);
    expect((await fetch(held.body.url)).status).toBe(200);
    const deleted = await aliceA.emitWithAck('message:delete', {
      conversationId: conversation.id,
      messageId: sent.data.message.id,
    });
    expect(deleted.ok).toBe(true);
    expect((await fetch(held.body.url)).status).toBe(404);
    const again = await link(B(), tokens.bob, body.id);
    expect([again.status, again.body.error?.code]).toEqual([404, 'NOT_FOUND']);
  });

  it('Mallory, not a member, gets neither a slot nor a link, whether the file exists or not', async () => {
    const { body: mine } = await slot(tokens.alice);
    expect(await slot(tokens.mallory)).toMatchObject({
      status: 404,
      body: { error: { code: 'NOT_A_MEMBER' } },
    });
    const real = await link(B(), tokens.mallory, mine.id);
    const invented = await link(B(), tokens.mallory, 'no-such-upload');
    expect(real.status).toBe(404);
    expect(real.body).toEqual(invented.body);
    expect(real.body.error?.code).toBe('NOT_A_MEMBER');
  });

  it("Bob cannot send Alice's upload, nor one over the size it declared; nothing arrives", async () => {
    const { body: hers } = await slot(tokens.alice);
    expect(await upload(hers, cv)).toBe(204);
    const seen = collect(aliceA, 'message:new');
    const stolen = await bobB.emitWithAck('message:send', {
      conversationId: conversation.id,
      clientMessageId: `steal-${mode}`,
      body: 'look what I found',
      attachmentIds: [hers.id],
    });
    expect(stolen).toMatchObject({ ok: false, error: { code: 'NOT_FOUND' } });

    const { body: small } = await slot(tokens.alice, 100);
    expect(await upload(small, cv)).toBe(mode === 's3' ? 400 : 413);
    const tooBig = await aliceA.emitWithAck('message:send', {
      conversationId: conversation.id,
      clientMessageId: `big-${mode}`,
      body: 'a big one',
      attachmentIds: [small.id],
    });
    expect(tooBig).toMatchObject({ ok: false, error: { code: 'NOT_FOUND' } });

    // The marker: one more message from Bob is the only thing Alice sees.
    const marker = await bobB.emitWithAck('message:send', {
      conversationId: conversation.id,
      clientMessageId: `marker-${mode}`,
      body: 'thanks!',
    });
    if (!marker.ok) throw new Error(marker.error.code);
    await waitUntil('the marker on A', () => seen.length > 0, 5_000, 20);
    expect(seen.map((m) => m.body)).toEqual(['thanks!']);
  });
});
