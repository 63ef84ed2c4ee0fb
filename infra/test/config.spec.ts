import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GATEWAY_BUNDLE, hashDirectory, resolveBundle } from '../src/bundle.js';
import {
  environments,
  redisNodeIds,
  validateEnvironment,
  type EnvironmentConfig,
} from '../src/config/environments.js';
import { InputsError, readInputsFile, resolveInputs } from '../src/config/inputs.js';
import { subnetCidr } from '../src/constructs/network.js';
import { infraDir, testInputs } from './support/synth.js';

const variant = (changes: Partial<EnvironmentConfig>): EnvironmentConfig => ({
  ...environments.prod,
  ...changes,
});

describe('environment configuration', () => {
  it('accepts both shipped environments', () => {
    expect(() => validateEnvironment(environments.dev)).not.toThrow();
    expect(() => validateEnvironment(environments.prod)).not.toThrow();
  });

  it.each<[string, Partial<EnvironmentConfig>, string]>([
    [
      'an idle timeout below the Socket.IO heartbeat',
      { loadBalancer: { ...environments.prod.loadBalancer, idleTimeoutSeconds: 40 } },
      'idle timeout',
    ],
    [
      'a deregistration delay that would cut sockets before the drain ends',
      { loadBalancer: { ...environments.prod.loadBalancer, deregistrationDelaySeconds: 20 } },
      'must cover the watcher poll, the drain and a margin (40s)',
    ],
    [
      'a lifecycle heartbeat shorter than the deregistration',
      { lifecycle: { pollSeconds: 5, heartbeatTimeoutSeconds: 90 } },
      'heartbeat timeout',
    ],
    [
      'a single gateway instance',
      { compute: { ...environments.prod.compute, minInstances: 1, desiredInstances: 1 } },
      'two gateway instances',
    ],
    [
      'a Graviton instance type on x86_64',
      { compute: { ...environments.prod.compute, instanceType: 't4g.medium' } },
      'does not match architecture x86_64',
    ],
    [
      'cluster mode without replicas',
      { redis: { ...environments.prod.redis, replicasPerShard: 0 } },
      'replica',
    ],
    ['an AZ of another region', { availabilityZones: ['us-east-1a', 'eu-west-1b'] }, 'eu-west-1b'],
  ])('rejects %s', (_label, changes, message) => {
    expect(() => validateEnvironment(variant(changes))).toThrow(message);
  });

  it('names Redis nodes the way ElastiCache does', () => {
    expect(redisNodeIds('rg', environments.dev.redis)).toEqual(['rg-001']);
    expect(redisNodeIds('rg', environments.prod.redis)).toEqual(['rg-0001-001', 'rg-0001-002']);
    expect(redisNodeIds('rg', { ...environments.prod.redis, shards: 2 })).toEqual([
      'rg-0001-001',
      'rg-0001-002',
      'rg-0002-001',
      'rg-0002-002',
    ]);
  });

  it('carves /24 subnets out of the /16 VPC', () => {
    expect(subnetCidr('10.40.0.0/16', 11)).toBe('10.40.11.0/24');
    expect(() => subnetCidr('10.40.0.0/20', 1)).toThrow('/16');
  });
});

describe('deploy inputs', () => {
  const dev = [environments.dev];
  const inputsProblems = (fn: () => unknown): string[] => {
    try {
      fn();
    } catch (error) {
      if (error instanceof InputsError) return error.problems;
      throw error;
    }
    throw new Error('expected an InputsError');
  };

  it('reads one environment from the file, with shared top-level values', () => {
    const { stateBucket, ...perEnv } = testInputs.dev;
    expect(
      resolveInputs({ environments: dev, file: { stateBucket, dev: perEnv }, env: {} }).dev,
    ).toEqual(testInputs.dev);
  });

  it('lets CHAT_* variables of the CHAT_ENV environment win over the file', () => {
    const resolved = resolveInputs({
      environments: dev,
      file: { dev: testInputs.dev },
      env: { CHAT_ENV: 'dev', CHAT_DOMAIN_NAME: 'chat2.dev.jobsphere-test.net' },
    });
    expect(resolved.dev!.domainName).toBe('chat2.dev.jobsphere-test.net');
    // ...and only for that environment.
    const other = resolveInputs({
      environments: dev,
      file: { dev: testInputs.dev },
      env: { CHAT_ENV: 'prod', CHAT_DOMAIN_NAME: 'chat2.dev.jobsphere-test.net' },
    });
    expect(other.dev!.domainName).toBe(testInputs.dev.domainName);
  });

  it('says in one message that nothing was given on a fresh clone', () => {
    expect(() => resolveInputs({ environments: dev, file: undefined, env: {} })).toThrow(
      /^no deploy inputs for jobsphere-chat-dev \(domain, hosted zone, alarm e-mail, client URL, JWT secret or JWKS, AMI, state bucket\)\. Set them in infra\/deploy-inputs\.json/,
    );
  });

  it('refuses the example file as it is: every value is a placeholder', () => {
    const example = readInputsFile(join(infraDir, 'deploy-inputs.example.json'));
    const problems = inputsProblems(() =>
      resolveInputs({ environments: Object.values(environments), file: example, env: {} }),
    );
    for (const env of ['dev', 'prod']) {
      for (const field of [
        'domainName',
        'hostedZoneId',
        'alarmEmail',
        'clientUrl',
        'jwtSecretArn',
        'amiId',
        'stateBucket',
      ]) {
        expect(problems).toContainEqual(
          expect.stringMatching(new RegExp(`^${env}\\.${field} is a placeholder`)),
        );
      }
    }
  });

  it.each([
    ['domainName', 'not a host', 'is not a host name'],
    ['hostedZoneId', 'jobsphere-test.net', 'is not a Route 53 hosted zone id'],
    ['alarmEmail', 'alerts', 'is not an e-mail address'],
    ['clientUrl', 'http://dev.jobsphere-test.net', 'must be https origins'],
    ['clientUrl', 'https://dev.jobsphere-test.net/app', 'must be https origins'],
    [
      'jwtSecretArn',
      'arn:aws:secretsmanager:eu-west-1:210987654321:secret:jwt-AbCdEf',
      'must be a secret in us-east-1',
    ],
    ['amiId', 'ami-123', 'is not an AMI id'],
    ['stateBucket', 'Not_A_Bucket', 'is not an S3 bucket name'],
  ])('names a malformed %s (%s)', (field, value, message) => {
    const problems = inputsProblems(() =>
      resolveInputs({
        environments: dev,
        file: { dev: { ...testInputs.dev, [field]: value } },
        env: {},
      }),
    );
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain(`dev.${field} ${message}`);
  });

  it('lists every missing input with its variable', () => {
    const problems = inputsProblems(() =>
      resolveInputs({
        environments: dev,
        file: { dev: { domainName: testInputs.dev.domainName } },
        env: {},
      }),
    );
    expect(problems).toEqual([
      'dev.hostedZoneId (CHAT_HOSTED_ZONE_ID) missing',
      'dev.alarmEmail (CHAT_ALARM_EMAIL) missing',
      'dev.clientUrl (CHAT_CLIENT_URL) missing',
      'dev.amiId (CHAT_AMI_ID) missing',
      'dev.stateBucket (CHAT_STATE_BUCKET) missing',
      'dev.jwtSecretArn (CHAT_JWT_SECRET_ARN) or dev.jwtJwksUrl (CHAT_JWT_JWKS_URL) missing',
    ]);
  });

  it('keeps deploy-inputs.json out of git', () => {
    expect(readFileSync(join(infraDir, '.gitignore'), 'utf8').split('\n')).toContain(
      'deploy-inputs.json',
    );
  });
});

describe('bundle resolution and hashing', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'jobsphere-bundle-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const write = (path: string, content: string) => {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    writeFileSync(join(dir, path), content);
  };

  it('falls back to the placeholder on a fresh clone', () => {
    // An infra folder as a fresh clone has it: the committed placeholder, no build/.
    cpSync(
      join(infraDir, GATEWAY_BUNDLE.placeholderDir),
      join(dir, GATEWAY_BUNDLE.placeholderDir),
      {
        recursive: true,
      },
    );
    expect(resolveBundle(GATEWAY_BUNDLE, { infraDir: dir })).toEqual({
      dir: join(dir, GATEWAY_BUNDLE.placeholderDir),
      placeholder: true,
      hash: hashDirectory(join(infraDir, GATEWAY_BUNDLE.placeholderDir)),
    });
  });

  it('uses a built bundle when one exists', () => {
    write('build/gateway-bundle/dist/main.js', 'console.log(1)');
    expect(resolveBundle(GATEWAY_BUNDLE, { infraDir: dir, requireBundle: true })).toEqual({
      dir: join(dir, 'build', 'gateway-bundle'),
      placeholder: false,
      hash: hashDirectory(join(dir, 'build', 'gateway-bundle')),
    });
  });

  it('refuses the placeholder for a deploy or an explicit directory', () => {
    expect(() => resolveBundle(GATEWAY_BUNDLE, { infraDir: dir, requireBundle: true })).toThrow(
      'gateway bundle not found',
    );
    expect(() => resolveBundle(GATEWAY_BUNDLE, { infraDir: dir, bundleDir: 'elsewhere' })).toThrow(
      join(dir, 'elsewhere'),
    );
  });

  it('hashes names and contents, not timestamps', () => {
    write('a/dist/main.js', 'x');
    write('a/node_modules/p/index.js', 'y');
    const before = hashDirectory(join(dir, 'a'));
    expect(hashDirectory(join(dir, 'a'))).toBe(before);
    writeFileSync(join(dir, 'a/dist/main.js'), 'x'); // rewritten: new mtime, same bytes
    expect(hashDirectory(join(dir, 'a'))).toBe(before);
    rmSync(join(dir, 'a/node_modules/p/index.js'));
    write('a/node_modules/p/other.js', 'y'); // same bytes under another name
    expect(hashDirectory(join(dir, 'a'))).not.toBe(before);
    expect(before).toMatch(/^[0-9A-F]{32}$/);
  });
});
