//! Integration tests: the real application over HTTP, real Postgres and Redis.

mod auth;
mod batch;
mod batch_events;
mod batch_workers;
mod catalog;
mod exclusive_sync;
mod manual_sync;
mod pages;
mod products;
mod queue_failures;
mod rate_limit;
mod robustness;
mod rollback;
mod rollout;
mod security;
mod shopee_client;
mod shops;
mod snapshots;
mod support;
mod tiktok_client;
mod validation;
