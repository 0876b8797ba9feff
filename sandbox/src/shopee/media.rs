//! `media_space/upload_image` and the URLs uploaded images are served back at.

use axum::extract::{Multipart, Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::{handle, Params, ShopeeError, Signing};
use crate::store::{Sandbox, StoredImage};

pub const MAX_IMAGE_BYTES: usize = 10 * 1024 * 1024;

fn content_type(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else {
        None
    }
}

pub async fn upload_image(
    State(sb): State<Sandbox>,
    Query(p): Query<Params>,
    mut multipart: Multipart,
) -> Response {
    let mut files: Vec<Result<Vec<u8>, String>> = Vec::new();
    let mut malformed = None;
    loop {
        match multipart.next_field().await {
            Ok(Some(field)) if field.name() == Some("image") => match field.bytes().await {
                Ok(b) => files.push(Ok(b.to_vec())),
                Err(e) => files.push(Err(e.to_string())),
            },
            Ok(Some(_)) => {}
            Ok(None) => break,
            Err(e) => {
                malformed = Some(e.to_string());
                break;
            }
        }
    }
    let base = sb.config.public_url.clone();
    handle(&sb, "/api/v2/media_space/upload_image", &p, Signing::ShopOrPublic, |state, _| {
        if let Some(e) = malformed {
            return Err(ShopeeError::param(format!("Invalid multipart body: {e}")));
        }
        if files.is_empty() {
            return Err(ShopeeError::param("can't find image file"));
        }
        if files.len() > 9 {
            return Err(ShopeeError::param("Upload fewer than 9 images per call."));
        }
        let mut infos = Vec::new();
        for (i, file) in files.into_iter().enumerate() {
            let bytes = file.map_err(ShopeeError::param)?;
            if bytes.len() > MAX_IMAGE_BYTES {
                return Err(ShopeeError::param("Image size should be at most 10MB."));
            }
            let kind = content_type(&bytes).ok_or_else(|| ShopeeError::param("Image format should be JPG, JPEG or PNG."))?;
            let image_id = format!("id-11134207-{}", hex::encode(rand::random::<[u8; 12]>()));
            state.images.insert(image_id.clone(), StoredImage { bytes, content_type: kind });
            let info = json!({
                "image_id": image_id,
                "image_url_list": [{"image_url_region": "ID", "image_url": format!("{base}/shopee-media/{image_id}")}],
            });
            infos.push(json!({"id": i, "error": "", "message": "", "image_info": info}));
        }
        Ok(json!({"image_info": infos[0]["image_info"].clone(), "image_info_list": infos}))
    })
    .await
}

pub async fn serve_image(State(sb): State<Sandbox>, Path(image_id): Path<String>) -> Response {
    let state = sb.lock();
    match state.shopee.images.get(&image_id) {
        Some(img) => (
            [(header::CONTENT_TYPE, img.content_type)],
            img.bytes.clone(),
        )
            .into_response(),
        None => (StatusCode::NOT_FOUND, "no such image").into_response(),
    }
}
