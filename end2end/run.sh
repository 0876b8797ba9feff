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
# Where tests claim the products they change (end2end/tests/fixtures.ts), fresh per run.
export E2E_CLAIMS_DIR="$PWD/target/e2e-claims/${run_id}"
export E2E_EMAIL="owner@syncstore.test" E2E_PASSWORD="e2e-owner-password"
export E2E_OPERATOR_EMAIL="operator@syncstore.test" E2E_OPERATOR_PASSWORD="e2e-operator-password"
sandbox_port=$((port + 1))
# The shops are the marketplace sandbox, with its development credentials (docs/sandbox.md).
export SHOPEE_BASE_URL="http://127.0.0.1:${sandbox_port}" TIKTOK_BASE_URL="http://127.0.0.1:${sandbox_port}" \
  TIKTOK_AUTH_BASE_URL="http://127.0.0.1:${sandbox_port}"
export SHOPEE_PARTNER_ID=1000001 SHOPEE_PARTNER_KEY=sandbox-shopee-partner-key \
  SHOPEE_SHOP_ID=2000001 SHOPEE_ACCESS_TOKEN=sandbox-shopee-access-token \
  TIKTOK_APP_KEY=sandboxappkey TIKTOK_APP_SECRET=sandbox-tiktok-app-secret \
  TIKTOK_SHOP_CIPHER=ROW_sandboxcipher TIKTOK_ACCESS_TOKEN=sandbox-tiktok-access-token
export SANDBOX_TIKTOK_AUDIT_MS=0

"$bin" migrate
"$bin" user add --email "$E2E_EMAIL" --role owner --password "$E2E_PASSWORD"
"$bin" user add --email "$E2E_OPERATOR_EMAIL" --role operator --password "$E2E_OPERATOR_PASSWORD"
# The browser tests run batches, so the server starts in the batch_50 stage: the pilot and
# the 10-product stage are recorded as the owner's approvals, the record an approval leaves.
# The gates themselves are tested through the real path in server/tests/api/rollout.rs.
psql -q -v ON_ERROR_STOP=1 "$DATABASE_URL" -c "
  INSERT INTO rollout_approvals (stage, approved_by, note, evidence)
  SELECT stage, (SELECT id FROM users WHERE email = '$E2E_EMAIL'), 'recorded by end2end/run.sh', '{\"test_setup\": true}'
  FROM unnest(ARRAY['pilot', 'batch_10']) AS stage"
"$bin" catalog demo --count 4147 2>/dev/null
# Six demo products (ids 4121 to 4146, every fifth) get only two images, so syncing them
# shows the Error state; the catalog keeps its 4,147 products.
broken_csv=$(mktemp)
{
  head -n 1 docs/catalog-sample.csv
  for sku in FSH-04121 FSH-04126 FSH-04131 FSH-04136 FSH-04141 FSH-04146; do
    img="http://127.0.0.1:${port}/media/demo/${sku}"
    echo "${sku},Kemeja Flanel Lengan Panjang Dua Gambar Saja,Kemeja flanel dengan dua foto saja.,Fashion,50000,5,0.2,,,,${img}/1.png|${img}/2.png,,,,,"
  done
} > "$broken_csv"
"$bin" catalog import "$broken_csv" 2>/dev/null
rm -f "$broken_csv"
"$(dirname "$bin")/syncstore-sandbox" --addr "127.0.0.1:${sandbox_port}" > target/e2e-sandbox.log 2>&1 &
sandbox=$!
"$bin" serve > target/e2e-server.log 2>&1 &
server=$!
trap 'kill $server $sandbox 2>/dev/null || true' EXIT
for _ in $(seq 1 60); do
  curl -sf "http://127.0.0.1:${port}/login" >/dev/null && break
  sleep 0.5
done
npx playwright test -c end2end/playwright.config.ts
