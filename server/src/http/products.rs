//! `GET /api/products` and `GET /api/products/{id}` (SPEC §5).

use std::collections::HashMap;

use app::api::{parse_page, parse_query, ProductDetail, ProductList};
use axum::extract::{Path, Query, State};
use axum::Json;

use super::error::{ApiResult, AppError};
use crate::db::catalog;
use crate::startup::AppState;

pub async fn list(
    State(state): State<AppState>,
    Query(params): Query<HashMap<String, String>>,
) -> ApiResult<Json<ProductList>> {
    let page = parse_page(params.get("page").map(String::as_str)).map_err(AppError::Validation)?;
    let q = parse_query(params.get("q").map(String::as_str)).map_err(AppError::Validation)?;
    Ok(Json(catalog::list_products(&state.db, page, &q).await?))
}

pub async fn detail(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<ProductDetail>> {
    let not_found = || AppError::ProductNotFound(format!("no product with id {id:?}"));
    let numeric: i64 = id.trim().parse().map_err(|_| not_found())?;
    let product = catalog::product_detail(&state.db, numeric)
        .await?
        .ok_or_else(not_found)?;
    Ok(Json(product))
}
