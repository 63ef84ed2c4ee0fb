#!/usr/bin/env bash
# Builds FerretDB (v1, SQLite backend: one Go binary, no other service) from the Go module proxy
# into a cache outside the clone, once; later runs reuse it. Prints the binary's path on stdout,
# and on stderr what it did and how long it took.
#
#   FERRETDB_BIN=<path>  use that binary, build nothing
#   GO_BIN=<path>        the go command (default: `go` on PATH, else /usr/local/go/bin/go)
#   cache: ${XDG_CACHE_HOME:-$HOME/.cache}/jobsphere/go (GOPATH, GOMODCACHE, GOCACHE, the binary)
#
# Why not a bare `go install github.com/FerretDB/FerretDB/cmd/ferretdb@v1.24.0`: the module on the
# proxy lacks the generated build/version/version.txt, and a binary built from it panics at start
# ("Invalid build/version/version.txt file content"). So the module's source is downloaded with
# `go mod download`, copied, given its version.txt, and built with its own go.mod/go.sum (every
# dependency pinned by FerretDB's go.sum, fetched from the proxy).
set -euo pipefail

version=v1.24.0
if [[ -n "${FERRETDB_BIN:-}" ]]; then
  [[ -x "$FERRETDB_BIN" ]] || { echo "build-ferretdb: FERRETDB_BIN=$FERRETDB_BIN is not executable" >&2; exit 1; }
  echo "$FERRETDB_BIN"
  exit 0
fi

root="${XDG_CACHE_HOME:-$HOME/.cache}/jobsphere/go"
bin="$root/bin/ferretdb-$version"
if [[ -x "$bin" ]]; then
  echo "build-ferretdb: FerretDB $version cached at $bin (build skipped)" >&2
  echo "$bin"
  exit 0
fi

go=${GO_BIN:-}
if [[ -z "$go" ]]; then
  if command -v go >/dev/null 2>&1; then go=$(command -v go)
  elif [[ -x /usr/local/go/bin/go ]]; then go=/usr/local/go/bin/go
  else
    echo "build-ferretdb: no Go toolchain (not on PATH, not /usr/local/go/bin/go; set GO_BIN) to build FerretDB $version" >&2
    exit 1
  fi
fi

mkdir -p "$root/bin"
# One build at a time: parallel test processes wait for the first one's binary.
exec 9>"$root/.build.lock"
flock 9
if [[ -x "$bin" ]]; then
  echo "build-ferretdb: FerretDB $version built by a concurrent run at $bin" >&2
  echo "$bin"
  exit 0
fi

export GOPATH="$root" GOMODCACHE="$root/pkg/mod" GOCACHE="$root/build-cache" GOFLAGS=-modcacherw \
  GOTOOLCHAIN=local CGO_ENABLED=0
start=$(date +%s%N)
echo "build-ferretdb: building FerretDB $version with $("$go" version | cut -d' ' -f3) into $root (first run: a few minutes)" >&2
dir=$("$go" mod download -json "github.com/FerretDB/FerretDB@$version" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')
[[ -d "$dir" ]] || { echo "build-ferretdb: go mod download gave no source folder" >&2; exit 1; }
src="$root/src/FerretDB-$version"
rm -rf "$src"
mkdir -p "$root/src"
cp -R "$dir" "$src"
chmod -R u+w "$src"
echo "$version" >"$src/build/version/version.txt"
(cd "$src" && "$go" build -trimpath -o "$bin.tmp" ./cmd/ferretdb)
mv "$bin.tmp" "$bin"
rm -rf "$src"
end=$(date +%s%N)
echo "build-ferretdb: built FerretDB $version in $(( (end - start) / 1000000 )) ms at $bin" >&2
echo "$bin"
