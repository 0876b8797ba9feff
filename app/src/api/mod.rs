//! What the dashboard asks the server: shared DTOs, input parsing and server functions.
//! The server functions delegate to a [`ssr::Dashboard`] the server crate provides, so
//! database code stays in `server/`.

pub mod audit;
pub mod batch;
pub mod models;
pub mod queue;
pub mod rollback;
pub mod rollout;
pub mod shops;
pub mod validation;

pub use audit::*;
pub use batch::*;
pub use models::*;
pub use queue::*;
pub use rollback::*;
pub use rollout::*;
pub use shops::*;
pub use validation::*;

use leptos::prelude::*;

/// Why a server function could not do what it was asked, with the HTTP status the JSON API
/// answers the same refusal with. Internal failures are logged on the server and reach the
/// user only as "something went wrong".
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// 400: the arguments are not what the function takes.
    Invalid(String),
    /// 401: no signed-in user.
    Unauthenticated,
    /// 403: the signed-in user may not do this.
    Forbidden(String),
    /// 404: nothing has that id.
    NotFound(String),
    /// 409: the request is fine but the state does not allow it now.
    Conflict(String),
    /// 422: well-formed, but not something SyncStore can do (too many products, unknown
    /// ids, a listing the marketplace refuses).
    Unprocessable(String),
    /// 429: a marketplace's rate limit; try again shortly.
    RateLimited(String),
    /// 502: a marketplace failed.
    Upstream(String),
    /// 500: the detail is in the server log.
    Internal,
}

impl Failure {
    pub fn status(&self) -> u16 {
        match self {
            Failure::Invalid(_) => 400,
            Failure::Unauthenticated => 401,
            Failure::Forbidden(_) => 403,
            Failure::NotFound(_) => 404,
            Failure::Conflict(_) => 409,
            Failure::Unprocessable(_) => 422,
            Failure::RateLimited(_) => 429,
            Failure::Upstream(_) => 502,
            Failure::Internal => 500,
        }
    }

    pub fn message(&self) -> &str {
        match self {
            Failure::Invalid(m)
            | Failure::Forbidden(m)
            | Failure::NotFound(m)
            | Failure::Conflict(m)
            | Failure::Unprocessable(m)
            | Failure::RateLimited(m)
            | Failure::Upstream(m) => m,
            Failure::Unauthenticated => "sign in first",
            Failure::Internal => "something went wrong on the server; try again",
        }
    }
}

impl From<Failure> for ServerFnError {
    /// Sets the response's status (on the server) and carries the message to the page.
    /// A plain HTML form post (a form sent before the page became interactive) keeps the
    /// redirect back to its page that carries the error, so the browser does not stop on
    /// a bare error answer.
    fn from(failure: Failure) -> Self {
        #[cfg(feature = "ssr")]
        {
            let form_post = use_context::<axum::http::request::Parts>().is_some_and(|p| {
                p.headers
                    .get(axum::http::header::ACCEPT)
                    .and_then(|v| v.to_str().ok())
                    .is_some_and(|v| v.contains("text/html"))
            });
            if let (false, Some(response)) =
                (form_post, use_context::<leptos_axum::ResponseOptions>())
            {
                if let Ok(status) = axum::http::StatusCode::from_u16(failure.status()) {
                    response.set_status(status);
                }
            }
        }
        ServerFnError::new(failure.message())
    }
}

/// A 400 refusal of a server function's arguments.
pub fn invalid(message: impl Into<String>) -> ServerFnError {
    Failure::Invalid(message.into()).into()
}

/// The longest search text accepted; titles are at most a few hundred characters.
pub const MAX_QUERY_CHARS: usize = 200;
/// Far beyond any real catalog (100,000 products = 2,000 pages), small enough for SQL.
pub const MAX_PAGE: u32 = 1_000_000;

/// Parses a 1-based page number as it appears in a URL.
pub fn parse_page(raw: Option<&str>) -> Result<u32, String> {
    let Some(raw) = raw.map(str::trim).filter(|s| !s.is_empty()) else {
        return Ok(1);
    };
    match raw.parse::<i64>() {
        Ok(n) if n < 1 => Err(format!("page must be 1 or more, got {n}")),
        Ok(n) if n > i64::from(MAX_PAGE) => Err(format!("page must be at most {MAX_PAGE}")),
        Ok(n) => Ok(n as u32),
        Err(_) => Err("page must be a whole number".to_string()),
    }
}

/// Parses the search text: trimmed, at most [`MAX_QUERY_CHARS`] characters.
pub fn parse_query(raw: Option<&str>) -> Result<String, String> {
    let q = raw.unwrap_or("").trim();
    if q.chars().count() > MAX_QUERY_CHARS {
        return Err(format!(
            "search text is too long (at most {MAX_QUERY_CHARS} characters)"
        ));
    }
    Ok(q.to_string())
}

#[server(prefix = "/api/fn", endpoint = "list_products")]
pub async fn list_products(
    page: Option<String>,
    q: Option<String>,
) -> Result<ProductList, ServerFnError> {
    let page = parse_page(page.as_deref()).map_err(invalid)?;
    let q = parse_query(q.as_deref()).map_err(invalid)?;
    ssr::dashboard()?
        .list_products(page, &q)
        .await
        .map_err(ServerFnError::from)
}

/// `None` when no product has this id.
#[server(prefix = "/api/fn", endpoint = "get_product")]
pub async fn get_product(id: String) -> Result<Option<ProductDetail>, ServerFnError> {
    let Ok(id) = id.trim().parse::<i64>() else {
        return Ok(None);
    };
    ssr::dashboard()?
        .product(id)
        .await
        .map_err(ServerFnError::from)
}

/// Syncs a product to `shopee`, `tiktok` or `both` and says what each platform answered.
#[server(prefix = "/api/fn", endpoint = "sync_product")]
pub async fn sync_product(id: String, target: String) -> Result<Vec<SyncOutcome>, ServerFnError> {
    let id: i64 = id
        .trim()
        .parse()
        .map_err(|_| Failure::NotFound("unknown product".into()))?;
    let platforms =
        Platform::targets(&target).ok_or_else(|| invalid("choose Shopee, TikTok or both"))?;
    let dashboard = ssr::dashboard()?;
    let mut outcomes = Vec::new();
    for platform in platforms {
        outcomes.push(dashboard.sync_product(id, platform).await);
    }
    Ok(outcomes)
}

#[server(prefix = "/api/fn", endpoint = "list_sync_logs")]
pub async fn list_sync_logs(
    page: Option<String>,
    product: Option<String>,
    platform: Option<String>,
    status: Option<String>,
    hours: Option<String>,
) -> Result<SyncLogPage, ServerFnError> {
    let page = parse_page(page.as_deref()).map_err(invalid)?;
    let filter = LogFilter::parse(
        product.as_deref().unwrap_or(""),
        platform.as_deref().unwrap_or(""),
        status.as_deref().unwrap_or(""),
        hours.as_deref().unwrap_or(""),
    )
    .map_err(invalid)?;
    ssr::dashboard()?
        .sync_logs(page, filter)
        .await
        .map_err(ServerFnError::from)
}

/// Reads the product back from every platform it is listed on and compares.
#[server(prefix = "/api/fn", endpoint = "verify_product")]
pub async fn verify_product(id: String) -> Result<Vec<CheckDto>, ServerFnError> {
    let id: i64 = id
        .trim()
        .parse()
        .map_err(|_| Failure::NotFound("unknown product".into()))?;
    ssr::dashboard()?
        .verify_product(id)
        .await
        .map_err(ServerFnError::from)
}

#[server(prefix = "/api/fn", endpoint = "pilot_report")]
pub async fn pilot_report() -> Result<PilotReportDto, ServerFnError> {
    ssr::dashboard()?
        .pilot_report()
        .await
        .map_err(ServerFnError::from)
}

#[server(prefix = "/api/fn", endpoint = "whoami")]
pub async fn whoami() -> Result<Option<CurrentUser>, ServerFnError> {
    Ok(ssr::current_user())
}

#[cfg(feature = "ssr")]
pub mod ssr {
    use super::*;
    use std::sync::Arc;

    /// The server side of the dashboard, provided as context by the server crate.
    #[async_trait::async_trait]
    pub trait Dashboard: Send + Sync {
        async fn list_products(&self, page: u32, q: &str) -> Result<ProductList, Failure>;
        async fn product(&self, id: i64) -> Result<Option<ProductDetail>, Failure>;
        async fn sync_product(&self, id: i64, platform: Platform) -> SyncOutcome;
        async fn sync_logs(&self, page: u32, filter: LogFilter) -> Result<SyncLogPage, Failure>;
        async fn verify_product(&self, id: i64) -> Result<Vec<CheckDto>, Failure>;
        async fn pilot_report(&self) -> Result<PilotReportDto, Failure>;
        async fn start_batch(
            &self,
            user_id: Option<i64>,
            ids: Vec<i64>,
            platform: String,
        ) -> Result<BatchCreated, Failure>;
        async fn batch(&self, id: String) -> Result<Option<BatchSnapshot>, Failure>;
        async fn batches(&self) -> Result<Vec<BatchSummary>, Failure>;
        async fn cancel_batch(&self, user_id: Option<i64>, id: String) -> Result<(), Failure>;
        async fn dead_letters(&self) -> Result<Vec<DeadLetter>, Failure>;
        async fn retry_dead_letter(
            &self,
            user_id: Option<i64>,
            job_id: String,
        ) -> Result<(), Failure>;
        async fn discard_dead_letter(
            &self,
            user_id: Option<i64>,
            job_id: String,
            reason: String,
        ) -> Result<(), Failure>;
        async fn batch_report(&self, id: String) -> Result<Option<BatchReportDto>, Failure>;
        async fn spot_check(&self, id: String) -> Result<usize, Failure>;
        async fn validation_runs(&self) -> Result<Vec<ValidationReport>, Failure>;
        async fn run_validation(&self, live: bool) -> Result<ValidationReport, Failure>;
        async fn validation_progress(&self) -> Result<Option<(usize, usize)>, Failure>;
        async fn rollout(&self) -> Result<RolloutStatus, Failure>;
        async fn completion_report(&self) -> Result<CompletionReportDto, Failure>;
        async fn audit_log(
            &self,
            page: u32,
            action: Option<String>,
            user: Option<String>,
        ) -> Result<AuditPage, Failure>;
        async fn approve_rollout(
            &self,
            user: CurrentUser,
            note: String,
        ) -> Result<RolloutStatus, Failure>;
        /// A dry run's plan, or the rollback started (owner only).
        async fn rollback(
            &self,
            user: CurrentUser,
            request: RollbackRequest,
        ) -> Result<RollbackAnswer, Failure>;
        async fn shops(&self) -> Result<Vec<ShopConnection>, Failure>;
        /// Owner only.
        async fn settings(
            &self,
            user: CurrentUser,
            claimed: Option<Notice>,
            sig: String,
        ) -> Result<SettingsView, Failure>;
        async fn set_markup(
            &self,
            user: CurrentUser,
            platform: Platform,
            bp: u32,
        ) -> Result<MarkupSetting, Failure>;
        async fn disconnect_shop(
            &self,
            user: CurrentUser,
            platform: Platform,
        ) -> Result<(), Failure>;
        /// Owner only: a batch of the listings priced at another markup, within the
        /// rollout stage's limit.
        async fn resync_outdated(
            &self,
            user: CurrentUser,
            platform: Platform,
        ) -> Result<BatchCreated, Failure>;
        /// Owner only; answers the mapping of the category (any master mapped to it).
        async fn set_attribute_default(
            &self,
            user: CurrentUser,
            platform: Platform,
            category_id: String,
            attribute_id: String,
            value: String,
        ) -> Result<CategoryMapping, Failure>;
        /// Owner only.
        async fn category_tree(
            &self,
            user: CurrentUser,
            platform: Platform,
        ) -> Result<CategoryTree, Failure>;
        /// Owner only.
        async fn set_category_mapping(
            &self,
            user: CurrentUser,
            platform: Platform,
            master: String,
            category_id: String,
        ) -> Result<CategoryMapping, Failure>;
        /// Checks `title` against the master title ([`crate::domain::parse_title_override`]).
        async fn set_title_override(
            &self,
            user: CurrentUser,
            id: i64,
            platform: Platform,
            title: String,
        ) -> Result<Option<String>, Failure>;
    }

    pub type SharedDashboard = Arc<dyn Dashboard>;

    /// The signed-in user the session layer put on the request, if any.
    pub fn current_user() -> Option<CurrentUser> {
        use_context::<axum::http::request::Parts>()
            .and_then(|p| p.extensions.get::<CurrentUser>().cloned())
    }

    /// The signed-in user (the session layer answers 401 before a server function runs
    /// without one).
    pub fn signed_in() -> Result<CurrentUser, ServerFnError> {
        current_user().ok_or_else(|| Failure::Unauthenticated.into())
    }

    pub fn dashboard() -> Result<SharedDashboard, ServerFnError> {
        use_context::<SharedDashboard>().ok_or_else(|| Failure::Internal.into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_numbers_are_parsed_strictly() {
        assert_eq!(parse_page(None), Ok(1));
        assert_eq!(parse_page(Some("")), Ok(1));
        assert_eq!(parse_page(Some("3")), Ok(3));
        assert!(parse_page(Some("0")).is_err());
        assert!(parse_page(Some("-2")).is_err());
        assert!(parse_page(Some("abc")).is_err());
        assert!(parse_page(Some("99999999999999999999999")).is_err());
        assert!(parse_page(Some("2000000")).is_err());
    }

    #[test]
    fn search_text_is_trimmed_and_bounded() {
        assert_eq!(parse_query(Some("  kaos ")), Ok("kaos".to_string()));
        assert!(parse_query(Some(&"a".repeat(10_000))).is_err());
    }
}
