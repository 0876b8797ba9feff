//! The master catalog as SyncStore receives it: parsed products, the CSV format, the demo
//! catalog generator and its images.

pub mod csv_format;
pub mod demo;
pub mod images;

use app::domain::Rupiah;

/// A master product that passed every import rule; stored as is.
#[derive(Debug, Clone, PartialEq)]
pub struct NewProduct {
    pub sku: String,
    pub title: String,
    pub description: String,
    pub category: String,
    pub base_price: Rupiah,
    pub weight_g: i32,
    pub dimensions_cm: Option<[i32; 3]>,
    pub stock: i32,
    pub images: Vec<String>,
    /// Variant tier names in order, e.g. ["Warna", "Ukuran"]; empty without variants.
    pub tier_names: Vec<String>,
    pub variants: Vec<NewVariant>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct NewVariant {
    pub sku: String,
    /// One option per tier, in tier order.
    pub options: Vec<String>,
    pub base_price: Rupiah,
    pub stock: i32,
}

pub const MAX_TITLE_CHARS: usize = 255;
pub const MAX_SKU_CHARS: usize = 100;
pub const MAX_IMAGES: usize = 9;
pub const MAX_VARIANTS: usize = 50;

/// A valid SKU: 1–100 characters of letters, digits, `-`, `_`, `.` or `/`.
pub fn check_sku(sku: &str) -> Result<(), String> {
    if sku.is_empty() {
        return Err("SKU is empty".into());
    }
    if sku.chars().count() > MAX_SKU_CHARS {
        return Err(format!("SKU is longer than {MAX_SKU_CHARS} characters"));
    }
    if !sku
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "-_./".contains(c))
    {
        return Err("SKU may only contain letters, digits, '-', '_', '.' and '/'".into());
    }
    Ok(())
}

/// A master image must be an absolute http(s) URL; whether it downloads as an image is
/// checked when syncing.
pub fn check_image_url(url: &str) -> Result<(), String> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .ok_or_else(|| format!("image URL {url:?} must start with http:// or https://"))?;
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    if host.is_empty() || url.chars().any(char::is_whitespace) {
        return Err(format!("image URL {url:?} is not a valid URL"));
    }
    Ok(())
}

/// Parses a weight in kilograms ("0.25", "1", "1.5") into whole grams without floats.
pub fn parse_weight_kg(input: &str) -> Result<i32, String> {
    let s = input.trim();
    let err = || format!("weight {s:?} must be kilograms with a dot for decimals, e.g. 0.25");
    if s.contains(',') {
        return Err(err());
    }
    let (whole, frac) = s.split_once('.').unwrap_or((s, ""));
    if whole.is_empty() && frac.is_empty() {
        return Err(err());
    }
    if !whole.chars().all(|c| c.is_ascii_digit()) || !frac.chars().all(|c| c.is_ascii_digit()) {
        return Err(err());
    }
    if frac.len() > 3 {
        return Err(format!("weight {s:?} is more precise than a gram"));
    }
    let whole: i64 = if whole.is_empty() {
        0
    } else {
        whole.parse().map_err(|_| err())?
    };
    let frac: i64 = format!("{frac:0<3}").parse().map_err(|_| err())?;
    let grams = whole
        .checked_mul(1000)
        .and_then(|g| g.checked_add(frac))
        .ok_or_else(err)?;
    if grams == 0 {
        return Err("weight must be more than 0 kg".into());
    }
    if grams > 1_000_000 {
        return Err("weight must be at most 1000 kg".into());
    }
    Ok(grams as i32)
}

/// Grams shown as kilograms for the API ("weight_kg").
pub fn grams_to_kg(grams: i32) -> f64 {
    f64::from(grams) / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weights_are_parsed_to_grams() {
        assert_eq!(parse_weight_kg("0.25"), Ok(250));
        assert_eq!(parse_weight_kg("1"), Ok(1000));
        assert_eq!(parse_weight_kg("1.5"), Ok(1500));
        assert_eq!(parse_weight_kg(".2"), Ok(200));
        assert!(parse_weight_kg("0,25").is_err());
        assert!(parse_weight_kg("-1").is_err());
        assert!(parse_weight_kg("0").is_err());
        assert!(parse_weight_kg("abc").is_err());
        assert!(parse_weight_kg("0.0001").is_err());
    }

    #[test]
    fn image_urls_must_be_http() {
        assert!(check_image_url("https://cdn.example.com/a.png").is_ok());
        assert!(check_image_url("ftp://x/a.png").is_err());
        assert!(check_image_url("not a url").is_err());
        assert!(check_image_url("http:///a.png").is_err());
    }

    #[test]
    fn skus_are_checked() {
        assert!(check_sku("KAOS-001/M").is_ok());
        assert!(check_sku("").is_err());
        assert!(check_sku("has space").is_err());
    }
}
