# SyncStore: `make run` and `make test` work on a fresh Debian/Ubuntu machine (README.md).
SHELL := /bin/bash
export PATH := $(CURDIR)/node_modules/.bin:$(HOME)/.cargo/bin:$(PATH)
export LEPTOS_SITE_ROOT := target/site

.PHONY: run test build bench deps services lint clean-test-dbs

deps:
	@scripts/deps.sh

services:
	@scripts/services.sh

build: deps
	cargo leptos build --release --split --precompress
	cargo build --release -p sandbox

run: build services
	@scripts/run.sh

test: deps services clean-test-dbs
	# Without the frontend crate: it would unify the browser (hydrate) features into app.
	cargo nextest run --workspace --exclude frontend --no-fail-fast
	cargo leptos build --split
	cargo build -p sandbox --bin syncstore-sandbox
	end2end/run.sh target/debug/syncstore

# Queue overhead, the product list under load, a 50-product batch against the sandbox,
# memory and the release WASM (docs/benchmarks.md).
bench: deps services clean-test-dbs
	cargo leptos build --release --split --precompress
	cargo bench -p server --bench queue

lint:
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets -- -D warnings

# Databases left by earlier test runs (each integration test makes its own).
clean-test-dbs: services
	@psql -h 127.0.0.1 -U postgres -Atc "SELECT datname FROM pg_database WHERE datname LIKE 'syncstore_test_%'" \
		| while read -r db; do dropdb -h 127.0.0.1 -U postgres --if-exists "$$db"; done
