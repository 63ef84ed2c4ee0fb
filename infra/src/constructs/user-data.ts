/**
 * Boot script and systemd unit of a gateway instance. Pure functions of plain strings, so the
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
  /** Gateway's SIGTERM drain bound; the unit waits longer before it kills. */
  readonly drainTimeoutMs: number;
}

export const APP_USER = 'jobsphere';
export const APP_ROOT = '/opt/jobsphere-chat';
export const ENV_FILE = '/etc/jobsphere-chat/gateway.env';
export const LOG_FILE = '/var/log/jobsphere-chat/gateway.log';
export const DOCDB_CA_FILE = `${APP_ROOT}/docdb-ca.pem`;
export const DOCDB_CA_URL = 'https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem';
export const UNIT_NAME = 'jobsphere-chat.service';

/** Seconds systemd waits after SIGTERM: the drain plus time to close Redis and Mongo clients. */
export function stopTimeoutSeconds(drainTimeoutMs: number): number {
  return Math.ceil(drainTimeoutMs / 1000) + 15;
}

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
EnvironmentFile=${ENV_FILE}
ExecStart=/usr/bin/node-${options.nodeMajor} dist/main.js
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

export function renderCloudWatchAgentConfig(appLogGroupName: string): string {
  return JSON.stringify(
    {
      agent: { run_as_user: 'root' },
      logs: {
        logs_collected: {
          files: {
            collect_list: [
              {
                file_path: LOG_FILE,
                log_group_name: appLogGroupName,
                log_stream_name: '{instance_id}',
              },
              {
                file_path: '/var/log/jobsphere-chat-bootstrap.log',
                log_group_name: appLogGroupName,
                log_stream_name: '{instance_id}-bootstrap',
              },
            ],
          },
        },
      },
    },
    null,
    2,
  );
}

/** Single-quoted shell literal. */
function sq(value: string): string {
  return `'${value.replaceAll("'", `'\\''`)}'`;
}

export function renderUserData(options: UserDataOptions): string {
  const unit = renderSystemdUnit(options);
  const agentConfig = renderCloudWatchAgentConfig(options.appLogGroupName);
  return `#!/bin/bash
# Boots one JobSphere chat gateway instance on Amazon Linux 2023.
# Rendered by infra/src/constructs/user-data.ts; edit it there, not on the host.
set -euo pipefail
exec > >(tee -a /var/log/jobsphere-chat-bootstrap.log) 2>&1

readonly REGION=${sq(options.region)}
readonly PARAM_PREFIX=${sq(options.paramPrefix)}
readonly BUNDLE_KEY=${sq(options.bundleKey)}
readonly NODE_MAJOR=${sq(String(options.nodeMajor))}
readonly APP_USER=${sq(APP_USER)}
readonly APP_ROOT=${sq(APP_ROOT)}
readonly ENV_FILE=${sq(ENV_FILE)}
readonly DOCDB_CA_FILE=${sq(DOCDB_CA_FILE)}

param() {
  aws ssm get-parameter --region "$REGION" --name "$PARAM_PREFIX/$1" \\
    --query Parameter.Value --output text
}

secret() {
  aws secretsmanager get-secret-value --region "$REGION" --secret-id "$1" \\
    --query SecretString --output text
}

echo "bootstrap: installing Node.js $NODE_MAJOR and tools"
dnf install -y "nodejs$NODE_MAJOR" jq unzip amazon-cloudwatch-agent
"/usr/bin/node-$NODE_MAJOR" --version

if ! id -u "$APP_USER" >/dev/null 2>&1; then
  useradd --system --home-dir "$APP_ROOT" --shell /sbin/nologin "$APP_USER"
fi
install -d -m 0755 -o root -g root "$APP_ROOT" "$APP_ROOT/releases"
install -d -m 0700 -o root -g root "$(dirname "$ENV_FILE")"
install -d -m 0750 -o "$APP_USER" -g "$APP_USER" /var/log/jobsphere-chat

echo "bootstrap: fetching gateway bundle $BUNDLE_KEY"
bucket=$(param config/bundle-bucket)
release="$APP_ROOT/releases/$(basename "$(dirname "$BUNDLE_KEY")")"
archive=$(mktemp)
aws s3 cp --region "$REGION" --only-show-errors "s3://$bucket/$BUNDLE_KEY" "$archive"
rm -rf "$release"
install -d -m 0755 "$release"
unzip -q "$archive" -d "$release"
rm -f "$archive"
chown -R root:root "$release"
chmod -R go-w "$release"
ln -sfn "$release" "$APP_ROOT/current"

echo "bootstrap: fetching the DocumentDB CA bundle"
curl -fsS --retry 5 --retry-connrefused -o "$DOCDB_CA_FILE" ${sq(DOCDB_CA_URL)}
chmod 0644 "$DOCDB_CA_FILE"

echo "bootstrap: building $ENV_FILE from SSM and Secrets Manager"
redis_password=$(secret "$(param config/redis-secret-arn)")
jwt_secret=$(secret "$(param config/jwt-secret-arn)")
docdb_secret=$(secret "$(param config/docdb-secret-arn)")
docdb_host=$(param config/docdb-endpoint)
docdb_user=$(jq -r '.username | @uri' <<<"$docdb_secret")
docdb_password=$(jq -r '.password | @uri' <<<"$docdb_secret")
plain_env=$(aws ssm get-parameters-by-path --region "$REGION" --path "$PARAM_PREFIX/env/" \\
  --query 'Parameters[].[Name,Value]' --output text)
tmp_env=$(mktemp "$ENV_FILE.XXXXXX")
{
  while IFS=$'\\t' read -r name value; do
    if [[ -n "$name" ]]; then
      printf '%s=%s\\n' "\${name##*/}" "$value"
    fi
  done <<<"$plain_env"
  printf 'REDIS_PASSWORD=%s\\n' "$redis_password"
  printf 'JWT_SECRET=%s\\n' "$jwt_secret"
  printf 'MONGODB_URI=mongodb://%s:%s@%s:27017/jobsphere?tls=true&tlsCAFile=%s&replicaSet=rs0&readPreference=secondaryPreferred&retryWrites=false\\n' \\
    "$docdb_user" "$docdb_password" "$docdb_host" "$DOCDB_CA_FILE"
} >"$tmp_env"
chmod 0600 "$tmp_env"
mv -f "$tmp_env" "$ENV_FILE"
unset redis_password jwt_secret docdb_secret docdb_password

echo "bootstrap: shipping logs to CloudWatch"
cat >/opt/aws/amazon-cloudwatch-agent/etc/jobsphere-chat.json <<'AGENT'
${agentConfig}
AGENT
/opt/aws/amazon-cloudwatch-agent/bin/amazon-cloudwatch-agent-ctl -a fetch-config -m ec2 -s \\
  -c file:/opt/aws/amazon-cloudwatch-agent/etc/jobsphere-chat.json

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

echo "bootstrap: starting ${UNIT_NAME}"
cat >/etc/systemd/system/${UNIT_NAME} <<'UNIT'
${unit.trimEnd()}
UNIT
systemctl daemon-reload
systemctl enable --now ${UNIT_NAME}
echo "bootstrap: done"
`;
}
