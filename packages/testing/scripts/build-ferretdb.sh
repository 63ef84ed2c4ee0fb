#!/usr/bin/env bash
# Builds FerretDB (v1, SQLite backend: one Go binary, no other service) from the Go module proxy
# into a cache outside the clone, once; later runs reuse it. Prints the binary's path on stdout,
# and on stderr what it did and how long it took.
#
#   FERRETDB_BIN=<path>  use that binary, build nothing
#   GO_BIN=<path>        the go command (default: `go` on PATH, else /usr/local/go/bin/go)
#   cache: ${XDG_CACHE_HOME:-$HOME/.cache}/jobsphere/go (see go-cached-build.sh)
#
# Why not a bare `go install github.com/FerretDB/FerretDB/cmd/ferretdb@v1.24.0`: the module on the
# proxy lacks the generated build/version/version.txt, and a binary built from it panics at start
# ("Invalid build/version/version.txt file content"). So the module's source is downloaded with
# `go mod download`, copied, given its version.txt, and built with its own go.mod/go.sum (every
# dependency pinned by FerretDB's go.sum, fetched from the proxy).
set -euo pipefail
# shellcheck source=go-cached-build.sh
source "$(dirname "${BASH_SOURCE[0]}")/go-cached-build.sh"

version=v1.24.0

# build <go> <root> <dir>: FerretDB's module source, given its version.txt, built into <dir>.
build() {
  local go=$1 root=$2 out=$3 mod src
  mod=$("$go" mod download -json "github.com/FerretDB/FerretDB@$version" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')
  [[ -d "$mod" ]] || { echo "build-ferretdb: go mod download gave no source folder" >&2; exit 1; }
  src="$root/src/FerretDB-$version"
  rm -rf "$src"
  mkdir -p "$root/src"
  cp -R "$mod" "$src"
  chmod -R u+w "$src"
  echo "$version" >"$src/build/version/version.txt"
  (cd "$src" && "$go" build -trimpath -o "$out/ferretdb" ./cmd/ferretdb)
  rm -rf "$src"
}

go_cached_build ferretdb FerretDB "$version" build "building FerretDB $version from its module source"
