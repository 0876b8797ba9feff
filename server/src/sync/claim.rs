//! Exclusive syncs: a sync of a (product, platform) runs only while it holds that pair's
//! claim in Postgres, and proves the claim is still its own just before every marketplace
//! write (fencing). A holder that was paused past its lease (GC, SIGSTOP, a slow disk)
//! wakes up to find the claim gone and writes nothing more; a new holder can take the pair
//! only after the old lease has lapsed, so its search by SKU sees every listing the old
//! holder could still have created.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use app::api::Platform;
use sea_orm::DatabaseConnection;

use super::SyncError;
use crate::db::claims;

/// How often a busy pair is asked again while waiting for it.
const POLL: Duration = Duration::from_millis(200);

pub struct SyncClaim {
    db: DatabaseConnection,
    product_id: i64,
    platform: Platform,
    holder: String,
    lease: Duration,
    lost: Arc<AtomicBool>,
    renewer: tokio::task::JoinHandle<()>,
}

impl SyncClaim {
    pub fn db(&self) -> &DatabaseConnection {
        &self.db
    }

    /// Takes the claim, waiting up to `wait` for the current holder to finish or lapse.
    pub async fn acquire(
        db: &DatabaseConnection,
        product_id: i64,
        platform: Platform,
        job_id: Option<&str>,
        lease: Duration,
        wait: Duration,
    ) -> Result<SyncClaim, SyncError> {
        let holder = hex::encode(rand::random::<[u8; 12]>());
        let lease_ms = lease.as_millis() as i64;
        let deadline = Instant::now() + wait;
        loop {
            match claims::take(db, product_id, platform, &holder, job_id, lease_ms).await? {
                Ok(()) => break,
                Err(running) if Instant::now() >= deadline => {
                    return Err(SyncError::InProgress {
                        platform,
                        job_id: running,
                    })
                }
                Err(_) => tokio::time::sleep(POLL).await,
            }
        }
        let lost = Arc::new(AtomicBool::new(false));
        let renewer = tokio::spawn(renew_until_lost(
            db.clone(),
            product_id,
            platform,
            holder.clone(),
            lease,
            lost.clone(),
        ));
        Ok(SyncClaim {
            db: db.clone(),
            product_id,
            platform,
            holder,
            lease,
            lost,
            renewer,
        })
    }

    /// Proves, just before a marketplace write, that the claim is still this sync's and has
    /// at least half a lease to run. A holder that was paused while asking fails too.
    pub async fn confirm(&self) -> Result<(), SyncError> {
        if self.lost.load(Ordering::SeqCst) {
            return Err(SyncError::ClaimLost(self.platform));
        }
        let asked = Instant::now();
        let kept = claims::renew(
            &self.db,
            self.product_id,
            self.platform,
            &self.holder,
            self.lease.as_millis() as i64,
        )
        .await?;
        if !kept || asked.elapsed() > self.lease / 2 {
            self.lost.store(true, Ordering::SeqCst);
            return Err(SyncError::ClaimLost(self.platform));
        }
        Ok(())
    }

    /// Lets the pair go at once (a lapsed lease would free it too).
    pub async fn release(self) {
        self.renewer.abort();
        if let Err(e) =
            claims::release(&self.db, self.product_id, self.platform, &self.holder).await
        {
            tracing::warn!(error = %e, product_id = self.product_id, "releasing a sync claim failed; it lapses on its own");
        }
    }
}

impl Drop for SyncClaim {
    fn drop(&mut self) {
        self.renewer.abort();
    }
}

/// Keeps the claim alive while the sync works between writes (image downloads, reads).
async fn renew_until_lost(
    db: DatabaseConnection,
    product_id: i64,
    platform: Platform,
    holder: String,
    lease: Duration,
    lost: Arc<AtomicBool>,
) {
    loop {
        tokio::time::sleep(lease / 3).await;
        match claims::renew(&db, product_id, platform, &holder, lease.as_millis() as i64).await {
            Ok(true) => {}
            Ok(false) => {
                lost.store(true, Ordering::SeqCst);
                return;
            }
            // Postgres did not answer: the next confirm decides.
            Err(e) => tracing::warn!(error = %e, product_id, "renewing a sync claim failed"),
        }
    }
}
