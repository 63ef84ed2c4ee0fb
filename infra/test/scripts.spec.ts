import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fakeCommand, run } from './support/shell.js';
import { infraDir, writeInputsFile } from './support/synth.js';

const script = (name: string) => join(infraDir, 'scripts', name);
const lines = (path: string) =>
  existsSync(path) ? readFileSync(path, 'utf8').trim().split('\n').filter(Boolean) : [];

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'jobsphere-scripts-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('deploy.sh', () => {
  // Real synth on tiny stand-in bundles; terraform is a stand-in that records what it was asked.
  const setup = () => {
    for (const [name, entry] of [
      ['gateway', 'dist/main.js'],
      ['rotation', 'dist/handler.js'],
    ] as const) {
      mkdirSync(join(dir, name, 'dist'), { recursive: true });
      writeFileSync(join(dir, name, entry), '// stand-in\n');
    }
    const calls = fakeCommand(join(dir, 'bin'), 'terraform', 'echo "terraform $*"');
    const env = {
      PATH: `${join(dir, 'bin')}:${process.env.PATH}`,
      HOME: dir,
      CHAT_ENV: 'dev',
      CHAT_INPUTS_FILE: writeInputsFile(dir),
      GATEWAY_BUNDLE_DIR: join(dir, 'gateway'),
      ROTATION_BUNDLE_DIR: join(dir, 'rotation'),
      CDKTF_OUTDIR: join(dir, 'cdktf.out'),
    };
    return { calls, env };
  };

  it('stops at once, before building anything, when nothing can approve the plan', async () => {
    const { calls, env } = setup();
    const result = await run('bash', [script('deploy.sh'), 'apply'], { env, timeoutMs: 10_000 });
    expect(result.status).toBe(2);
    expect(result.stderr.trim()).toBe(
      'deploy: no terminal to approve the apply of jobsphere-chat-dev: run it from a terminal (pnpm run deploy), or set DEPLOY_AUTO_APPROVE=1 to apply the plan without asking (CI)',
    );
    expect(result.ms).toBeLessThan(2_000);
    expect(lines(calls)).toEqual([]);
  });

  it('applies exactly the saved plan with DEPLOY_AUTO_APPROVE=1', async () => {
    const { calls, env } = setup();
    const result = await run('bash', [script('deploy.sh'), 'apply'], {
      env: { ...env, DEPLOY_AUTO_APPROVE: '1' },
      timeoutMs: 60_000,
    });
    expect(result.stderr).not.toContain('deploy:');
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('synth: jobsphere-chat-dev -> ');
    expect(lines(calls)).toEqual([
      'init -input=false',
      'plan -input=false -out=jobsphere-chat-dev.tfplan',
      'apply -input=false jobsphere-chat-dev.tfplan',
      'output',
    ]);
  }, 60_000);

  it('asks at a terminal and applies only when the stack name is typed', async () => {
    const { calls, env } = setup();
    // `script` gives the deploy a terminal, as a person running it has.
    const inTerminal = (answer: string) =>
      run('script', ['-qec', `bash ${script('deploy.sh')} apply`, '/dev/null'], {
        env,
        input: `${answer}\n`,
        timeoutMs: 60_000,
      });
    const refused = await inTerminal('yes');
    expect(refused.status).toBe(1);
    expect(refused.stdout).toContain(
      'deploy: apply the plan above to jobsphere-chat-dev? Type the stack name to approve:',
    );
    expect(refused.stdout).toContain("deploy: not approved (got 'yes'); nothing applied");
    expect(lines(calls).some((c) => c.startsWith('apply'))).toBe(false);

    const approved = await inTerminal('jobsphere-chat-dev');
    expect(approved.status).toBe(0);
    expect(lines(calls).slice(-2)).toEqual([
      'apply -input=false jobsphere-chat-dev.tfplan',
      'output',
    ]);
  }, 120_000);

  it('plans without approval and destroys through a destroy plan', async () => {
    const { calls, env } = setup();
    const plan = await run('bash', [script('deploy.sh'), 'plan'], { env, timeoutMs: 60_000 });
    expect(plan.status).toBe(0);
    expect(plan.stdout).toContain('deploy: plan only; nothing applied');
    const destroy = await run('bash', [script('deploy.sh'), 'destroy'], {
      env: { ...env, DEPLOY_AUTO_APPROVE: '1' },
      timeoutMs: 60_000,
    });
    expect(destroy.status).toBe(0);
    expect(lines(calls)).toEqual([
      'init -input=false',
      'plan -input=false -out=jobsphere-chat-dev.tfplan',
      'init -input=false',
      'plan -input=false -out=jobsphere-chat-dev.tfplan -destroy',
      'apply -input=false jobsphere-chat-dev.tfplan',
    ]);
  }, 120_000);

  it('names the environment it needs', async () => {
    const { env } = setup();
    const result = await run('bash', [script('deploy.sh'), 'apply'], {
      env: { ...env, CHAT_ENV: 'staging' },
      timeoutMs: 10_000,
    });
    expect(result.status).toBe(2);
    expect(result.stderr.trim()).toBe('deploy: set CHAT_ENV=dev or CHAT_ENV=prod');
  });
});

describe('bootstrap-state.sh', () => {
  // An aws stand-in with memory: what exists lives as files in the state folder.
  const fakeAws = () => {
    const state = join(dir, 'aws-state');
    mkdirSync(state, { recursive: true });
    const calls = fakeCommand(
      join(dir, 'bin'),
      'aws',
      `state='${state}'
args=" $* "
case "$args" in
  *" sts get-caller-identity "*) echo 210987654321 ;;
  *" kms describe-key "*) [[ -f "$state/key" ]] && cat "$state/key" || { echo 'NotFoundException' >&2; exit 254; } ;;
  *" kms create-key "*) echo arn:aws:kms:us-east-1:210987654321:key/0e5b1f4a-1111-2222-3333-444455556666 | tee "$state/key" ;;
  *" s3api head-bucket "*) [[ -f "$state/bucket" ]] || exit 254 ;;
  *" s3api create-bucket "*) touch "$state/bucket" ;;
  *" ssm get-parameter "*) echo ami-0fedcba9876543210 ;;
esac`,
    );
    return {
      calls,
      env: { PATH: `${join(dir, 'bin')}:${process.env.PATH}`, AWS_REGION: 'us-east-1' },
    };
  };

  it('creates the state key and bucket once and configures them every time', async () => {
    const { calls, env } = fakeAws();
    const first = await run('bash', [script('bootstrap-state.sh')], { env, timeoutMs: 10_000 });
    expect(first.status).toBe(0);
    const firstCalls = lines(calls).map((c) => c.replace(/^--region us-east-1 /, ''));
    const bucket = 'jobsphere-chat-tfstate-210987654321-us-east-1';
    expect(firstCalls.map((c) => c.split(' ').slice(0, 2).join(' '))).toEqual([
      'sts get-caller-identity',
      'kms describe-key',
      'kms create-key',
      'kms create-alias',
      'kms enable-key-rotation',
      's3api head-bucket',
      's3api create-bucket',
      's3api put-public-access-block',
      's3api put-bucket-ownership-controls',
      's3api put-bucket-versioning',
      's3api put-bucket-encryption',
      's3api put-bucket-policy',
      's3api put-bucket-lifecycle-configuration',
      'ssm get-parameter',
    ]);
    expect(firstCalls).toContain(
      `s3api put-bucket-versioning --bucket ${bucket} --versioning-configuration Status=Enabled`,
    );
    expect(firstCalls.find((c) => c.includes('put-bucket-encryption'))).toContain(
      '"SSEAlgorithm":"aws:kms","KMSMasterKeyID":"arn:aws:kms:us-east-1:210987654321:key/',
    );
    expect(firstCalls.find((c) => c.includes('put-bucket-policy'))).toContain(
      '"aws:SecureTransport":"false"',
    );
    expect(first.stdout).toContain(`"stateBucket": "${bucket}"`);
    expect(first.stdout).toContain('"amiId": "ami-0fedcba9876543210"');

    writeFileSync(calls, '');
    const again = await run('bash', [script('bootstrap-state.sh')], { env, timeoutMs: 10_000 });
    expect(again.status).toBe(0);
    expect(
      lines(calls).filter((c) => / (create-key|create-alias|create-bucket) /.test(` ${c} `)),
    ).toEqual([]);
  });
});

describe('rotate-redis-auth.sh', () => {
  const TOKEN = 'Zq7NewToken0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLmnop';

  it('rotates ROTATE then SET, promoting the secret in between, never putting the token on a command line', async () => {
    const modifications = join(dir, 'modifications');
    const calls = fakeCommand(
      join(dir, 'bin'),
      'aws',
      `args=" $* "
case "$args" in
  *" describe-replication-groups "*Status*) echo available ;;
  *" describe-replication-groups "*AuthTokenEnabled*) echo True ;;
  *" get-secret-value "*) echo v-old ;;
  *" get-random-password "*) printf '%s\\n' '${TOKEN}' ;;
  *" put-secret-value "*)
    file=\${args#* --secret-string file://}; file=\${file%% *}
    [[ "$(cat "$file")" == '${TOKEN}' ]] && echo v-new || { echo "wrong token in $file" >&2; exit 1; } ;;
  *" modify-replication-group "*)
    file=\${args#* --cli-input-json file://}; file=\${file%% *}
    node -e 'const j = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")); console.log(j.ReplicationGroupId, j.AuthTokenUpdateStrategy, j.ApplyImmediately, j.AuthToken === process.argv[2] ? "new-token" : "other-token")' "$file" '${TOKEN}' >> '${modifications}' ;;
esac`,
    );
    const result = await run('bash', [script('rotate-redis-auth.sh')], {
      env: {
        PATH: `${join(dir, 'bin')}:${process.env.PATH}`,
        CHAT_ENV: 'prod',
        AWS_REGION: 'us-east-1',
        ROTATION_PROPAGATION_SECONDS: '0',
      },
      timeoutMs: 20_000,
    });
    expect(result.stderr).toContain('rotate-redis-auth: done');
    expect(result.status).toBe(0);
    const recorded = lines(calls);
    expect(recorded.join('\n')).not.toContain(TOKEN);
    const steps = recorded.map((c) =>
      c
        .replace(/^--region us-east-1 /, '')
        .split(' ')
        .slice(0, 2)
        .join(' '),
    );
    expect(steps).toEqual([
      'elasticache describe-replication-groups',
      'elasticache describe-replication-groups',
      'secretsmanager get-secret-value',
      'secretsmanager get-random-password',
      'secretsmanager put-secret-value',
      'elasticache modify-replication-group',
      'elasticache wait',
      'secretsmanager update-secret-version-stage',
      'secretsmanager update-secret-version-stage',
      'elasticache modify-replication-group',
      'elasticache wait',
    ]);
    expect(recorded[4]).toContain('--version-stages AWSPENDING');
    expect(recorded[7]).toContain(
      '--secret-id jobsphere-chat-prod/redis-auth-token --version-stage AWSCURRENT --move-to-version-id v-new --remove-from-version-id v-old',
    );
    expect(lines(modifications)).toEqual([
      'jobsphere-chat-prod-redis ROTATE true new-token',
      'jobsphere-chat-prod-redis SET true new-token',
    ]);
  });
});
