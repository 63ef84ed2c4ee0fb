#!/usr/bin/env bash
# Rotates the Redis AUTH token of one environment without downtime:
#
#   1. a new random token is stored in Secrets Manager as AWSPENDING (gateways ignore it);
#   2. ElastiCache accepts both tokens (modify-replication-group, strategy ROTATE);
#   3. the new token becomes AWSCURRENT: gateways re-read the secret every SECRETS_REFRESH_MS
#      and on any authentication failure, so each picks it up for its next connection;
#   4. after the gateways had time to read it, ElastiCache accepts only the new token (SET).
#
#   CHAT_ENV=dev|prod rotate-redis-auth.sh
#
# The token never appears on a command line (it is passed in files readable only by you).
# ROTATION_PROPAGATION_SECONDS (default 150: twice the gateway's 60 s refresh plus margin) is how
# long step 4 waits after step 3.
set -euo pipefail

aws_cli=${AWS_CLI:-aws}
propagation_seconds=${ROTATION_PROPAGATION_SECONDS:-150}
case "${CHAT_ENV:-}" in
  dev | prod) prefix="jobsphere-chat-$CHAT_ENV" ;;
  *)
    echo "rotate-redis-auth: set CHAT_ENV=dev or CHAT_ENV=prod" >&2
    exit 2
    ;;
esac
group="$prefix-redis"
secret="$prefix/redis-auth-token"
region=${AWS_REGION:-${AWS_DEFAULT_REGION:-us-east-1}}

aws() { command "$aws_cli" --region "$region" "$@"; }
log() { echo "rotate-redis-auth: $*" >&2; }

work=$(mktemp -d)
chmod 0700 "$work"
trap 'rm -rf "$work"' EXIT

wait_available() {
  log "waiting for $group to be available"
  aws elasticache wait replication-group-available --replication-group-id "$group"
}

# modify_token <ROTATE|SET>: the token goes in a file, never in argv.
modify_token() {
  node -e '
    const fs = require("node:fs");
    const [group, strategy, tokenFile, out] = process.argv.slice(1);
    const token = fs.readFileSync(tokenFile, "utf8");
    fs.writeFileSync(out, JSON.stringify({ ReplicationGroupId: group, AuthToken: token,
      AuthTokenUpdateStrategy: strategy, ApplyImmediately: true }), { mode: 0o600 });
  ' "$group" "$1" "$work/token" "$work/modify.json"
  aws elasticache modify-replication-group --cli-input-json "file://$work/modify.json" >/dev/null
  rm -f "$work/modify.json"
}

status=$(aws elasticache describe-replication-groups --replication-group-id "$group" \
  --query 'ReplicationGroups[0].Status' --output text)
auth=$(aws elasticache describe-replication-groups --replication-group-id "$group" \
  --query 'ReplicationGroups[0].AuthTokenEnabled' --output text)
if [[ "$status" != available || "$auth" != True ]]; then
  log "$group must be available with AUTH enabled (status $status, AUTH $auth)"
  exit 1
fi

current_version=$(aws secretsmanager get-secret-value --secret-id "$secret" \
  --query VersionId --output text)

log "1/4 storing a new token as AWSPENDING"
(umask 077 && aws secretsmanager get-random-password --password-length 64 --exclude-punctuation \
  --require-each-included-type --query RandomPassword --output text | tr -d '\n' >"$work/token")
pending_version=$(aws secretsmanager put-secret-value --secret-id "$secret" \
  --secret-string "file://$work/token" --version-stages AWSPENDING --query VersionId --output text)

log "2/4 ElastiCache accepts the old and the new token (ROTATE)"
modify_token ROTATE
wait_available

log "3/4 the new token becomes AWSCURRENT (gateways pick it up on their next read)"
aws secretsmanager update-secret-version-stage --secret-id "$secret" --version-stage AWSCURRENT \
  --move-to-version-id "$pending_version" --remove-from-version-id "$current_version" >/dev/null
aws secretsmanager update-secret-version-stage --secret-id "$secret" --version-stage AWSPENDING \
  --remove-from-version-id "$pending_version" >/dev/null
log "waiting ${propagation_seconds}s for every gateway to re-read the secret"
sleep "$propagation_seconds"

log "4/4 ElastiCache accepts only the new token (SET)"
modify_token SET
wait_available
log "done: $group uses the token of secret version $pending_version"
