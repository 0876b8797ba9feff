//! Per-shop rate limits shared by every process that talks to a shop: one Redis key per
//! shop holds the next free send time (GCRA's "theoretical arrival time"), so calls are
//! spaced evenly whatever the number of workers and the queue never provokes a
//! platform's own limit by itself.

use std::time::Duration;

use fred::prelude::*;

/// Reserves the next free slot and answers how many microseconds to wait for it. Redis's
/// own clock is used so that processes on different machines agree.
const RESERVE: &str = r#"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval = tonumber(ARGV[1])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
redis.call('SET', KEYS[1], tat + interval, 'PX', math.floor((tat - now + interval) / 1000) + 1000)
return tat - now
"#;

#[derive(Clone)]
pub struct RateLimiter {
    redis: Pool,
    key: String,
    interval_us: i64,
}

impl RateLimiter {
    /// At most `per_second` calls per second under `key` (which names the shop).
    pub fn new(redis: Pool, key: String, per_second: u32) -> RateLimiter {
        RateLimiter {
            redis,
            key,
            interval_us: 1_000_000 / i64::from(per_second.max(1)),
        }
    }

    /// Waits until this caller may send one request.
    pub async fn wait_turn(&self) {
        let wait_us: Result<i64, _> = self
            .redis
            .eval(RESERVE, vec![self.key.clone()], vec![self.interval_us])
            .await;
        let wait = match wait_us {
            Ok(us) => Duration::from_micros(us.max(0) as u64),
            Err(e) => {
                // Without Redis the limit cannot be shared; pacing this caller alone at the
                // configured rate is the safest guess.
                tracing::warn!(error = %e, "rate limiter unavailable; pacing locally");
                Duration::from_micros(self.interval_us as u64)
            }
        };
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
    }
}
