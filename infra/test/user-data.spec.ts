import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { environments, stopTimeoutSeconds } from '../src/config/environments.js';
import {
  BOOT_LOG_FILE,
  ENV_FILE,
  LOG_FILE,
  WATCHER_SCRIPT,
  renderCloudWatchAgentConfig,
  renderPrometheusConfig,
  renderSystemdUnit,
  renderUserData,
  renderWatcherUnit,
  type UserDataOptions,
} from '../src/constructs/user-data.js';
import { shellcheck, shellcheckFile } from './support/shell.js';
import { infraDir, repoDir } from './support/synth.js';

const options: UserDataOptions = {
  region: 'us-east-1',
  paramPrefix: '/jobsphere-chat-prod',
  bundleKey: 'gateway/0123456789ABCDEF0123456789ABCDEF/archive.zip',
  nodeMajor: 22,
  port: 4000,
  appLogGroupName: '/jobsphere-chat/jobsphere-chat-prod/gateway',
  metricsLogGroupName: '/jobsphere-chat/jobsphere-chat-prod/gateway-metrics',
  drainTimeoutMs: environments.prod.socket.drainTimeoutMs,
  autoScalingGroupName: 'jobsphere-chat-prod-gateway',
  lifecycleHookName: 'drain-before-terminate',
  lifecyclePollSeconds: 5,
};
const script = renderUserData(options);
const lineOf = (needle: string) => {
  const index = script.split('\n').findIndex((line) => line.includes(needle));
  if (index < 0) throw new Error(`not in the boot script: ${needle}`);
  return index;
};

describe('gateway user data', () => {
  it('passes shellcheck', () => {
    expect(shellcheck(script)).toEqual({ status: 0, output: '' });
  });

  it('would be caught by shellcheck if it regressed', () => {
    const broken = script.replace('rm -rf "$release"', 'rm -rf $release/');
    expect(shellcheck(broken).status).not.toBe(0);
    expect(shellcheck(broken).output).toContain('SC2086');
  });

  it('stops on the first failing command, logs the boot and reports itself unhealthy', () => {
    expect(script.startsWith('#!/bin/bash\n')).toBe(true);
    expect(script).toContain('set -euo pipefail');
    expect(script).toContain(BOOT_LOG_FILE);
    expect(script).toContain("trap 'on_error $LINENO' ERR");
    expect(script).toContain('--health-status Unhealthy --no-should-respect-grace-period');
  });

  it('starts the log agent before anything that can fail for the gateway', () => {
    const agent = lineOf('amazon-cloudwatch-agent-ctl -a fetch-config');
    expect(agent).toBeLessThan(lineOf('dnf install -y "nodejs$NODE_MAJOR"'));
    expect(agent).toBeLessThan(lineOf('retry 5 fetch_bundle'));
    expect(agent).toBeLessThan(lineOf('get-parameters-by-path'));
  });

  it('retries every network step with a bounded backoff', () => {
    for (const step of [
      'retry 5 dnf install -y amazon-cloudwatch-agent',
      'retry 5 dnf install -y "nodejs$NODE_MAJOR" unzip',
      'retry 5 fetch_bundle',
      'retry 5 curl -fsS --max-time 20 -o "$DOCDB_CA_FILE"',
      'bucket=$(retry 5 param config/bundle-bucket)',
      'plain_env=$(retry 5 by_path env)',
      'secret_env=$(retry 5 by_path secret-env)',
      'value=$(retry 5 secret "$arn")',
    ]) {
      expect(script).toContain(step);
    }
    expect(script).toContain('delay=$((delay * 2 > 30 ? 30 : delay * 2))');
  });

  it('fetches the newest stored version of its own content-addressed bundle', () => {
    expect(script).toContain(`readonly BUNDLE_KEY='${options.bundleKey}'`);
    expect(script).toContain('aws s3api list-object-versions');
    expect(script).toContain(`--query "Versions[?Key=='$BUNDLE_KEY'] | [0].VersionId"`);
  });

  it('builds a root-only environment file with no data-store credential in it', () => {
    expect(script).toContain(`readonly ENV_FILE='${ENV_FILE}'`);
    expect(script).toContain(
      'get-parameters-by-path --region "$REGION" --path "$PARAM_PREFIX/$1/"',
    );
    // Secret settings (JWT_SECRET, SERVICE_TOKEN_SECRET, WEBHOOK_SECRET) by ARN, into a file
    // that is 0600 before the first value is written.
    expect(script).toContain('--path "$PARAM_PREFIX/$1/"');
    expect(script.indexOf('chmod 0600 "$tmp_env"')).toBeLessThan(
      script.indexOf('value=$(retry 5 secret "$arn")'),
    );
    expect(script).not.toMatch(/REDIS_PASSWORD|MONGODB_URI=mongodb:\/\/%s:%s@/);
  });

  it('installs both systemd units and the watcher verbatim', () => {
    expect(script).toContain(
      `cat >/etc/systemd/system/jobsphere-chat.service <<'UNIT'\n${renderSystemdUnit(options).trimEnd()}\nUNIT\n`,
    );
    expect(script).toContain(
      `cat >/etc/systemd/system/jobsphere-chat-lifecycle.service <<'UNIT'\n${renderWatcherUnit(options).trimEnd()}\nUNIT\n`,
    );
    expect(script).toContain(`<<'WATCHER'\n${WATCHER_SCRIPT.trimEnd()}\nWATCHER\n`);
    expect(WATCHER_SCRIPT).toBe(
      readFileSync(join(infraDir, 'assets', 'lifecycle-watcher.sh'), 'utf8'),
    );
  });
});

describe('gateway systemd unit', () => {
  const lines = renderSystemdUnit(options).split('\n');

  it.each([
    'User=jobsphere',
    'WorkingDirectory=/opt/jobsphere-chat/current',
    'Environment=NODE_ENV=production',
    'Environment=PORT=4000',
    // One gateway worker per vCPU; SIGTERM reaches the supervisor only, which drains them all.
    'Environment=GATEWAY_WORKERS=auto',
    'KillMode=mixed',
    `EnvironmentFile=${ENV_FILE}`,
    'ExecStart=/usr/bin/node-22 --enable-source-maps dist/main.js',
    'Restart=always',
    'KillSignal=SIGTERM',
    `StandardOutput=append:${LOG_FILE}`,
    'NoNewPrivileges=true',
    'WantedBy=multi-user.target',
  ])('has %s', (line) => {
    expect(lines).toContain(line);
  });

  it('waits longer than the gateway drain before killing it', () => {
    const timeout = lines.find((l) => l.startsWith('TimeoutStopSec='));
    expect(timeout).toBe(`TimeoutStopSec=${stopTimeoutSeconds(options.drainTimeoutMs)}`);
    expect(Number(timeout!.split('=')[1]) * 1000).toBeGreaterThan(options.drainTimeoutMs);
  });
});

describe('lifecycle watcher unit', () => {
  const lines = renderWatcherUnit(options).split('\n');

  it.each([
    'Environment=ASG_NAME=jobsphere-chat-prod-gateway',
    'Environment=LIFECYCLE_HOOK_NAME=drain-before-terminate',
    'Environment=LIFECYCLE_POLL_SECONDS=5',
    'Environment=LIFECYCLE_STOP_COMMAND=systemctl stop jobsphere-chat.service',
    'ExecStart=/opt/jobsphere-chat/bin/lifecycle-watcher',
    // Done once it completed the action; restarted only if it failed.
    'Restart=on-failure',
  ])('has %s', (line) => {
    expect(lines).toContain(line);
  });
});

describe('CloudWatch agent', () => {
  const config = JSON.parse(renderCloudWatchAgentConfig(options));

  it('ships the gateway, boot and watcher logs to the application log group', () => {
    const files = config.logs.logs_collected.files.collect_list as {
      file_path: string;
      log_group_name: string;
    }[];
    expect(files.map((f) => f.file_path)).toEqual([
      LOG_FILE,
      BOOT_LOG_FILE,
      '/var/log/jobsphere-chat/lifecycle-watcher.log',
    ]);
    expect(new Set(files.map((f) => f.log_group_name))).toEqual(new Set([options.appLogGroupName]));
  });

  it('scrapes the loopback metrics port, not the public one', () => {
    expect(config.logs.metrics_collected.prometheus).toMatchObject({
      log_group_name: options.metricsLogGroupName,
      emf_processor: { metric_namespace: 'JobSphereChat' },
    });
    expect(renderPrometheusConfig()).toContain("targets: ['127.0.0.1:9464']");
  });
});

describe('shell scripts', () => {
  // Every script in the clone, found by walking it (outside dependencies and build output),
  // so a new one is checked without being listed here.
  const skip = new Set(['node_modules', '.git', 'dist', '.turbo', 'cdktf.out', 'coverage']);
  const walk = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) return skip.has(entry.name) ? [] : walk(path);
      return entry.name.endsWith('.sh') ? [path] : [];
    });
  const scripts = [join(repoDir, '.ci', 'run'), ...walk(repoDir)];

  it('covers every script of the repository', () => {
    expect(scripts.map((s) => s.slice(repoDir.length + 1))).toEqual(
      expect.arrayContaining([
        '.ci/run',
        'bench/scripts/build-centrifugo.sh',
        'infra/assets/lifecycle-watcher.sh',
        'infra/scripts/bootstrap-state.sh',
        'infra/scripts/bundle.sh',
        'infra/scripts/deploy.sh',
        'infra/scripts/rotate-redis-auth.sh',
        'packages/testing/scripts/build-ferretdb.sh',
        'packages/testing/scripts/go-cached-build.sh',
        'scripts/python-tools.sh',
        'scripts/system-packages.sh',
      ]),
    );
  });

  it.each(scripts.map((s) => [s.slice(repoDir.length + 1), s]))(
    '%s passes shellcheck',
    (_name, path) => {
      expect(shellcheckFile(path)).toEqual({ status: 0, output: '' });
    },
  );
});
