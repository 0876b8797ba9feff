//! Per-shop rate limits shared by every process that talks to a shop: one Redis key per
//! shop holds the next free send time (GCRA's "theoretical arrival time"), so calls are
//! spaced evenly whatever the number of workers and the queue never provokes a
//! platform's own limit by itself.

use std::collections::HashMap;
use std::sync::{LazyLock, Mutex};
use std::time::{Duration, Instant};

use fred::prelude::*;

/// How long a reservation may take before Redis counts as unreachable: a call to a shop
/// must not wait for Redis to come back.
const REDIS_ANSWERS_WITHIN: Duration = Duration::from_millis(500);

/// Each shop's next free send time in this process, for while Redis cannot share it: every
/// client of a shop in the process takes turns on the same entry.
static LOCAL_TURNS: LazyLock<Mutex<HashMap<String, Instant>>> = LazyLock::new(Mutex::default);

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
        // Fail at once while Redis is reconnecting instead of waiting in fred's buffer: a
        // buffered reservation would still be made when Redis is back, pushing every
        // process's next turn back by one interval per call made during the outage.
        let options = fred::types::config::Options {
            fail_fast: true,
            max_attempts: Some(1),
            timeout: Some(REDIS_ANSWERS_WITHIN),
            ..Default::default()
        };
        let args: Vec<fred::types::Value> = vec![
            RESERVE.into(),
            1.into(),
            self.key.as_str().into(),
            self.interval_us.into(),
        ];
        let reserved = tokio::time::timeout(
            REDIS_ANSWERS_WITHIN,
            self.redis
                .next()
                .with_options(&options)
                .custom::<i64, _>(fred::cmd!("EVAL"), args),
        )
        .await;
        let wait = match reserved {
            Ok(Ok(us)) => self.turn_at(Instant::now(), Duration::from_micros(us.max(0) as u64)),
            // Without Redis the limit cannot be shared; this process paces itself alone at
            // the configured rate, the safest guess.
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "rate limiter unavailable; pacing locally");
                self.turn_at(Instant::now(), Duration::ZERO)
            }
            Err(_) => {
                tracing::warn!("rate limiter did not answer; pacing locally");
                self.turn_at(Instant::now(), Duration::ZERO)
            }
        };
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
    }

    /// This process's turn for a call Redis allowed `after` from `now` (zero when Redis
    /// could not be asked): never before the process's own previous turn plus an interval.
    /// So pacing carries on seamlessly from the shared schedule when Redis goes away, and
    /// back when an empty Redis comes back knowing nothing of the turns already taken.
    fn turn_at(&self, now: Instant, after: Duration) -> Duration {
        let mut turns = LOCAL_TURNS.lock().unwrap_or_else(|p| p.into_inner());
        let next = turns.entry(self.key.clone()).or_insert(now);
        let at = (*next).max(now + after);
        *next = at + Duration::from_micros(self.interval_us as u64);
        at - now
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn turns_space_every_caller_of_a_shop_in_the_process_with_or_without_redis() {
        // Never connected: only the local pacing is exercised.
        let pool = Builder::default_centralized().build_pool(1).unwrap();
        let a = RateLimiter::new(pool.clone(), "unit:ratelimit:a".into(), 10);
        let b = RateLimiter::new(pool, "unit:ratelimit:a".into(), 10);
        let now = Instant::now();
        let waits: Vec<Duration> = [&a, &b, &a, &b]
            .iter()
            .map(|l| l.turn_at(now, Duration::ZERO))
            .collect();
        let ms: Vec<u128> = waits.iter().map(Duration::as_millis).collect();
        assert_eq!(
            ms,
            vec![0, 100, 200, 300],
            "two clients of one shop share its pace"
        );
        // Redis, back and empty, allows a call at once: the process still waits its turn.
        assert_eq!(a.turn_at(now, Duration::ZERO).as_millis(), 400);
        // A turn Redis gives later than the process's own is kept.
        assert_eq!(b.turn_at(now, Duration::from_millis(900)).as_millis(), 900);
        assert_eq!(a.turn_at(now, Duration::ZERO).as_millis(), 1_000);
        let other = RateLimiter::new(
            Builder::default_centralized().build_pool(1).unwrap(),
            "unit:ratelimit:b".into(),
            10,
        );
        assert_eq!(
            other.turn_at(now, Duration::ZERO),
            Duration::ZERO,
            "another shop has its own"
        );
    }
}
