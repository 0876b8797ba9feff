#!/usr/bin/env bash
# Installs what building and testing SyncStore needs, skipping whatever is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

rustup target list --installed | grep -q '^wasm32-unknown-unknown$' || rustup target add wasm32-unknown-unknown

if ! cargo leptos --version >/dev/null 2>&1; then
  echo "installing cargo-leptos (about 14 minutes on 2 cores)"
  cargo install cargo-leptos --version 0.3.10 --locked --features no_downloads
fi

if ! cargo nextest --version >/dev/null 2>&1; then
  cargo install cargo-nextest --locked
fi

# wasm-bindgen's CLI must match the library version in Cargo.lock exactly.
wbg=$(grep -A1 '^name = "wasm-bindgen"$' Cargo.lock | sed -n 's/^version = "\(.*\)"$/\1/p')
if ! wasm-bindgen --version 2>/dev/null | grep -q " $wbg\$"; then
  cargo install wasm-bindgen-cli --version "$wbg"
fi

if [ ! -x node_modules/.bin/tailwindcss ] || [ ! -x node_modules/.bin/wasm-opt ] || [ ! -x node_modules/.bin/playwright ]; then
  npm ci --no-audit --no-fund
fi

if ! command -v chromium >/dev/null 2>&1; then
  as_root apt-get update
  as_root apt-get install -y chromium
fi
