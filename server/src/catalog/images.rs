//! Demo product images: real PNG files drawn deterministically from their name, so the
//! demo catalog's image URLs are stable and always answer with an image.

use image::{ImageFormat, Rgb, RgbImage};
use sha2::{Digest, Sha256};
use std::io::Cursor;

const SIZE: u32 = 320;

/// The PNG for demo image `n` of product `sku`; the same inputs give the same bytes.
pub fn demo_png(sku: &str, n: u32) -> Vec<u8> {
    let digest = Sha256::digest(format!("{sku}/{n}").as_bytes());
    let background = Rgb([
        digest[0] / 2 + 100,
        digest[1] / 2 + 100,
        digest[2] / 2 + 100,
    ]);
    let accent = Rgb([digest[3] / 3, digest[4] / 3, digest[5] / 3]);
    let stripes = 2 + u32::from(digest[6] % 6);
    let mut img = RgbImage::from_pixel(SIZE, SIZE, background);
    // A centred "product" block with stripes, so images of one product look different.
    for y in SIZE / 4..SIZE * 3 / 4 {
        for x in SIZE / 4..SIZE * 3 / 4 {
            if (x / (SIZE / (stripes * 4))) % 2 == (n % 2) {
                img.put_pixel(x, y, accent);
            }
        }
    }
    let mut out = Cursor::new(Vec::new());
    img.write_to(&mut out, ImageFormat::Png)
        .expect("encoding a PNG in memory cannot fail");
    out.into_inner()
}

/// The path under which SyncStore serves demo image `n` of product `sku`.
pub fn demo_path(sku: &str, n: u32) -> String {
    format!("/media/demo/{sku}/{n}.png")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_images_are_deterministic_pngs() {
        let a = demo_png("FSH-00001", 1);
        assert_eq!(a, demo_png("FSH-00001", 1));
        assert_ne!(a, demo_png("FSH-00001", 2));
        assert_eq!(&a[..8], b"\x89PNG\r\n\x1a\n");
        let decoded = image::load_from_memory(&a).unwrap();
        assert_eq!(decoded.width(), SIZE);
    }
}
