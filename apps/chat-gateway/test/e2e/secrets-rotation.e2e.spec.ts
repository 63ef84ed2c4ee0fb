import { Redis } from 'ioredis';
import {
  startFakeSecretsManager,
  startMongoWithAuth,
  startRedis,
  waitUntil,
  type AuthenticatedMongo,
  type FakeSecretsManager,
  type RedisServer,
} from '@jobsphere/testing';
import {
  type Ack,
  type ConversationDto,
  type MessageDto,
  type SendResult,
} from '@jobsphere/chat-domain';
import {
  closeAllClients,
  collect,
  connectClient,
  rest,
  startGatewayProcess,
  tokenFor,
  type GatewayProcess,
  acceptInvitations,
} from '../support/gateway.js';

// The credentials of Redis and MongoDB rotate while two gateway processes serve: they read them
// from Secrets Manager (a fake on loopback), re-read them when refused, and keep working.
describe('rotating credentials from Secrets Manager', () => {
  let sm: FakeSecretsManager;
  let redis: RedisServer;
  let mongo: AuthenticatedMongo;
  let gateways: GatewayProcess[] = [];
  let redisSecret: string;
  let mongoSecret: string;
  const PASSWORDS = ['redis-Token-0001', 'redis-Token-0002', 'mongo-Pass-0001', 'mongo-Pass-0002'];

  beforeAll(async () => {
    sm = await startFakeSecretsManager();
    redis = await startRedis({ password: PASSWORDS[0]! });
    mongo = await startMongoWithAuth({ rootUser: 'chatadmin', rootPassword: 'root-Pass-0001' });
    mongo.addUser('chat_app', PASSWORDS[2]!, [{ role: 'readWrite', db: 'test' }]);
    redisSecret = sm.createSecret('jobsphere-chat-test/redis-auth-token', PASSWORDS[0]!);
    mongoSecret = sm.createSecret(
      'jobsphere-chat-test/docdb-app',
      JSON.stringify({ username: 'chat_app', password: PASSWORDS[2], dbname: 'test' }),
    );
    const env = {
      REDIS_URL: `redis://${redis.host}:${redis.port}`,
      REDIS_AUTH_SECRET_ID: redisSecret,
      MONGODB_URI: mongo.uri,
      MONGODB_SECRET_ID: mongoSecret,
      AWS_REGION: sm.region,
      AWS_ENDPOINT_URL_SECRETS_MANAGER: sm.url,
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
      SECRETS_REFRESH_MS: '3600000', // only refusals make them re-read in this test
    };
    gateways = await Promise.all([startGatewayProcess(env), startGatewayProcess(env)]);
    console.log(`secrets e2e: store = ${mongo.description}`);
  }, 60_000);

  afterAll(async () => {
    closeAllClients();
    for (const g of gateways) await g.process.dispose();
    await Promise.all([redis?.dispose(), mongo?.stop(), sm?.close()]);
  });

  const logs = () => gateways.map((g) => g.logs()).join('\n');

  it('boots with both credentials read from Secrets Manager and never prints them', () => {
    expect(
      sm.calls
        .filter((c) => c.action === 'GetSecretValue')
        .map((c) => c.secretId)
        .sort(),
    ).toEqual([mongoSecret, mongoSecret, redisSecret, redisSecret].sort());
    expect(logs()).toContain('Redis AUTH token: read from Secrets Manager');
    expect(logs()).toContain('MongoDB user: read from Secrets Manager');
    for (const password of PASSWORDS) expect(logs()).not.toContain(password);
  });

  it('keeps delivering across instances through a Redis AUTH rotation', async () => {
    const [A, B] = gateways;
    const alice = await tokenFor('alice', 'recruiter');
    const bob = await tokenFor('bob', 'candidate');
    const conversation = (
      await rest<ConversationDto>(A!.url, alice, 'POST', '/conversations', {
        kind: 'group',
        title: 'Rotation',
        memberIds: ['bob'],
      })
    ).body;
    await acceptInvitations(B!.url, conversation.id, [bob]);
    const aliceOnA = await connectClient(A!.url, alice);
    const bobOnB = await connectClient(B!.url, bob);
    const received = collect(bobOnB, 'message:new');
    let sent = 0;
    const send = async (): Promise<MessageDto | undefined> => {
      const ack: Ack<SendResult> | undefined = await aliceOnA
        .timeout(3_000)
        .emitWithAck('message:send', {
          conversationId: conversation.id,
          clientMessageId: `m-${++sent}`,
          body: `hello ${sent}`,
        })
        .catch(() => undefined);
      return ack?.ok ? ack.data.message : undefined;
    };
    const first = await send();
    expect(first).toBeDefined();
    await waitUntil(
      'bob gets the first message',
      () => received.some((m) => m.id === first?.id),
      5_000,
    );

    // Rotation: Secrets Manager has the new token, Redis accepts only it, and every connection
    // drops (as a failover or an ElastiCache SET would make them reconnect).
    sm.putValue(redisSecret, PASSWORDS[1]!);
    const admin = new Redis({ host: redis.host, port: redis.port, password: PASSWORDS[0] });
    try {
      await admin.config('SET', 'requirepass', PASSWORDS[1]!);
      await admin.call('CLIENT', 'KILL', 'TYPE', 'normal', 'SKIPME', 'yes');
      await admin.call('CLIENT', 'KILL', 'TYPE', 'pubsub', 'SKIPME', 'yes');
    } finally {
      admin.disconnect();
    }

    // Each attempt sends a new message; delivery across instances needs both adapters back.
    let delivered: MessageDto | undefined;
    await waitUntil(
      'a message from A to be delivered on B after the rotation',
      async () => {
        const message = await send();
        if (!message) return false;
        await waitUntil('delivery', () => received.some((m) => m.id === message.id), 1_000).catch(
          () => undefined,
        );
        delivered = received.find((m) => m.id === message.id);
        return delivered !== undefined;
      },
      15_000,
      200,
    );
    expect(delivered).toBeDefined();
    expect(logs()).toMatch(
      /Redis AUTH token: changed in Secrets Manager \(version [^ ]+ -> [^ ]+, refused\)/,
    );
    for (const password of PASSWORDS) expect(logs()).not.toContain(password);
  }, 40_000);

  it('reconnects to MongoDB with the rotated user after a failover, by itself', async () => {
    const [A] = gateways;
    const alice = await tokenFor('alice', 'recruiter');
    expect((await rest(A!.url, alice, 'GET', '/conversations')).status).toBe(200);

    // Rotation: the user gets a new password, Secrets Manager has it, and every connection
    // drops (a DocumentDB failover): logged-in connections would have kept working otherwise.
    mongo.setPassword('chat_app', PASSWORDS[3]!);
    sm.putValue(
      mongoSecret,
      JSON.stringify({ username: 'chat_app', password: PASSWORDS[3], dbname: 'test' }),
    );
    mongo.dropConnections();

    const statuses: number[] = [];
    const recovery = await waitUntil(
      'GET /conversations to succeed again',
      async () => {
        const { status } = await rest(A!.url, alice, 'GET', '/conversations');
        statuses.push(status);
        return status === 200;
      },
      15_000,
      100,
    );
    // Whatever failed meanwhile failed as "try again", never as a crash.
    expect(statuses.filter((s) => s !== 200 && s !== 503)).toEqual([]);
    expect(recovery).toBeLessThan(10_000);
    expect(A!.logs()).toContain('MongoDB: reconnected with the rotated credentials');
    expect(mongo.attempts.filter((a) => a.user === 'chat_app' && a.ok).length).toBeGreaterThan(1);
    for (const password of PASSWORDS) expect(logs()).not.toContain(password);
  }, 40_000);
});
