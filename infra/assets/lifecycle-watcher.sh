#!/usr/bin/env bash
# Lifecycle watcher of a JobSphere chat gateway instance (systemd: jobsphere-chat-lifecycle).
#
# When the Auto Scaling group terminates this instance (an instance refresh, a scale-in, a
# replacement), the instance metadata's autoscaling/target-lifecycle-state turns "Terminated" at
# once, while the load balancer is only starting to deregister it and every websocket is still
# connected. This watcher then stops the gateway (SIGTERM: /health turns 503, clients get
# `server:draining` and reconnect through the load balancer to another instance, which syncs
# them), and afterwards completes the termination lifecycle action so the group goes on. The
# group enters Terminating:Wait only after the deregistration delay, so completing is retried
# until the action exists (or the hook's heartbeat timeout lets the group go on by itself).
#
# Settings (environment):
#   ASG_NAME, LIFECYCLE_HOOK_NAME, AWS_REGION  the group and hook to complete (required)
#   LIFECYCLE_POLL_SECONDS   how often to read the state (default 5)
#   LIFECYCLE_STOP_COMMAND   how to stop the gateway, waiting until it exited
#                            (default: systemctl stop jobsphere-chat.service)
#   IMDS_ENDPOINT            instance metadata service (default http://169.254.169.254)
#   AWS_CLI                  the AWS CLI (default aws)
#   LIFECYCLE_COMPLETE_ATTEMPTS, LIFECYCLE_COMPLETE_INTERVAL_SECONDS  retries of the completion
#                            (default 60 every 5 s: five minutes, the hook's heartbeat timeout)
set -euo pipefail

: "${ASG_NAME:?ASG_NAME is required}"
: "${LIFECYCLE_HOOK_NAME:?LIFECYCLE_HOOK_NAME is required}"
: "${AWS_REGION:?AWS_REGION is required}"
imds_endpoint=${IMDS_ENDPOINT:-http://169.254.169.254}
poll_seconds=${LIFECYCLE_POLL_SECONDS:-5}
stop_command=${LIFECYCLE_STOP_COMMAND:-systemctl stop jobsphere-chat.service}
aws_cli=${AWS_CLI:-aws}
complete_attempts=${LIFECYCLE_COMPLETE_ATTEMPTS:-60}
complete_interval=${LIFECYCLE_COMPLETE_INTERVAL_SECONDS:-5}

log() {
  printf '%s lifecycle-watcher: %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*"
}

# imds <path>: one IMDSv2 read with a fresh token; every call has a 2 s deadline.
imds() {
  local token
  token=$(curl -fsS --max-time 2 -X PUT "$imds_endpoint/latest/api/token" \
    -H 'X-aws-ec2-metadata-token-ttl-seconds: 60') || return 1
  curl -fsS --max-time 2 -H "X-aws-ec2-metadata-token: $token" \
    "$imds_endpoint/latest/meta-data/$1"
}

instance_id=''
for _ in $(seq 1 30); do
  if instance_id=$(imds instance-id) && [[ -n "$instance_id" ]]; then break; fi
  sleep 1
done
if [[ -z "$instance_id" ]]; then
  log "no instance id from $imds_endpoint after 30 attempts"
  exit 1
fi
log "watching $instance_id in $ASG_NAME (every ${poll_seconds}s)"

state=''
while :; do
  # A failed read (IMDS busy, throttled) is retried at the next poll, never taken as a state.
  state=$(imds autoscaling/target-lifecycle-state 2>/dev/null) || state=''
  case "$state" in
    Terminated | Warmed:Terminated) break ;;
  esac
  sleep "$poll_seconds"
done

log "target lifecycle state is $state: stopping the gateway while its clients are connected"
started=$(date +%s)
if bash -c "$stop_command"; then
  log "gateway stopped after $(($(date +%s) - started)) s"
else
  log "stop command failed (exit $?) after $(($(date +%s) - started)) s; completing anyway"
fi

for attempt in $(seq 1 "$complete_attempts"); do
  if output=$("$aws_cli" autoscaling complete-lifecycle-action --region "$AWS_REGION" \
    --auto-scaling-group-name "$ASG_NAME" --lifecycle-hook-name "$LIFECYCLE_HOOK_NAME" \
    --instance-id "$instance_id" --lifecycle-action-result CONTINUE 2>&1); then
    log "lifecycle action completed (attempt $attempt): the group terminates $instance_id"
    exit 0
  fi
  # Before the deregistration delay ends there is no action to complete yet ("No active
  # Lifecycle Action found"): wait for it.
  log "completing the lifecycle action failed (attempt $attempt): ${output//$'\n'/ }"
  sleep "$complete_interval"
done
log "gave up completing the lifecycle action; the hook's heartbeat timeout lets the group go on"
exit 1
