# shellcheck shell=bash
# Sourced, not run: the part of building a Go program once from the Go module proxy into a cache
# outside the clone that every such build shares (scripts/build-ferretdb.sh here,
# bench/scripts/build-centrifugo.sh through @jobsphere/testing). Later runs reuse the binary.
#
#   go_cached_build <name> <label> <version> <build-function> <what>
#
# Prints the binary's path on stdout, and on stderr, each line prefixed `build-<name>:`, what it
# did (<what>: how it builds) and how long it took. `<NAME>_BIN=<path>` (e.g. FERRETDB_BIN) uses
# that binary and builds nothing; GO_BIN names the go command (default: `go` on PATH, else
# /usr/local/go/bin/go). The cache, ${XDG_CACHE_HOME:-$HOME/.cache}/jobsphere/go, holds GOPATH,
# GOMODCACHE, GOCACHE and the binaries (bin/<name>-<version>), one build at a time under a lock.
#
# <build-function> is called as `<build-function> <go> <root> <dir>` with GOPATH, GOMODCACHE,
# GOCACHE, GOFLAGS, GOTOOLCHAIN and CGO_ENABLED exported for the cache; it writes the binary to
# <dir>/<name>.
go_cached_build() {
  local name=$1 label=$2 version=$3 build=$4 what=$5
  local tag="build-$name" override="${name^^}_BIN"
  if [[ -n "${!override:-}" ]]; then
    [[ -x "${!override}" ]] || { echo "$tag: $override=${!override} is not executable" >&2; return 1; }
    echo "${!override}"
    return 0
  fi

  local root="${XDG_CACHE_HOME:-$HOME/.cache}/jobsphere/go"
  local bin="$root/bin/$name-$version"
  if [[ -x "$bin" ]]; then
    echo "$tag: $label $version cached at $bin (build skipped)" >&2
    echo "$bin"
    return 0
  fi

  local go=${GO_BIN:-}
  if [[ -z "$go" ]]; then
    if command -v go >/dev/null 2>&1; then go=$(command -v go)
    elif [[ -x /usr/local/go/bin/go ]]; then go=/usr/local/go/bin/go
    else
      echo "$tag: no Go toolchain (not on PATH, not /usr/local/go/bin/go; set GO_BIN) to build $label $version" >&2
      return 1
    fi
  fi

  mkdir -p "$root/bin"
  # One build at a time (they share GOCACHE): parallel test processes wait for the first one's binary.
  exec 9>"$root/.build.lock"
  flock 9
  if [[ -x "$bin" ]]; then
    echo "$tag: $label $version built by a concurrent run at $bin" >&2
    echo "$bin"
    return 0
  fi

  export GOPATH="$root" GOMODCACHE="$root/pkg/mod" GOCACHE="$root/build-cache" GOFLAGS=-modcacherw \
    GOTOOLCHAIN=local CGO_ENABLED=0
  local start end dir
  start=$(date +%s%N)
  echo "$tag: $what with $("$go" version | cut -d' ' -f3) into $root (first run: a few minutes)" >&2
  dir=$(mktemp -d "$root/bin/.$name-XXXXXX")
  "$build" "$go" "$root" "$dir"
  mv "$dir/$name" "$bin"
  rmdir "$dir"
  end=$(date +%s%N)
  echo "$tag: built $label $version in $(( (end - start) / 1000000 )) ms at $bin" >&2
  echo "$bin"
}
