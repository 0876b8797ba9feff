//! The dashboard's server functions, answered from Postgres, the queue and the
//! marketplaces.

use app::api::ssr::Dashboard;
use app::api::{
    BatchCreated, BatchReportDto, BatchRequest, BatchSnapshot, BatchSummary, CheckDto, DeadLetter,
    LogFilter, PilotReportDto, Platform, ProductDetail, ProductList, SyncLogPage, SyncOutcome,
    ValidationReport,
};

use crate::db::{batches, catalog};
use crate::queue::BatchRejected;
use crate::startup::AppState;
use crate::sync::batch_report;

/// The dashboard's server functions, answered from Postgres.
pub struct DbDashboard(pub AppState);

#[async_trait::async_trait]
impl Dashboard for DbDashboard {
    async fn list_products(&self, page: u32, q: &str) -> Result<ProductList, String> {
        catalog::list_products(&self.0.db, page, q)
            .await
            .map_err(|e| {
                tracing::error!(error = %e, "listing products failed");
                "the catalog could not be loaded; try again".to_string()
            })
    }

    async fn verify_product(&self, id: i64) -> Result<Vec<CheckDto>, String> {
        let checks = self.0.sync.verify(id).await.map_err(|e| e.to_string())?;
        Ok(checks
            .into_iter()
            .map(|c| CheckDto {
                platform: c.platform,
                name: c.name,
                ok: c.ok,
                expected: c.expected,
                actual: c.actual,
            })
            .collect())
    }

    async fn pilot_report(&self) -> Result<PilotReportDto, String> {
        let report = crate::sync::pilot::pilot_report(&self.0.db)
            .await
            .map_err(|e| {
                tracing::error!(error = %e, "building the pilot report failed");
                "the pilot report could not be built; try again".to_string()
            })?;
        Ok(PilotReportDto {
            passed: report.passed,
            markdown: report.markdown,
        })
    }

    async fn sync_logs(&self, page: u32, filter: LogFilter) -> Result<SyncLogPage, String> {
        crate::db::sync::list_logs(&self.0.db, page, &filter)
            .await
            .map_err(|e| {
                tracing::error!(error = %e, "listing sync logs failed");
                "the sync logs could not be loaded; try again".to_string()
            })
    }

    async fn sync_product(&self, id: i64, platform: Platform) -> SyncOutcome {
        let ctx = crate::sync::AttemptContext {
            attempt: 1,
            ..Default::default()
        };
        match self.0.sync.sync_product_to(id, platform, &ctx).await {
            Ok(r) => SyncOutcome {
                platform,
                ok: true,
                action: serde_json::to_value(r.action)
                    .ok()
                    .and_then(|a| a.as_str().map(str::to_string)),
                external_id: Some(r.external_id),
                error_code: None,
                error_message: None,
            },
            Err(e) => SyncOutcome {
                platform,
                ok: false,
                action: None,
                external_id: None,
                error_code: Some(e.code().to_string()),
                error_message: Some(e.to_string()),
            },
        }
    }

    async fn product(&self, id: i64) -> Result<Option<ProductDetail>, String> {
        catalog::product_detail(&self.0.db, id).await.map_err(|e| {
            tracing::error!(error = %e, "loading product failed");
            "the product could not be loaded; try again".to_string()
        })
    }
    async fn start_batch(
        &self,
        user_id: Option<i64>,
        ids: Vec<i64>,
        platform: String,
    ) -> Result<BatchCreated, String> {
        let request = BatchRequest {
            product_ids: ids,
            platform,
        };
        self.0
            .queue
            .start_batch(user_id, &request)
            .await
            .map_err(|e| match e {
                BatchRejected::Queue(q) => {
                    tracing::error!(error = %q, "starting a batch failed");
                    "the batch could not be started; try again".to_string()
                }
                other => other.to_string(),
            })
    }

    async fn batch(&self, id: String) -> Result<Option<BatchSnapshot>, String> {
        batches::snapshot(&self.0.db, &id).await.map_err(unexpected)
    }

    async fn batches(&self) -> Result<Vec<BatchSummary>, String> {
        batches::list_batches(&self.0.db, 100)
            .await
            .map_err(unexpected)
    }

    async fn cancel_batch(&self, user_id: Option<i64>, id: String) -> Result<(), String> {
        match self.0.queue.cancel_batch(&id, user_id).await {
            Ok(true) => Ok(()),
            Ok(false) => Err("this batch has already finished".into()),
            Err(e) => Err(unexpected(e)),
        }
    }

    async fn dead_letters(&self) -> Result<Vec<DeadLetter>, String> {
        batches::dead_letters(&self.0.db).await.map_err(unexpected)
    }

    async fn retry_dead_letter(&self, user_id: Option<i64>, job_id: String) -> Result<(), String> {
        match self.0.queue.retry_dead(&job_id, user_id).await {
            Ok(true) => Ok(()),
            Ok(false) => Err("this job is no longer in the dead-letter queue".into()),
            Err(e) => Err(unexpected(e)),
        }
    }

    async fn discard_dead_letter(
        &self,
        user_id: Option<i64>,
        job_id: String,
        reason: String,
    ) -> Result<(), String> {
        match self.0.queue.discard_dead(&job_id, user_id, &reason).await {
            Ok(true) => Ok(()),
            Ok(false) => Err("this job is no longer in the dead-letter queue".into()),
            Err(e) => Err(unexpected(e)),
        }
    }

    async fn batch_report(&self, id: String) -> Result<Option<BatchReportDto>, String> {
        let report = batch_report::batch_report(&self.0.db, &id)
            .await
            .map_err(unexpected)?;
        Ok(report.map(|r| BatchReportDto {
            passed: r.passed,
            markdown: r.markdown,
        }))
    }

    async fn spot_check(&self, id: String) -> Result<usize, String> {
        batch_report::spot_check(&self.0.sync, &id, None)
            .await
            .map_err(|e| e.to_string())
    }

    async fn validation_runs(&self) -> Result<Vec<ValidationReport>, String> {
        crate::validation::history(&self.0.db, 10)
            .await
            .map_err(unexpected)
    }

    async fn run_validation(&self, live: bool) -> Result<ValidationReport, String> {
        match crate::validation::run(&self.0.sync, live, &|_, _| {}).await {
            Ok(report) => Ok(report),
            Err(crate::sync::SyncError::Db(e)) => Err(unexpected(e)),
            Err(e) => Err(e.to_string()),
        }
    }
}

/// Logs what went wrong and tells the user only that it did.
fn unexpected(e: impl std::fmt::Display) -> String {
    tracing::error!(error = %e, "dashboard request failed");
    "something went wrong on the server; try again".to_string()
}
