import {
  GetRandomPasswordCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import { startFakeImds, startFakeSecretsManager, type FakeSecretsManager } from '../src/index.js';

describe('fake instance metadata service (IMDSv2)', () => {
  it('answers only with a session token, and turns Terminated when told', async () => {
    const imds = await startFakeImds({ instanceId: 'i-0123456789abcdef0' });
    try {
      const state = `${imds.url}/latest/meta-data/autoscaling/target-lifecycle-state`;
      expect((await fetch(state)).status).toBe(401);
      const token = await (
        await fetch(`${imds.url}/latest/api/token`, {
          method: 'PUT',
          headers: { 'x-aws-ec2-metadata-token-ttl-seconds': '60' },
        })
      ).text();
      const read = (url: string) =>
        fetch(url, { headers: { 'x-aws-ec2-metadata-token': token } }).then(async (r) => [
          r.status,
          await r.text(),
        ]);
      expect(await read(`${imds.url}/latest/meta-data/instance-id`)).toEqual([
        200,
        'i-0123456789abcdef0',
      ]);
      expect(await read(state)).toEqual([200, 'InService']);
      imds.failNextReads(1);
      expect((await read(state))[0]).toBe(500);
      const seen = imds.waitForReads('autoscaling/target-lifecycle-state', 1, 2_000);
      imds.setLifecycleState('Terminated');
      expect(await read(state)).toEqual([200, 'Terminated']);
      await seen;
    } finally {
      await imds.close();
    }
  });
});

describe('fake Secrets Manager', () => {
  let sm: FakeSecretsManager;
  let client: SecretsManagerClient;
  beforeAll(async () => {
    sm = await startFakeSecretsManager();
    client = new SecretsManagerClient({
      region: sm.region,
      endpoint: sm.url,
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
      maxAttempts: 1,
    });
  });
  afterAll(async () => {
    client.destroy();
    await sm.close();
  });

  it('serves the real SDK: values by stage, rotations moving AWSCURRENT to AWSPREVIOUS', async () => {
    const arn = sm.createSecret('app/redis', 'first');
    const current = await client.send(new GetSecretValueCommand({ SecretId: arn }));
    expect(current).toMatchObject({
      ARN: arn,
      SecretString: 'first',
      VersionStages: ['AWSCURRENT'],
    });

    const pending = await client.send(
      new PutSecretValueCommand({
        SecretId: 'app/redis',
        SecretString: 'second',
        VersionStages: ['AWSPENDING'],
      }),
    );
    expect(sm.valueOf(arn)).toBe('first');
    expect(sm.valueOf(arn, 'AWSPENDING')).toBe('second');
    await expect(
      client.send(
        new UpdateSecretVersionStageCommand({
          SecretId: arn,
          VersionStage: 'AWSCURRENT',
          MoveToVersionId: pending.VersionId,
        }),
      ),
    ).rejects.toThrow(/RemoveFromVersionId/);
    await client.send(
      new UpdateSecretVersionStageCommand({
        SecretId: arn,
        VersionStage: 'AWSCURRENT',
        MoveToVersionId: pending.VersionId,
        RemoveFromVersionId: current.VersionId,
      }),
    );
    expect(sm.valueOf(arn)).toBe('second');
    expect(sm.valueOf(arn, 'AWSPREVIOUS')).toBe('first');
    expect(sm.calls.map((c) => c.action)).toEqual([
      'GetSecretValue',
      'PutSecretValue',
      'UpdateSecretVersionStage',
      'UpdateSecretVersionStage',
    ]);
  });

  it('answers unknown secrets, injected failures and password requests like the service', async () => {
    await expect(
      client.send(new GetSecretValueCommand({ SecretId: 'nope' })),
    ).rejects.toMatchObject({
      name: 'ResourceNotFoundException',
    });
    sm.failNextCalls(1);
    await expect(client.send(new GetRandomPasswordCommand({}))).rejects.toMatchObject({
      name: 'InternalServiceError',
    });
    const { RandomPassword } = await client.send(
      new GetRandomPasswordCommand({ PasswordLength: 40, ExcludePunctuation: true }),
    );
    expect(RandomPassword).toMatch(/^[A-Za-z0-9]{40}$/);
  });
});
