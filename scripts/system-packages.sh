#!/usr/bin/env bash
# First step of `pnpm test`: the system programs the suite runs for real (redis-server, nginx,
# Chromium, shellcheck, openssl, curl, Python's venv),
# then the outside judges' virtual environment (scripts/python-tools.sh: checkov and
# schemathesis from PyPI, outside the clone, reused on the next run). Missing system packages are
# installed when it can (root or password-less sudo, and apt-get: Debian or Ubuntu), or it stops
# at once naming them all in one line. Then FerretDB, the
# independent server the store suites run on: built once from the Go module proxy into
# ${XDG_CACHE_HOME:-~/.cache}/jobsphere/go (packages/testing/scripts/build-ferretdb.sh, which
# prints how long it took), reused on later runs; not needed when MONGODB_URI names the server.
# Centrifugo likewise (bench/scripts/build-centrifugo.sh, same cache): a target of `bench --quick`.
#
# Overrides the suite already honours skip a check: REDIS_SERVER_BIN, REDIS_CLI_BIN, NGINX_BIN,
# CHROMIUM_PATH, SHELLCHECK_BIN, FERRETDB_BIN (a FerretDB v1 binary: no build).
set -euo pipefail

missing=()

# need_program <package> <path or command name>
need_program() {
  if [[ ! -x "$2" ]] && ! command -v "$2" >/dev/null 2>&1; then missing+=("$1"); fi
}

check_all() {
  missing=()
  need_program redis-server "${REDIS_SERVER_BIN:-redis-server}"
  need_program redis-tools "${REDIS_CLI_BIN:-redis-cli}"
  need_program nginx "${NGINX_BIN:-/usr/sbin/nginx}"
  need_program chromium "${CHROMIUM_PATH:-/usr/bin/chromium}"
  need_program shellcheck "${SHELLCHECK_BIN:-/usr/bin/shellcheck}"
  need_program openssl openssl
  need_program curl curl
  if ! python3 -c 'import ensurepip, venv' >/dev/null 2>&1; then missing+=(python3-venv); fi
}

python_tools() {
  bash "$(dirname "${BASH_SOURCE[0]}")/python-tools.sh" >/dev/null
}

ferretdb() {
  if [[ -n "${MONGODB_URI:-}" ]]; then return 0; fi
  bash "$(dirname "${BASH_SOURCE[0]}")/../packages/testing/scripts/build-ferretdb.sh" >/dev/null
}

centrifugo() {
  bash "$(dirname "${BASH_SOURCE[0]}")/../bench/scripts/build-centrifugo.sh" >/dev/null
}

# What the suite builds or installs beside the system packages, once those are all there.
tools() {
  python_tools
  ferretdb
  centrifugo
}

check_all
if ((${#missing[@]} == 0)); then
  tools
  exit 0
fi

sudo=()
if [[ "$(id -u)" -ne 0 ]]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    sudo=(sudo)
  fi
fi
if command -v apt-get >/dev/null 2>&1 && { [[ "$(id -u)" -eq 0 ]] || ((${#sudo[@]} > 0)); }; then
  echo "system-packages: installing ${missing[*]}" >&2
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" >/dev/null
  check_all
  if ((${#missing[@]} == 0)); then
    tools
    exit 0
  fi
fi
echo "system-packages: the tests need these system packages: ${missing[*]} (sudo apt-get install -y ${missing[*]})" >&2
exit 1
