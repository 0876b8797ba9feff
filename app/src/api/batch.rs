//! Batches as the dashboard and the JSON API show them (SPEC §5, §6).

use serde::{Deserialize, Serialize};

use super::Platform;

/// No batch is larger than this many products (SPEC §7 "never all at once").
pub const MAX_BATCH_PRODUCTS: usize = 50;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BatchStatus {
    Queued,
    Running,
    Completed,
    CompletedWithErrors,
    Cancelled,
}

impl BatchStatus {
    pub fn label(self) -> &'static str {
        match self {
            BatchStatus::Queued => "Queued",
            BatchStatus::Running => "Running",
            BatchStatus::Completed => "Completed",
            BatchStatus::CompletedWithErrors => "Completed with errors",
            BatchStatus::Cancelled => "Cancelled",
        }
    }

    pub fn is_finished(self) -> bool {
        !matches!(self, BatchStatus::Queued | BatchStatus::Running)
    }

    /// A batch is finished when every job is: completed, or failed/discarded.
    pub fn from_counts(
        total: i64,
        completed: i64,
        failed: i64,
        started: bool,
        cancelled: bool,
    ) -> BatchStatus {
        if completed + failed >= total {
            if cancelled {
                BatchStatus::Cancelled
            } else if failed == 0 {
                BatchStatus::Completed
            } else {
                BatchStatus::CompletedWithErrors
            }
        } else if started {
            BatchStatus::Running
        } else {
            BatchStatus::Queued
        }
    }

    /// Finished jobs out of all, 0–100.
    pub fn percent(total: i64, completed: i64, failed: i64) -> i64 {
        if total == 0 {
            100
        } else {
            (completed + failed) * 100 / total
        }
    }
}

/// A job's place in its life: `failed` jobs are the dead-letter queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobState {
    Waiting,
    Active,
    Retrying,
    Completed,
    Failed,
    Discarded,
}

impl JobState {
    pub fn parse(s: &str) -> JobState {
        match s {
            "active" => JobState::Active,
            "retrying" => JobState::Retrying,
            "completed" => JobState::Completed,
            "failed" => JobState::Failed,
            "discarded" => JobState::Discarded,
            _ => JobState::Waiting,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            JobState::Waiting => "Waiting",
            JobState::Active => "Syncing…",
            JobState::Retrying => "Retrying",
            JobState::Completed => "Synced",
            JobState::Failed => "Failed",
            JobState::Discarded => "Discarded",
        }
    }

    pub fn is_finished(self) -> bool {
        matches!(
            self,
            JobState::Completed | JobState::Failed | JobState::Discarded
        )
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobDto {
    pub job_id: String,
    pub product_id: i64,
    pub sku: String,
    pub platform: Platform,
    pub state: JobState,
    pub attempts: i32,
    pub error_code: Option<String>,
    pub error_message: Option<String>,
    /// Time spent on all attempts so far.
    pub duration_ms: i64,
    pub action: Option<String>,
    /// A rollback job's plan; `None` for a sync job.
    #[serde(default)]
    pub plan_action: Option<super::RollbackAction>,
}

/// The whole batch at one moment: what `GET /api/sync/batch/status` answers and what each
/// server-sent event carries.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BatchSnapshot {
    pub batch_id: String,
    pub platform: String,
    pub status: BatchStatus,
    pub total: i64,
    pub completed: i64,
    pub failed: i64,
    pub active: i64,
    pub waiting: i64,
    pub retrying: i64,
    /// Finished jobs (completed or failed) out of all, 0–100.
    pub percent: i64,
    pub created_at: String,
    pub started_at: Option<String>,
    pub finished_at: Option<String>,
    /// `sync`, or `rollback` for a rollback running through the queue.
    #[serde(default = "sync_kind")]
    pub kind: String,
    /// The batch a rollback undoes.
    #[serde(default)]
    pub rollback_of: Option<String>,
    pub jobs: Vec<JobDto>,
}

fn sync_kind() -> String {
    "sync".into()
}

impl BatchSnapshot {
    pub fn is_rollback(&self) -> bool {
        self.kind == "rollback"
    }
}

impl BatchSnapshot {
    /// Counts, percent and status from the jobs, so they can never disagree.
    pub fn tally(&mut self, started: bool, cancelled: bool) {
        let count =
            |f: &dyn Fn(JobState) -> bool| self.jobs.iter().filter(|j| f(j.state)).count() as i64;
        self.total = self.jobs.len() as i64;
        self.completed = count(&|s| s == JobState::Completed);
        self.failed = count(&|s| matches!(s, JobState::Failed | JobState::Discarded));
        self.active = count(&|s| s == JobState::Active);
        self.waiting = count(&|s| s == JobState::Waiting);
        self.retrying = count(&|s| s == JobState::Retrying);
        self.percent = BatchStatus::percent(self.total, self.completed, self.failed);
        self.status =
            BatchStatus::from_counts(self.total, self.completed, self.failed, started, cancelled);
    }
}

/// One row of the batches list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BatchSummary {
    pub batch_id: String,
    pub platform: String,
    pub status: BatchStatus,
    pub total: i64,
    pub completed: i64,
    pub failed: i64,
    pub percent: i64,
    pub created_at: String,
    #[serde(default = "sync_kind")]
    pub kind: String,
}

/// A job in the dead-letter queue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeadLetter {
    pub job_id: String,
    pub batch_id: String,
    pub product_id: i64,
    pub sku: String,
    pub title: String,
    pub platform: Platform,
    pub attempts: i32,
    pub error_code: Option<String>,
    pub error_message: Option<String>,
    pub failed_at: String,
}

/// `POST /api/sync/batch` as the dashboard and the JSON API send it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BatchRequest {
    pub product_ids: Vec<i64>,
    pub platform: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BatchCreated {
    pub batch_id: String,
    pub total_jobs: i64,
}

/// The platforms a batch targets, from `shopee`, `tiktok` or `both`.
pub fn parse_batch_platform(s: &str) -> Result<Vec<Platform>, String> {
    Platform::targets(s)
        .ok_or_else(|| format!("platform must be \"shopee\", \"tiktok\" or \"both\", not {s:?}"))
}

/// Whether `id` can name a batch or a job at all (they are UUIDs); anything else is
/// answered as unknown without asking the database.
pub fn plausible_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 64 && id.chars().all(|c| c.is_ascii_hexdigit() || c == '-')
}

/// Drops repeated ids, keeping the first occurrence's order.
pub fn dedupe_ids(ids: &[i64]) -> Vec<i64> {
    let mut seen = std::collections::HashSet::new();
    ids.iter().copied().filter(|id| seen.insert(*id)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(state: JobState) -> JobDto {
        JobDto {
            job_id: "j".into(),
            product_id: 1,
            sku: "S".into(),
            platform: Platform::Shopee,
            state,
            attempts: 1,
            error_code: None,
            error_message: None,
            duration_ms: 0,
            action: None,
            plan_action: None,
        }
    }

    fn snapshot(states: &[JobState]) -> BatchSnapshot {
        let mut s = BatchSnapshot {
            batch_id: "b".into(),
            platform: "both".into(),
            status: BatchStatus::Queued,
            total: 0,
            completed: 0,
            failed: 0,
            active: 0,
            waiting: 0,
            retrying: 0,
            percent: 0,
            created_at: String::new(),
            started_at: None,
            finished_at: None,
            kind: "sync".into(),
            rollback_of: None,
            jobs: states.iter().map(|s| job(*s)).collect(),
        };
        s.tally(true, false);
        s
    }

    #[test]
    fn a_batch_is_complete_only_when_every_job_is_finished() {
        let s = snapshot(&[JobState::Completed, JobState::Retrying]);
        assert_eq!(
            (s.status, s.percent, s.retrying),
            (BatchStatus::Running, 50, 1)
        );
        let s = snapshot(&[JobState::Completed, JobState::Completed]);
        assert_eq!((s.status, s.percent), (BatchStatus::Completed, 100));
        let s = snapshot(&[JobState::Completed, JobState::Failed, JobState::Discarded]);
        assert_eq!(
            (s.status, s.percent, s.failed),
            (BatchStatus::CompletedWithErrors, 100, 2)
        );
    }

    #[test]
    fn a_cancelled_batch_says_so_once_its_running_jobs_end() {
        let mut s = snapshot(&[JobState::Completed, JobState::Active, JobState::Discarded]);
        s.tally(true, true);
        assert_eq!(s.status, BatchStatus::Running);
        s.jobs[1].state = JobState::Completed;
        s.tally(true, true);
        assert_eq!((s.status, s.percent), (BatchStatus::Cancelled, 100));
    }

    #[test]
    fn only_uuid_shaped_ids_are_looked_up() {
        assert!(plausible_id("06ddf2df-0613-40b5-a5cc-0d7b058d7c47"));
        for bad in [
            "",
            "nope",
            "1; DROP TABLE sync_jobs",
            "a\0b",
            &"a".repeat(65),
        ] {
            assert!(!plausible_id(bad), "{bad:?}");
        }
    }

    #[test]
    fn repeated_product_ids_are_dropped_in_order() {
        assert_eq!(dedupe_ids(&[3, 1, 3, 2, 1]), vec![3, 1, 2]);
    }

    #[test]
    fn batch_platforms_are_parsed_strictly() {
        assert_eq!(parse_batch_platform("both").unwrap().len(), 2);
        assert!(parse_batch_platform("lazada").is_err());
        assert!(parse_batch_platform("Shopee").is_err());
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BatchReportDto {
    pub passed: bool,
    pub markdown: String,
    #[serde(default)]
    pub charts: Vec<super::ChartDto>,
}

/// Product ids as the dashboard sends them: `"12,7,33"`.
pub fn parse_id_list(raw: &str) -> Result<Vec<i64>, String> {
    raw.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse::<i64>()
                .map_err(|_| format!("{s:?} is not a product id"))
        })
        .collect()
}
