//! Phase 2 validation runs (SPEC §8), as the API, the CLI's `--json` and the Validation
//! page show them.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// One offending row: a product (and platform, unless the row is about the product) and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ValidationRow {
    pub product_id: i64,
    pub platform: Option<String>,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ValidationCheck {
    /// `pricing`, `seo_titles`, `mappings` or `images`.
    pub name: String,
    pub passed: bool,
    /// Products this check looked at.
    pub checked: usize,
    pub failing: Vec<ValidationRow>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ValidationReport {
    pub passed: bool,
    pub ran_at: String,
    pub live: bool,
    pub checks: Vec<ValidationCheck>,
}

/// The newest runs, newest first.
#[server(prefix = "/api/fn", endpoint = "validation_runs")]
pub async fn validation_runs() -> Result<Vec<ValidationReport>, ServerFnError> {
    super::ssr::dashboard()?
        .validation_runs()
        .await
        .map_err(ServerFnError::from)
}

/// How far the validation running now has got, as (products checked, products in all);
/// `None` when none is running in this server process.
#[server(prefix = "/api/fn", endpoint = "validation_progress")]
pub async fn validation_progress() -> Result<Option<(usize, usize)>, ServerFnError> {
    super::ssr::dashboard()?
        .validation_progress()
        .await
        .map_err(ServerFnError::from)
}

/// Runs every check now; `live` also reads every listing back from the marketplaces.
#[server(prefix = "/api/fn", endpoint = "run_validation")]
pub async fn run_validation(live: bool) -> Result<ValidationReport, ServerFnError> {
    super::ssr::dashboard()?
        .run_validation(live)
        .await
        .map_err(ServerFnError::from)
}
