//! Master images: downloaded, checked to be images, and uploaded to a platform once per
//! content hash.

use app::api::Platform;
use sha2::{Digest, Sha256};

use super::{SyncError, SyncService};
use crate::db::sync as records;

/// Platform image ids for the product's images, in order, uploading only bytes the
/// platform has not seen.
pub async fn platform_images<F, Fut>(
    service: &SyncService,
    platform: Platform,
    urls: &[String],
    upload: F,
) -> Result<Vec<String>, SyncError>
where
    F: Fn(Vec<u8>, String) -> Fut,
    Fut: std::future::Future<Output = Result<String, SyncError>>,
{
    let mut ids = Vec::with_capacity(urls.len());
    for (i, url) in urls.iter().enumerate() {
        let bytes = download(service, url).await.map_err(|reason| {
            // A signed image URL carries its signature in the query: never shown.
            let shown = url.split('?').next().unwrap_or(url);
            SyncError::InvalidProduct(format!(
                "image {} ({shown}) does not download as an image: {reason}",
                i + 1
            ))
        })?;
        let hash = hex::encode(Sha256::digest(&bytes));
        let id = match records::uploaded_image(&service.db, platform, &hash).await? {
            Some(id) => id,
            None => {
                let id = upload(bytes, format!("{}.png", &hash[..16])).await?;
                records::remember_image(&service.db, platform, &hash, &id).await?;
                id
            }
        };
        ids.push(id);
    }
    Ok(ids)
}

/// The bytes at `url` when it answers 200 with a PNG or JPEG; otherwise why not.
pub(crate) async fn download(service: &SyncService, url: &str) -> Result<Vec<u8>, String> {
    let response = service
        .http
        .get(url)
        .send()
        .await
        .map_err(|e| e.without_url().to_string())?;
    if !response.status().is_success() {
        return Err(format!("HTTP {}", response.status()));
    }
    let bytes = response
        .bytes()
        .await
        .map_err(|e| e.without_url().to_string())?
        .to_vec();
    match image::guess_format(&bytes) {
        Ok(image::ImageFormat::Png | image::ImageFormat::Jpeg) => Ok(bytes),
        Ok(other) => Err(format!("{other:?} is not accepted; use PNG or JPEG")),
        Err(_) => Err("the file is not an image".into()),
    }
}
