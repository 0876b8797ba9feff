//! Pure domain rules shared by the server and the WASM dashboard: no I/O here.

pub mod money;
pub mod seo_title;
pub mod similarity;
pub mod title_override;

pub use money::{MarkupBp, PriceError, Rupiah};
pub use seo_title::{seo_title, TitleError, TitleLimits, SIMILARITY_BAND};
pub use similarity::similarity;
pub use title_override::{check_title, parse_title_override, TitleCheck};
