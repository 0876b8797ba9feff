//! Shop connections and the owner's settings (SPEC §9a): what the settings page shows and
//! the server functions it calls.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use super::Platform;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ShopStatus {
    Connected,
    /// Connected, with the authorization ending within a week.
    Expiring,
    Expired,
    Revoked,
}

impl ShopStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ShopStatus::Connected => "connected",
            ShopStatus::Expiring => "expiring",
            ShopStatus::Expired => "expired",
            ShopStatus::Revoked => "revoked",
        }
    }

    /// Whether syncs to this shop can run.
    pub fn usable(self) -> bool {
        matches!(self, ShopStatus::Connected | ShopStatus::Expiring)
    }
}

/// One shop as `GET /api/shops` and the settings page show it: never a token.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShopConnection {
    pub platform: Platform,
    pub shop_id: String,
    pub name: String,
    pub status: ShopStatus,
    /// Why it is not connected (revoked, expired or disconnected by the owner).
    pub status_reason: Option<String>,
    /// RFC 3339; `None` for a token from the environment, whose end is unknown.
    pub access_token_expires_at: Option<String>,
    pub refresh_token_expires_at: Option<String>,
    pub refreshed_at: Option<String>,
    /// `oauth` or `environment`.
    pub source: String,
}

/// A platform's markup as the settings page shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MarkupSetting {
    pub platform: Platform,
    /// The price multiplier in basis points (11,500 = base price × 1.15).
    pub bp: u32,
    /// Listings synced at another markup, which the next sync re-prices.
    pub outdated_listings: i64,
}

impl MarkupSetting {
    /// The markup as a percent with two decimals: 11,500 bp → "15.00".
    pub fn percent(&self) -> String {
        format_percent(self.bp)
    }
}

pub fn format_percent(bp: u32) -> String {
    let over = i64::from(bp) - 10_000;
    let sign = if over < 0 { "-" } else { "" };
    let over = over.abs();
    format!("{sign}{}.{:02}", over / 100, over % 100)
}

/// The highest markup accepted: 500% (six times the base price).
pub const MAX_MARKUP_PERCENT: u32 = 500;

/// Parses a markup percent as the owner types it ("15", "12.35", "12,35") into the
/// multiplier in basis points, without floating point: at most two decimals, 0 to 500.
pub fn parse_markup_percent(raw: &str) -> Result<u32, String> {
    let text = raw.trim().trim_end_matches('%').trim().replace(',', ".");
    let problem = || {
        format!("markup must be a percent from 0 to {MAX_MARKUP_PERCENT} with at most two decimals, such as 15 or 12.35; got {raw:?}")
    };
    let (whole, fraction) = match text.split_once('.') {
        Some((w, f)) => (w, f),
        None => (text.as_str(), ""),
    };
    if whole.is_empty()
        || (text.contains('.') && fraction.is_empty())
        || whole.len() > 3
        || fraction.len() > 2
        || !whole.bytes().all(|b| b.is_ascii_digit())
        || !fraction.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(problem());
    }
    let whole: u32 = whole.parse().map_err(|_| problem())?;
    let hundredths: u32 = format!("{fraction:0<2}").parse().map_err(|_| problem())?;
    let over = whole * 100 + hundredths;
    if over > MAX_MARKUP_PERCENT * 100 {
        return Err(problem());
    }
    Ok(10_000 + over)
}

/// A leaf category of a marketplace's tree, named by its path.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CategoryOption {
    pub id: String,
    pub path: String,
}

/// An attribute a category makes mandatory.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MandatoryAttribute {
    pub attribute_id: String,
    pub name: String,
    /// The values the marketplace offers (id, name), for the owner to choose a default.
    pub choices: Vec<CategoryOption>,
    /// The default the owner chose (a value id), used when nothing neutral fills it.
    pub default: Option<String>,
    /// The value SyncStore fills in because it claims nothing ("Tidak Ada Merek"); `None`
    /// when the seller must supply one (the sync refuses such products until then).
    pub filled_with: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CategoryMapping {
    pub master_category: String,
    pub category_id: Option<String>,
    /// The mapped category's path in the marketplace's tree; `None` when it is not a leaf
    /// of the tree the shop returns now (the next create would be refused).
    pub path: Option<String>,
    pub attributes: Vec<MandatoryAttribute>,
}

/// One platform's category mappings with the leaves to choose from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CategoryTree {
    pub platform: Platform,
    pub options: Vec<CategoryOption>,
    pub mappings: Vec<CategoryMapping>,
}

/// A message the server sent the owner back to Settings with (after an authorization).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Notice {
    pub ok: bool,
    pub text: String,
}

/// What the settings page shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SettingsView {
    /// The message of the redirect that led here, only if SyncStore signed it (a crafted
    /// link cannot put words on this page).
    pub notice: Option<Notice>,
    pub shops: Vec<ShopConnection>,
    pub markups: Vec<MarkupSetting>,
    /// Which platforms SyncStore has app credentials for (and so can connect).
    pub connectable: Vec<Platform>,
}

#[server(prefix = "/api/fn", endpoint = "list_shops")]
pub async fn list_shops() -> Result<Vec<ShopConnection>, ServerFnError> {
    super::ssr::dashboard()?
        .shops()
        .await
        .map_err(ServerFnError::from)
}

#[server(prefix = "/api/fn", endpoint = "get_settings")]
pub async fn get_settings(
    connected: Option<String>,
    error: Option<String>,
    sig: Option<String>,
) -> Result<SettingsView, ServerFnError> {
    let claimed = match (connected, error) {
        (Some(text), _) => Some(Notice { ok: true, text }),
        (None, Some(text)) => Some(Notice { ok: false, text }),
        (None, None) => None,
    };
    let user = super::ssr::signed_in()?;
    super::ssr::dashboard()?
        .settings(user, claimed, sig.unwrap_or_default())
        .await
        .map_err(ServerFnError::from)
}

/// The owner changes a platform's markup; answers how many listings it makes out of date.
#[server(prefix = "/api/fn", endpoint = "set_markup")]
pub async fn set_markup(platform: String, percent: String) -> Result<MarkupSetting, ServerFnError> {
    let platform =
        Platform::parse(&platform).ok_or_else(|| super::invalid("choose Shopee or TikTok"))?;
    let bp = parse_markup_percent(&percent).map_err(super::invalid)?;
    let user = super::ssr::signed_in()?;
    super::ssr::dashboard()?
        .set_markup(user, platform, bp)
        .await
        .map_err(ServerFnError::from)
}

/// The owner queues the re-sync of the listings a markup change made out of date: one
/// batch of as many as the rollout stage allows.
#[server(prefix = "/api/fn", endpoint = "resync_outdated")]
pub async fn resync_outdated(platform: String) -> Result<super::BatchCreated, ServerFnError> {
    let platform =
        Platform::parse(&platform).ok_or_else(|| super::invalid("choose Shopee or TikTok"))?;
    let user = super::ssr::signed_in()?;
    super::ssr::dashboard()?
        .resync_outdated(user, platform)
        .await
        .map_err(ServerFnError::from)
}

/// The owner disconnects a shop: its tokens are deleted and its syncs wait.
#[server(prefix = "/api/fn", endpoint = "disconnect_shop")]
pub async fn disconnect_shop(platform: String) -> Result<(), ServerFnError> {
    let platform =
        Platform::parse(&platform).ok_or_else(|| super::invalid("choose Shopee or TikTok"))?;
    let user = super::ssr::signed_in()?;
    super::ssr::dashboard()?
        .disconnect_shop(user, platform)
        .await
        .map_err(ServerFnError::from)
}

/// The category tree the connected shop returns, with the current mappings (owner only).
#[server(prefix = "/api/fn", endpoint = "get_category_tree")]
pub async fn get_category_tree(platform: String) -> Result<CategoryTree, ServerFnError> {
    let platform =
        Platform::parse(&platform).ok_or_else(|| super::invalid("choose Shopee or TikTok"))?;
    let user = super::ssr::signed_in()?;
    super::ssr::dashboard()?
        .category_tree(user, platform)
        .await
        .map_err(ServerFnError::from)
}

/// Maps a master category to a leaf of the connected shop's tree (owner only).
#[server(prefix = "/api/fn", endpoint = "set_category_mapping")]
pub async fn set_category_mapping(
    platform: String,
    master_category: String,
    category_id: String,
) -> Result<CategoryMapping, ServerFnError> {
    let platform =
        Platform::parse(&platform).ok_or_else(|| super::invalid("choose Shopee or TikTok"))?;
    let (master, id) = (master_category.trim(), category_id.trim());
    if master.is_empty() || id.is_empty() || master.len() > 200 || id.len() > 40 {
        return Err(super::invalid(
            "choose a master category and a marketplace category",
        ));
    }
    let user = super::ssr::signed_in()?;
    super::ssr::dashboard()?
        .set_category_mapping(user, platform, master.to_string(), id.to_string())
        .await
        .map_err(ServerFnError::from)
}

/// The owner chooses the value a mandatory attribute gets when SyncStore cannot fill it
/// without claiming something (Shopee; one of the values the category offers).
#[server(prefix = "/api/fn", endpoint = "set_attribute_default")]
pub async fn set_attribute_default(
    platform: String,
    category_id: String,
    attribute_id: String,
    value: String,
) -> Result<CategoryMapping, ServerFnError> {
    let platform =
        Platform::parse(&platform).ok_or_else(|| super::invalid("choose Shopee or TikTok"))?;
    let fields = [&category_id, &attribute_id, &value];
    if fields.iter().any(|f| f.trim().is_empty() || f.len() > 40) {
        return Err(super::invalid(
            "choose a category, an attribute and a value",
        ));
    }
    let user = super::ssr::signed_in()?;
    super::ssr::dashboard()?
        .set_attribute_default(
            user,
            platform,
            category_id.trim().to_string(),
            attribute_id.trim().to_string(),
            value.trim().to_string(),
        )
        .await
        .map_err(ServerFnError::from)
}

/// Sets (or, with an empty title, clears) a product's own title on one platform; the next
/// sync uses it. Answers the title stored.
#[server(prefix = "/api/fn", endpoint = "set_title_override")]
pub async fn set_title_override(
    id: String,
    platform: String,
    title: String,
) -> Result<Option<String>, ServerFnError> {
    let id: i64 = id
        .trim()
        .parse()
        .map_err(|_| super::Failure::NotFound("unknown product".into()))?;
    let platform =
        Platform::parse(&platform).ok_or_else(|| super::invalid("choose Shopee or TikTok"))?;
    if title.chars().count() > 1_000 {
        return Err(super::invalid(
            "a title has at most a few hundred characters",
        ));
    }
    let user = super::ssr::signed_in()?;
    super::ssr::dashboard()?
        .set_title_override(user, id, platform, title)
        .await
        .map_err(ServerFnError::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markups_are_read_as_percents_with_two_decimals() {
        assert_eq!(parse_markup_percent("15"), Ok(11_500));
        assert_eq!(parse_markup_percent("12.35"), Ok(11_235));
        assert_eq!(parse_markup_percent(" 12,3 % "), Ok(11_230));
        assert_eq!(parse_markup_percent("0"), Ok(10_000));
        assert_eq!(parse_markup_percent("500"), Ok(60_000));
        for bad in [
            "", "-1", "12.345", "abc", "500.01", "1e3", "12.", ".5", "9999",
        ] {
            assert!(parse_markup_percent(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn markups_are_shown_as_the_percent_over_the_base_price() {
        assert_eq!(format_percent(11_500), "15.00");
        assert_eq!(format_percent(11_235), "12.35");
        assert_eq!(format_percent(10_000), "0.00");
        assert_eq!(format_percent(9_950), "-0.50");
    }
}
