import { readFileSync } from 'node:fs';
import { stopTimeoutSeconds } from '../config/environments.js';

/**
 * Boot script and systemd units of a gateway instance. Pure functions of plain strings, so the
 * script is identical in the synthesized JSON and in the test that runs shellcheck on it. It
 * holds no Terraform references: everything deploy-time (bucket, endpoints, secret ARNs) is read
 * from SSM parameters under `paramPrefix`, which keeps the user data free of `${...}` templates.
 */
export interface UserDataOptions {
  readonly region: string;
  /** SSM path that holds `config/*` (deploy wiring) and `env/*` (one parameter per env var). */
  readonly paramPrefix: string;
  /** S3 key of the gateway bundle archive; changes with every new bundle (content hash). */
  readonly bundleKey: string;
  readonly nodeMajor: number;
  readonly port: number;
  readonly appLogGroupName: string;
  /** Log group of the embedded metric format events the agent makes from /metrics. */
  readonly metricsLogGroupName: string;
  /** Gateway's SIGTERM drain bound; the unit waits longer before it kills. */
  readonly drainTimeoutMs: number;
  readonly autoScalingGroupName: string;
  readonly lifecycleHookName: string;
  readonly lifecyclePollSeconds: number;
}

export const APP_USER = 'jobsphere';
export const APP_ROOT = '/opt/jobsphere-chat';
export const ENV_FILE = '/etc/jobsphere-chat/gateway.env';
export const LOG_FILE = '/var/log/jobsphere-chat/gateway.log';
export const BOOT_LOG_FILE = '/var/log/jobsphere-chat-bootstrap.log';
export const WATCHER_LOG_FILE = '/var/log/jobsphere-chat/lifecycle-watcher.log';
export const DOCDB_CA_FILE = `${APP_ROOT}/docdb-ca.pem`;
export const DOCDB_CA_URL = 'https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem';
export const UNIT_NAME = 'jobsphere-chat.service';
export const WATCHER_UNIT_NAME = 'jobsphere-chat-lifecycle.service';
export const WATCHER_PATH = `${APP_ROOT}/bin/lifecycle-watcher`;
/** The gateway's metrics listener (METRICS_PORT), on loopback: only the local agent scrapes it. */
export const METRICS_PORT = 9464;
export const METRICS_NAMESPACE = 'JobSphereChat';
const AGENT_DIR = '/opt/aws/amazon-cloudwatch-agent/etc';

/**
 * The on-instance lifecycle watcher (assets/lifecycle-watcher.sh): the same file runs on the
 * instances, in the local rolling-drain proof and under shellcheck.
 */
export const WATCHER_SCRIPT = readFileSync(
  new URL('../../assets/lifecycle-watcher.sh', import.meta.url),
  'utf8',
);

/**
 * GATEWAY_WORKERS=auto: one gateway worker per vCPU behind the port. KillMode=mixed sends the
 * stop's SIGTERM to the supervisor alone, which drains every worker (SIGKILL for what is left
 * only after TimeoutStopSec).
 */
export function renderSystemdUnit(
  options: Pick<UserDataOptions, 'nodeMajor' | 'port' | 'drainTimeoutMs'>,
): string {
  return `[Unit]
Description=JobSphere chat gateway (Socket.IO)
Wants=network-online.target
After=network-online.target
StartLimitIntervalSec=0

[Service]
Type=simple
User=${APP_USER}
Group=${APP_USER}
WorkingDirectory=${APP_ROOT}/current
Environment=NODE_ENV=production
Environment=PORT=${options.port}
Environment=GATEWAY_WORKERS=auto
EnvironmentFile=${ENV_FILE}
ExecStart=/usr/bin/node-${options.nodeMajor} --enable-source-maps dist/main.js
Restart=always
RestartSec=2
KillSignal=SIGTERM
KillMode=mixed
TimeoutStopSec=${stopTimeoutSeconds(options.drainTimeoutMs)}
LimitNOFILE=65536
StandardOutput=append:${LOG_FILE}
StandardError=append:${LOG_FILE}
NoNewPrivileges=true
ProtectSystem=strict
ProtectHome=true
PrivateTmp=true

[Install]
WantedBy=multi-user.target
`;
}

export function renderWatcherUnit(
  options: Pick<
    UserDataOptions,
    'region' | 'autoScalingGroupName' | 'lifecycleHookName' | 'lifecyclePollSeconds'
  >,
): string {
  return `[Unit]
Description=JobSphere chat: drain the gateway when Auto Scaling terminates this instance
Wants=network-online.target
After=network-online.target ${UNIT_NAME}

[Service]
Type=simple
Environment=AWS_REGION=${options.region}
Environment=ASG_NAME=${options.autoScalingGroupName}
Environment=LIFECYCLE_HOOK_NAME=${options.lifecycleHookName}
Environment=LIFECYCLE_POLL_SECONDS=${options.lifecyclePollSeconds}
Environment=LIFECYCLE_STOP_COMMAND=systemctl stop ${UNIT_NAME}
ExecStart=${WATCHER_PATH}
Restart=on-failure
RestartSec=5
StandardOutput=append:${WATCHER_LOG_FILE}
StandardError=append:${WATCHER_LOG_FILE}

[Install]
WantedBy=multi-user.target
`;
}

/** What the agent keeps of /metrics: a few fleet-level series, not every label (cost). */
export const SCRAPED_METRICS = [
  'chat_connected_sockets',
  'chat_messages_stored_total',
  'chat_dependency_errors_total',
  'nodejs_eventloop_lag_p99_seconds',
] as const;

export function renderCloudWatchAgentConfig(
  options: Pick<UserDataOptions, 'appLogGroupName' | 'metricsLogGroupName'>,
): string {
  const file = (path: string, stream: string) => ({
    file_path: path,
    log_group_name: options.appLogGroupName,
    log_stream_name: stream,
  });
  return JSON.stringify(
    {
      agent: { run_as_user: 'root' },
      logs: {
        logs_collected: {
          files: {
            collect_list: [
              file(LOG_FILE, '{instance_id}'),
              file(BOOT_LOG_FILE, '{instance_id}-bootstrap'),
              file(WATCHER_LOG_FILE, '{instance_id}-lifecycle'),
            ],
          },
        },
        metrics_collected: {
          prometheus: {
            prometheus_config_path: `${AGENT_DIR}/jobsphere-chat-prometheus.yaml`,
            log_group_name: options.metricsLogGroupName,
            emf_processor: {
              metric_namespace: METRICS_NAMESPACE,
              metric_declaration: [
                {
                  source_labels: ['job'],
                  label_matcher: '^jobsphere-chat$',
                  dimensions: [['job']],
                  metric_selectors: SCRAPED_METRICS.map((m) => `^${m}$`),
                },
              ],
            },
          },
        },
      },
    },
    null,
    2,
  );
}

export function renderPrometheusConfig(): string {
  return `global:
  scrape_interval: 60s
  scrape_timeout: 10s
scrape_configs:
  - job_name: jobsphere-chat
    metrics_path: /metrics
    static_configs:
      - targets: ['127.0.0.1:${METRICS_PORT}']
`;
}

/** Single-quoted shell literal. */
function sq(value: string): string {
  return `'${value.replaceAll("'", `'\\''`)}'`;
}

export function renderUserData(options: UserDataOptions): string {
  const unit = renderSystemdUnit(options);
  const watcherUnit = renderWatcherUnit(options);
  return `#!/bin/bash
# Boots one JobSphere chat gateway instance on Amazon Linux 2023.
# Rendered by infra/src/constructs/user-data.ts; edit it there, not on the host.
set -euo pipefail
exec > >(tee -a ${BOOT_LOG_FILE}) 2>&1

readonly REGION=${sq(options.region)}
readonly PARAM_PREFIX=${sq(options.paramPrefix)}
readonly BUNDLE_KEY=${sq(options.bundleKey)}
readonly NODE_MAJOR=${sq(String(options.nodeMajor))}
readonly APP_USER=${sq(APP_USER)}
readonly APP_ROOT=${sq(APP_ROOT)}
readonly ENV_FILE=${sq(ENV_FILE)}
readonly DOCDB_CA_FILE=${sq(DOCDB_CA_FILE)}
readonly AGENT_DIR=${sq(AGENT_DIR)}

# retry <attempts> <command...>: exponential backoff (2 s doubling, at most 30 s between tries).
retry() {
  local attempts=$1 attempt=1 delay=2
  shift
  until "$@"; do
    if ((attempt >= attempts)); then
      echo "bootstrap: giving up after $attempt attempts: $*" >&2
      return 1
    fi
    echo "bootstrap: attempt $attempt failed: $*; retrying in \${delay}s" >&2
    sleep "$delay"
    attempt=$((attempt + 1))
    delay=$((delay * 2 > 30 ? 30 : delay * 2))
  done
}

imds() {
  local token
  token=$(curl -fsS --max-time 2 -X PUT http://169.254.169.254/latest/api/token \\
    -H 'X-aws-ec2-metadata-token-ttl-seconds: 60')
  curl -fsS --max-time 2 -H "X-aws-ec2-metadata-token: $token" \\
    "http://169.254.169.254/latest/meta-data/$1"
}

param() {
  aws ssm get-parameter --region "$REGION" --name "$PARAM_PREFIX/$1" \\
    --query Parameter.Value --output text
}

secret() {
  aws secretsmanager get-secret-value --region "$REGION" --secret-id "$1" \\
    --query SecretString --output text
}

instance_id=$(retry 5 imds instance-id)

# A boot that cannot finish marks the instance unhealthy, so the group replaces it now instead
# of after the health check grace period (and an instance refresh stops and rolls back).
on_error() {
  echo "bootstrap: failed at line $1; reporting $instance_id unhealthy" >&2
  aws autoscaling set-instance-health --region "$REGION" --instance-id "$instance_id" \\
    --health-status Unhealthy --no-should-respect-grace-period || true
}
trap 'on_error $LINENO' ERR

echo "bootstrap: starting the CloudWatch agent first, so this boot can be read even if it fails"
retry 5 dnf install -y amazon-cloudwatch-agent
install -d -m 0750 /var/log/jobsphere-chat
cat >"$AGENT_DIR/jobsphere-chat.json" <<'AGENT'
${renderCloudWatchAgentConfig(options)}
AGENT
cat >"$AGENT_DIR/jobsphere-chat-prometheus.yaml" <<'PROMETHEUS'
${renderPrometheusConfig().trimEnd()}
PROMETHEUS
retry 3 /opt/aws/amazon-cloudwatch-agent/bin/amazon-cloudwatch-agent-ctl -a fetch-config -m ec2 -s \\
  -c "file:$AGENT_DIR/jobsphere-chat.json"

echo "bootstrap: installing Node.js $NODE_MAJOR"
retry 5 dnf install -y "nodejs$NODE_MAJOR" unzip
"/usr/bin/node-$NODE_MAJOR" --version

if ! id -u "$APP_USER" >/dev/null 2>&1; then
  useradd --system --home-dir "$APP_ROOT" --shell /sbin/nologin "$APP_USER"
fi
install -d -m 0755 -o root -g root "$APP_ROOT" "$APP_ROOT/releases" "$APP_ROOT/bin"
install -d -m 0700 -o root -g root "$(dirname "$ENV_FILE")"
chown "$APP_USER:$APP_USER" /var/log/jobsphere-chat

# The newest stored version of this launch template's bundle: the current object, or the
# noncurrent one a later deploy replaced (a rollback to an older template still boots).
fetch_bundle() {
  local version
  version=$(aws s3api list-object-versions --region "$REGION" --bucket "$bucket" \\
    --prefix "$BUNDLE_KEY" --query "Versions[?Key=='$BUNDLE_KEY'] | [0].VersionId" --output text)
  if [[ -z "$version" || "$version" == None ]]; then
    echo "bootstrap: s3://$bucket/$BUNDLE_KEY has no stored version" >&2
    return 1
  fi
  aws s3api get-object --region "$REGION" --bucket "$bucket" --key "$BUNDLE_KEY" \\
    --version-id "$version" "$archive" >/dev/null
}

echo "bootstrap: fetching gateway bundle $BUNDLE_KEY"
bucket=$(retry 5 param config/bundle-bucket)
release="$APP_ROOT/releases/$(basename "$(dirname "$BUNDLE_KEY")")"
archive=$(mktemp)
retry 5 fetch_bundle
rm -rf "$release"
install -d -m 0755 "$release"
unzip -q "$archive" -d "$release"
rm -f "$archive"
chown -R root:root "$release"
chmod -R go-w "$release"
ln -sfn "$release" "$APP_ROOT/current"

echo "bootstrap: fetching the DocumentDB CA bundle"
retry 5 curl -fsS --max-time 20 -o "$DOCDB_CA_FILE" ${sq(DOCDB_CA_URL)}
chmod 0644 "$DOCDB_CA_FILE"

echo "bootstrap: building $ENV_FILE from SSM (the gateway reads its rotating secrets itself)"
by_path() {
  aws ssm get-parameters-by-path --region "$REGION" --path "$PARAM_PREFIX/$1/" \\
    --query 'Parameters[].[Name,Value]' --output text
}
plain_env=$(retry 5 by_path env)
# Secret settings (JWT_SECRET, SERVICE_TOKEN_SECRET, WEBHOOK_SECRET): variable -> secret ARN.
secret_env=$(retry 5 by_path secret-env)
tmp_env=$(mktemp "$ENV_FILE.XXXXXX")
chmod 0600 "$tmp_env"
{
  while IFS=$'\\t' read -r name value; do
    if [[ -n "$name" ]]; then
      printf '%s=%s\\n' "\${name##*/}" "$value"
    fi
  done <<<"$plain_env"
  while IFS=$'\\t' read -r name arn; do
    if [[ -n "$name" ]]; then
      value=$(retry 5 secret "$arn")
      printf '%s=%s\\n' "\${name##*/}" "$value"
    fi
  done <<<"$secret_env"
} >"$tmp_env"
unset value
mv -f "$tmp_env" "$ENV_FILE"

cat >/etc/logrotate.d/jobsphere-chat <<'LOGROTATE'
/var/log/jobsphere-chat/*.log {
  daily
  rotate 7
  compress
  missingok
  notifempty
  copytruncate
}
LOGROTATE

echo "bootstrap: installing the lifecycle watcher"
cat >${WATCHER_PATH} <<'WATCHER'
${WATCHER_SCRIPT.trimEnd()}
WATCHER
chmod 0755 ${WATCHER_PATH}

echo "bootstrap: starting ${UNIT_NAME} and ${WATCHER_UNIT_NAME}"
cat >/etc/systemd/system/${UNIT_NAME} <<'UNIT'
${unit.trimEnd()}
UNIT
cat >/etc/systemd/system/${WATCHER_UNIT_NAME} <<'UNIT'
${watcherUnit.trimEnd()}
UNIT
systemctl daemon-reload
systemctl enable --now ${UNIT_NAME} ${WATCHER_UNIT_NAME}
echo "bootstrap: done"
`;
}
