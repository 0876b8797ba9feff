//! `POST /api/sync/manual` (SPEC §5): synchronous, answers when the marketplaces have.

use app::api::Platform;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use super::error::AppError;
use crate::db::catalog;
use crate::startup::AppState;
use crate::sync::{AttemptContext, SyncError};

#[derive(Deserialize)]
struct ManualSync {
    product_id: i64,
    target_platform: String,
}

fn status_for(code: &str) -> StatusCode {
    match code {
        "INVALID_PRODUCT" => StatusCode::UNPROCESSABLE_ENTITY,
        "RATE_LIMITED" => StatusCode::TOO_MANY_REQUESTS,
        "SYNC_IN_PROGRESS" | "SHOP_DISCONNECTED" => StatusCode::CONFLICT,
        "NETWORK_ERROR" | "UNAUTHORIZED" => StatusCode::BAD_GATEWAY,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

pub async fn manual(State(state): State<AppState>, body: Bytes) -> Response {
    let request: ManualSync = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => {
            return AppError::Validation(format!("expected {{\"product_id\": number, \"target_platform\": \"shopee\"|\"tiktok\"|\"both\"}}: {e}"))
                .into_response()
        }
    };
    let Some(targets) = Platform::targets(&request.target_platform) else {
        return AppError::Validation(format!(
            "target_platform must be shopee, tiktok or both, not {:?}",
            request.target_platform
        ))
        .into_response();
    };
    match catalog::product_exists(&state.db, request.product_id).await {
        Ok(true) => {}
        Ok(false) => {
            return AppError::ProductNotFound(format!("no product with id {}", request.product_id))
                .into_response()
        }
        Err(e) => return AppError::from(e).into_response(),
    }

    let sync_id = hex::encode(rand::random::<[u8; 16]>());
    let mut results: Vec<Value> = Vec::new();
    let mut first_error: Option<(String, String)> = None;
    for platform in targets {
        let ctx = AttemptContext {
            attempt: 1,
            ..Default::default()
        };
        match state
            .sync
            .sync_product_to(request.product_id, platform, &ctx)
            .await
        {
            Ok(result) => results.push(json!(result)),
            Err(e) => {
                if let SyncError::Db(db) = &e {
                    tracing::error!(error = %db, "manual sync could not record its work");
                }
                let (code, message) = (e.code().to_string(), e.to_string());
                results.push(json!({"platform": platform, "status": "error", "action": null, "error": {"code": code, "message": message}}));
                first_error.get_or_insert((code, message));
            }
        }
    }
    match first_error {
        None => Json(json!({
            "success": true,
            "sync_id": sync_id,
            "platform": request.target_platform,
            "message": format!("synced to {}", request.target_platform),
            "data": {"results": results},
        }))
        .into_response(),
        Some((code, message)) => (
            status_for(&code),
            Json(json!({
                "success": false,
                "sync_id": sync_id,
                "platform": request.target_platform,
                "message": message,
                "error": {"code": code, "message": message},
                "data": {"results": results},
            })),
        )
            .into_response(),
    }
}
