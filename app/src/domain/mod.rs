//! Pure domain rules shared by the server and the WASM dashboard: no I/O here.

pub mod money;
pub mod similarity;

pub use money::{MarkupBp, PriceError, Rupiah};
pub use similarity::similarity;
