import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findViolations } from '../src/guard/synth-guard.js';
import { infraDir, synthAll, writeInputsFile } from './support/synth.js';

const stacks = synthAll();

const withIngress = (type: string, rule: Record<string, unknown>) => ({
  resource: { [type]: { bad: rule } },
});

describe('synth guard', () => {
  it('passes both real stacks', () => {
    expect(findViolations('dev', stacks.dev)).toEqual([]);
    expect(findViolations('prod', stacks.prod)).toEqual([]);
  });

  it.each([
    [
      'Redis to 0.0.0.0/0',
      { ip_protocol: 'tcp', from_port: 6379, to_port: 6379, cidr_ipv4: '0.0.0.0/0' },
      '6379',
    ],
    [
      'DocumentDB to ::/0',
      { ip_protocol: 'tcp', from_port: 27017, to_port: 27017, cidr_ipv6: '::/0' },
      '27017',
    ],
    [
      'a range covering 4000',
      { ip_protocol: 'tcp', from_port: 3000, to_port: 5000, cidr_ipv4: '0.0.0.0/0' },
      '4000',
    ],
    ['all traffic', { ip_protocol: '-1', cidr_ipv4: '0.0.0.0/0' }, '22, 4000, 6379, 27017'],
  ])('rejects an ingress rule opening %s', (_label, rule, ports) => {
    const [violation] = findViolations(
      'x',
      withIngress('aws_vpc_security_group_ingress_rule', rule),
    );
    expect(violation).toEqual({
      stack: 'x',
      path: 'aws_vpc_security_group_ingress_rule.bad',
      message: expect.stringContaining(`port(s) ${ports}`),
    });
  });

  it('rejects SSH in a legacy rule resource and in an inline security group rule', () => {
    const legacy = withIngress('aws_security_group_rule', {
      type: 'ingress',
      protocol: 'tcp',
      from_port: 22,
      to_port: 22,
      cidr_blocks: ['0.0.0.0/0'],
    });
    const inline = withIngress('aws_security_group', {
      ingress: [
        { protocol: 'tcp', from_port: 22, to_port: 22, cidr_blocks: ['10.0.0.0/8', '0.0.0.0/0'] },
      ],
    });
    expect(findViolations('x', legacy).map((v) => v.path)).toEqual(['aws_security_group_rule.bad']);
    expect(findViolations('x', inline).map((v) => v.path)).toEqual([
      'aws_security_group.bad.ingress[0]',
    ]);
  });

  it('allows public HTTPS, data ports from security groups, and open egress', () => {
    const ok = {
      resource: {
        aws_vpc_security_group_ingress_rule: {
          https: { ip_protocol: 'tcp', from_port: 443, to_port: 443, cidr_ipv4: '0.0.0.0/0' },
          redis: {
            ip_protocol: 'tcp',
            from_port: 6379,
            to_port: 6379,
            referenced_security_group_id: '${aws_security_group.app.id}',
          },
        },
        aws_security_group_rule: {
          egress: {
            type: 'egress',
            protocol: '-1',
            from_port: 0,
            to_port: 0,
            cidr_blocks: ['0.0.0.0/0'],
          },
        },
      },
    };
    expect(findViolations('x', ok)).toEqual([]);
  });

  it.each([
    ['aws_elasticache_replication_group', { auth_token: 'YourStrongAuthToken123!' }, 'auth_token'],
    ['aws_docdb_cluster', { master_password: 'hunter2hunter2' }, 'master_password'],
    ['aws_secretsmanager_secret_version', { secret_string: '{"password":"x"}' }, 'secret_string'],
  ])('rejects a literal secret in %s', (type, attrs, attribute) => {
    const json = { resource: { [type]: { leak: attrs } } };
    expect(findViolations('x', json)).toEqual([
      {
        stack: 'x',
        path: `resource.${type}.leak.${attribute}`,
        message: 'holds a literal secret value',
      },
    ]);
  });

  it('rejects literal credentials in provider blocks and outputs', () => {
    const json = {
      provider: { aws: [{ region: 'us-east-1', access_key: 'AKIAEXAMPLE', secret_key: 'abc' }] },
      output: { redis_password: { value: 'x', sensitive: true } },
    };
    expect(
      findViolations('x', json)
        .map((v) => v.path)
        .sort(),
    ).toEqual([
      'output.redis_password',
      'provider.aws[0].access_key',
      'provider.aws[0].secret_key',
    ]);
  });

  it('accepts a JSON secret whose credential fields are empty (a user name only)', () => {
    const json = {
      resource: {
        aws_secretsmanager_secret_version: {
          initial: { secret_string: '{"username":"chat_app","password":""}' },
          leak: { secret_string: '{"username":"chat_app","password":"hunter2hunter2"}' },
        },
      },
    };
    expect(findViolations('x', json).map((v) => v.path)).toEqual([
      'resource.aws_secretsmanager_secret_version.leak.secret_string',
    ]);
  });

  it('accepts references to generated secrets', () => {
    const json = {
      resource: {
        aws_elasticache_replication_group: {
          r: {
            auth_token: '${random_password.token.result}',
            auth_token_update_strategy: 'ROTATE',
          },
        },
        aws_docdb_cluster: { c: { manage_master_user_password: true } },
      },
      output: { redis_auth_secret_arn: { value: 'arn:aws:secretsmanager:us-east-1:1:secret:x' } },
    };
    expect(findViolations('x', json)).toEqual([]);
  });
});

describe('synth entry point (dist/main.js)', () => {
  const main = join(infraDir, 'dist', 'main.js');
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'jobsphere-main-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const run = (env: Record<string, string>) => {
    if (!existsSync(main))
      throw new Error(`${main} missing: run \`pnpm --filter @jobsphere/infra build\` first`);
    return spawnSync(process.execPath, [main], {
      cwd: infraDir,
      encoding: 'utf8',
      // The committed placeholders, whether or not a real bundle was built in build/.
      env: {
        PATH: process.env.PATH,
        CHECKPOINT_DISABLE: '1',
        GATEWAY_BUNDLE_DIR: 'assets/placeholder-gateway',
        ROTATION_BUNDLE_DIR: 'assets/placeholder-rotation',
        ...env,
      },
    });
  };

  it('synthesizes both stacks offline from the inputs file and runs the guard', () => {
    const outdir = join(dir, 'out');
    const result = run({ CHAT_INPUTS_FILE: writeInputsFile(dir), CDKTF_OUTDIR: outdir });
    expect(result.stdout).toContain('synth: jobsphere-chat-dev, jobsphere-chat-prod');
    expect(result.stdout).toContain('(guard passed)');
    expect(result.status).toBe(0);
    expect(existsSync(join(outdir, 'stacks', 'jobsphere-chat-dev', 'cdk.tf.json'))).toBe(true);
    expect(existsSync(join(outdir, 'stacks', 'jobsphere-chat-prod', 'cdk.tf.json'))).toBe(true);
  });

  it('synthesizes only the CHAT_ENV stack, leaving no earlier stack behind', () => {
    const outdir = join(dir, 'out');
    const result = run({
      CHAT_INPUTS_FILE: writeInputsFile(dir),
      CDKTF_OUTDIR: outdir,
      CHAT_ENV: 'dev',
    });
    expect(result.status).toBe(0);
    expect(readdirSync(join(outdir, 'stacks'))).toEqual(['jobsphere-chat-dev']);
  });

  it('fails with one clear line while the inputs are missing', () => {
    const result = run({ CHAT_INPUTS_FILE: join(dir, 'none.json'), CDKTF_OUTDIR: join(dir, 'x') });
    expect(result.status).toBe(1);
    expect(result.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(
        /^synth: no deploy inputs for jobsphere-chat-dev, jobsphere-chat-prod /,
      ),
    ]);
  });

  it('refuses the placeholder when a deploy requires the real bundle', () => {
    const result = run({
      CHAT_INPUTS_FILE: writeInputsFile(dir),
      CDKTF_OUTDIR: join(dir, 'y'),
      CHAT_REQUIRE_BUNDLE: '1',
      GATEWAY_BUNDLE_DIR: join(tmpdir(), 'no-such-bundle'),
    });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('gateway bundle not found');
  });
});
