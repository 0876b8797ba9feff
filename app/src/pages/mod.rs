pub mod batches;
pub mod dead_letters;
pub mod login;
pub mod not_found;
pub mod product;
pub mod products;
pub mod reports;
pub mod sync_logs;
