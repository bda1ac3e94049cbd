#!/usr/bin/env bash
# `npm run test:image`: builds the production image and runs it against this machine's services.
#
#   1. the base image: the official node:<version>-bookworm-slim cannot be pulled here, so deploy/docker/base-image.sh
#      makes an equivalent one (Debian bookworm minbase + Node.js from the npm registry), cached in ~/.cache/gigachat
#   2. builds deploy/docker/Dockerfile with NODE_IMAGE set to it (classic builder, --network host for npm ci)
#   3. checks the image: non-root user, a HEALTHCHECK, production dependencies only, no test/ bench/ or workflow
#      sources, the prebuilt workflow bundle with its fingerprint; measures its size
#   4. runs the migrations, the worker and the API as containers (--network host) against the local MySQL, Redis,
#      Temporal (:7233) and SeaweedFS S3 (:8333), with a database, Redis key prefix, task queues and bucket of its own,
#      secrets made by the image's own CLI (`gigachat secrets`), and a fake OpenAI-compatible model on the host
#   5. waits for the API's HEALTHCHECK, checks /health/ready, creates an admin with the image's CLI and runs one
#      chat turn end to end through the API and the worker; probes the worker's health port if it has one
#   6. stops the containers (SIGTERM) and removes everything it made (containers, database, Redis keys, bucket)
#
# Needs: a running Docker engine (see README, "Deployment"), `npm run build` output for the fake model (built when
# missing), MySQL, Redis, Temporal and SeaweedFS as deploy/services.sh runs them. Env: IMAGE (gigachat:image-test),
# KEEP_IMAGE=1 keeps the image, TEST_MYSQL_URL / TEST_REDIS_URL / TEMPORAL_ADDRESS / TEST_S3_ENDPOINT as in the tests.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
REPO=$(pwd)
IMAGE=${IMAGE:-gigachat:image-test}
START=$SECONDS
SUFFIX="$(date +%s)$((RANDOM % 1000))"
NAME="gcimage${SUFFIX}"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/gigachat-image-test.XXXXXX")
MYSQL_SERVER=${TEST_MYSQL_URL:-mysql://root@127.0.0.1:3306}
REDIS_URL=${TEST_REDIS_URL:-redis://127.0.0.1:6379/0}
S3_ENDPOINT=${TEST_S3_ENDPOINT:-http://127.0.0.1:8333}
CONTAINERS=()
FAKE_PID=""

log() { printf '[image-test] %s\n' "$*"; }
die() {
  printf '[image-test] FAILED: %s\n' "$*" >&2
  exit 1
}
step() { log "$(printf '%4ss' $((SECONDS - START))) $*"; }

cleanup() {
  local rc=$?
  set +e
  for container in "${CONTAINERS[@]}"; do
    if ((rc != 0)); then
      printf '[image-test] ---- last lines of %s ----\n' "$container" >&2
      docker logs --tail 30 "$container" >&2 2>&1
    fi
    docker rm -f "$container" >/dev/null 2>&1
  done
  [[ -n "$FAKE_PID" ]] && kill "$FAKE_PID" 2>/dev/null
  if [[ -f "$WORK/env" ]]; then
    # The database, the Redis keys and the bucket of this run only (their names carry its suffix).
    node "$REPO/dist/deploy/image-test-cleanup.js" "${MYSQL_SERVER}/${NAME}" "$REDIS_URL" "${NAME}:" "$S3_ENDPOINT" "$NAME" ||
      log "warning: cleanup incomplete"
  fi
  [[ "${KEEP_IMAGE:-0}" == 1 ]] || docker rmi "$IMAGE" >/dev/null 2>&1
  rm -rf -- "$WORK"
  if ((rc == 0)); then log "PASSED in $((SECONDS - START))s"; else log "FAILED after $((SECONDS - START))s"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

docker info >/dev/null 2>&1 ||
  die "no Docker engine answers: apt-get install -y docker.io, then dockerd --iptables=false --bridge=none &"

# free_port: a TCP port nothing listens on right now.
free_port() { node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }

# ------------------------------------------------------------------------------------------------------------ build
step "base image"
BASE_IMAGE=$(bash deploy/docker/base-image.sh)
step "building ${IMAGE} from ${BASE_IMAGE}"
BUILD_START=$SECONDS
DOCKER_BUILDKIT=0 docker build --quiet --network host --build-arg "NODE_IMAGE=${BASE_IMAGE}" \
  -f deploy/docker/Dockerfile -t "$IMAGE" . >"$WORK/build.log" 2>&1 || {
  tail -n 40 "$WORK/build.log" >&2
  die "docker build failed"
}
BUILD_SECONDS=$((SECONDS - BUILD_START))

# ------------------------------------------------------------------------------------------------------- inspection
step "inspecting the image"
user=$(docker image inspect --format '{{.Config.User}}' "$IMAGE")
[[ "$user" == node ]] || die "the image runs as '${user:-root}', not as node"
[[ "$(docker image inspect --format '{{if .Config.Healthcheck}}yes{{end}}' "$IMAGE")" == yes ]] || die "no HEALTHCHECK"
docker run --rm --network none --entrypoint sh "$IMAGE" -ec '
  test "$(id -u)" -ne 0
  for absent in /app/test /app/bench /app/workflows /app/libs /app/src /app/dist/test /app/dist/bench \
                /app/node_modules/typescript /app/node_modules/jest /app/node_modules/@swc/jest \
                /app/node_modules/eslint /app/node_modules/prettier /app/node_modules/supertest; do
    if test -e "$absent"; then echo "present: $absent"; exit 1; fi
  done
  test -s /app/dist/workflow-bundle.js && test -s /app/dist/workflow-bundle.js.sources && test -s /app/dist/web/index.html
  ! touch /app/dist/written-by-the-service 2>/dev/null
  touch /app/.data/writable && rm /app/.data/writable
  node --version
' >"$WORK/inspect.log" 2>&1 || {
  cat "$WORK/inspect.log" >&2
  die "the image's contents are not as they should be"
}
NODE_VERSION=$(tail -n 1 "$WORK/inspect.log")
SIZE_BYTES=$(docker image inspect --format '{{.Size}}' "$IMAGE")
BASE_BYTES=$(docker image inspect --format '{{.Size}}' "$BASE_IMAGE")
SIZE_MB=$((SIZE_BYTES / 1000000))
APP_MB=$(((SIZE_BYTES - BASE_BYTES) / 1000000))

# -------------------------------------------------------------------------------------------------------- the stack
step "starting a fake OpenAI-compatible model on the host"
[[ -f dist/test/fakes/fake-llm.server.js && -f dist/deploy/image-test-cleanup.js ]] || npm run --silent build
PORT=0 node dist/test/fakes/fake-llm.server.js >"$WORK/fake-llm.url" 2>"$WORK/fake-llm.log" &
FAKE_PID=$!
for _ in $(seq 1 50); do [[ -s "$WORK/fake-llm.url" ]] && break; sleep 0.1; done
LLM_URL=$(head -n 1 "$WORK/fake-llm.url")
[[ "$LLM_URL" == http* ]] || die "the fake model did not start"

API_PORT=$(free_port)
WORKER_PORT=$(free_port)
docker run --rm --network none "$IMAGE" gigachat secrets >"$WORK/secrets.env"
cat >"$WORK/env" <<ENV
NODE_ENV=production
LOG_LEVEL=warn
API_HOST=127.0.0.1
API_PORT=${API_PORT}
DATABASE_URL=${MYSQL_SERVER}/${NAME}
REDIS_URL=${REDIS_URL}
REDIS_KEY_PREFIX=${NAME}:
TEMPORAL_ADDRESS=${TEMPORAL_ADDRESS:-127.0.0.1:7233}
TEMPORAL_CHAT_TASK_QUEUE=chat-${NAME}
TEMPORAL_INGEST_TASK_QUEUE=ingest-${NAME}
TEMPORAL_REPLAY_TASK_QUEUE=replay-${NAME}
S3_ENDPOINT=${S3_ENDPOINT}
S3_ACCESS_KEY=gigachat
S3_SECRET_KEY=gigachat-secret-key
S3_BUCKET=${NAME}
LLM_BASE_URL=${LLM_URL}
LLM_MODEL=fake-model
BCRYPT_COST=4
WORKER_METRICS_PORT=${WORKER_PORT}
ENV
cat "$WORK/secrets.env" >>"$WORK/env"

step "migrations (node dist/libs/db/migrate.js in the image)"
docker run --rm --network host --env-file "$WORK/env" "$IMAGE" node dist/libs/db/migrate.js >"$WORK/migrate.log" 2>&1 || {
  cat "$WORK/migrate.log" >&2
  die "the migrations failed"
}

step "worker and API containers"
run_container() { # run_container NAME [docker run options...] -- COMMAND...
  local container=$1
  shift
  CONTAINERS+=("$container")
  # Read-only, without capabilities, as docker-compose.yml runs them (the data directory is a volume there).
  docker run -d --name "$container" --network host --env-file "$WORK/env" --health-interval 2s \
    --health-start-period 60s --read-only --tmpfs /tmp --tmpfs /app/.data:uid=1000,gid=1000 --cap-drop ALL \
    --security-opt no-new-privileges:true "$@" >/dev/null
}
run_container "${NAME}-worker" -e "HEALTHCHECK_PORT=${WORKER_PORT}" "$IMAGE" node dist/apps/worker/src/main.js
run_container "${NAME}-api" "$IMAGE"

health() { docker inspect --format '{{.State.Health.Status}}' "$1" 2>/dev/null || echo gone; }
for _ in $(seq 1 90); do
  [[ "$(health "${NAME}-api")" == healthy ]] && break
  [[ "$(docker inspect --format '{{.State.Running}}' "${NAME}-api")" == true ]] || die "the API container exited"
  sleep 1
done
[[ "$(health "${NAME}-api")" == healthy ]] || die "the API container is not healthy after 90 s"
step "API container healthy (its HEALTHCHECK, /health/live)"

API="http://127.0.0.1:${API_PORT}"
ready=$(curl -s -w '\n%{http_code}' "${API}/health/ready")
[[ "$(tail -n 1 <<<"$ready")" == 200 ]] || die "/health/ready answered: ${ready}"
node -e '
  const body = JSON.parse(process.argv[1]);
  for (const name of ["database", "redis", "temporal", "objectStore"]) {
    if (body.checks?.[name]?.status !== "up") { console.error(`${name} is not up: ${process.argv[1]}`); process.exit(1); }
  }' "$(head -n 1 <<<"$ready")" || die "/health/ready is not all up"
step "/health/ready: database, Redis, Temporal and the object store up"
page=$(curl -s -o /dev/null -w '%{http_code} %{content_type}' "${API}/")
[[ "$page" == "200 text/html"* ]] || die "the web client is not served at / (${page})"
step "the web client is served at /"

# ------------------------------------------------------------------------------------------------------ a chat turn
ADMIN=ops@example.com
PASSWORD='image test operator passphrase'
printf '%s' "$PASSWORD" | docker exec -i "${NAME}-api" gigachat create-admin "$ADMIN" --password-stdin >"$WORK/admin.log" 2>&1 || {
  cat "$WORK/admin.log" >&2
  die "gigachat create-admin failed in the container"
}
# json .a.b: that member of the JSON document on stdin (empty when missing).
json() {
  node -e 'let v = JSON.parse(require("fs").readFileSync(0, "utf8"));
    for (const key of process.argv[1].split(".").filter(Boolean)) v = v?.[key];
    console.log(v ?? "")' "$1"
}
registered=$(curl -s -o /dev/null -w '%{http_code}' "${API}/api/v1/auth/register" -H 'content-type: application/json' \
  -d '{"email":"stranger@example.com","password":"a long enough passphrase","displayName":"S"}')
[[ "$registered" == 403 ]] || die "production registration should be invite-only (403), got ${registered}"
TOKEN=$(curl -sf "${API}/api/v1/auth/login" -H 'content-type: application/json' \
  -d "{\"email\":\"${ADMIN}\",\"password\":\"${PASSWORD}\"}" | json .accessToken)
[[ -n "$TOKEN" ]] || die "the admin could not log in"
CONVERSATION=$(curl -sf "${API}/api/v1/conversations" -H "authorization: Bearer ${TOKEN}" \
  -H 'content-type: application/json' -d '{}' | json .id)
answer=$(curl -s -w '\n%{http_code}' "${API}/api/v1/conversations/${CONVERSATION}/messages" \
  -H "authorization: Bearer ${TOKEN}" -H 'content-type: application/json' -H 'Idempotency-Key: image-test-1' \
  -d '{"content":"Does the image answer end to end?"}')
[[ "$(tail -n 1 <<<"$answer")" == 200 ]] || die "the chat turn answered: ${answer}"
content=$(head -n 1 <<<"$answer" | json .assistantMessage.content)
[[ "$content" == *"Does the image answer end to end?"* ]] || die "unexpected answer: ${content}"
step "one chat turn through the API container and the worker container: \"${content:0:60}\""

WORKER_HEALTH="not checked"
if curl -sf -o /dev/null --max-time 2 "http://127.0.0.1:${WORKER_PORT}/health/live"; then
  for _ in $(seq 1 30); do [[ "$(health "${NAME}-worker")" == healthy ]] && break; sleep 1; done
  [[ "$(health "${NAME}-worker")" == healthy ]] || die "the worker answers on its health port but is not healthy"
  WORKER_HEALTH="healthy (WORKER_METRICS_PORT ${WORKER_PORT}, /health/live)"
else
  WORKER_HEALTH="no health port in this build (WORKER_METRICS_PORT is not served yet); worker proven by the chat turn"
fi
step "worker: ${WORKER_HEALTH}"

# -------------------------------------------------------------------------------------------------------- shut down
stop_start=$SECONDS
docker stop --time 30 "${NAME}-api" "${NAME}-worker" >/dev/null
STOP_SECONDS=$((SECONDS - stop_start))
for container in "${NAME}-api" "${NAME}-worker"; do
  code=$(docker inspect --format '{{.State.ExitCode}}' "$container")
  [[ "$code" != 137 ]] || die "${container} did not stop on SIGTERM within 30 s (killed)"
done
step "both containers stopped on SIGTERM in ${STOP_SECONDS}s"

log "image ${IMAGE}: ${SIZE_MB} MB (base ${BASE_IMAGE}: $((BASE_BYTES / 1000000)) MB, GigaChat layers ${APP_MB} MB), Node ${NODE_VERSION}, built in ${BUILD_SECONDS}s"
