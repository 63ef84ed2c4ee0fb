import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveBundle } from '../src/bundle.js';
import {
  environments,
  redisNodeIds,
  validateEnvironment,
  type EnvironmentConfig,
} from '../src/config/environments.js';
import { subnetCidr } from '../src/constructs/network.js';
import { placeholderBundle } from './support/synth.js';

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
      { loadBalancer: { idleTimeoutSeconds: 40, deregistrationDelaySeconds: 20 } },
      'idle timeout',
    ],
    [
      'a deregistration delay shorter than the drain',
      { loadBalancer: { idleTimeoutSeconds: 60, deregistrationDelaySeconds: 5 } },
      'drain',
    ],
    [
      'a single gateway instance',
      { compute: { ...environments.prod.compute, minInstances: 1, desiredInstances: 1 } },
      'two gateway instances',
    ],
    [
      'cluster mode without replicas',
      { redis: { ...environments.prod.redis, replicasPerShard: 0 } },
      'replica',
    ],
    ['a domain outside the hosted zone', { domainName: 'chat.example.org' }, 'hosted zone'],
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

describe('gateway bundle resolution', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'jobsphere-bundle-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('falls back to the placeholder on a fresh clone', () => {
    expect(resolveBundle({ infraDir: join(placeholderBundle, '..', '..') })).toEqual({
      dir: placeholderBundle,
      placeholder: true,
    });
  });

  it('uses a built bundle when one exists', () => {
    mkdirSync(join(dir, 'build', 'gateway-bundle', 'dist'), { recursive: true });
    writeFileSync(join(dir, 'build', 'gateway-bundle', 'dist', 'main.js'), '');
    expect(resolveBundle({ infraDir: dir, requireBundle: true })).toEqual({
      dir: join(dir, 'build', 'gateway-bundle'),
      placeholder: false,
    });
  });

  it('refuses the placeholder for a deploy or an explicit directory', () => {
    expect(() => resolveBundle({ infraDir: dir, requireBundle: true })).toThrow(
      'gateway bundle not found',
    );
    expect(() => resolveBundle({ infraDir: dir, bundleDir: 'elsewhere' })).toThrow(
      join(dir, 'elsewhere'),
    );
  });
});
