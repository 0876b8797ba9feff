//! Clients for the marketplaces SyncStore lists on. Each speaks its platform's real wire
//! protocol and reports failures as one [`MarketplaceError`].

pub mod error;
pub mod shopee;
pub mod tiktok;

pub use error::MarketplaceError;
