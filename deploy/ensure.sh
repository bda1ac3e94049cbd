#!/usr/bin/env bash
# Makes a checkout ready to run or test: dependencies installed, pinned tools built, local services up,
# code built. Runs before `npm start`, `npm test` and `npm run bench`; fast when everything is already there.
# Its arguments go to `deploy/services.sh up` (`--s3`: the tests and benchmarks use the local S3 server).
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '[gigachat] %s\n' "$*" >&2; }

# npm ci when node_modules is missing or older than the lock file.
if [[ ! -f node_modules/.package-lock.json || package-lock.json -nt node_modules/.package-lock.json ]]; then
  log "installing npm dependencies (npm ci)"
  npm ci --no-audit --no-fund
fi

bash deploy/services.sh up "$@"

log "building (TypeScript and the workflow bundle)"
npm run --silent build
