#!/usr/bin/env bash
# Runs `cdktf deploy|destroy|diff` for one stack, chosen by STACK (jobsphere-chat-dev|prod) or
# CHAT_ENV (dev|prod). Needs AWS credentials in the usual places (AWS_PROFILE, AWS_ACCESS_KEY_ID
# and friends, or an instance/SSO role) and a terraform >= 1.6 binary on PATH; for OpenTofu set
# TERRAFORM_BINARY_NAME=tofu. CDKTF_AUTO_APPROVE=1 skips the interactive approval.
set -euo pipefail

action=${1:?usage: cdktf.sh deploy|destroy|diff}
infra_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$infra_dir"

stack=${STACK:-}
if [[ -z "$stack" ]]; then
  case "${CHAT_ENV:-}" in
    dev | prod) stack="jobsphere-chat-$CHAT_ENV" ;;
    *)
      echo "cdktf.sh: set STACK=jobsphere-chat-dev|jobsphere-chat-prod or CHAT_ENV=dev|prod" >&2
      exit 2
      ;;
  esac
fi
case "$stack" in
  jobsphere-chat-dev | jobsphere-chat-prod) ;;
  *) echo "cdktf.sh: unknown stack '$stack'" >&2; exit 2 ;;
esac

binary=${TERRAFORM_BINARY_NAME:-terraform}
if ! command -v "$binary" >/dev/null 2>&1; then
  echo "cdktf.sh: '$binary' not on PATH: install terraform >= 1.6 (or OpenTofu with TERRAFORM_BINARY_NAME=tofu)" >&2
  exit 2
fi

export CHECKPOINT_DISABLE=1
args=()
if [[ "$action" == deploy ]]; then
  # A deploy ships the real gateway: build it now unless a bundle directory was given.
  if [[ -z "${GATEWAY_BUNDLE_DIR:-}" ]]; then
    bash "$infra_dir/scripts/bundle.sh"
  fi
  export CHAT_REQUIRE_BUNDLE=1
fi
if [[ "$action" != diff && "${CDKTF_AUTO_APPROVE:-}" == 1 ]]; then
  args+=(--auto-approve)
fi
pnpm run build
exec pnpm exec cdktf "$action" "$stack" "${args[@]}"
