//! Pure domain rules shared by the server and the WASM dashboard: no I/O here.

pub mod money;
pub mod seo_title;
pub mod similarity;

pub use money::{MarkupBp, PriceError, Rupiah};
pub use seo_title::{seo_title, TitleError, TitleLimits, SIMILARITY_BAND};
pub use similarity::similarity;
