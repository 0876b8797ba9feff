//! The dashboard's server functions, answered from Postgres, the queue and the
//! marketplaces.

use app::api::ssr::Dashboard;
use app::api::{
    AuditPage, BatchCreated, BatchReportDto, BatchRequest, BatchSnapshot, BatchSummary, CheckDto,
    CompletionReportDto, CurrentUser, DeadLetter, Failure, LogFilter, MarkupSetting,
    PilotReportDto, Platform, ProductDetail, ProductList, RollbackAnswer, RollbackRequest,
    RolloutStatus, SettingsView, ShopConnection, SyncLogPage, SyncOutcome, ValidationReport,
};

use crate::db::{batches, catalog};
use crate::queue::BatchRejected;
use crate::startup::AppState;
use crate::sync::batch_report;

/// The dashboard's server functions, answered from Postgres.
pub struct DbDashboard(pub AppState);

#[async_trait::async_trait]
impl Dashboard for DbDashboard {
    async fn list_products(&self, page: u32, q: &str) -> Result<ProductList, Failure> {
        catalog::list_products(&self.0.db, page, q)
            .await
            .map_err(unexpected)
    }

    async fn verify_product(&self, id: i64) -> Result<Vec<CheckDto>, Failure> {
        let checks = self.0.sync.verify(id).await.map_err(sync_failure)?;
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

    async fn pilot_report(&self) -> Result<PilotReportDto, Failure> {
        let report = crate::sync::pilot::pilot_report(&self.0.db)
            .await
            .map_err(unexpected)?;
        Ok(PilotReportDto {
            passed: report.passed,
            markdown: report.markdown,
        })
    }

    async fn sync_logs(&self, page: u32, filter: LogFilter) -> Result<SyncLogPage, Failure> {
        crate::db::sync::list_logs(&self.0.db, page, &filter)
            .await
            .map_err(unexpected)
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

    async fn product(&self, id: i64) -> Result<Option<ProductDetail>, Failure> {
        catalog::product_detail(&self.0.db, id)
            .await
            .map_err(unexpected)
    }
    async fn start_batch(
        &self,
        user_id: Option<i64>,
        ids: Vec<i64>,
        platform: String,
    ) -> Result<BatchCreated, Failure> {
        let request = BatchRequest {
            product_ids: ids,
            platform,
        };
        self.0
            .queue
            .start_batch(user_id, &request)
            .await
            .map_err(|e| match e {
                BatchRejected::Queue(q) => unexpected(q),
                BatchRejected::InProgress(_) | BatchRejected::Gate(_) => {
                    Failure::Conflict(e.to_string())
                }
                BatchRejected::TooLarge(_) | BatchRejected::UnknownProducts(_) => {
                    Failure::Unprocessable(e.to_string())
                }
                BatchRejected::Invalid(m) => Failure::Invalid(m),
            })
    }

    async fn batch(&self, id: String) -> Result<Option<BatchSnapshot>, Failure> {
        batches::snapshot(&self.0.db, &id).await.map_err(unexpected)
    }

    async fn batches(&self) -> Result<Vec<BatchSummary>, Failure> {
        batches::list_batches(&self.0.db, 100)
            .await
            .map_err(unexpected)
    }

    async fn cancel_batch(&self, user_id: Option<i64>, id: String) -> Result<(), Failure> {
        self.guard(&id, user_id, "cancels").await?;
        match self.0.queue.cancel_batch(&id, user_id).await {
            Ok(true) => Ok(()),
            Ok(false) => match batches::snapshot(&self.0.db, &id).await {
                Ok(Some(_)) => Err(Failure::Invalid("this batch has already finished".into())),
                Ok(None) => Err(Failure::NotFound(format!("no batch with id {id:?}"))),
                Err(e) => Err(unexpected(e)),
            },
            Err(e) => Err(unexpected(e)),
        }
    }

    async fn dead_letters(&self) -> Result<Vec<DeadLetter>, Failure> {
        batches::dead_letters(&self.0.db).await.map_err(unexpected)
    }

    async fn retry_dead_letter(&self, user_id: Option<i64>, job_id: String) -> Result<(), Failure> {
        let guard = self.guard(&job_id, user_id, "retries").await?;
        if guard.rolled_back {
            return Err(Failure::Conflict(
                "this job's batch was rolled back: retrying it would list the product again; sync the product from its page if that is what you want".into(),
            ));
        }
        if guard.cancelled {
            // The queue runs no job of a cancelled batch: a retry would wait for ever.
            return Err(Failure::Conflict(CANCELLED_NO_RETRY.into()));
        }
        match self.0.queue.retry_dead(&job_id, user_id).await {
            Ok(true) => Ok(()),
            // A cancel that committed after the check above.
            Ok(false) if self.guard(&job_id, user_id, "retries").await?.cancelled => {
                Err(Failure::Conflict(CANCELLED_NO_RETRY.into()))
            }
            Ok(false) => Err(Failure::Conflict(
                "this job is no longer in the dead-letter queue".into(),
            )),
            Err(e) => Err(unexpected(e)),
        }
    }

    async fn discard_dead_letter(
        &self,
        user_id: Option<i64>,
        job_id: String,
        reason: String,
    ) -> Result<(), Failure> {
        self.guard(&job_id, user_id, "discards").await?;
        match self.0.queue.discard_dead(&job_id, user_id, &reason).await {
            Ok(true) => Ok(()),
            Ok(false) => Err(Failure::Conflict(
                "this job is no longer in the dead-letter queue".into(),
            )),
            Err(e) => Err(unexpected(e)),
        }
    }

    async fn batch_report(&self, id: String) -> Result<Option<BatchReportDto>, Failure> {
        let report = batch_report::batch_report(&self.0.db, &id)
            .await
            .map_err(unexpected)?;
        Ok(report.map(|r| BatchReportDto {
            passed: r.passed,
            markdown: r.markdown,
            charts: r.charts,
        }))
    }

    async fn spot_check(&self, id: String) -> Result<usize, Failure> {
        batch_report::spot_check(&self.0.sync, &id, None)
            .await
            .map_err(sync_failure)
    }

    async fn validation_runs(&self) -> Result<Vec<ValidationReport>, Failure> {
        crate::validation::history(&self.0.db, 10)
            .await
            .map_err(unexpected)
    }

    async fn run_validation(&self, live: bool) -> Result<ValidationReport, Failure> {
        crate::validation::run_tracked(&self.0.sync, live, &self.0.validation_progress)
            .await
            .map_err(sync_failure)
    }

    async fn validation_progress(&self) -> Result<Option<(usize, usize)>, Failure> {
        Ok(self
            .0
            .validation_progress
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .map(|(_, done, total)| (done, total)))
    }

    async fn audit_log(
        &self,
        page: u32,
        action: Option<String>,
        user: Option<String>,
    ) -> Result<AuditPage, Failure> {
        crate::db::audit::page(&self.0.db, page, action, user)
            .await
            .map_err(unexpected)
    }

    async fn completion_report(&self) -> Result<CompletionReportDto, Failure> {
        let report = crate::sync::completion::completion_report(&self.0.db)
            .await
            .map_err(unexpected)?;
        Ok(CompletionReportDto {
            ready: report.ready,
            signed_off: report.signed_off,
            markdown: report.markdown,
            charts: report.charts,
        })
    }

    async fn rollout(&self) -> Result<RolloutStatus, Failure> {
        crate::rollout::status(&self.0.db).await.map_err(unexpected)
    }

    async fn approve_rollout(
        &self,
        user: CurrentUser,
        note: String,
    ) -> Result<RolloutStatus, Failure> {
        use crate::rollout::ApproveError;
        crate::rollout::approve(&self.0.db, &user, &note)
            .await
            .map_err(|e| match e {
                ApproveError::NotOwner => Failure::Forbidden(e.to_string()),
                ApproveError::Invalid(m) => Failure::Invalid(m),
                ApproveError::Gate { .. } => Failure::Conflict(e.to_string()),
                ApproveError::Db(e) => unexpected(e),
            })
    }

    async fn rollback(
        &self,
        user: CurrentUser,
        request: RollbackRequest,
    ) -> Result<RollbackAnswer, Failure> {
        use crate::queue::RollbackRejected;
        self.0
            .queue
            .rollback(&user, &request)
            .await
            .map_err(|e| match e {
                RollbackRejected::NotOwner => Failure::Forbidden(e.to_string()),
                RollbackRejected::Invalid(m) => Failure::Invalid(m),
                RollbackRejected::UnknownBatch(_) => Failure::NotFound(e.to_string()),
                RollbackRejected::UnknownProducts(_) => Failure::Unprocessable(e.to_string()),
                RollbackRejected::Busy(m) => Failure::Conflict(m),
                RollbackRejected::NothingToDo(_) | RollbackRejected::PlanChanged => {
                    Failure::Conflict(e.to_string())
                }
                RollbackRejected::Queue(q) => unexpected(q),
            })
    }

    async fn shops(&self) -> Result<Vec<ShopConnection>, Failure> {
        self.0.shops.list().await.map_err(unexpected)
    }

    async fn settings(
        &self,
        user: CurrentUser,
        claimed: Option<app::api::Notice>,
        sig: String,
    ) -> Result<SettingsView, Failure> {
        owner_only(&user, "the settings")?;
        let secret = &self.0.settings.secret;
        let notice = claimed.filter(|n| {
            let expected = crate::shops::oauth::notice_signature(secret, n.ok, &n.text);
            crate::shops::oauth::subtle_eq(expected.as_bytes(), sig.as_bytes())
        });
        let mut markups = Vec::new();
        for platform in Platform::ALL {
            markups.push(
                crate::db::settings::markup(&self.0.db, platform)
                    .await
                    .map_err(unexpected)?,
            );
        }
        let shops = &self.0.shops;
        let connectable = Platform::ALL
            .into_iter()
            .filter(|p| match p {
                Platform::Shopee => shops.shopee_app().is_some(),
                Platform::Tiktok => shops.tiktok_app().is_some(),
            })
            .collect();
        Ok(SettingsView {
            notice,
            shops: shops.list().await.map_err(unexpected)?,
            markups,
            connectable,
        })
    }

    async fn set_markup(
        &self,
        user: CurrentUser,
        platform: Platform,
        bp: u32,
    ) -> Result<MarkupSetting, Failure> {
        owner_only(&user, "markups")?;
        let before = crate::db::sync::markup(&self.0.db, platform)
            .await
            .map_err(unexpected)?;
        crate::db::settings::set_markup(&self.0.db, platform, bp)
            .await
            .map_err(unexpected)?;
        crate::db::audit::record(
            &self.0.db,
            Some(user.id),
            "settings.markup",
            serde_json::json!({"platform": platform.as_str(), "from_bp": before.0, "to_bp": bp}),
        )
        .await
        .map_err(unexpected)?;
        crate::db::settings::markup(&self.0.db, platform)
            .await
            .map_err(unexpected)
    }

    async fn resync_outdated(
        &self,
        user: CurrentUser,
        platform: Platform,
    ) -> Result<BatchCreated, Failure> {
        owner_only(&user, "markups")?;
        let stage = crate::rollout::current_stage(&self.0.db)
            .await
            .map_err(unexpected)?;
        let limit = stage.max_batch_products();
        if limit == 0 {
            return Err(Failure::Conflict(
                "the pilot syncs products one at a time: re-sync them from their pages".into(),
            ));
        }
        let ids = crate::db::settings::outdated_products(&self.0.db, platform, limit)
            .await
            .map_err(unexpected)?;
        if ids.is_empty() {
            return Err(Failure::Conflict(format!(
                "every {} listing is priced at the current markup",
                platform.label()
            )));
        }
        self.start_batch(Some(user.id), ids, platform.as_str().to_string())
            .await
    }

    async fn set_attribute_default(
        &self,
        user: CurrentUser,
        platform: Platform,
        category_id: String,
        attribute_id: String,
        value: String,
    ) -> Result<app::api::CategoryMapping, Failure> {
        use crate::shops::categories;
        owner_only(&user, "category mappings")?;
        let attributes =
            categories::set_default(&self.0.sync, platform, &category_id, &attribute_id, &value)
                .await
                .map_err(mapping_failure)?;
        crate::db::audit::record(
            &self.0.db,
            Some(user.id),
            "settings.attribute_default",
            serde_json::json!({"platform": platform.as_str(), "category_id": category_id,
                "attribute_id": attribute_id, "value": value}),
        )
        .await
        .map_err(unexpected)?;
        Ok(app::api::CategoryMapping {
            master_category: String::new(),
            category_id: Some(category_id),
            path: None,
            attributes,
        })
    }

    async fn category_tree(
        &self,
        user: CurrentUser,
        platform: Platform,
    ) -> Result<app::api::CategoryTree, Failure> {
        owner_only(&user, "category mappings")?;
        crate::shops::categories::tree(&self.0.sync, platform)
            .await
            .map_err(sync_failure)
    }

    async fn set_category_mapping(
        &self,
        user: CurrentUser,
        platform: Platform,
        master: String,
        category_id: String,
    ) -> Result<app::api::CategoryMapping, Failure> {
        owner_only(&user, "category mappings")?;
        let before = crate::db::sync::category_for(&self.0.db, platform, &master)
            .await
            .map_err(unexpected)?;
        let mapping = crate::shops::categories::set(&self.0.sync, platform, &master, &category_id)
            .await
            .map_err(mapping_failure)?;
        crate::db::audit::record(
            &self.0.db,
            Some(user.id),
            "settings.category",
            serde_json::json!({"platform": platform.as_str(), "master_category": master,
                "from": before, "to": category_id}),
        )
        .await
        .map_err(unexpected)?;
        Ok(mapping)
    }

    async fn set_title_override(
        &self,
        user: CurrentUser,
        id: i64,
        platform: Platform,
        title: String,
    ) -> Result<Option<String>, Failure> {
        self.store_title_override(user, id, platform, title).await
    }

    async fn disconnect_shop(&self, user: CurrentUser, platform: Platform) -> Result<(), Failure> {
        use super::error::AppError;
        super::shops::disconnect_shop(&self.0, &user, platform)
            .await
            .map_err(|e| match e {
                AppError::Forbidden(m) => Failure::Forbidden(m),
                AppError::NotFound(m) => Failure::NotFound(m),
                other => unexpected(other),
            })
    }
}

impl DbDashboard {
    async fn store_title_override(
        &self,
        user: CurrentUser,
        id: i64,
        platform: Platform,
        title: String,
    ) -> Result<Option<String>, Failure> {
        let product = catalog::product_detail(&self.0.db, id)
            .await
            .map_err(unexpected)?
            .ok_or_else(|| Failure::NotFound(format!("no product with id {id}")))?;
        let stored = app::domain::parse_title_override(&product.title, &title, platform)
            .map_err(Failure::Invalid)?;
        crate::db::sync::set_title_override(&self.0.db, id, platform, stored.as_deref())
            .await
            .map_err(unexpected)?;
        crate::db::audit::record(
            &self.0.db,
            Some(user.id),
            "product.title_override",
            serde_json::json!({"product_id": id, "platform": platform.as_str(), "title": stored}),
        )
        .await
        .map_err(unexpected)?;
        Ok(stored)
    }
}

/// A category mapping or attribute default refused: the owner's choice is a 400, the
/// marketplace's or our database's failure is what it is.
fn mapping_failure(e: crate::shops::categories::MappingRejected) -> Failure {
    use crate::shops::categories::MappingRejected;
    match e {
        MappingRejected::Sync(s) => sync_failure(s),
        MappingRejected::Db(d) => unexpected(d),
        other => Failure::Invalid(other.to_string()),
    }
}

/// Refuses an operator: `what` only the owner changes.
fn owner_only(user: &CurrentUser, what: &str) -> Result<(), Failure> {
    match user.role {
        app::api::Role::Owner => Ok(()),
        _ => Err(Failure::Forbidden(format!("only the owner changes {what}"))),
    }
}

impl DbDashboard {
    /// Refuses an operator acting on a rollback (`what` the owner alone does to it).
    async fn guard(
        &self,
        id: &str,
        user_id: Option<i64>,
        what: &str,
    ) -> Result<crate::db::rollback::BatchGuard, Failure> {
        // An unknown id is the action's to answer (not found, or no longer a dead letter).
        let guard = crate::db::rollback::guard(&self.0.db, id, user_id)
            .await
            .map_err(unexpected)?
            .unwrap_or_default();
        if guard.rollback && !guard.owner {
            return Err(Failure::Forbidden(format!(
                "only the owner {what} a rollback's jobs"
            )));
        }
        Ok(guard)
    }
}

const CANCELLED_NO_RETRY: &str = "this job's batch was cancelled: its jobs do not run again; start a new batch with the product or sync it from its page";

/// Logs what went wrong and tells the user only that it did.
fn unexpected(e: impl std::fmt::Display) -> Failure {
    tracing::error!(error = %e, "dashboard request failed");
    Failure::Internal
}

/// A sync that failed: our database is internal; anything else the user can act on.
fn sync_failure(e: crate::sync::SyncError) -> Failure {
    match e {
        crate::sync::SyncError::Db(e) => unexpected(e),
        crate::sync::SyncError::InProgress { .. } | crate::sync::SyncError::ClaimLost(_) => {
            Failure::Conflict(e.to_string())
        }
        crate::sync::SyncError::InvalidProduct(m) if m.starts_with("no product") => {
            Failure::NotFound(m)
        }
        crate::sync::SyncError::InvalidProduct(_) => Failure::Unprocessable(e.to_string()),
        crate::sync::SyncError::NotConnected(_) => Failure::Invalid(e.to_string()),
        crate::sync::SyncError::Marketplace(ref m) => match m.class() {
            "RATE_LIMITED" => Failure::RateLimited(e.to_string()),
            "INVALID_PRODUCT" => Failure::Unprocessable(e.to_string()),
            "SHOP_DISCONNECTED" => Failure::Conflict(e.to_string()),
            _ => Failure::Upstream(e.to_string()),
        },
    }
}
