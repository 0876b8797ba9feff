//! The audit log (SPEC §7): who did what, when — batches started and cancelled, dead
//! letters retried and discarded, rollout approvals — newest first, filterable.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// Entries per page of the audit log.
pub const AUDIT_PER_PAGE: u32 = 50;

/// The actions SyncStore records, with how the page names them.
pub const AUDIT_ACTIONS: [(&str, &str); 14] = [
    ("batch.start", "Batch started"),
    ("batch.cancel", "Batch cancelled"),
    ("dead_letter.retry", "Dead letter retried"),
    ("dead_letter.discard", "Dead letter discarded"),
    ("rollout.approve", "Rollout stage approved"),
    ("rollback.start", "Rollback started"),
    ("rollback.sql", "Mappings restored by SQL"),
    ("shop.connect", "Shop connected"),
    ("shop.disconnect", "Shop disconnected"),
    ("shop.connect_failed", "Shop connection refused"),
    ("settings.markup", "Markup changed"),
    ("product.title_override", "Title override set"),
    ("settings.category", "Category mapping changed"),
    ("settings.attribute_default", "Attribute default chosen"),
];

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub at: String,
    /// The user's email; `None` for the command line or a user since removed.
    pub by: Option<String>,
    pub action: String,
    /// What the action was about (ids, platform, reason, note), as compact JSON.
    pub detail: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditPage {
    pub total: u64,
    pub page: u32,
    pub entries: Vec<AuditEntry>,
}

/// The audit log filters: one of [`AUDIT_ACTIONS`] (empty for all) and part of a user's
/// email.
pub fn parse_audit_filter(
    action: &str,
    user: &str,
) -> Result<(Option<String>, Option<String>), String> {
    let action = action.trim();
    let action = if action.is_empty() {
        None
    } else if AUDIT_ACTIONS.iter().any(|(a, _)| *a == action) {
        Some(action.to_string())
    } else {
        return Err(format!("unknown action {action:?}"));
    };
    let user = user.trim();
    if user.chars().count() > 254 || user.chars().any(char::is_control) {
        return Err("the user filter must be part of an email address".into());
    }
    Ok((action, (!user.is_empty()).then(|| user.to_string())))
}

#[server(prefix = "/api/fn", endpoint = "audit_log")]
pub async fn audit_log(
    page: Option<String>,
    action: Option<String>,
    user: Option<String>,
) -> Result<AuditPage, ServerFnError> {
    let page = super::parse_page(page.as_deref()).map_err(super::invalid)?;
    let (action, user) = parse_audit_filter(
        action.as_deref().unwrap_or(""),
        user.as_deref().unwrap_or(""),
    )
    .map_err(super::invalid)?;
    super::ssr::dashboard()?
        .audit_log(page, action, user)
        .await
        .map_err(ServerFnError::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_are_known_actions_and_plain_text() {
        assert_eq!(parse_audit_filter("", ""), Ok((None, None)));
        assert_eq!(
            parse_audit_filter("rollout.approve", " owner "),
            Ok((Some("rollout.approve".into()), Some("owner".into())))
        );
        assert!(parse_audit_filter("drop table", "").is_err());
        assert!(parse_audit_filter("", "a\u{7}").is_err());
    }
}
