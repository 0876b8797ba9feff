//! The browser's code, styles and split chunks under `/pkg`: served ahead of sessions and
//! sign-in, which no such file needs (a lazy page loads dozens of chunks, and each went
//! through a session load, a user lookup and a session save), and answered with their
//! own status: a file that cannot be read is logged with its reason instead of becoming
//! the dashboard's 404 page.

use std::io;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use tower_http::services::ServeDir;

use crate::startup::AppState;

/// Where the router serves [`file`].
pub const ROUTE: &str = "/pkg/{*file}";

/// `GET /pkg/...`: the file from the site root, precompressed brotli or gzip when the
/// build made them and the browser takes them.
pub async fn file(State(state): State<AppState>, req: Request) -> Response {
    let path = req.uri().path().to_owned();
    let mut files = ServeDir::new(&*state.leptos_options.site_root)
        .append_index_html_on_directories(false)
        .precompressed_br()
        .precompressed_gzip();
    match files.try_call(req).await {
        Ok(mut res) => {
            if res.status() == StatusCode::NOT_FOUND {
                tracing::info!(%path, "no such site file");
            }
            // The same address answers brotli, gzip or plain by what the browser takes.
            res.headers_mut()
                .entry(header::VARY)
                .or_insert(HeaderValue::from_static("accept-encoding"));
            res.map(Body::new)
        }
        // A name no file system takes (too long, say) names no file.
        Err(e) if e.kind() == io::ErrorKind::InvalidFilename => {
            (StatusCode::NOT_FOUND, "no such file").into_response()
        }
        Err(e) => {
            tracing::error!(%path, error = %e, "site file could not be read");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "the file could not be read",
            )
                .into_response()
        }
    }
}
