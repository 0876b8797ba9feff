//! The rollout (SPEC §7): the stage SyncStore is in, what its test still needs and the
//! owner's approvals, as `GET /api/rollout`, the CLI and the Rollout page show them.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// `pilot` → `batch_10` → `batch_50` → `complete`; each step is an owner's approval.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Stage {
    #[serde(rename = "pilot")]
    Pilot,
    #[serde(rename = "batch_10")]
    Batch10,
    #[serde(rename = "batch_50")]
    Batch50,
    #[serde(rename = "complete")]
    Complete,
}

impl Stage {
    pub const ALL: [Stage; 4] = [
        Stage::Pilot,
        Stage::Batch10,
        Stage::Batch50,
        Stage::Complete,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Pilot => "pilot",
            Stage::Batch10 => "batch_10",
            Stage::Batch50 => "batch_50",
            Stage::Complete => "complete",
        }
    }

    pub fn parse(s: &str) -> Option<Stage> {
        Stage::ALL.into_iter().find(|stage| stage.as_str() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            Stage::Pilot => "Pilot",
            Stage::Batch10 => "Batches of 10",
            Stage::Batch50 => "Batches of 50",
            Stage::Complete => "Phase 2 complete",
        }
    }

    /// The largest batch this stage allows; 0 in the pilot (products are synced one by one).
    pub fn max_batch_products(self) -> usize {
        match self {
            Stage::Pilot => 0,
            Stage::Batch10 => 10,
            Stage::Batch50 | Stage::Complete => 50,
        }
    }

    /// The stage the owner's next approval leads to.
    pub fn next(self) -> Option<Stage> {
        match self {
            Stage::Pilot => Some(Stage::Batch10),
            Stage::Batch10 => Some(Stage::Batch50),
            Stage::Batch50 => Some(Stage::Complete),
            Stage::Complete => None,
        }
    }

    /// What this stage's test asks for before the owner may approve leaving it.
    pub fn test(self) -> &'static str {
        match self {
            Stage::Pilot => "at least 2 products, one without and one with variants, synced to both platforms and verified by reading them back",
            Stage::Batch10 => "a batch of 10 products to both platforms finished at 100% success with 3 random products verified by read-back",
            Stage::Batch50 => "a batch of 50 products to both platforms finished at 100% with 5 products verified by read-back, and a passing validation",
            Stage::Complete => "nothing: Phase 2 is signed off",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Approval {
    /// The stage whose test passed and that the owner approved leaving.
    pub stage: Stage,
    /// The approver's email.
    pub by: Option<String>,
    pub at: String,
    pub note: String,
}

/// The `GET /api/rollout` body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RolloutStatus {
    pub stage: Stage,
    pub max_batch_products: usize,
    /// Whether the current stage's test has passed (the owner may approve).
    pub ready: bool,
    /// What the current stage's test still lacks.
    pub missing: Vec<String>,
    pub approvals: Vec<Approval>,
}

/// The longest approval note accepted.
pub const MAX_NOTE_CHARS: usize = 1000;

/// An approval's note: required, plain text (line breaks allowed), at most
/// [`MAX_NOTE_CHARS`] characters.
pub fn parse_note(raw: &str) -> Result<String, String> {
    let note = raw.trim();
    if note.is_empty() {
        return Err("write a note with the approval: what was checked".into());
    }
    if note.chars().count() > MAX_NOTE_CHARS {
        return Err(format!(
            "the note is too long (at most {MAX_NOTE_CHARS} characters)"
        ));
    }
    if note
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\r')
    {
        return Err("the note must be plain text".into());
    }
    Ok(note.to_string())
}

/// The Phase 2 completion report as the page shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CompletionReportDto {
    /// The owner may sign it off now.
    pub ready: bool,
    /// Who signed it off, when, and the note.
    pub signed_off: Option<String>,
    pub markdown: String,
    #[serde(default)]
    pub charts: Vec<super::ChartDto>,
}

#[server(prefix = "/api/fn", endpoint = "completion_report")]
pub async fn completion_report() -> Result<CompletionReportDto, ServerFnError> {
    super::ssr::dashboard()?
        .completion_report()
        .await
        .map_err(ServerFnError::from)
}

#[server(prefix = "/api/fn", endpoint = "get_rollout")]
pub async fn get_rollout() -> Result<RolloutStatus, ServerFnError> {
    super::ssr::dashboard()?
        .rollout()
        .await
        .map_err(ServerFnError::from)
}

/// The owner approves the current stage; refused until its test has passed.
#[server(prefix = "/api/fn", endpoint = "approve_rollout")]
pub async fn approve_rollout(note: String) -> Result<RolloutStatus, ServerFnError> {
    let note = parse_note(&note).map_err(super::invalid)?;
    let user = super::ssr::signed_in()?;
    super::ssr::dashboard()?
        .approve_rollout(user, note)
        .await
        .map_err(ServerFnError::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stages_go_in_order_with_their_limits() {
        let limits: Vec<usize> = Stage::ALL.iter().map(|s| s.max_batch_products()).collect();
        assert_eq!(limits, [0, 10, 50, 50]);
        assert_eq!(Stage::Pilot.next(), Some(Stage::Batch10));
        assert_eq!(Stage::Complete.next(), None);
        assert_eq!(Stage::parse("batch_10"), Some(Stage::Batch10));
        assert_eq!(
            serde_json::to_string(&Stage::Batch50).unwrap(),
            "\"batch_50\""
        );
    }

    #[test]
    fn a_note_is_required_and_plain() {
        assert!(parse_note("  ").is_err());
        assert!(parse_note("ok\u{7}").is_err());
        assert!(parse_note(&"x".repeat(1001)).is_err());
        assert_eq!(
            parse_note(" checked both shops\n").unwrap(),
            "checked both shops"
        );
    }
}
