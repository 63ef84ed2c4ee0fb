#!/usr/bin/env bash
# Builds the deployable bundles from the lockfile: compiled dist/ plus production node_modules of
# one workspace app, with its workspace packages injected as real copies (pnpm deploy with
# inject-workspace-packages). Nothing else: no src/, test/, .env or dev-only package, and none of
# pnpm's bookkeeping (timestamps, this machine's paths), so the same source gives the same bundle.
#
#   bundle.sh [gateway|rotation|all]     (default: all)
#
# gateway  -> $GATEWAY_BUNDLE_DIR  (default infra/build/gateway-bundle), from @jobsphere/chat-gateway
# rotation -> $ROTATION_BUNDLE_DIR (default infra/build/docdb-rotation-bundle), from @jobsphere/docdb-rotation
# Relative directories are relative to infra/.
set -euo pipefail

infra_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
repo_dir=$(dirname "$infra_dir")
what=${1:-all}

absolute() {
  if [[ "$1" == /* ]]; then printf '%s\n' "$1"; else printf '%s\n' "$infra_dir/$1"; fi
}

# bundle <package> <app dir> <entry file> <output dir>
bundle() {
  local package=$1 app_dir=$2 entry=$3 out=$4
  if [[ ! -f "$repo_dir/$app_dir/package.json" ]]; then
    echo "bundle: $repo_dir/$app_dir/package.json not found" >&2
    return 1
  fi
  echo "bundle: building $package and its workspace dependencies"
  (cd "$repo_dir" && pnpm --silent --filter "$package..." run build)

  echo "bundle: writing $out"
  rm -rf "$out"
  # From the lockfile (frozen), production dependencies only, real directories (hoisted), and the
  # workspace packages copied in (injected) so the directory stands alone on the instance.
  (cd "$repo_dir" && pnpm --config.inject-workspace-packages=true --config.node-linker=hoisted \
    --filter "$package" deploy --prod --frozen-lockfile --prefer-offline "$out" >/dev/null)

  # pnpm's bookkeeping carries timestamps and absolute paths of this machine; the instance
  # needs none of it. .bin holds symbolic links, which the zip asset would not keep.
  rm -rf "$out/pnpm-lock.yaml" "$out/node_modules/.modules.yaml" "$out/node_modules/.pnpm" \
    "$out"/node_modules/.pnpm-workspace-state*.json
  find "$out/node_modules" -name .bin -prune -exec rm -rf {} +
  # Our injected packages carry what npm publishes (sources for their maps, README, LICENSE,
  # CHANGELOG); the instance runs only their compiled code.
  for workspace_package in "$out"/node_modules/@jobsphere/*/; do
    [[ -d "$workspace_package" ]] || continue
    find "$workspace_package" -mindepth 1 -maxdepth 1 ! -name dist ! -name package.json \
      -exec rm -rf {} +
  done
  # pnpm deploy rewrites workspace: dependencies to file: URLs of this checkout. The runtime only
  # needs the module type and entry point; node resolves everything else in node_modules.
  node -e '
    const fs = require("node:fs");
    const file = process.argv[1];
    const { name, version, type, main } = JSON.parse(fs.readFileSync(file, "utf8"));
    fs.writeFileSync(file, JSON.stringify({ name, version, private: true, type, main }, null, 2) + "\n");
  ' "$out/package.json"

  if [[ ! -f "$out/$entry" ]]; then
    echo "bundle: $out/$entry missing after the build" >&2
    return 1
  fi
  local links
  links=$(find "$out" -type l | head -5)
  if [[ -n "$links" ]]; then
    echo "bundle: $out still contains symbolic links:" >&2
    echo "$links" >&2
    return 1
  fi
  echo "bundle: $package ready ($(du -sh "$out" | cut -f1))"
}

case "$what" in
  gateway | rotation | all) ;;
  *)
    echo "usage: bundle.sh [gateway|rotation|all]" >&2
    exit 2
    ;;
esac
if [[ "$what" == gateway || "$what" == all ]]; then
  bundle @jobsphere/chat-gateway apps/chat-gateway dist/main.js \
    "$(absolute "${GATEWAY_BUNDLE_DIR:-build/gateway-bundle}")"
fi
if [[ "$what" == rotation || "$what" == all ]]; then
  bundle @jobsphere/docdb-rotation apps/docdb-rotation dist/handler.js \
    "$(absolute "${ROTATION_BUNDLE_DIR:-build/docdb-rotation-bundle}")"
fi
