//! Queue failures `docs/queue.md` promises to handle: a worker presumed dead three times,
//! and a platform's `Retry-After`.

use std::time::Duration;

use serde_json::json;

use crate::support::{app_with_catalog, spawn_app_with_options, AppOptions, TestApp};

async fn start(app: &TestApp, id: i64, platform: &str) -> String {
    let res = app
        .client
        .post(app.url("/api/sync/batch"))
        .json(&json!({"product_ids": [id], "platform": platform}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 202);
    res.json::<serde_json::Value>().await.unwrap()["batch_id"]
        .as_str()
        .unwrap()
        .to_string()
}

async fn finished(app: &TestApp, batch: &str) -> serde_json::Value {
    app.eventually("the batch to finish", Duration::from_secs(120), || async {
        let (_, status) = app
            .get_json(&format!("/api/sync/batch/status?batch_id={batch}"))
            .await;
        status["finished_at"].is_string().then_some(status)
    })
    .await
}

fn signal(sig: &str, pid: u32) {
    let ok = std::process::Command::new("kill")
        .args([sig, &pid.to_string()])
        .status()
        .unwrap()
        .success();
    assert!(ok, "kill {sig} {pid}");
}

#[tokio::test]
async fn a_job_whose_worker_stops_three_times_is_dead_lettered_as_worker_lost() {
    let app = spawn_app_with_options(AppOptions {
        worker: false,
        sandbox_qps: None,
        ..AppOptions::default()
    })
    .await;
    let catalog = syncstore::catalog::demo::demo_catalog(3, &app.base);
    app.import(&catalog).await;
    app.login().await;
    let simple = catalog.iter().find(|p| p.variants.is_empty()).unwrap();
    let id = app.product_id(&simple.sku).await;
    // Every call takes a second: the job is still running when its worker freezes.
    app.sandbox.latency(1_000).await;
    let batch = start(&app, id, "shopee").await;
    let mut frozen = Vec::new();
    for round in 1..=3 {
        let worker = app.worker_process(1);
        let pid = worker.id().unwrap();
        let held = format!(
            "SELECT count(*) AS n FROM sync_jobs WHERE state = 'active' AND worker_id LIKE '%-{pid}-%'"
        );
        app.eventually(
            &format!("worker {round} to hold the job"),
            Duration::from_secs(60),
            || async { (app.count(&held).await > 0).then_some(()) },
        )
        .await;
        // Frozen inside a marketplace call (each takes a second), not half-way through a
        // database round trip: a pool wait that spans the freeze times out on waking and
        // ends the attempt before it is logged.
        let calls = || async {
            app.sandbox.stats().await["shopee"]["requests"]
                .as_u64()
                .unwrap()
        };
        let before = calls().await;
        app.eventually(
            &format!("worker {round} to call Shopee"),
            Duration::from_secs(60),
            || async { (calls().await > before).then_some(()) },
        )
        .await;
        signal("-STOP", pid);
        frozen.push(worker);
    }
    // A live worker finds the third stall and gives up on the job.
    let _survivor = app.worker_process(1);
    let body = finished(&app, &batch).await;
    assert_eq!(body["jobs"][0]["state"], "failed", "{body:#}");
    assert_eq!(body["jobs"][0]["error_code"], "WORKER_LOST", "{body:#}");
    assert_eq!(body["failed"], 1);
    // The frozen workers wake up to claims they no longer hold: nothing more is listed.
    app.sandbox.latency(0).await;
    for worker in &frozen {
        signal("-CONT", worker.id().unwrap());
    }
    // Each woken worker ends its cut attempt (and logs it) without writing anything more.
    app.eventually(
        "the woken workers to end their attempts",
        Duration::from_secs(60),
        || async { (app.count("SELECT count(*) AS n FROM sync_logs").await >= 3).then_some(()) },
    )
    .await;
    let listings = app.sandbox.stats().await["shopee"]["listings"]
        .as_u64()
        .unwrap();
    assert!(listings <= 1, "{listings} Shopee listings of one product");
    let (_, after) = app
        .get_json(&format!("/api/sync/batch/status?batch_id={batch}"))
        .await;
    assert_eq!(
        after["jobs"][0]["state"], "failed",
        "a woken worker changed it: {after:#}"
    );
}

#[tokio::test]
async fn a_rate_limit_with_retry_after_is_waited_out_before_the_next_attempt() {
    let (app, catalog) = app_with_catalog(3).await;
    let simple = catalog.iter().find(|p| p.variants.is_empty()).unwrap();
    let id = app.product_id(&simple.sku).await;
    app.sandbox
        .set_faults(json!({"platform": "shopee", "mode": "rate_limit", "probability": 1.0, "retry_after_s": 2}))
        .await;
    let batch = start(&app, id, "shopee").await;
    app.eventually("the first attempt", Duration::from_secs(30), || async {
        (app.count("SELECT count(*) AS n FROM sync_logs").await > 0).then_some(())
    })
    .await;
    app.sandbox.fault("shopee", "none").await;
    let body = finished(&app, &batch).await;
    assert_eq!(body["status"], "completed", "{body:#}");
    // From the end of attempt 1 to the start of attempt 2 (the retry base is 200 ms).
    let gap_ms = app
        .count(
            "SELECT (EXTRACT(EPOCH FROM (b.created_at - a.created_at)) * 1000 - b.duration_ms)::bigint AS n
             FROM sync_logs a JOIN sync_logs b ON b.attempt = 2 WHERE a.attempt = 1",
        )
        .await;
    assert!(
        gap_ms >= 1_900,
        "attempt 2 started {gap_ms} ms after attempt 1"
    );
}

/// A stalled job's recovery and its worker's late end meet on the same rows: the end holds
/// the job's row and then writes its batch's (the trigger counting what remains), so the
/// recovery must take the rows in that order too. Taken the other way round (batch, then
/// job) the two deadlock and Postgres aborts one of them a second later.
#[tokio::test]
async fn a_stalled_job_recovered_while_its_worker_ends_it_waits_instead_of_deadlocking() {
    use sea_orm::{ConnectionTrait, TransactionTrait};
    use syncstore::db::sql;
    let db = crate::support::fresh_db().await;
    let (batch, jobs) = waiting_batch(&db, 1).await;
    let job = jobs[0].clone();
    // Running on a worker that has sent no heartbeat for an hour.
    db.execute_raw(sql(
        "UPDATE sync_jobs SET state = 'active', attempts = 1, worker_id = 'gone',
            heartbeat_at = now() - interval '1 hour' WHERE id = $1",
        [job.clone().into()],
    ))
    .await
    .unwrap();
    // The worker's end has taken the job's row...
    let end = db.begin().await.unwrap();
    end.execute_raw(sql(
        "SELECT id FROM sync_jobs WHERE id = $1 FOR UPDATE",
        [job.clone().into()],
    ))
    .await
    .unwrap();
    // ...as the recovery starts and waits for it.
    let recovery = {
        let db = db.clone();
        tokio::spawn(async move { syncstore::db::queue::recover_stalled(&db, 3_000).await })
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let waiting = db
            .query_one_raw(sql(
                "SELECT count(*) AS n FROM pg_stat_activity
                 WHERE datname = current_database() AND wait_event_type = 'Lock'",
                [],
            ))
            .await
            .unwrap()
            .unwrap()
            .try_get::<i64>("", "n")
            .unwrap();
        if waiting > 0 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the recovery never waited for the job"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // The end goes on to the batch's row, as `db::queue::finish` does, and commits.
    end.execute_raw(sql(
        "UPDATE sync_jobs SET state = 'completed', worker_id = NULL, heartbeat_at = NULL,
            finished_at = now() WHERE id = $1",
        [job.clone().into()],
    ))
    .await
    .expect("the end is not aborted as a deadlock");
    end.commit().await.unwrap();
    let recovered = recovery
        .await
        .unwrap()
        .expect("the recovery is not aborted either");
    assert!(
        recovered.is_empty(),
        "a job its worker ended is not recovered: {recovered:?}"
    );
    let row = db
        .query_one_raw(sql(
            "SELECT j.state, j.attempts, b.finished_at IS NOT NULL AS closed
             FROM sync_jobs j JOIN sync_batches b ON b.id = j.batch_id WHERE j.id = $1",
            [job.into()],
        ))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.try_get::<String>("", "state").unwrap(), "completed");
    assert_eq!(row.try_get::<i32>("", "attempts").unwrap(), 1);
    assert!(
        row.try_get::<bool>("", "closed").unwrap(),
        "batch {batch} closed"
    );
}

/// Waits until `n` statements of this database wait for a lock.
async fn until_statements_wait_for_locks(db: &sea_orm::DatabaseConnection, n: i64, what: &str) {
    use sea_orm::ConnectionTrait;
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let waiting = db
            .query_one_raw(syncstore::db::sql(
                "SELECT count(*) AS n FROM pg_stat_activity
                 WHERE datname = current_database() AND wait_event_type = 'Lock'",
                [],
            ))
            .await
            .unwrap()
            .unwrap()
            .try_get::<i64>("", "n")
            .unwrap();
        if waiting >= n {
            return;
        }
        assert!(std::time::Instant::now() < deadline, "{what} never waited");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A batch of `jobs` waiting jobs recorded straight in Postgres: (batch, job ids by id).
async fn waiting_batch(db: &sea_orm::DatabaseConnection, jobs: i64) -> (String, Vec<String>) {
    use sea_orm::ConnectionTrait;
    let rows = db
        .query_all_raw(syncstore::db::sql(
            "WITH b AS (INSERT INTO sync_batches (platform, total) VALUES ('shopee', $1) RETURNING id)
             INSERT INTO sync_jobs (batch_id, product_id, platform)
             SELECT b.id, n, 'shopee' FROM b, generate_series(1, $1) AS n RETURNING id, batch_id",
            [jobs.into()],
        ))
        .await
        .unwrap();
    let batch = rows[0].try_get("", "batch_id").unwrap();
    let mut ids: Vec<String> = rows.iter().map(|r| r.try_get("", "id").unwrap()).collect();
    ids.sort();
    (batch, ids)
}

/// Where a batch stands: its jobs' states in id order and its own row.
struct BatchEnd {
    states: Vec<String>,
    remaining: i32,
    cancelled: bool,
    closed: bool,
}

async fn batch_end(db: &sea_orm::DatabaseConnection, batch: &str) -> BatchEnd {
    use sea_orm::ConnectionTrait;
    let row = db
        .query_one_raw(syncstore::db::sql(
            "SELECT (SELECT array_agg(state ORDER BY id) FROM sync_jobs WHERE batch_id = b.id) AS states,
                    b.remaining, b.cancelled, b.finished_at IS NOT NULL AS closed
             FROM sync_batches b WHERE b.id = $1",
            [batch.into()],
        ))
        .await
        .unwrap()
        .expect("the batch exists");
    BatchEnd {
        states: row.try_get("", "states").unwrap(),
        remaining: row.try_get("", "remaining").unwrap(),
        cancelled: row.try_get("", "cancelled").unwrap(),
        closed: row.try_get("", "closed").unwrap(),
    }
}

/// A cancel and a worker ending a job the cancel still saw waiting meet on the same rows:
/// the end holds the job's row and then writes its batch's (the trigger counting what
/// remains). Were the cancel to mark the batch first and then wait for the job, the two
/// would deadlock and Postgres abort one of them a second later; the cancel takes the jobs
/// first, so it waits for the end instead.
#[tokio::test]
async fn a_cancel_meeting_a_job_its_worker_is_ending_waits_instead_of_deadlocking() {
    use sea_orm::{ConnectionTrait, TransactionTrait};
    use syncstore::db::sql;
    let db = crate::support::fresh_db().await;
    let (batch, jobs) = waiting_batch(&db, 3).await;
    // A worker has just taken the first job (it still reads as waiting to everyone else)...
    let end = db.begin().await.unwrap();
    end.execute_raw(sql(
        "SELECT id FROM sync_jobs WHERE id = $1 FOR UPDATE",
        [jobs[0].clone().into()],
    ))
    .await
    .unwrap();
    // ...as the cancel starts and waits for it.
    let cancel = {
        let (db, batch) = (db.clone(), batch.clone());
        tokio::spawn(async move { syncstore::db::queue::cancel_batch(&db, &batch, None).await })
    };
    until_statements_wait_for_locks(&db, 1, "the cancel").await;
    // The worker ends the job: its row, then (by the trigger) the batch's.
    end.execute_raw(sql(
        "UPDATE sync_jobs SET state = 'completed', attempts = 1, finished_at = now() WHERE id = $1",
        [jobs[0].clone().into()],
    ))
    .await
    .expect("the end is not aborted as a deadlock");
    end.commit().await.unwrap();
    assert!(
        cancel
            .await
            .unwrap()
            .expect("the cancel is not aborted either"),
        "the batch was cancelled"
    );
    let end = batch_end(&db, &batch).await;
    assert_eq!(end.states, ["completed", "discarded", "discarded"]);
    assert_eq!(end.remaining, 0);
    assert!(end.cancelled);
    assert!(end.closed, "the batch closed");
}

/// Workers that claim jobs and end them at once (completed, or a retry due at once) while
/// their batches are cancelled one after the other: nothing is aborted as a deadlock, and
/// every batch closes with nothing left to run.
#[tokio::test]
async fn cancels_racing_workers_that_end_their_jobs_at_once_never_deadlock() {
    use sea_orm::ConnectionTrait;
    use syncstore::db::queue::{cancel_batch, claim, finish, Finish};
    use syncstore::db::sql;
    let db = crate::support::fresh_db().await;
    let mut batches = Vec::new();
    let mut all_jobs = Vec::new();
    for _ in 0..6 {
        let (batch, jobs) = waiting_batch(&db, 80).await;
        batches.push(batch);
        all_jobs.extend(jobs);
    }
    // Interleaved across batches, so every batch has jobs claimed while it is cancelled.
    all_jobs.sort_by_key(|id| id.chars().rev().collect::<String>());
    let all_jobs = std::sync::Arc::new(all_jobs);
    let mut workers = tokio::task::JoinSet::new();
    for w in 0..8usize {
        let (db, jobs) = (db.clone(), all_jobs.clone());
        workers.spawn(async move {
            let worker = format!("worker-{w}");
            // Passes over every job, each worker from its own place, until a pass finds
            // nothing to take: a retry comes round again.
            for _ in 0..50 {
                let mut ran = 0;
                let start = w * jobs.len() / 8;
                for i in (start..jobs.len()).chain(0..start) {
                    let job = &jobs[i];
                    let claimed = claim(&db, job, &worker)
                        .await
                        .expect("a claim is not aborted");
                    if let Some(claimed) = claimed {
                        ran += 1;
                        let end = if i % 3 == 0 && claimed.attempts < 3 {
                            Finish::Retry {
                                delay_ms: 0,
                                code: "TIMEOUT".into(),
                                message: "again".into(),
                            }
                        } else {
                            Finish::Completed { action: None }
                        };
                        assert!(
                            finish(&db, job, &worker, 1, &end)
                                .await
                                .expect("an end is not aborted"),
                            "the job was still this worker's"
                        );
                    }
                }
                if ran == 0 {
                    break;
                }
            }
        });
    }
    let mut cancelled = 0;
    for batch in &batches {
        tokio::time::sleep(Duration::from_millis(15)).await;
        if cancel_batch(&db, batch, None)
            .await
            .expect("a cancel is not aborted")
        {
            cancelled += 1;
        }
    }
    assert!(
        cancelled >= 3,
        "only {cancelled} batches were still running when cancelled"
    );
    while let Some(done) = workers.join_next().await {
        done.unwrap();
    }
    let open = db
        .query_one_raw(sql(
            "SELECT count(*) FILTER (WHERE finished_at IS NULL OR remaining <> 0) AS open,
                    (SELECT count(*) FROM sync_jobs
                     WHERE state IN ('waiting', 'retrying', 'active')) AS unfinished
             FROM sync_batches",
            [],
        ))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(open.try_get::<i64>("", "unfinished").unwrap(), 0);
    assert_eq!(
        open.try_get::<i64>("", "open").unwrap(),
        0,
        "every batch closed"
    );
}

/// A worker ends its job as a retry just before the cancel: the end holds the job and waits
/// for the batch's row (held a moment by another statement), and a third statement takes
/// the job's row next. The cancel still discards the retry rather than leave it waiting in
/// a cancelled batch, where no worker would run it and the batch would never close.
#[tokio::test]
async fn a_retry_ending_as_the_batch_is_cancelled_is_discarded_with_the_rest() {
    use sea_orm::{ConnectionTrait, TransactionTrait};
    use syncstore::db::queue::{cancel_batch, claim, finish, Finish};
    use syncstore::db::sql;
    let db = crate::support::fresh_db().await;
    let (batch, jobs) = waiting_batch(&db, 2).await;
    let job = jobs[0].clone();
    claim(&db, &job, "worker-1")
        .await
        .unwrap()
        .expect("claimed");
    // Another statement holds the batch's row for a moment...
    let holder = db.begin().await.unwrap();
    holder
        .execute_raw(sql(
            "UPDATE sync_batches SET started_at = started_at WHERE id = $1",
            [batch.clone().into()],
        ))
        .await
        .unwrap();
    // ...as the worker ends the job as a retry, due in a minute, and waits for that row...
    let retry = {
        let (db, job) = (db.clone(), job.clone());
        tokio::spawn(async move {
            let end = Finish::Retry {
                delay_ms: 60_000,
                code: "TIMEOUT".into(),
                message: "again".into(),
            };
            finish(&db, &job, "worker-1", 1, &end).await
        })
    };
    until_statements_wait_for_locks(&db, 1, "the retry").await;
    // ...another transaction queues for the job's row...
    let next = {
        let (db, job) = (db.clone(), job.clone());
        tokio::spawn(async move {
            let txn = db.begin().await.unwrap();
            txn.execute_raw(sql(
                "SELECT id FROM sync_jobs WHERE id = $1 FOR UPDATE",
                [job.into()],
            ))
            .await
            .unwrap();
            txn
        })
    };
    until_statements_wait_for_locks(&db, 2, "the next holder").await;
    // ...and the cancel starts.
    let cancel = {
        let (db, batch) = (db.clone(), batch.clone());
        tokio::spawn(async move { cancel_batch(&db, &batch, None).await })
    };
    until_statements_wait_for_locks(&db, 3, "the cancel").await;
    holder.commit().await.unwrap();
    assert!(retry.await.unwrap().unwrap(), "the retry was recorded");
    let next = next.await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    next.commit().await.unwrap();
    assert!(cancel.await.unwrap().expect("the cancel is not aborted"));
    let end = batch_end(&db, &batch).await;
    assert_eq!(end.states, ["discarded", "discarded"]);
    assert_eq!(end.remaining, 0);
    assert!(end.closed, "the batch closed");
}

/// A cancel that committed but stopped before discarding what it had passed over (the
/// process ended in between) leaves waiting jobs in a cancelled batch; the maintenance
/// sweep discards them and the batch closes, and touches no other batch's jobs.
#[tokio::test]
async fn the_maintenance_sweep_discards_what_a_cancel_left_waiting() {
    use sea_orm::ConnectionTrait;
    use syncstore::db::queue::discard_left_in_cancelled_batches;
    use syncstore::db::sql;
    let db = crate::support::fresh_db().await;
    let (cancelled, _) = waiting_batch(&db, 2).await;
    let (running, _) = waiting_batch(&db, 1).await;
    db.execute_raw(sql(
        "UPDATE sync_batches SET cancelled = true WHERE id = $1",
        [cancelled.clone().into()],
    ))
    .await
    .unwrap();
    assert_eq!(
        discard_left_in_cancelled_batches(&db).await.unwrap(),
        std::slice::from_ref(&cancelled)
    );
    let row = db
        .query_one_raw(sql(
            "SELECT (SELECT array_agg(state ORDER BY id) FROM sync_jobs WHERE batch_id = $1) AS cancelled,
                    (SELECT array_agg(state) FROM sync_jobs WHERE batch_id = $2) AS running,
                    (SELECT finished_at IS NOT NULL AND remaining = 0 FROM sync_batches WHERE id = $1)
                        AS closed",
            [cancelled.into(), running.into()],
        ))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        row.try_get::<Vec<String>>("", "cancelled").unwrap(),
        ["discarded", "discarded"]
    );
    assert_eq!(
        row.try_get::<Vec<String>>("", "running").unwrap(),
        ["waiting"]
    );
    assert!(
        row.try_get::<bool>("", "closed").unwrap(),
        "the cancelled batch closed"
    );
    assert!(
        discard_left_in_cancelled_batches(&db)
            .await
            .unwrap()
            .is_empty(),
        "nothing is left the second time"
    );
}
