//! The shared per-shop rate limit against a real Redis: its turns follow the platforms'
//! calendar-second window exactly, whatever the rate.

use fred::prelude::*;
use syncstore::marketplace::RateLimiter;

use crate::support;

/// The turns Redis hands out for `per_second`, in µs on Redis's clock, as `count` callers
/// reserve one each at once.
async fn turns(per_second: u32, count: usize) -> Vec<i64> {
    let settings = support::test_settings();
    let redis = syncstore::redis::connect(&settings.redis_url)
        .await
        .expect("Redis");
    let key = format!("{}ratelimit:shopee:1", settings.redis_prefix);
    let limiter = RateLimiter::new(redis.clone(), key.clone(), per_second);
    let mut turns = Vec::new();
    for _ in 0..count {
        limiter.reserve().await;
        // The key holds the turn just given, plus one µs.
        let next: i64 = redis.get(&key).await.expect("the shop's next turn");
        turns.push(next - 1);
    }
    let _: i64 = redis.del(&key).await.unwrap();
    turns
}

/// How many of `turns` fall in each calendar second they touch.
fn per_second(turns: &[i64]) -> Vec<usize> {
    let mut counts = std::collections::BTreeMap::new();
    for t in turns {
        *counts.entry(t / 1_000_000).or_insert(0) += 1;
    }
    counts.into_values().collect()
}

#[tokio::test]
async fn each_calendar_second_gets_exactly_its_limit_of_turns_away_from_its_edges() {
    // 10 a second: one every 100 ms, each in the middle of its tenth of a second.
    let tens = turns(10, 25).await;
    for pair in tens.windows(2) {
        assert_eq!(pair[1] - pair[0], 100_000, "evenly spaced: {tens:?}");
    }
    for t in &tens {
        assert_eq!(
            t % 100_000,
            50_000,
            "half a part from either edge: {tens:?}"
        );
    }
    // Full seconds hold exactly 10; the first and last may be partly used.
    let counts = per_second(&tens);
    assert!(counts.iter().all(|n| *n <= 10), "{counts:?}");
    assert!(
        counts[1..counts.len() - 1].iter().all(|n| *n == 10),
        "{counts:?}"
    );

    // 18 a second does not divide a second into whole microseconds: spacing by a fixed
    // interval (55,555 µs) would fit 19 calls into some seconds. The grid never does.
    let eighteens = turns(18, 60).await;
    let counts = per_second(&eighteens);
    assert!(counts.iter().all(|n| *n <= 18), "{counts:?}");
    assert!(
        counts[1..counts.len() - 1].iter().all(|n| *n == 18),
        "{counts:?}"
    );
    for t in &eighteens {
        let into_second = t % 1_000_000;
        let edge = into_second.min(1_000_000 - into_second);
        assert!(
            edge >= 27_000,
            "{into_second} µs into its second: too near an edge"
        );
    }
}
