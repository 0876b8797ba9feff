//! Input that can never be stored is refused at the door: a NUL byte anywhere in the path,
//! the query or a body (Postgres refuses it in text), and bodies larger than [`BODY_LIMIT`].
//! The answer is the SPEC's 400 `VALIDATION_ERROR` (413 for a body too large), never a 500.

use axum::body::{to_bytes, Body};
use axum::extract::Request;
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use super::error::AppError;

/// No form, JSON request or server function call of SyncStore comes near this.
pub const BODY_LIMIT: usize = 2 * 1024 * 1024;

fn decoded_has_nul(text: &str) -> bool {
    text.contains('\0') || urlencoding::decode_binary(text.as_bytes()).contains(&0)
}

/// A body with a NUL as a raw byte, or escaped as its content type escapes it (JSON
/// `\u0000`, form `%00`; a form encodes a typed `%` as `%25`, so `%00` is always a NUL).
fn body_has_nul(body: &[u8], form: bool) -> bool {
    let has = |needle: &[u8]| body.windows(needle.len()).any(|w| w == needle);
    body.contains(&0) || has(b"\\u0000") || (form && has(b"%00"))
}

pub async fn refuse_unstorable_input(req: Request, next: Next) -> Response {
    let uri = req.uri();
    if decoded_has_nul(uri.path()) || uri.query().is_some_and(decoded_has_nul) {
        return AppError::Validation("the address contains a NUL character".into()).into_response();
    }
    if matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return next.run(req).await;
    }
    let (parts, body) = req.into_parts();
    let bytes = match to_bytes(body, BODY_LIMIT).await {
        Ok(bytes) => bytes,
        Err(_) => {
            return (
                StatusCode::PAYLOAD_TOO_LARGE,
                Json(json!({"success": false, "error": {"code": "VALIDATION_ERROR",
                    "message": format!("the request body is larger than {} bytes, or broke off", BODY_LIMIT)}})),
            )
                .into_response()
        }
    };
    let form = parts
        .headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if body_has_nul(&bytes, form) {
        return AppError::Validation("the request contains a NUL character".into()).into_response();
    }
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}

/// How a server function's error body begins when its arguments could not be read: those
/// are the caller's mistake (400), which the server-function layer reports as 500.
const ARGUMENT_ERRORS: [&[u8]; 4] = [b"Args|", b"MissingArg|", b"Deserialization|", b"Request|"];

/// The largest server-function error body looked into; theirs are one line.
const ERROR_BODY_LIMIT: usize = 64 * 1024;

/// Server functions answer malformed arguments with 400 like the JSON API, not 500.
pub async fn server_fn_statuses(req: Request, next: Next) -> Response {
    if !req.uri().path().starts_with("/api/fn/") {
        return next.run(req).await;
    }
    let response = next.run(req).await;
    if response.status() != StatusCode::INTERNAL_SERVER_ERROR {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = to_bytes(body, ERROR_BODY_LIMIT).await else {
        return AppError::Internal(anyhow::anyhow!("server function error body unreadable"))
            .into_response();
    };
    if ARGUMENT_ERRORS.iter().any(|p| bytes.starts_with(p)) {
        parts.status = StatusCode::BAD_REQUEST;
    }
    Response::from_parts(parts, Body::from(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nul_is_found_in_every_spelling() {
        assert!(decoded_has_nul("q=%00"));
        assert!(decoded_has_nul("/api/products/1%00"));
        assert!(!decoded_has_nul("q=kemeja%20flanel"));
        assert!(body_has_nul(br#"{"email":"a\u0000@x.id"}"#, false));
        assert!(body_has_nul(b"email=a%00%40x.id", true));
        assert!(body_has_nul(b"a\0b", false));
        assert!(!body_has_nul(br#"{"email":"a@x.id","n":100}"#, false));
        assert!(!body_has_nul(br#"{"reason":"50%00 off"}"#, false));
    }
}
