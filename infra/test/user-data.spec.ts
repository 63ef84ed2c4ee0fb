import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { environments } from '../src/config/environments.js';
import {
  ENV_FILE,
  LOG_FILE,
  renderCloudWatchAgentConfig,
  renderSystemdUnit,
  renderUserData,
  stopTimeoutSeconds,
  type UserDataOptions,
} from '../src/constructs/user-data.js';
import { infraDir } from './support/synth.js';

const SHELLCHECK = process.env.SHELLCHECK_BIN ?? '/usr/bin/shellcheck';

const options: UserDataOptions = {
  region: 'us-east-1',
  paramPrefix: '/jobsphere-chat-prod',
  bundleKey: 'gateway/0123456789ABCDEF0123456789ABCDEF/archive.zip',
  nodeMajor: 22,
  port: 4000,
  appLogGroupName: '/jobsphere-chat/jobsphere-chat-prod/gateway',
  drainTimeoutMs: environments.prod.socket.drainTimeoutMs,
};
const script = renderUserData(options);

function shellcheck(source: string) {
  if (!existsSync(SHELLCHECK)) {
    throw new Error(
      `shellcheck not found at ${SHELLCHECK}: install it (apt-get install -y shellcheck) or set SHELLCHECK_BIN`,
    );
  }
  const result = spawnSync(SHELLCHECK, ['--shell=bash', '--severity=style', '-'], {
    input: source,
    encoding: 'utf8',
  });
  if (result.error) throw result.error;
  return { status: result.status, output: result.stdout + result.stderr };
}

describe('gateway user data', () => {
  it('passes shellcheck', () => {
    expect(shellcheck(script)).toEqual({ status: 0, output: '' });
  });

  it('would be caught by shellcheck if it regressed', () => {
    const broken = script.replace('rm -rf "$release"', 'rm -rf $release/');
    expect(shellcheck(broken).status).not.toBe(0);
    expect(shellcheck(broken).output).toContain('SC2086');
  });

  it('stops on the first failing command and logs the boot', () => {
    expect(script.startsWith('#!/bin/bash\n')).toBe(true);
    expect(script).toContain('set -euo pipefail');
    expect(script).toContain('/var/log/jobsphere-chat-bootstrap.log');
  });

  it('installs the Node LTS from the distribution and fetches the content-addressed bundle', () => {
    expect(script).toContain(`readonly NODE_MAJOR='22'`);
    expect(script).toContain('dnf install -y "nodejs$NODE_MAJOR"');
    expect(script).toContain(`readonly BUNDLE_KEY='${options.bundleKey}'`);
    expect(script).toContain(
      'aws s3 cp --region "$REGION" --only-show-errors "s3://$bucket/$BUNDLE_KEY"',
    );
  });

  it('builds a root-only environment file from SSM parameters and Secrets Manager', () => {
    expect(script).toContain(`readonly ENV_FILE='${ENV_FILE}'`);
    expect(script).toContain(
      'get-parameters-by-path --region "$REGION" --path "$PARAM_PREFIX/env/"',
    );
    expect(script).toContain('redis_password=$(secret "$(param config/redis-secret-arn)")');
    expect(script).toContain('jwt_secret=$(secret "$(param config/jwt-secret-arn)")');
    expect(script).toContain(
      "printf 'MONGODB_URI=mongodb://%s:%s@%s:27017/jobsphere?tls=true&tlsCAFile=%s&replicaSet=rs0",
    );
    expect(script).toContain('chmod 0600 "$tmp_env"');
  });

  it('installs the systemd unit verbatim', () => {
    const unit = renderSystemdUnit(options);
    expect(script).toContain(
      `cat >/etc/systemd/system/jobsphere-chat.service <<'UNIT'\n${unit.trimEnd()}\nUNIT\n`,
    );
    expect(script).toContain('systemctl enable --now jobsphere-chat.service');
  });
});

describe('gateway systemd unit', () => {
  const lines = renderSystemdUnit(options).split('\n');

  it.each([
    'User=jobsphere',
    'WorkingDirectory=/opt/jobsphere-chat/current',
    'Environment=NODE_ENV=production',
    'Environment=PORT=4000',
    `EnvironmentFile=${ENV_FILE}`,
    'ExecStart=/usr/bin/node-22 dist/main.js',
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

  it('ships the service log to the application log group', () => {
    const config = JSON.parse(renderCloudWatchAgentConfig(options.appLogGroupName));
    expect(config.logs.logs_collected.files.collect_list[0]).toEqual({
      file_path: LOG_FILE,
      log_group_name: options.appLogGroupName,
      log_stream_name: '{instance_id}',
    });
  });
});

describe('infra shell scripts', () => {
  it.each(['bundle.sh', 'cdktf.sh'])('%s passes shellcheck', (name) => {
    expect(shellcheck(readFileSync(join(infraDir, 'scripts', name), 'utf8'))).toEqual({
      status: 0,
      output: '',
    });
  });
});
