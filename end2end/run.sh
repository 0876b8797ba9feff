#!/usr/bin/env bash
# Runs the Playwright tests against a SyncStore server with a fresh database holding the
# demo catalog. Usage: end2end/run.sh PATH_TO_SYNCSTORE_BINARY
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-target/debug/syncstore}
port=${E2E_PORT:-3107}
run_id="e2e_$(date +%s)_$$"
export DATABASE_URL="postgres://postgres@127.0.0.1:5432/syncstore_test_${run_id}"
export SYNCSTORE_REDIS_PREFIX="test:${run_id}:"
export SYNCSTORE_ADDR="127.0.0.1:${port}"
export SYNCSTORE_PUBLIC_URL="http://127.0.0.1:${port}"
export LEPTOS_SITE_ROOT=target/site
export E2E_BASE_URL="$SYNCSTORE_PUBLIC_URL"
export E2E_EMAIL="owner@syncstore.test" E2E_PASSWORD="e2e-owner-password"

"$bin" migrate
"$bin" user add --email "$E2E_EMAIL" --role owner --password "$E2E_PASSWORD"
"$bin" catalog demo --count 4147 2>/dev/null
"$bin" serve --no-worker > target/e2e-server.log 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
for _ in $(seq 1 60); do
  curl -sf "http://127.0.0.1:${port}/login" >/dev/null && break
  sleep 0.5
done
npx playwright test -c end2end/playwright.config.ts
