//! Demo product images, served at stable URLs so marketplaces (and the sandbox) can
//! download them like any seller's image host.

use axum::extract::Path;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::catalog::{check_sku, images::demo_png};

pub async fn demo_image(Path((sku, file)): Path<(String, String)>) -> Response {
    let n = file
        .strip_suffix(".png")
        .and_then(|n| n.parse::<u32>().ok());
    match n {
        Some(n @ 1..=9) if check_sku(&sku).is_ok() => (
            [
                (header::CONTENT_TYPE, "image/png"),
                (header::CACHE_CONTROL, "public, max-age=31536000, immutable"),
            ],
            demo_png(&sku, n),
        )
            .into_response(),
        _ => (StatusCode::NOT_FOUND, "no such image").into_response(),
    }
}
