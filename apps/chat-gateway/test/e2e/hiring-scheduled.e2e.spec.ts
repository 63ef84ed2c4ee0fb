import { waitUntil } from '@jobsphere/testing';
import {
  type MessageDto,
  type ScheduledSendDto,
  type ServiceConversationResult,
} from '@jobsphere/chat-domain';
import { SignJWT } from 'jose';
import mongoose from 'mongoose';
import { collect, connectClient, rest, tokenFor } from '../support/gateway.js';
import { startEnvironment, type Environment } from '../support/environment.js';

// Scheduled sends across a gateway SIGKILL: two instances work one queue; the instance that
// holds sends in flight is killed -9 the moment the first one arrives, a replacement starts, and
// every scheduled send is stored exactly once (none lost, none doubled), each listed as sent.

const SERVICE_SECRET = 'hiring-e2e-service-secret-0123456789abcdef';
const SENDS = 30;
const LEASE_MS = 2_000;

const serviceToken = () =>
  new SignJWT({ scope: 'conversations:write', token_use: 'service' })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject('jobsphere-backend')
    .setAudience('jobsphere-chat-service')
    .setIssuedAt()
    .setExpirationTime('1h')
    .sign(new TextEncoder().encode(SERVICE_SECRET));

describe('scheduled sends across a gateway SIGKILL (standalone Redis)', () => {
  let env: Environment;

  beforeAll(async () => {
    env = await startEnvironment({
      topology: 'standalone',
      gateways: 2,
      env: {
        SERVICE_TOKEN_SECRET: SERVICE_SECRET,
        SCHEDULED_SEND_POLL_MS: '50',
        SCHEDULED_SEND_LEASE_MS: String(LEASE_MS),
        RATE_LIMIT_SEND_PER_10S: '1000',
        RATE_LIMIT_REST_PER_MIN: '100000',
      },
    });
  }, 90_000);

  afterAll(async () => {
    await env?.dispose();
  });

  it('every scheduled send is stored exactly once through the kill and a restart', async () => {
    const opened = await rest<ServiceConversationResult>(
      env.gateways[0]!.url,
      await serviceToken(),
      'POST',
      '/service/v1/conversations',
      { idempotencyKey: 'sched-kill', kind: 'direct', memberIds: ['rita', 'carl'] },
    );
    const conversationId = opened.body.conversation.id;
    const rita = await tokenFor('rita', 'recruiter');
    const carl = await tokenFor('carl', 'candidate');
    // Scheduled at once, all due at one moment a little later (the minimum is 5 s ahead).
    const sendAt = new Date(Date.now() + 8_000).toISOString();
    const made = await Promise.all(
      Array.from({ length: SENDS }, (_, i) =>
        rest<ScheduledSendDto>(env.gateways[0]!.url, rita, 'POST', '/scheduled-messages', {
          conversationId,
          body: `scheduled ${i}`,
          sendAt,
          followUp: false,
        }),
      ),
    );
    expect(made.map((m) => m.status)).toEqual(made.map(() => 201));
    const scheduled = made.map((m) => m.body);
    // The survivor's device counts what arrives; the first arrival is the signal to kill.
    const device = await connectClient(env.gateways[1]!.url, carl);
    const arrived = collect(device, 'message:new');
    await waitUntil('the first scheduled send arrives', () => arrived.length > 0, 20_000);
    await env.gateways[0]!.kill();
    const replacement = await env.start('C');

    const list = async () =>
      (
        await rest<{ scheduled: ScheduledSendDto[] }>(
          replacement.url,
          rita,
          'GET',
          '/scheduled-messages',
        )
      ).body.scheduled;
    await waitUntil(
      'every scheduled send is listed as sent',
      async () => (await list()).filter((s) => s.state === 'sent').length === SENDS,
      30_000,
    );
    const history = await rest<{ messages: MessageDto[] }>(
      replacement.url,
      carl,
      'GET',
      `/conversations/${conversationId}/messages?limit=100`,
    );
    const stored = history.body.messages.filter((m) => m.clientMessageId.startsWith('sched_'));
    const perEntry = new Map<string, number>();
    for (const m of stored)
      perEntry.set(m.clientMessageId, (perEntry.get(m.clientMessageId) ?? 0) + 1);
    expect(stored).toHaveLength(SENDS);
    expect([...perEntry.values()].every((n) => n === 1)).toBe(true);
    expect(new Set(stored.map((m) => m.body))).toEqual(new Set(scheduled.map((s) => s.body)));
    const listed = await list();
    expect(new Set(listed.map((s) => s.messageId))).toEqual(new Set(stored.map((m) => m.id)));

    // How many the kill caught: entries claimed more than once (a lease of the dead instance).
    const db = await mongoose.createConnection(env.gatewayEnv['MONGODB_URI']!).asPromise();
    try {
      const retaken = await db
        .collection('scheduled_sends')
        .countDocuments({ attempts: { $gt: 1 } });
      console.log(
        `scheduled sends across SIGKILL: ${SENDS} scheduled, ${stored.length} stored, ` +
          `${stored.length - perEntry.size} doubled, ${SENDS - perEntry.size} lost, ` +
          `${retaken} taken over from the killed instance's leases, ${arrived.length} seen live by the survivor's device before the list settled`,
      );
    } finally {
      await db.close();
    }
  }, 90_000);
});
