#!/usr/bin/env bash
# Installs the pinned Go-built tools GigaChat needs locally (Temporal CLI, SeaweedFS) into a cache dir,
# once. Each tool lives in its own versioned directory, so bumping a pin never reuses an old binary.
#
#   bash deploy/tools.sh [install [tool...]] install the missing tools (default temporal and weed; compose, the
#                                            `docker compose` v2 plugin, only when named), print where each is
#   bash deploy/tools.sh path <tool>         print the binary path only (installs it first if missing;
#                                            progress goes to stderr, stdout is just the path)
#   bash deploy/tools.sh where <tool>        print where a tool's binary is (or would be); never installs
#   bash deploy/tools.sh list                print the pinned tools and whether each is installed
#
# Env: GIGACHAT_TOOLS_DIR (default $HOME/.cache/gigachat/tools), GO (go binary, default: go on PATH,
# else /usr/local/go/bin/go).
#
# Go is needed only when something has to be built; without it that fails with a message (exit 1).
# Installs are atomic: the build writes into a temporary directory inside the tools dir (GOBIN for
# `go install`, -o for `go build`) and the binary is moved into place only when the build succeeded and the
# binary runs, so a killed build never leaves a half-written binary that later counts as "present"; a
# binary only counts as present when `<tool> --version`/`weed version` succeeds. Concurrent runs of this
# script serialise on a lock file per tool, and if the same `go install` is already running elsewhere (a
# build started by hand), this script waits for it instead of starting a competing build.
set -euo pipefail

TOOLS="${GIGACHAT_TOOLS_DIR:-${HOME:?HOME is not set}/.cache/gigachat/tools}"

# Pins. Temporal CLI v1.6.0+ cannot be go-installed here, so it stays on v1.5.1.
readonly TEMPORAL_PKG=github.com/temporalio/cli/cmd/temporal
readonly TEMPORAL_VERSION=v1.5.1
readonly TEMPORAL_DIR=temporal-v1.5.1
# SeaweedFS's go.mod has a `replace` directive, which `go install pkg@version` refuses ("The go.mod file
# for the module providing named packages contains one or more replace directives"). So weed is built
# from the downloaded module source as the main module (`go build ./weed`), which honours the replace.
readonly WEED_MODULE=github.com/seaweedfs/seaweedfs
readonly WEED_PKG=github.com/seaweedfs/seaweedfs/weed
readonly WEED_VERSION=v0.0.0-20261109003541-7506e5f91cd6
readonly WEED_DIR=weed-20261109003541
# Docker Compose v2 (`docker compose config` validates docker-compose.yml; Debian's docker.io ships without it). Its
# go.mod has exclude directives, which `go install pkg@version` refuses too: built like weed. v5.6.0 is the newest
# release whose go directive this machine's Go 1.26.8 satisfies without downloading a toolchain.
readonly COMPOSE_MODULE=github.com/docker/compose/v5
readonly COMPOSE_PKG=github.com/docker/compose/v5/cmd
readonly COMPOSE_VERSION=v5.6.0
readonly COMPOSE_DIR=compose-v5.6.0
readonly ALL_TOOLS=(temporal weed compose)
readonly DEFAULT_TOOLS=(temporal weed)

log() { printf '[gigachat] %s\n' "$*" >&2; }
die() {
  log "error: $*"
  exit 1
}

usage() {
  cat >&2 <<EOF
usage: bash deploy/tools.sh [install [tool...]]  install missing tools (default: ${DEFAULT_TOOLS[*]}; known: ${ALL_TOOLS[*]})
       bash deploy/tools.sh path <tool>          print a tool's binary path (installing it if missing)
       bash deploy/tools.sh where <tool>         print where a tool's binary is or would be (no install)
       bash deploy/tools.sh list                 show pinned tools and whether they are installed
tools dir: ${TOOLS}  (GIGACHAT_TOOLS_DIR)
EOF
}

# tool_spec NAME -> sets PKG, VERSION, DIR, METHOD (go-install|module-build), MODULE and LDFLAGS (module-build), BIN,
# VERSION_ARGS
tool_spec() {
  case "$1" in
    temporal)
      PKG=$TEMPORAL_PKG VERSION=$TEMPORAL_VERSION DIR=$TEMPORAL_DIR METHOD=go-install
      VERSION_ARGS=(--version)
      ;;
    weed)
      PKG=$WEED_PKG VERSION=$WEED_VERSION DIR=$WEED_DIR METHOD=module-build MODULE=$WEED_MODULE
      LDFLAGS="-s -w -X ${WEED_MODULE}/weed/util/version.COMMIT=${WEED_VERSION##*-}"
      VERSION_ARGS=(version)
      ;;
    compose)
      PKG=$COMPOSE_PKG VERSION=$COMPOSE_VERSION DIR=$COMPOSE_DIR METHOD=module-build MODULE=$COMPOSE_MODULE
      LDFLAGS="-s -w -X ${COMPOSE_MODULE}/internal.Version=${COMPOSE_VERSION}"
      VERSION_ARGS=(version)
      ;;
    *) die "unknown tool '$1' (known: ${ALL_TOOLS[*]})" ;;
  esac
  BIN="${TOOLS}/${DIR}/$1"
}

# A binary counts as present only when it is executable and actually runs.
is_present() {
  local bin=$1
  shift
  [[ -f "$bin" && -x "$bin" ]] && "$bin" "$@" >/dev/null 2>&1
}

find_go() {
  if [[ -n "${GO:-}" ]]; then
    command -v "$GO" >/dev/null 2>&1 || die "GO=${GO} is not an executable"
    printf '%s\n' "$GO"
  elif command -v go >/dev/null 2>&1; then
    command -v go
  elif [[ -x /usr/local/go/bin/go ]]; then
    printf '%s\n' /usr/local/go/bin/go
  else
    die "'go' not found on PATH (nor /usr/local/go/bin/go); install Go >= 1.24 (https://go.dev/dl/) or set GO=/path/to/go"
  fi
}

# Waits while somebody else runs `go install PKG@VERSION` (e.g. a build started by hand into the same
# GOBIN). pgrep only reads the process table; nothing is signalled.
wait_for_foreign_build() {
  local name=$1 pattern="go install ${PKG}@${VERSION}" waited=0
  command -v pgrep >/dev/null 2>&1 || return 0
  while pgrep -f -- "$pattern" >/dev/null 2>&1; do
    if ((waited % 60 == 0)); then
      log "${name}: another 'go install ${PKG}@${VERSION}' is running; waiting for it (${waited}s so far)"
    fi
    sleep 5
    waited=$((waited + 5))
  done
}

# module_build GO NAME MODULE: downloads MODULE@VERSION into the module cache and builds PKG from inside
# it, as the main module (with LDFLAGS), into $TMP_GOBIN/NAME.
module_build() {
  local go_bin=$1 name=$2 module=$3 dir rel
  dir=$(cd "$TMP_GOBIN" && GOFLAGS=-mod=mod "$go_bin" mod download -json "${module}@${VERSION}" |
    sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p') || return 1
  [[ -n "$dir" && -f "${dir}/go.mod" ]] || {
    log "${name}: 'go mod download ${module}@${VERSION}' did not report a source directory"
    return 1
  }
  rel=${PKG#"${module}"}
  (cd "$dir" && GOWORK=off GOFLAGS=-mod=readonly "$go_bin" build -trimpath -ldflags "$LDFLAGS" \
    -o "${TMP_GOBIN}/${name}" ".${rel}")
}

TMP_GOBIN=""
cleanup() {
  if [[ -n "$TMP_GOBIN" && -d "$TMP_GOBIN" ]]; then
    rm -rf -- "$TMP_GOBIN"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# install_tool NAME [quiet]: installs NAME unless present; "quiet" skips the "present at" line.
install_tool() {
  local name=$1 quiet=${2:-}
  tool_spec "$name"
  if is_present "$BIN" "${VERSION_ARGS[@]}"; then
    [[ -n "$quiet" ]] || log "${name} ${VERSION}: present at ${BIN}"
    return 0
  fi

  mkdir -p "${TOOLS}/${DIR}"
  # Serialise installs of the same tool between concurrent runs of this script.
  local lock_fd
  if command -v flock >/dev/null 2>&1; then
    exec {lock_fd}>"${TOOLS}/.${DIR}.lock"
    if ! flock -n "$lock_fd"; then
      log "${name}: another tools.sh is installing it; waiting for its lock"
      flock "$lock_fd"
    fi
    # Holding the lock, no other tools.sh builds this tool: temp dirs left by a killed build are stale.
    rm -rf -- "${TOOLS}/.build-${DIR}."*
  fi

  wait_for_foreign_build "$name"
  if is_present "$BIN" "${VERSION_ARGS[@]}"; then
    log "${name} ${VERSION}: present at ${BIN} (installed by a concurrent build)"
    return 0
  fi
  if [[ -e "$BIN" ]]; then
    log "${name}: ${BIN} exists but does not run; rebuilding it"
  fi

  local go_bin
  go_bin=$(find_go)
  log "${name}: building ${PKG}@${VERSION} with $("$go_bin" env GOVERSION) (this takes several minutes the first time)"
  TMP_GOBIN=$(mktemp -d "${TOOLS}/.build-${DIR}.XXXXXX")
  local start=$SECONDS
  case "$METHOD" in
    go-install)
      GOBIN="$TMP_GOBIN" "$go_bin" install "${PKG}@${VERSION}" ||
        die "${name}: 'go install ${PKG}@${VERSION}' failed after $((SECONDS - start))s"
      ;;
    module-build)
      module_build "$go_bin" "$name" "$MODULE" ||
        die "${name}: building ${PKG}@${VERSION} failed after $((SECONDS - start))s"
      ;;
  esac
  is_present "${TMP_GOBIN}/${name}" "${VERSION_ARGS[@]}" ||
    die "${name}: the freshly built binary does not run ('${name} ${VERSION_ARGS[*]}' failed)"
  # Same filesystem (both under $TOOLS), so this rename is atomic.
  mv -f -- "${TMP_GOBIN}/${name}" "$BIN"
  rm -rf -- "$TMP_GOBIN"
  TMP_GOBIN=""
  log "${name} ${VERSION}: installed at ${BIN} (build took $((SECONDS - start))s)"
  if [[ -n "${lock_fd:-}" ]]; then
    exec {lock_fd}>&-
  fi
}

cmd=${1:-install}
case "$cmd" in
  install)
    shift $(($# > 0 ? 1 : 0))
    tools=("$@")
    ((${#tools[@]} > 0)) || tools=("${DEFAULT_TOOLS[@]}")
    for tool in "${tools[@]}"; do
      install_tool "$tool"
    done
    ;;
  path)
    (($# == 2)) || {
      usage
      exit 2
    }
    install_tool "$2" quiet
    printf '%s\n' "$BIN"
    ;;
  where)
    (($# == 2)) || {
      usage
      exit 2
    }
    tool_spec "$2"
    printf '%s\n' "$BIN"
    ;;
  list)
    for tool in "${ALL_TOOLS[@]}"; do
      tool_spec "$tool"
      if is_present "$BIN" "${VERSION_ARGS[@]}"; then state=installed; else state=missing; fi
      printf '%-9s %-40s %-10s %s\n' "$tool" "$VERSION" "$state" "$BIN"
    done
    ;;
  -h | --help | help)
    usage
    ;;
  *)
    usage
    exit 2
    ;;
esac
