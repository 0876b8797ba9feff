//! The owner's own title for one platform (SPEC §5, §9a): checked as it is typed in the
//! browser and again on the server, with the same rules. The platform's length limits are
//! hard (the marketplace would refuse the listing); similarity outside 70–80% is allowed,
//! because an override exists for the titles no generated one can satisfy, and validation
//! reports it.

use super::seo_title::{TitleLimits, SIMILARITY_BAND};
use super::similarity::similarity;
use crate::api::Platform;

/// The bounds an override is held to before the shop's own `get_item_limit` is known.
pub fn limits_for(platform: Platform) -> TitleLimits {
    match platform {
        Platform::Shopee => TitleLimits::SHOPEE_DEFAULT,
        Platform::Tiktok => TitleLimits::TIKTOK,
    }
}

/// What the page shows under the field.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TitleCheck {
    pub chars: usize,
    pub limits: TitleLimits,
    /// Whole percent, rounded down, as the page shows it.
    pub similarity_percent: u32,
    pub length_ok: bool,
    pub similarity_ok: bool,
}

pub fn check_title(master: &str, title: &str, platform: Platform) -> TitleCheck {
    let limits = limits_for(platform);
    let title = title.trim();
    let chars = title.chars().count();
    let s = similarity(master, title);
    TitleCheck {
        chars,
        limits,
        similarity_percent: (s * 100.0).floor() as u32,
        length_ok: (limits.min_chars..=limits.max_chars).contains(&chars),
        similarity_ok: SIMILARITY_BAND.contains(&s),
    }
}

/// The override to store: `None` clears it (the generated title is used again); an
/// `Err` says why it cannot be saved.
pub fn parse_title_override(
    master: &str,
    raw: &str,
    platform: Platform,
) -> Result<Option<String>, String> {
    let title = raw.trim();
    if title.is_empty() {
        return Ok(None);
    }
    if title.chars().any(char::is_control) {
        return Err("a title cannot contain line breaks or control characters".into());
    }
    let check = check_title(master, title, platform);
    if !check.length_ok {
        return Err(format!(
            "a {} title has {}–{} characters; this one has {}",
            platform.label(),
            check.limits.min_chars,
            check.limits.max_chars,
            check.chars
        ));
    }
    Ok(Some(title.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const MASTER: &str = "Kaos Polos Katun Combed 30s Unisex";

    #[test]
    fn length_is_checked_in_characters_and_similarity_is_reported() {
        let c = check_title(
            MASTER,
            "Kaos Polos Katun Combed 30s Unisex Murah Premium",
            Platform::Tiktok,
        );
        assert!(c.length_ok);
        assert_eq!(c.chars, 48);
        assert_eq!(c.similarity_percent, 70);
        assert!(c.similarity_ok);
        let same = check_title(MASTER, MASTER, Platform::Shopee);
        assert_eq!(same.similarity_percent, 100);
        assert!(
            !same.similarity_ok,
            "identical to the master is outside the band"
        );
        // 25 characters of "é" count as 25, not 50 bytes.
        assert!(check_title(MASTER, &"é".repeat(25), Platform::Tiktok).length_ok);
    }

    #[test]
    fn only_the_platform_limits_refuse_an_override() {
        assert_eq!(
            parse_title_override(MASTER, "   ", Platform::Shopee),
            Ok(None)
        );
        assert_eq!(
            parse_title_override(
                MASTER,
                "  Kaos Polos Katun Combed Pria Wanita  ",
                Platform::Shopee
            ),
            Ok(Some("Kaos Polos Katun Combed Pria Wanita".into()))
        );
        assert!(parse_title_override(MASTER, "Kaos", Platform::Shopee).is_err());
        assert!(parse_title_override(MASTER, &"a".repeat(121), Platform::Shopee).is_err());
        assert!(parse_title_override(MASTER, &"a".repeat(121), Platform::Tiktok).is_ok());
        assert!(
            parse_title_override(MASTER, "Kaos Polos Katun\nCombed Unisex", Platform::Tiktok)
                .is_err()
        );
        // Outside the similarity band is allowed: that is what an override is for.
        assert!(parse_title_override(MASTER, MASTER, Platform::Tiktok).is_ok());
    }
}
