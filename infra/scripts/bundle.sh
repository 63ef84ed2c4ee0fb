#!/usr/bin/env bash
# Builds the deployable gateway bundle: apps/chat-gateway's dist/, package.json and production
# node_modules with its workspace packages compiled and injected (pnpm deploy). Writes
# infra/build/gateway-bundle, or $GATEWAY_BUNDLE_DIR (absolute or relative to infra/).
# Native dependencies are built for this machine: run it on linux x64 (the instances' platform).
set -euo pipefail

infra_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
repo_dir=$(dirname "$infra_dir")
out=${GATEWAY_BUNDLE_DIR:-build/gateway-bundle}
[[ "$out" == /* ]] || out="$infra_dir/$out"
gateway_dir="$repo_dir/apps/chat-gateway"

if [[ ! -f "$gateway_dir/package.json" ]]; then
  echo "bundle: $gateway_dir/package.json not found; the gateway must exist to be bundled" >&2
  exit 1
fi

cd "$repo_dir"
echo "bundle: building @jobsphere/chat-gateway and its workspace dependencies"
pnpm --filter '@jobsphere/chat-gateway...' run build

echo "bundle: writing $out"
rm -rf "$out"
# Hoisted: real directories, no symlinks, so the zip asset unpacks the same on the instance.
pnpm --filter @jobsphere/chat-gateway deploy --prod --legacy --config.node-linker=hoisted "$out"
# pnpm deploy packs by the package's "files"; a gateway without one would lose the ignored dist/.
if [[ ! -f "$out/dist/main.js" ]]; then
  cp -R "$gateway_dir/dist" "$out/dist"
fi
if [[ ! -f "$out/dist/main.js" ]]; then
  echo "bundle: $out/dist/main.js missing after the build" >&2
  exit 1
fi
echo "bundle: ready ($(du -sh "$out" | cut -f1)); the instances run 'node dist/main.js' in it"
