#!/usr/bin/env bash
# Plans, applies or destroys one stack with plain Terraform (or OpenTofu) on the synthesized JSON.
#
#   CHAT_ENV=dev|prod deploy.sh plan|apply|destroy
#
# apply and destroy show the plan and apply exactly that saved plan once approved: typed at the
# terminal (stdin; under turbo that is its interactive task in the terminal UI), or
# DEPLOY_AUTO_APPROVE=1 for a run without a terminal (CI). Without either it stops at once, before
# building anything. Needs AWS credentials (any form the AWS CLI and SDKs read), terraform
# >= 1.10 on PATH (or OpenTofu >= 1.10 with TERRAFORM_BINARY_NAME=tofu), the deploy inputs
# (infra/deploy-inputs.json or CHAT_* variables) and the state bucket (scripts/bootstrap-state.sh).
set -euo pipefail

action=${1:-}
infra_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
binary=${TERRAFORM_BINARY_NAME:-terraform}

fail() {
  echo "deploy: $*" >&2
  exit 2
}

case "$action" in
  plan | apply | destroy) ;;
  *) fail "usage: CHAT_ENV=dev|prod deploy.sh plan|apply|destroy" ;;
esac
case "${CHAT_ENV:-}" in
  dev | prod) stack="jobsphere-chat-$CHAT_ENV" ;;
  *) fail "set CHAT_ENV=dev or CHAT_ENV=prod" ;;
esac

# Decide how the plan gets approved before doing anything slow.
approval=none
if [[ "$action" != plan ]]; then
  if [[ "${DEPLOY_AUTO_APPROVE:-}" == 1 ]]; then
    approval=auto
  elif [[ -t 0 ]]; then
    approval=prompt
  else
    fail "no terminal to approve the $action of $stack: run it from a terminal (pnpm run deploy), or set DEPLOY_AUTO_APPROVE=1 to apply the plan without asking (CI)"
  fi
fi

if ! command -v "$binary" >/dev/null 2>&1; then
  fail "'$binary' not on PATH: install terraform >= 1.10 (or OpenTofu >= 1.10 with TERRAFORM_BINARY_NAME=tofu)"
fi

export CHECKPOINT_DISABLE=1 CHAT_ENV
if [[ "$action" != destroy ]]; then
  # A deploy ships the real bundles; build them unless they were given.
  if [[ -z "${GATEWAY_BUNDLE_DIR:-}" || -z "${ROTATION_BUNDLE_DIR:-}" ]]; then
    bash "$infra_dir/scripts/bundle.sh" all
  fi
  export CHAT_REQUIRE_BUNDLE=1
fi
# Compile the app when its sources changed since the last build (turbo's deploy already built it).
if [[ ! -f "$infra_dir/dist/main.js" || -n "$(find "$infra_dir/src" -newer "$infra_dir/dist/main.js" -print -quit)" ]]; then
  (cd "$infra_dir" && pnpm --silent run build)
fi
(cd "$infra_dir" && node dist/main.js)

stack_dir="${CDKTF_OUTDIR:-$infra_dir/cdktf.out}/stacks/$stack"
plan_file="$stack.tfplan"
# Synth recreates the stack folder; keep the downloaded providers across runs.
export TF_PLUGIN_CACHE_DIR=${TF_PLUGIN_CACHE_DIR:-$HOME/.terraform.d/plugin-cache}
mkdir -p "$TF_PLUGIN_CACHE_DIR"
cd "$stack_dir"
"$binary" init -input=false
plan_args=(-input=false -out="$plan_file")
if [[ "$action" == destroy ]]; then plan_args+=(-destroy); fi
"$binary" plan "${plan_args[@]}"
if [[ "$action" == plan ]]; then
  echo "deploy: plan only; nothing applied"
  exit 0
fi

if [[ "$approval" == prompt ]]; then
  printf '\ndeploy: %s the plan above to %s? Type the stack name to approve: ' "$action" "$stack"
  read -r answer || answer=''
  if [[ "$answer" != "$stack" ]]; then
    echo "deploy: not approved (got '$answer'); nothing applied" >&2
    exit 1
  fi
fi
"$binary" apply -input=false "$plan_file"
rm -f "$plan_file"
if [[ "$action" == apply ]]; then
  "$binary" output
  echo "deploy: $stack applied; confirm the alarm e-mail subscription once if this was the first deploy"
fi
