//! Live progress: `GET /api/sync/batch/{id}/events`.

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::batch::{product_ids, start_ok};
use crate::support::{app_with_catalog, TestApp};

/// Reads server-sent events until the stream ends; (event name, snapshot) pairs.
async fn read_events(app: &TestApp, batch_id: &str) -> Vec<(String, Value)> {
    let mut res = app
        .client
        .get(app.url(&format!("/api/sync/batch/{batch_id}/events")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "text/event-stream");
    let mut text = String::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    while let Some(chunk) = tokio::time::timeout_at(deadline.into(), res.chunk())
        .await
        .expect("the stream ends when the batch finishes")
        .unwrap()
    {
        text.push_str(&String::from_utf8_lossy(&chunk));
    }
    text.split("\n\n")
        .filter_map(|block| {
            let name = block.lines().find_map(|l| l.strip_prefix("event: "))?;
            let data = block.lines().find_map(|l| l.strip_prefix("data: "))?;
            Some((name.to_string(), serde_json::from_str(data).unwrap()))
        })
        .collect()
}

#[tokio::test]
async fn sse_sends_a_snapshot_then_monotonic_progress_then_a_final_event() {
    let (app, _) = app_with_catalog(4).await;
    let ids = product_ids(&app, 4).await;
    app.sandbox.latency(30).await;
    let batch = start_ok(&app, &ids, "both").await;
    let events = read_events(&app, &batch).await;
    assert!(events.len() >= 2, "{events:?}");
    let (last_name, last) = events.last().unwrap();
    assert_eq!(last_name, "finished");
    assert_eq!(
        (last["percent"].clone(), last["status"].clone()),
        (json!(100), json!("completed"))
    );
    assert!(events[..events.len() - 1]
        .iter()
        .all(|(name, _)| name == "snapshot"));
    let finished: Vec<i64> = events
        .iter()
        .map(|(_, s)| s["completed"].as_i64().unwrap() + s["failed"].as_i64().unwrap())
        .collect();
    assert!(finished.windows(2).all(|w| w[0] <= w[1]), "{finished:?}");
    // A client connecting after the end gets the final snapshot at once.
    let again = read_events(&app, &batch).await;
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].0, "finished");
}

/// The first event of a fresh connection to the batch's stream.
async fn first_event(app: &TestApp, batch_id: &str) -> Value {
    let mut res = app
        .client
        .get(app.url(&format!("/api/sync/batch/{batch_id}/events")))
        .send()
        .await
        .unwrap();
    let mut text = String::new();
    while !text.contains("\n\n") {
        let chunk = res.chunk().await.unwrap().expect("an event before the end");
        text.push_str(&String::from_utf8_lossy(&chunk));
    }
    let data = text.lines().find_map(|l| l.strip_prefix("data: ")).unwrap();
    serde_json::from_str(data).unwrap()
}

#[tokio::test]
async fn an_sse_client_that_reconnects_mid_batch_loses_nothing() {
    let (app, _) = app_with_catalog(4).await;
    let ids = product_ids(&app, 4).await;
    app.sandbox.latency(60).await;
    let batch = start_ok(&app, &ids, "both").await;
    let mut seen = first_event(&app, &batch).await;
    let deadline = Instant::now() + Duration::from_secs(60);
    while seen["completed"].as_i64().unwrap() < 1 {
        assert!(Instant::now() < deadline);
        tokio::time::sleep(Duration::from_millis(100)).await;
        // Each reconnect starts from the whole current state, never behind it.
        let again = first_event(&app, &batch).await;
        assert!(again["completed"].as_i64() >= seen["completed"].as_i64());
        assert_eq!(again["total"], 8);
        seen = again;
    }
    let events = read_events(&app, &batch).await;
    assert!(events[0].1["completed"].as_i64() >= seen["completed"].as_i64());
    assert_eq!(events.last().unwrap().0, "finished");
}
