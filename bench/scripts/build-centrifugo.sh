#!/usr/bin/env bash
# Builds Centrifugo from the Go module proxy (`go install github.com/centrifugal/centrifugo/v6@v6.9.1`)
# into a cache outside the clone, once; later runs reuse it. Prints the binary's path on stdout,
# and on stderr what it did and how long it took.
#
#   CENTRIFUGO_BIN=<path>  use that binary, build nothing
#   GO_BIN=<path>          the go command (default: `go` on PATH, else /usr/local/go/bin/go)
#   cache: ${XDG_CACHE_HOME:-$HOME/.cache}/jobsphere/go, shared with FerretDB's build (the
#   cached-build steps are @jobsphere/testing's scripts/go-cached-build.sh).
set -euo pipefail
# shellcheck source=../../packages/testing/scripts/go-cached-build.sh
source "$(dirname "${BASH_SOURCE[0]}")/../node_modules/@jobsphere/testing/scripts/go-cached-build.sh"

version=v6.9.1
module="github.com/centrifugal/centrifugo/v6@$version"

# build <go> <root> <dir>: go install into <dir>.
build() {
  GOBIN="$3" "$1" install -trimpath "$module"
}

go_cached_build centrifugo Centrifugo "$version" build "go install $module"
