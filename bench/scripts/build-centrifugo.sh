#!/usr/bin/env bash
# Builds Centrifugo from the Go module proxy (`go install github.com/centrifugal/centrifugo/v6@v6.9.1`)
# into a cache outside the clone, once; later runs reuse it. Prints the binary's path on stdout,
# and on stderr what it did and how long it took.
#
#   CENTRIFUGO_BIN=<path>  use that binary, build nothing
#   GO_BIN=<path>          the go command (default: `go` on PATH, else /usr/local/go/bin/go)
#   cache: ${XDG_CACHE_HOME:-$HOME/.cache}/jobsphere/go (GOPATH, GOMODCACHE, GOCACHE, the binary),
#   shared with packages/testing/scripts/build-ferretdb.sh.
set -euo pipefail

version=v6.9.1
if [[ -n "${CENTRIFUGO_BIN:-}" ]]; then
  [[ -x "$CENTRIFUGO_BIN" ]] || { echo "build-centrifugo: CENTRIFUGO_BIN=$CENTRIFUGO_BIN is not executable" >&2; exit 1; }
  echo "$CENTRIFUGO_BIN"
  exit 0
fi

root="${XDG_CACHE_HOME:-$HOME/.cache}/jobsphere/go"
bin="$root/bin/centrifugo-$version"
if [[ -x "$bin" ]]; then
  echo "build-centrifugo: Centrifugo $version cached at $bin (build skipped)" >&2
  echo "$bin"
  exit 0
fi

go=${GO_BIN:-}
if [[ -z "$go" ]]; then
  if command -v go >/dev/null 2>&1; then go=$(command -v go)
  elif [[ -x /usr/local/go/bin/go ]]; then go=/usr/local/go/bin/go
  else
    echo "build-centrifugo: no Go toolchain (not on PATH, not /usr/local/go/bin/go; set GO_BIN) to build Centrifugo $version" >&2
    exit 1
  fi
fi

mkdir -p "$root/bin"
# One build at a time (the lock is the FerretDB script's too: they share GOCACHE).
exec 9>"$root/.build.lock"
flock 9
if [[ -x "$bin" ]]; then
  echo "build-centrifugo: Centrifugo $version built by a concurrent run at $bin" >&2
  echo "$bin"
  exit 0
fi

export GOPATH="$root" GOMODCACHE="$root/pkg/mod" GOCACHE="$root/build-cache" GOFLAGS=-modcacherw \
  GOTOOLCHAIN=local CGO_ENABLED=0
start=$(date +%s%N)
echo "build-centrifugo: go install github.com/centrifugal/centrifugo/v6@$version with $("$go" version | cut -d' ' -f3) into $root (first run: a few minutes)" >&2
gobin=$(mktemp -d "$root/bin/.centrifugo-XXXXXX")
GOBIN="$gobin" "$go" install -trimpath "github.com/centrifugal/centrifugo/v6@$version"
mv "$gobin/centrifugo" "$bin"
rmdir "$gobin"
end=$(date +%s%N)
echo "build-centrifugo: built Centrifugo $version in $(( (end - start) / 1000000 )) ms at $bin" >&2
echo "$bin"
