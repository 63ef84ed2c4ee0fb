import { randomUUID } from 'node:crypto';
import { RotateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { MongoClient } from 'mongodb';
import {
  startFakeSecretsManager,
  startMongoWithAuth,
  type AuthenticatedMongo,
  type FakeSecretsManager,
} from '@jobsphere/testing';
import { createHandler } from '../src/handler.js';
import type { RotationEvent } from '../src/rotation.js';

// The rotation function against Secrets Manager (a fake on loopback) and a MongoDB that checks
// logins (SCRAM) and manages users the way DocumentDB does, driven step by step as Secrets
// Manager drives it.
describe('DocumentDB application user rotation (alternating users)', () => {
  let sm: FakeSecretsManager;
  let mongo: AuthenticatedMongo;
  let sdk: SecretsManagerClient;
  let appSecret: string;
  let rotate: (event: RotationEvent) => Promise<void>;
  const logs: string[] = [];

  beforeAll(async () => {
    sm = await startFakeSecretsManager();
    mongo = await startMongoWithAuth({ rootUser: 'chatadmin', rootPassword: 'master-Pass-1' });
    console.log(`store: ${mongo.description}`);
    const master = sm.createSecret(
      'rds!cluster-123',
      JSON.stringify({ username: 'chatadmin', password: 'master-Pass-1' }),
    );
    appSecret = sm.createSecret(
      'jobsphere-chat-test/docdb-app',
      JSON.stringify({ engine: 'mongo', dbname: 'jobsphere', username: 'chat_app', password: '' }),
    );
    sdk = new SecretsManagerClient({
      region: sm.region,
      endpoint: sm.url,
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    });
    const env = {
      DOCDB_HOST: '127.0.0.1',
      DOCDB_PORT: String(mongo.port),
      DOCDB_DATABASE: 'jobsphere',
      DOCDB_MASTER_SECRET_ARN: master,
      DOCDB_TLS: 'false',
      DOCDB_REPLICA_SET: '',
      APP_USERNAMES: 'chat_app,chat_app_clone',
      APP_USER_ROLE: 'readWrite',
      AWS_REGION: sm.region,
      AWS_ENDPOINT_URL_SECRETS_MANAGER: sm.url,
    };
    // The role's credentials, as the Lambda runtime puts them in the environment.
    process.env.AWS_ACCESS_KEY_ID = 'test';
    process.env.AWS_SECRET_ACCESS_KEY = 'test';
    rotate = createHandler(env, { log: (entry) => void logs.push(JSON.stringify(entry)) });
  });
  afterAll(async () => {
    delete process.env.AWS_ACCESS_KEY_ID;
    delete process.env.AWS_SECRET_ACCESS_KEY;
    sdk.destroy();
    await mongo.stop();
    await sm.close();
  });

  /** RotateSecret stages an empty AWSPENDING version under a new token, as before createSecret. */
  const start = async (token = randomUUID()) => {
    await sdk.send(new RotateSecretCommand({ SecretId: appSecret, ClientRequestToken: token }));
    return token;
  };
  /** One rotation as Secrets Manager runs it: a new AWSPENDING token, then the four steps. */
  const rotation = async () => {
    const token = await start();
    for (const step of ['createSecret', 'setSecret', 'testSecret', 'finishSecret'] as const) {
      await rotate({ SecretId: appSecret, ClientRequestToken: token, Step: step });
    }
    return token;
  };
  const current = () =>
    JSON.parse(sm.valueOf(appSecret)!) as { username: string; password: string };
  const previous = () =>
    JSON.parse(sm.valueOf(appSecret, 'AWSPREVIOUS')!) as { username: string; password: string };
  const login = async (user: { username: string; password: string }) => {
    const client = new MongoClient(mongo.uri, {
      auth: user,
      authSource: 'admin',
      serverSelectionTimeoutMS: 3_000,
    });
    try {
      await client.connect();
      await client.db('jobsphere').command({ ping: 1 });
      return 'ok';
    } catch (error) {
      return `refused (${(error as { code?: number }).code})`;
    } finally {
      await client.close();
    }
  };

  it('creates the first user with readWrite on the chat database, at the first rotation', async () => {
    expect(mongo.users().map((u) => u.user)).toEqual(['chatadmin']);
    await rotation();
    expect(current()).toMatchObject({
      engine: 'mongo',
      dbname: 'jobsphere',
      username: 'chat_app_clone',
    });
    expect(current().password).toMatch(/^[A-Za-z0-9]{40}$/);
    expect(mongo.users()).toContainEqual({
      user: 'chat_app_clone',
      roles: [{ role: 'readWrite', db: 'jobsphere' }],
    });
    expect(await login(current())).toBe('ok');
  });

  it('alternates: the previous login keeps working for a whole rotation period', async () => {
    const before = current();
    await rotation();
    expect(current().username).toBe('chat_app');
    expect(previous()).toEqual(
      expect.objectContaining({ username: before.username, password: before.password }),
    );
    expect(await login(current())).toBe('ok');
    expect(await login(before)).toBe('ok'); // a gateway that has not re-read yet is unaffected

    await rotation();
    expect(current().username).toBe('chat_app_clone');
    expect(await login(current())).toBe('ok');
    expect(await login(before)).toBe('refused (18)'); // two rotations old: only now
  });

  it('can be retried step by step without creating or changing anything twice', async () => {
    const token = await start();
    const event = (Step: RotationEvent['Step']) => ({
      SecretId: appSecret,
      ClientRequestToken: token,
      Step,
    });
    await rotate(event('createSecret'));
    const pending = sm.valueOf(appSecret, 'AWSPENDING');
    await rotate(event('createSecret'));
    expect(sm.valueOf(appSecret, 'AWSPENDING')).toBe(pending);
    for (const step of [
      'setSecret',
      'setSecret',
      'testSecret',
      'finishSecret',
      'finishSecret',
    ] as const)
      await rotate(event(step));
    expect(sm.valueOf(appSecret)).toBe(pending);
  });

  it('stops before making current a login that does not work', async () => {
    const token = await start();
    const before = sm.valueOf(appSecret);
    await rotate({ SecretId: appSecret, ClientRequestToken: token, Step: 'createSecret' });
    // setSecret never ran: the pending password is not the user's.
    await expect(
      rotate({ SecretId: appSecret, ClientRequestToken: token, Step: 'testSecret' }),
    ).rejects.toMatchObject({ code: 18 });
    expect(sm.valueOf(appSecret)).toBe(before);
    await expect(
      rotate({ SecretId: appSecret, ClientRequestToken: 'no-such-token', Step: 'setSecret' }),
    ).rejects.toThrow('has no version no-such-token');
  });

  it('logs each step, and never a password', async () => {
    logs.splice(0);
    await rotation();
    expect(logs.map((l) => (JSON.parse(l) as { outcome: string }).outcome)).toEqual([
      'pending version stored',
      'password set',
      'logged in',
      'made current',
    ]);
    const secrets = [current().password, previous().password, 'master-Pass-1'];
    for (const secret of secrets) expect(logs.join('\n')).not.toContain(secret);
  });
});
