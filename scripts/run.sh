#!/usr/bin/env bash
# `make run`: the marketplace sandbox (unless real shop credentials are set) and SyncStore
# with the demo catalog, built in release mode beforehand by `make build`.
set -euo pipefail
cd "$(dirname "$0")/.."

addr=${SYNCSTORE_ADDR:-127.0.0.1:3000}
sandbox_addr=${SANDBOX_ADDR:-127.0.0.1:3100}
email=${DEMO_EMAIL:-owner@syncstore.local}
password=${DEMO_PASSWORD:-syncstore-demo}
export LEPTOS_SITE_ROOT=target/site

target/release/syncstore migrate
target/release/syncstore user add --email "$email" --role owner --password "$password" --if-missing
SYNCSTORE_PUBLIC_URL=${SYNCSTORE_PUBLIC_URL:-http://$addr} target/release/syncstore catalog demo --if-empty

pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true' EXIT INT TERM
if [ -z "${SHOPEE_PARTNER_KEY:-}" ] && [ -z "${TIKTOK_APP_SECRET:-}" ]; then
  # The sandbox's development credentials (docs/sandbox.md), shared by both sides.
  export SHOPEE_PARTNER_ID=1000001 SHOPEE_PARTNER_KEY=sandbox-shopee-partner-key \
    SHOPEE_SHOP_ID=2000001 SHOPEE_ACCESS_TOKEN=sandbox-shopee-access-token \
    TIKTOK_APP_KEY=sandboxappkey TIKTOK_APP_SECRET=sandbox-tiktok-app-secret \
    TIKTOK_SHOP_CIPHER=ROW_sandboxcipher TIKTOK_ACCESS_TOKEN=sandbox-tiktok-access-token
  target/release/syncstore-sandbox --addr "$sandbox_addr" &
  pids+=($!)
  export SHOPEE_BASE_URL="http://$sandbox_addr" TIKTOK_BASE_URL="http://$sandbox_addr" \
    TIKTOK_AUTH_BASE_URL="http://$sandbox_addr"
  sandbox_note="marketplace sandbox at http://$sandbox_addr"
else
  sandbox_note="real shop credentials found: the sandbox is off"
fi

echo
echo "  SyncStore:  http://$addr/login"
echo "  Demo owner: $email / $password"
echo "  ($sandbox_note)"
echo
SYNCSTORE_ADDR=$addr target/release/syncstore serve &
pids+=($!)
wait -n "${pids[@]}"
