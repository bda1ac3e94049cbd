#!/usr/bin/env bash
# Local services for development and tests.
#
#   bash deploy/services.sh up [--s3]     start the Temporal dev server (and SeaweedFS S3 when needed), check MySQL + Redis
#   bash deploy/services.sh down          stop what `up` started (by pid file; anything else is left alone)
#   bash deploy/services.sh status        print each service's state (exit 0 when all are up, 3 otherwise)
#   bash deploy/services.sh config [--s3] print what `up` would use, as key=value lines (nothing is started)
#
# The services are the ones GigaChat's own configuration names, read like the app reads it: the environment, then a
# .env file at the repository root (the environment wins; an empty value means the default):
#   DATABASE_URL (or DATABASE_URL_FILE)  MySQL/MariaDB checked at its host, port and user (mysql://root@127.0.0.1:3306/…)
#   REDIS_URL (or REDIS_URL_FILE)        Redis checked at its host and port (redis://127.0.0.1:6379/0)
#   TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE a dev server is started when the address is local (127.0.0.1:7233), with the
#                                        namespace and GigaChat's search attributes; a remote one is only used
#   S3_ENDPOINT, S3_ACCESS_KEY, S3_SECRET_KEY
#                                        SeaweedFS is built (once, ~5 minutes) and started only when S3_ENDPOINT names a
#                                        local port, or with --s3 (the test suite and the benchmarks use it); with
#                                        S3_ENDPOINT empty GigaChat keeps files in FILES_DIR and needs no S3 server
# MySQL/MariaDB and Redis are not started here, only checked. Temporal and SeaweedFS come from the pinned binaries that
# deploy/tools.sh builds. Data, pid files and logs live under $GIGACHAT_DATA_DIR:
#   temporal/temporal.db  temporal/temporal.pid  temporal/temporal.log
#   seaweedfs/            seaweedfs/weed.pid     seaweedfs/weed.log     seaweedfs/s3.json
#
# Other env (defaults): GIGACHAT_DATA_DIR (<repo>/.data; relative paths are taken from the repo root)
#   TEMPORAL_UI_PORT (8233)  SEAWEED_MASTER_PORT (9333)  SEAWEED_VOLUME_PORT (9340)  SEAWEED_FILER_PORT (9350)
#   SEAWEED_VOLUME_MAX (64)  (each SeaweedFS gRPC port is its HTTP port + 10000: 19333, 19340, 19350, 18333)
#   SERVICES_START_TIMEOUT (60 seconds per service)
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "${SCRIPT_DIR}/.." && pwd)

readonly CONFIG_KEYS=(DATABASE_URL DATABASE_URL_FILE REDIS_URL REDIS_URL_FILE TEMPORAL_ADDRESS TEMPORAL_NAMESPACE
  S3_ENDPOINT S3_ACCESS_KEY S3_SECRET_KEY GIGACHAT_DATA_DIR)

# read_dotenv: the configuration keys above from <repo>/.env, for those the environment leaves empty. Values may be
# quoted; nothing in the file is executed.
read_dotenv() {
  local file="${REPO}/.env" line key value
  [[ -f "$file" ]] || return 0
  while IFS= read -r line || [[ -n "$line" ]]; do
    [[ "$line" =~ ^[[:space:]]*(export[[:space:]]+)?([A-Z0-9_]+)[[:space:]]*=(.*)$ ]] || continue
    key=${BASH_REMATCH[2]} value=${BASH_REMATCH[3]}
    [[ " ${CONFIG_KEYS[*]} " == *" ${key} "* ]] || continue
    [[ -z "${!key:-}" ]] || continue
    value=${value%%[[:space:]]#*}
    value=${value#"${value%%[![:space:]]*}"}
    value=${value%"${value##*[![:space:]]}"}
    if [[ "$value" =~ ^\"(.*)\"$ || "$value" =~ ^\'(.*)\'$ ]]; then value=${BASH_REMATCH[1]}; fi
    printf -v "$key" '%s' "$value"
  done <"$file"
}
read_dotenv

# from_file NAME: NAME, or the content of the file NAME_FILE names (as the app reads secrets).
from_file() {
  local name=$1 file_var="${1}_FILE"
  if [[ -z "${!name:-}" && -n "${!file_var:-}" && -r "${!file_var}" ]]; then
    printf -v "$name" '%s' "$(<"${!file_var}")"
  fi
}
from_file DATABASE_URL
from_file REDIS_URL

# percent_decode TEXT
percent_decode() { printf '%b' "${1//%/\\x}"; }

# URL parts: scheme://[user[:password]@]host[:port][/rest]
readonly URL_PATTERN='^[a-z0-9+]+://(([^:@/]*)(:([^@/]*))?@)?(\[[^]]+\]|[^:/?]+)(:([0-9]+))?(/.*)?$'

DATABASE_URL=${DATABASE_URL:-mysql://root@127.0.0.1:3306/gigachat}
[[ "$DATABASE_URL" =~ $URL_PATTERN ]] || { printf '[gigachat] error: DATABASE_URL is not a mysql:// URL\n' >&2; exit 1; }
MYSQL_USER=$(percent_decode "${BASH_REMATCH[2]:-root}")
MYSQL_PASSWORD=$(percent_decode "${BASH_REMATCH[4]}")
MYSQL_HOST=${BASH_REMATCH[5]}
MYSQL_PORT=${BASH_REMATCH[7]:-3306}

REDIS_URL=${REDIS_URL:-redis://127.0.0.1:6379/0}
[[ "$REDIS_URL" =~ $URL_PATTERN ]] || { printf '[gigachat] error: REDIS_URL is not a redis:// URL\n' >&2; exit 1; }
REDIS_PASSWORD=$(percent_decode "${BASH_REMATCH[4]}")
REDIS_HOST=${BASH_REMATCH[5]}
REDIS_PORT=${BASH_REMATCH[7]:-6379}

readonly LOCAL_IP=127.0.0.1
is_local() { [[ "$1" == 127.0.0.1 || "$1" == localhost || "$1" == "[::1]" ]]; }

TEMPORAL_ADDRESS=${TEMPORAL_ADDRESS:-127.0.0.1:7233}
TEMPORAL_HOST=${TEMPORAL_ADDRESS%:*}
TEMPORAL_PORT=${TEMPORAL_ADDRESS##*:}
[[ "$TEMPORAL_PORT" =~ ^[0-9]+$ && "$TEMPORAL_HOST" != "$TEMPORAL_ADDRESS" ]] ||
  { printf '[gigachat] error: TEMPORAL_ADDRESS must be host:port\n' >&2; exit 1; }
TEMPORAL_LOCAL=no
is_local "$TEMPORAL_HOST" && TEMPORAL_LOCAL=yes
TEMPORAL_UI_PORT=${TEMPORAL_UI_PORT:-8233}
readonly TEMPORAL_NS=${TEMPORAL_NAMESPACE:-default}
readonly SEARCH_ATTRIBUTES=(UserId=Keyword ConversationId=Keyword TurnKind=Keyword ReplayId=Keyword)

# SeaweedFS: wanted with --s3 (on 8333), or when S3_ENDPOINT names a local port; never for a remote S3 or none.
WANT_S3=no
S3_PORT=8333
S3_ACCESS_KEY=${S3_ACCESS_KEY:-gigachat}
S3_SECRET_KEY=${S3_SECRET_KEY:-gigachat-secret-key}
S3_REASON="S3_ENDPOINT is empty: GigaChat keeps files in FILES_DIR (up --s3 starts SeaweedFS anyway)"
if [[ -n "${S3_ENDPOINT:-}" ]]; then
  if [[ "$S3_ENDPOINT" =~ $URL_PATTERN ]] && is_local "${BASH_REMATCH[5]}"; then
    WANT_S3=yes S3_PORT=${BASH_REMATCH[7]:-80} S3_REASON="S3_ENDPOINT is local"
  else
    S3_REASON="S3_ENDPOINT is not on this machine: it is used, not started"
  fi
fi
for arg in "${@:2}"; do
  case "$arg" in
    --s3)
      [[ "$WANT_S3" == yes ]] || S3_REASON="--s3"
      WANT_S3=yes
      ;;
    *)
      printf '[gigachat] error: unknown option %s\n' "$arg" >&2
      exit 2
      ;;
  esac
done

DATA=${GIGACHAT_DATA_DIR:-${REPO}/.data}
[[ "$DATA" == /* ]] || DATA="${REPO}/${DATA}"

SEAWEED_MASTER_PORT=${SEAWEED_MASTER_PORT:-9333}
SEAWEED_VOLUME_PORT=${SEAWEED_VOLUME_PORT:-9340}
SEAWEED_FILER_PORT=${SEAWEED_FILER_PORT:-9350}
SEAWEED_VOLUME_MAX=${SEAWEED_VOLUME_MAX:-64}
START_TIMEOUT=${SERVICES_START_TIMEOUT:-60}

TEMPORAL_DIR="${DATA}/temporal"
TEMPORAL_PID="${TEMPORAL_DIR}/temporal.pid"
TEMPORAL_LOG="${TEMPORAL_DIR}/temporal.log"
TEMPORAL_ADDR=$TEMPORAL_ADDRESS
WEED_DIR="${DATA}/seaweedfs"
WEED_PID="${WEED_DIR}/weed.pid"
WEED_LOG="${WEED_DIR}/weed.log"
WEED_S3_CONFIG="${WEED_DIR}/s3.json"
S3_URL="http://${LOCAL_IP}:${S3_PORT}"

log() { printf '[gigachat] %s\n' "$*"; }
warn() { printf '[gigachat] warning: %s\n' "$*" >&2; }
die() {
  printf '[gigachat] error: %s\n' "$*" >&2
  exit 1
}

usage() {
  printf 'usage: bash deploy/services.sh up [--s3] | down | status | config [--s3]\n' >&2
}

# ---------------------------------------------------------------------------------------------- helpers

# tool_where NAME: the pinned binary's path (tools.sh install has already checked that it runs).
tool_where() { bash "${SCRIPT_DIR}/tools.sh" where "$1"; }

# port_open HOST PORT: true when something accepts TCP connections there.
port_open() {
  # shellcheck disable=SC2016 # $0/$1 are expanded by the inner bash
  timeout 2 bash -c 'exec 3<>"/dev/tcp/$0/$1"' "$1" "$2" 2>/dev/null
}

# http_status URL: prints the HTTP status code, or 000 when nothing answers.
http_status() {
  curl -s -o /dev/null --max-time 3 -w '%{http_code}' "$1" 2>/dev/null || true
}

# pid_running PIDFILE BINARY: true when PIDFILE names a live process running BINARY (guards against
# stale pid files whose pid was reused by something else).
pid_running() {
  local pidfile=$1 bin=$2 pid exe
  [[ -s "$pidfile" ]] || return 1
  pid=$(<"$pidfile")
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  exe=$(readlink "/proc/${pid}/exe" 2>/dev/null || true)
  exe=$(basename "${exe% (deleted)}")
  # setsid/nohup/env: the launch chain of start_bg, seen for a moment before it execs the service.
  [[ -z "$exe" || "$exe" == "$(basename "$bin")" || "$exe" == setsid || "$exe" == nohup || "$exe" == env ]]
}

read_pid() { cat "$1" 2>/dev/null || true; }

# start_bg PIDFILE LOGFILE CMD...: starts CMD detached (own session, no stdin) and records its pid.
start_bg() {
  local pidfile=$1 logfile=$2
  shift 2
  printf '\n===== %s: %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*" >>"$logfile"
  # Without job control the child is not a process-group leader, so setsid does not fork and $! is the
  # pid of the service itself.
  setsid nohup "$@" >>"$logfile" 2>&1 </dev/null &
  printf '%s\n' "$!" >"$pidfile"
}

# stop_pid NAME PIDFILE BINARY: TERM, wait up to 20 s, then KILL. Only touches the pid in PIDFILE.
stop_pid() {
  local name=$1 pidfile=$2 bin=$3 pid i
  if ! pid_running "$pidfile" "$bin"; then
    if [[ -e "$pidfile" ]]; then
      rm -f -- "$pidfile"
      log "${name}: not running (removed stale pid file)"
    else
      log "${name}: not started by services.sh; nothing to stop"
    fi
    return 0
  fi
  pid=$(read_pid "$pidfile")
  log "${name}: stopping (pid ${pid})"
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 40; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.5
  done
  if kill -0 "$pid" 2>/dev/null; then
    warn "${name}: pid ${pid} still running after 20s; sending KILL"
    kill -KILL "$pid" 2>/dev/null || true
    sleep 0.5
  fi
  rm -f -- "$pidfile"
  log "${name}: stopped"
}

log_tail() {
  local name=$1 logfile=$2
  printf '[gigachat] ---- last lines of %s ----\n' "$logfile" >&2
  tail -n 40 "$logfile" >&2 2>/dev/null || true
  printf '[gigachat] ---- end of %s log ----\n' "$name" >&2
}

# ------------------------------------------------------------------------------------- MySQL and Redis

mysql_up() {
  export MYSQL_PWD=$MYSQL_PASSWORD
  if command -v mysqladmin >/dev/null 2>&1; then
    mysqladmin --connect-timeout=3 --protocol=tcp -h"$MYSQL_HOST" -P"$MYSQL_PORT" -u"$MYSQL_USER" ping >/dev/null 2>&1
  elif command -v mariadb >/dev/null 2>&1; then
    mariadb --connect-timeout=3 --protocol=tcp -h"$MYSQL_HOST" -P"$MYSQL_PORT" -u"$MYSQL_USER" -e 'select 1' >/dev/null 2>&1
  elif command -v mysql >/dev/null 2>&1; then
    mysql --connect-timeout=3 --protocol=tcp -h"$MYSQL_HOST" -P"$MYSQL_PORT" -u"$MYSQL_USER" -e 'select 1' >/dev/null 2>&1
  else
    port_open "$MYSQL_HOST" "$MYSQL_PORT"
  fi
}

redis_up() {
  if command -v redis-cli >/dev/null 2>&1; then
    [[ "$(REDISCLI_AUTH=$REDIS_PASSWORD timeout 5 redis-cli -h "$REDIS_HOST" -p "$REDIS_PORT" ping 2>/dev/null)" == PONG ]]
  else
    port_open "$REDIS_HOST" "$REDIS_PORT"
  fi
}

check_external() {
  local missing=0
  if mysql_up; then
    log "mysql: answering at ${MYSQL_HOST}:${MYSQL_PORT}"
  else
    printf '[gigachat] error: MySQL/MariaDB does not answer at %s:%s. Start it, e.g.:\n' "$MYSQL_HOST" "$MYSQL_PORT" >&2
    printf '[gigachat]   start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd\n' >&2
    missing=1
  fi
  if redis_up; then
    log "redis: answering at ${REDIS_HOST}:${REDIS_PORT}"
  else
    printf '[gigachat] error: Redis does not answer at %s:%s. Start it, e.g.:\n' "$REDIS_HOST" "$REDIS_PORT" >&2
    printf '[gigachat]   redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log\n' >&2
    missing=1
  fi
  return "$missing"
}

# ------------------------------------------------------------------------------------------- Temporal

temporal_cli() {
  "$TEMPORAL_BIN" --address "$TEMPORAL_ADDR" --namespace "$TEMPORAL_NS" --command-timeout 5s --color never "$@"
}

temporal_healthy() {
  temporal_cli operator cluster health >/dev/null 2>&1
}

# sa_type LISTING NAME: prints the type of search attribute NAME from `search-attribute list` text output.
sa_type() { awk -v n="$2" '$1 == n { print $2; exit }' <<<"$1"; }

ensure_search_attributes() {
  local listing missing=() spec name type have args=()
  listing=$(temporal_cli operator search-attribute list) ||
    die "temporal: cannot list search attributes at ${TEMPORAL_ADDR}"
  for spec in "${SEARCH_ATTRIBUTES[@]}"; do
    name=${spec%%=*} type=${spec#*=}
    have=$(sa_type "$listing" "$name")
    if [[ -z "$have" ]]; then
      missing+=("$spec")
    elif [[ "$have" != "$type" ]]; then
      die "temporal: search attribute ${name} exists with type ${have}, expected ${type} (namespace ${TEMPORAL_NS} at ${TEMPORAL_ADDR})"
    fi
  done
  if ((${#missing[@]} > 0)); then
    for spec in "${missing[@]}"; do
      args+=(--name "${spec%%=*}" --type "${spec#*=}")
    done
    log "temporal: creating missing search attributes: ${missing[*]}"
    temporal_cli operator search-attribute create "${args[@]}" >/dev/null ||
      die "temporal: could not create search attributes ${missing[*]}"
    listing=$(temporal_cli operator search-attribute list)
    for spec in "${missing[@]}"; do
      [[ "$(sa_type "$listing" "${spec%%=*}")" == "${spec#*=}" ]] ||
        die "temporal: search attribute ${spec} still missing after creating it"
    done
  fi
  log "temporal: search attributes present: ${SEARCH_ATTRIBUTES[*]}"
}

temporal_up() {
  if [[ "$TEMPORAL_LOCAL" == no ]]; then
    temporal_healthy || die "temporal: no healthy frontend at ${TEMPORAL_ADDR} (TEMPORAL_ADDRESS is not local: it is used, not started)"
    log "temporal: using ${TEMPORAL_ADDR}, namespace ${TEMPORAL_NS} (not local: not started here)"
    ensure_search_attributes
    return 0
  fi
  mkdir -p "$TEMPORAL_DIR"
  if temporal_healthy; then
    if pid_running "$TEMPORAL_PID" "$TEMPORAL_BIN"; then
      log "temporal: already running (pid $(read_pid "$TEMPORAL_PID")) at ${TEMPORAL_ADDR}"
    else
      log "temporal: a server already answers at ${TEMPORAL_ADDR} (not started by services.sh); reusing it"
    fi
  else
    if ! pid_running "$TEMPORAL_PID" "$TEMPORAL_BIN"; then
      rm -f -- "$TEMPORAL_PID"
      port_open "$LOCAL_IP" "$TEMPORAL_PORT" &&
        die "temporal: port ${TEMPORAL_PORT} is taken by something that is not a healthy Temporal frontend; free it or set TEMPORAL_PORT"
      port_open "$LOCAL_IP" "$TEMPORAL_UI_PORT" &&
        die "temporal: UI port ${TEMPORAL_UI_PORT} is already in use; free it or set TEMPORAL_UI_PORT"
      # SQLite in WAL mode with synchronous=normal: a commit is an append to the log instead of a rewrite of the
      # database file plus two fsyncs. It stays durable across a SIGKILL of the server (the log is replayed on start;
      # the chaos tests kill it); only an OS crash or power cut can lose the last commits, which is the dev server's
      # bargain anyway (production runs Temporal on its own database, see docker-compose.yml). Measured in the
      # chat-turns bench: Temporal's CPU per turn 31.5 -> 24 ms, throughput 19.6 -> 25.2 turns/s.
      # Eager activity execution: a workflow task that schedules an activity on its own task queue gets it back
      # in the same response, saving a round trip through matching (the generate step of every chat turn).
      # One partition per task queue: with the default four, a task written to a partition where none of the
      # worker's few pollers waits sat there until a poll came by — schedule-to-start stalls of about 2 s in a few
      # blocks of every benchmark run (p99 2.1 s). One server, one partition: every task meets a waiting poll.
      # The history service reads new transfer and visibility tasks at most 20 times a second per shard by
      # default: once a steady stream of turns has used up the limiter's burst, a new turn's first workflow task
      # waited for the next read, ~35 ms at p50 (measured 2026-12-06: turns one at a time went from ~5 to ~35 ms
      # waiting for the worker after ~50 turns; with the limit raised, ~5 ms throughout and the turn 95 -> 65 ms).
      local sa_flags=() spec
      for spec in "${SEARCH_ATTRIBUTES[@]}"; do sa_flags+=(--search-attribute "$spec"); done
      log "temporal: starting dev server at ${TEMPORAL_ADDR}, UI http://${LOCAL_IP}:${TEMPORAL_UI_PORT} (log ${TEMPORAL_LOG})"
      start_bg "$TEMPORAL_PID" "$TEMPORAL_LOG" "$TEMPORAL_BIN" server start-dev \
        --db-filename "${TEMPORAL_DIR}/temporal.db" \
        --ip "$LOCAL_IP" --port "$TEMPORAL_PORT" --ui-port "$TEMPORAL_UI_PORT" \
        --namespace "$TEMPORAL_NS" "${sa_flags[@]}" --log-level warn \
        --sqlite-pragma journal_mode=wal --sqlite-pragma synchronous=normal \
        --ui-codec-endpoint "http://${LOCAL_IP}:${API_PORT:-3000}/api/v1/codec" \
        --dynamic-config-value system.enableActivityEagerExecution=true \
        --dynamic-config-value matching.numTaskqueueReadPartitions=1 \
        --dynamic-config-value matching.numTaskqueueWritePartitions=1 \
        --dynamic-config-value history.transferProcessorMaxPollRPS=1000 \
        --dynamic-config-value history.visibilityProcessorMaxPollRPS=1000
    else
      log "temporal: process $(read_pid "$TEMPORAL_PID") is running but not answering yet; waiting"
    fi
    local start=$SECONDS
    until temporal_healthy; do
      if ! pid_running "$TEMPORAL_PID" "$TEMPORAL_BIN"; then
        log_tail temporal "$TEMPORAL_LOG"
        rm -f -- "$TEMPORAL_PID"
        die "temporal: the dev server exited during startup (see ${TEMPORAL_LOG})"
      fi
      if ((SECONDS - start >= START_TIMEOUT)); then
        log_tail temporal "$TEMPORAL_LOG"
        die "temporal: no answer at ${TEMPORAL_ADDR} after ${START_TIMEOUT}s (still running as pid $(read_pid "$TEMPORAL_PID"); 'bash deploy/services.sh down' stops it)"
      fi
      sleep 1
    done
    log "temporal: up at ${TEMPORAL_ADDR} after $((SECONDS - start))s (pid $(read_pid "$TEMPORAL_PID"))"
  fi
  ensure_search_attributes
}

# ------------------------------------------------------------------------------------------ SeaweedFS

# JSON string escaping for the identities file (backslash, double quote; control characters are rejected
# before this is called).
json_escape() {
  local s=$1
  s=${s//\\/\\\\}
  s=${s//\"/\\\"}
  printf '%s' "$s"
}

# Writes the static S3 identity file; sets S3_CONFIG_CHANGED=1 when its content changed.
write_s3_config() {
  local tmp old_umask
  old_umask=$(umask)
  umask 077
  tmp=$(mktemp "${WEED_S3_CONFIG}.XXXXXX")
  cat >"$tmp" <<EOF
{
  "identities": [
    {
      "name": "gigachat",
      "credentials": [
        { "accessKey": "$(json_escape "$S3_ACCESS_KEY")", "secretKey": "$(json_escape "$S3_SECRET_KEY")" }
      ],
      "actions": ["Admin", "Read", "List", "Tagging", "Write"]
    }
  ]
}
EOF
  umask "$old_umask"
  if [[ -f "$WEED_S3_CONFIG" ]] && cmp -s "$tmp" "$WEED_S3_CONFIG"; then
    rm -f -- "$tmp"
    S3_CONFIG_CHANGED=0
  else
    mv -f -- "$tmp" "$WEED_S3_CONFIG"
    S3_CONFIG_CHANGED=1
  fi
}

s3_answers() { [[ "$(http_status "${S3_URL}/")" != 000 ]]; }

weed_up() {
  mkdir -p "$WEED_DIR"
  [[ -n "$S3_ACCESS_KEY" && -n "$S3_SECRET_KEY" ]] || die "seaweedfs: S3_ACCESS_KEY and S3_SECRET_KEY must not be empty"
  [[ "${S3_ACCESS_KEY}${S3_SECRET_KEY}" != *[[:cntrl:]]* ]] ||
    die "seaweedfs: S3_ACCESS_KEY/S3_SECRET_KEY must not contain control characters"
  write_s3_config
  if s3_answers; then
    if pid_running "$WEED_PID" "$WEED_BIN"; then
      log "seaweedfs: already running (pid $(read_pid "$WEED_PID")), S3 at ${S3_URL}"
      ((S3_CONFIG_CHANGED == 0)) ||
        warn "seaweedfs: S3 credentials changed since it started; run 'bash deploy/services.sh down' and 'up' to apply them"
    else
      log "seaweedfs: something already answers at ${S3_URL} (not started by services.sh); reusing it"
    fi
    return 0
  fi
  if pid_running "$WEED_PID" "$WEED_BIN"; then
    log "seaweedfs: process $(read_pid "$WEED_PID") is running but S3 does not answer yet; waiting"
  else
    rm -f -- "$WEED_PID"
    local port
    for port in "$S3_PORT" "$SEAWEED_MASTER_PORT" "$SEAWEED_VOLUME_PORT" "$SEAWEED_FILER_PORT" \
      $((S3_PORT + 10000)) $((SEAWEED_MASTER_PORT + 10000)) $((SEAWEED_VOLUME_PORT + 10000)) $((SEAWEED_FILER_PORT + 10000)); do
      port_open "$LOCAL_IP" "$port" &&
        die "seaweedfs: port ${port} on ${LOCAL_IP} is already in use (S3_PORT/SEAWEED_*_PORT choose other ports; gRPC ports are HTTP + 10000)"
    done
    log "seaweedfs: starting 'weed mini', S3 at ${S3_URL} (log ${WEED_LOG})"
    # One process: master + volume + filer + S3, all on 127.0.0.1. WebDAV, the Admin UI (its small
    # maintenance server stays, on 127.0.0.1:12535 or the next free port), Iceberg/Lance endpoints and
    # telemetry are switched off; 64 MB volumes, one volume per growth step and a cap on the number of
    # volumes keep memory and disk small. AWS_* and S3_BUCKET are not passed on: weed would turn them into an
    # extra admin identity / a pre-created bucket.
    start_bg "$WEED_PID" "$WEED_LOG" env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY -u S3_BUCKET \
      -u S3_TABLE_BUCKET WEED_MASTER_VOLUME_GROWTH_COPY_1=1 "$WEED_BIN" mini \
      -dir="$WEED_DIR" \
      -ip="$LOCAL_IP" -ip.bind="$LOCAL_IP" \
      -master.port="$SEAWEED_MASTER_PORT" -volume.port="$SEAWEED_VOLUME_PORT" \
      -filer.port="$SEAWEED_FILER_PORT" -s3.port="$S3_PORT" \
      -s3.config="$WEED_S3_CONFIG" \
      -master.volumeSizeLimitMB=64 -volume.max="$SEAWEED_VOLUME_MAX" \
      -webdav=false -admin.ui=false -admin.port.legacy=0 -s3.port.iceberg=0 -s3.port.lance=0 \
      -master.telemetry=false
  fi
  local start=$SECONDS
  until s3_answers; do
    if ! pid_running "$WEED_PID" "$WEED_BIN"; then
      log_tail seaweedfs "$WEED_LOG"
      rm -f -- "$WEED_PID"
      die "seaweedfs: weed exited during startup (see ${WEED_LOG})"
    fi
    if ((SECONDS - start >= START_TIMEOUT)); then
      log_tail seaweedfs "$WEED_LOG"
      die "seaweedfs: S3 does not answer at ${S3_URL} after ${START_TIMEOUT}s (still running as pid $(read_pid "$WEED_PID"); 'bash deploy/services.sh down' stops it)"
    fi
    sleep 1
  done
  log "seaweedfs: S3 up at ${S3_URL} after $((SECONDS - start))s (pid $(read_pid "$WEED_PID"), access key '${S3_ACCESS_KEY}')"
}

# -------------------------------------------------------------------------------------------- commands

cmd_up() {
  local start=$SECONDS tools=()
  [[ "$TEMPORAL_LOCAL" == no ]] || tools+=(temporal)
  [[ "$WANT_S3" == no ]] || tools+=(weed)
  # The Temporal CLI is needed for its health checks even when the server is remote.
  [[ " ${tools[*]} " == *" temporal "* ]] || tools+=(temporal)
  bash "${SCRIPT_DIR}/tools.sh" install "${tools[@]}"
  TEMPORAL_BIN=$(tool_where temporal)
  WEED_BIN=$(tool_where weed)
  mkdir -p "$DATA"
  check_external || exit 1
  temporal_up
  if [[ "$WANT_S3" == yes ]]; then
    weed_up
  else
    log "seaweedfs: not started (${S3_REASON})"
  fi
  log "services up in $((SECONDS - start))s: Temporal ${TEMPORAL_ADDR} (namespace ${TEMPORAL_NS}), S3 $([[ "$WANT_S3" == yes ]] && echo "$S3_URL" || echo 'not used'), MySQL ${MYSQL_HOST}:${MYSQL_PORT}, Redis ${REDIS_HOST}:${REDIS_PORT}"
}

# Prints what `up` would use, one key=value per line; starts and checks nothing.
cmd_config() {
  printf 'mysql_host=%s\nmysql_port=%s\nmysql_user=%s\n' "$MYSQL_HOST" "$MYSQL_PORT" "$MYSQL_USER"
  printf 'redis_host=%s\nredis_port=%s\n' "$REDIS_HOST" "$REDIS_PORT"
  printf 'temporal_address=%s\ntemporal_namespace=%s\ntemporal_started_here=%s\n' \
    "$TEMPORAL_ADDR" "$TEMPORAL_NS" "$TEMPORAL_LOCAL"
  printf 'seaweedfs=%s\nseaweedfs_reason=%s\n' "$WANT_S3" "$S3_REASON"
  [[ "$WANT_S3" == no ]] || printf 's3_url=%s\ns3_access_key=%s\n' "$S3_URL" "$S3_ACCESS_KEY"
  printf 'data_dir=%s\n' "$DATA"
}

cmd_down() {
  local tbin wbin
  # Pid files identify what `up` started; the binary paths only guard against reused pids, so a missing
  # tool must not make `down` fail.
  tbin=$(tool_where temporal 2>/dev/null || true)
  wbin=$(tool_where weed 2>/dev/null || true)
  stop_pid seaweedfs "$WEED_PID" "${wbin:-weed}"
  stop_pid temporal "$TEMPORAL_PID" "${tbin:-temporal}"
}

cmd_status() {
  local tbin wbin all_up=0 code
  tbin=$(tool_where temporal 2>/dev/null || true)
  wbin=$(tool_where weed 2>/dev/null || true)
  TEMPORAL_BIN=$tbin

  local owner
  if pid_running "$TEMPORAL_PID" "${tbin:-temporal}"; then owner="pid $(read_pid "$TEMPORAL_PID"), started by services.sh"; else owner="not started by services.sh"; fi
  if [[ -x "$tbin" ]] && temporal_healthy; then
    log "temporal:  up      ${TEMPORAL_ADDR}, UI http://${LOCAL_IP}:${TEMPORAL_UI_PORT} (UI HTTP $(http_status "http://${LOCAL_IP}:${TEMPORAL_UI_PORT}/")) (${owner})"
  elif pid_running "$TEMPORAL_PID" "${tbin:-temporal}"; then
    log "temporal:  starting/unhealthy (${owner}); log ${TEMPORAL_LOG}"
    all_up=3
  elif [[ ! -x "$tbin" ]] && port_open "$LOCAL_IP" "$TEMPORAL_PORT"; then
    log "temporal:  port ${TEMPORAL_PORT} open (temporal CLI not installed, health not checked)"
  else
    log "temporal:  down"
    all_up=3
  fi

  if pid_running "$WEED_PID" "${wbin:-weed}"; then owner="pid $(read_pid "$WEED_PID"), started by services.sh"; else owner="not started by services.sh"; fi
  code=$(http_status "${S3_URL}/")
  if [[ "$code" != 000 ]]; then
    log "seaweedfs: up      S3 ${S3_URL} (HTTP ${code}) (${owner})"
  elif pid_running "$WEED_PID" "${wbin:-weed}"; then
    log "seaweedfs: starting/unhealthy (${owner}); log ${WEED_LOG}"
    all_up=3
  elif [[ "$WANT_S3" == no ]]; then
    log "seaweedfs: down    (not needed: ${S3_REASON})"
  else
    log "seaweedfs: down"
    all_up=3
  fi

  if mysql_up; then log "mysql:     up      ${MYSQL_HOST}:${MYSQL_PORT}"; else
    log "mysql:     down    ${MYSQL_HOST}:${MYSQL_PORT}"
    all_up=3
  fi
  if redis_up; then log "redis:     up      ${REDIS_HOST}:${REDIS_PORT}"; else
    log "redis:     down    ${REDIS_HOST}:${REDIS_PORT}"
    all_up=3
  fi
  log "data dir: ${DATA}"
  return "$all_up"
}

case "${1:-}" in
  up) cmd_up ;;
  down) cmd_down ;;
  status) cmd_status ;;
  config) cmd_config ;;
  -h | --help | help) usage ;;
  *)
    usage
    exit 2
    ;;
esac
