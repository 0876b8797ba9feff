//! SyncStore's server: HTTP, database, Redis, catalog and the command line.

pub mod catalog;
pub mod cli;
pub mod config;
pub mod db;
pub mod http;
pub mod marketplace;
pub mod queue;
pub mod redact;
pub mod redis;
pub mod rollout;
pub mod shops;
pub mod startup;
pub mod sync;
pub mod telemetry;
pub mod validation;
