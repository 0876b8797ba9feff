//! `AppError`: every failure an HTTP route can report, mapped to a status and the SPEC's
//! JSON error body in one place.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("{0}")]
    Validation(String),
    #[error("sign in first")]
    Unauthenticated,
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    ProductNotFound(String),
    #[error("{0}")]
    RateLimited(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    BatchTooLarge(String),
    #[error("no product with id {}", .0.iter().map(i64::to_string).collect::<Vec<_>>().join(", "))]
    UnknownProducts(Vec<i64>),
    /// Those products (or that product and platform) are being synced right now.
    #[error("{message}")]
    SyncInProgress {
        message: String,
        product_ids: Vec<i64>,
    },
    /// The rollout's rules refuse this now (SPEC §7): `missing` says what is needed.
    #[error("{message}")]
    RolloutGate {
        message: String,
        missing: Vec<String>,
    },
    /// A rollback whose plan undoes nothing.
    #[error("{0}")]
    NothingToRollBack(String),
    /// A rollback whose plan is no longer the one its dry run showed.
    #[error("{0}")]
    PlanChanged(String),
    /// A marketplace failed: `NETWORK_ERROR`, `UNAUTHORIZED` (502) or `RATE_LIMITED` (429).
    #[error("{message}")]
    Upstream { code: &'static str, message: String },
    #[error("unexpected server error")]
    Internal(#[from] anyhow::Error),
}

impl AppError {
    pub fn code(&self) -> &'static str {
        match self {
            AppError::Validation(_) => "VALIDATION_ERROR",
            AppError::Unauthenticated => "UNAUTHENTICATED",
            AppError::Forbidden(_) => "FORBIDDEN",
            AppError::ProductNotFound(_) => "INVALID_PRODUCT",
            AppError::RateLimited(_) => "RATE_LIMITED",
            AppError::NotFound(_) => "NOT_FOUND",
            AppError::BatchTooLarge(_) => "BATCH_TOO_LARGE",
            AppError::UnknownProducts(_) => "INVALID_PRODUCT",
            AppError::SyncInProgress { .. } => "SYNC_IN_PROGRESS",
            AppError::RolloutGate { .. } => "ROLLOUT_GATE",
            AppError::NothingToRollBack(_) => "NOTHING_TO_ROLL_BACK",
            AppError::PlanChanged(_) => "PLAN_CHANGED",
            AppError::Upstream { code, .. } => code,
            AppError::Internal(_) => "INTERNAL_ERROR",
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            AppError::Validation(_) => StatusCode::BAD_REQUEST,
            AppError::Unauthenticated => StatusCode::UNAUTHORIZED,
            AppError::Forbidden(_) => StatusCode::FORBIDDEN,
            AppError::ProductNotFound(_) => StatusCode::NOT_FOUND,
            AppError::RateLimited(_) => StatusCode::TOO_MANY_REQUESTS,
            AppError::NotFound(_) => StatusCode::NOT_FOUND,
            AppError::BatchTooLarge(_) | AppError::UnknownProducts(_) => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            AppError::SyncInProgress { .. }
            | AppError::RolloutGate { .. }
            | AppError::NothingToRollBack(_)
            | AppError::PlanChanged(_) => StatusCode::CONFLICT,
            AppError::Upstream { code, .. } if *code == "RATE_LIMITED" => {
                StatusCode::TOO_MANY_REQUESTS
            }
            AppError::Upstream { code, .. } if *code == "INVALID_PRODUCT" => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            // The owner must reconnect the shop first.
            AppError::Upstream { code, .. } if *code == "SHOP_DISCONNECTED" => StatusCode::CONFLICT,
            AppError::Upstream { .. } => StatusCode::BAD_GATEWAY,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl From<sea_orm::DbErr> for AppError {
    fn from(e: sea_orm::DbErr) -> Self {
        AppError::Internal(e.into())
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        if let AppError::Internal(e) = &self {
            tracing::error!(error = ?e, "request failed");
        }
        let mut body = json!({
            "success": false,
            "error": { "code": self.code(), "message": self.to_string() },
        });
        if let AppError::UnknownProducts(ids)
        | AppError::SyncInProgress {
            product_ids: ids, ..
        } = &self
        {
            body["error"]["product_ids"] = json!(ids);
        }
        if let AppError::RolloutGate { missing, .. } = &self {
            body["error"]["missing"] = json!(missing);
        }
        (self.status(), Json(body)).into_response()
    }
}

pub type ApiResult<T> = Result<T, AppError>;
