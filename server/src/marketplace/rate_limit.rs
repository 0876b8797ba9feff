//! Per-shop rate limits shared by every process that talks to a shop: one Redis key per
//! shop holds the shop's next free turn, so calls are spaced evenly whatever the number of
//! workers and the queue never provokes a platform's own limit by itself.
//!
//! The turns follow the platform's own window: Shopee and TikTok Shop count calls per
//! calendar second, so a limit of `n` gives each second `n` turns, one in the middle of
//! each `1/n`-second part of it. The queue then runs at the full rate (no blanket margin),
//! and a call that leaves up to half a part early or late is still counted in its own
//! second. A caller woken later than that takes a fresh turn rather than spill into the
//! next second.

use std::collections::HashMap;
use std::sync::{LazyLock, Mutex};
use std::time::{Duration, Instant};

use fred::prelude::*;

/// How long a reservation may take before Redis counts as unreachable: a call to a shop
/// must not wait for Redis to come back.
const REDIS_ANSWERS_WITHIN: Duration = Duration::from_millis(500);

/// How long after pacing alone a process still keeps to its own schedule: an empty Redis
/// that came back knows nothing of the turns taken meanwhile.
const ALONE_SETTLES_IN: Duration = Duration::from_secs(10);

/// This process's turns for one shop.
struct Turns {
    /// The earliest this process may call next, by its own count.
    next: Instant,
    /// When it last had to pace itself without Redis.
    alone_at: Option<Instant>,
}

/// Each shop's turns in this process, for while Redis cannot share them: every client of a
/// shop in the process takes turns on the same entry.
static LOCAL_TURNS: LazyLock<Mutex<HashMap<String, Turns>>> = LazyLock::new(Mutex::default);

/// Reserves the shop's next free turn and answers how many microseconds from now it is.
/// Redis's own clock is used so that processes on different machines agree. Turn `p` of a
/// second sits at `(2p + 1) / 2n` of it.
const RESERVE: &str = r#"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local n = tonumber(ARGV[1])
local at = tonumber(redis.call('GET', KEYS[1]) or '0')
if at < now then at = now end
local second = math.floor(at / 1000000)
local part = math.floor((at - second * 1000000) * n / 1000000)
local turn = second * 1000000 + math.floor((2 * part + 1) * 1000000 / (2 * n))
if turn < at then
  part = part + 1
  if part >= n then
    second = second + 1
    part = 0
  end
  turn = second * 1000000 + math.floor((2 * part + 1) * 1000000 / (2 * n))
end
redis.call('SET', KEYS[1], turn + 1, 'PX', math.floor((turn - now) / 1000) + 2000)
return turn - now
"#;

/// How many times a caller woken too late for its turn takes another before it sends
/// anyway (a machine that busy gets a `RATE_LIMITED` answer, which is retried).
const LATE_TURNS: usize = 3;

#[derive(Clone)]
pub struct RateLimiter {
    redis: Pool,
    key: String,
    per_second: i64,
    interval_us: i64,
}

impl RateLimiter {
    /// At most `per_second` calls per second under `key` (which names the shop).
    pub fn new(redis: Pool, key: String, per_second: u32) -> RateLimiter {
        RateLimiter {
            redis,
            key,
            per_second: i64::from(per_second.max(1)),
            // Rounded up, so that paced alone no second holds more than `per_second` calls.
            interval_us: 1_000_000_u64.div_ceil(u64::from(per_second.max(1))) as i64,
        }
    }

    /// Waits until this caller may send one request.
    pub async fn wait_turn(&self) {
        let late_by_at_most = Duration::from_micros(self.interval_us as u64 / 2);
        for _ in 0..LATE_TURNS {
            let turn = self.reserve().await;
            tokio::time::sleep_until(turn.into()).await;
            if Instant::now() <= turn + late_by_at_most {
                return;
            }
        }
    }

    /// Reserves this caller's next turn and answers when it is.
    pub async fn reserve(&self) -> Instant {
        // Redis's turn is timed from before the request: a reply that took long to be read
        // (a busy machine) makes the caller late, and it should know.
        let asked = Instant::now();
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
            self.per_second.into(),
        ];
        let reserved = tokio::time::timeout(
            REDIS_ANSWERS_WITHIN,
            self.redis
                .next()
                .with_options(&options)
                .custom::<i64, _>(fred::cmd!("EVAL"), args),
        )
        .await;
        match reserved {
            Ok(Ok(us)) => {
                asked + self.turn_at(asked, Some(Duration::from_micros(us.max(0) as u64)))
            }
            // Without Redis the limit cannot be shared; this process paces itself alone at
            // the configured rate, the safest guess.
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "rate limiter unavailable; pacing locally");
                let now = Instant::now();
                now + self.turn_at(now, None)
            }
            Err(_) => {
                tracing::warn!("rate limiter did not answer; pacing locally");
                let now = Instant::now();
                now + self.turn_at(now, None)
            }
        }
    }

    /// This process's wait for a call that Redis allowed `after` from `now`, or that Redis
    /// could not be asked about (`None`). Without Redis the process takes turns on its own
    /// schedule, which goes on from the last turn Redis gave it; for a while after that it
    /// also keeps to its own schedule when Redis answers again, because an empty Redis
    /// knows nothing of the turns taken meanwhile. Otherwise Redis's turn is the turn.
    fn turn_at(&self, now: Instant, after: Option<Duration>) -> Duration {
        let interval = Duration::from_micros(self.interval_us as u64);
        let mut turns = LOCAL_TURNS.lock().unwrap_or_else(|p| p.into_inner());
        let own = turns.entry(self.key.clone()).or_insert(Turns {
            next: now,
            alone_at: None,
        });
        let at = match after {
            None => {
                own.alone_at = Some(now);
                own.next.max(now)
            }
            Some(after) if own.alone_at.is_some_and(|t| now < t + ALONE_SETTLES_IN) => {
                own.next.max(now + after)
            }
            Some(after) => now + after,
        };
        own.next = own.next.max(at + interval);
        at - now
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limiter(key: &str) -> RateLimiter {
        // Never connected: only this process's own turns are exercised.
        let pool = Builder::default_centralized().build_pool(1).unwrap();
        RateLimiter::new(pool, key.into(), 10)
    }

    #[tokio::test]
    async fn turns_space_every_caller_of_a_shop_in_the_process_with_or_without_redis() {
        let (a, b) = (limiter("unit:ratelimit:a"), limiter("unit:ratelimit:a"));
        let now = Instant::now();
        let ms = |d: Duration| d.as_millis();
        // Redis gives the turns while it answers, in whatever order its replies come.
        assert_eq!(ms(a.turn_at(now, Some(Duration::from_millis(200)))), 200);
        assert_eq!(ms(b.turn_at(now, Some(Duration::ZERO))), 0);
        // Without Redis: on from the last turn Redis gave, one interval apart, both clients.
        let alone: Vec<u128> = [&a, &b, &a]
            .iter()
            .map(|l| ms(l.turn_at(now, None)))
            .collect();
        assert_eq!(
            alone,
            vec![300, 400, 500],
            "two clients of one shop share its pace"
        );
        // Redis back and empty allows a call at once: the process still waits its turn.
        assert_eq!(ms(a.turn_at(now, Some(Duration::ZERO))), 600);
        // A later turn from Redis is kept.
        assert_eq!(ms(b.turn_at(now, Some(Duration::from_millis(900)))), 900);
        // Once settled, Redis's turn is the turn again.
        let later = now + ALONE_SETTLES_IN + Duration::from_secs(1);
        assert_eq!(ms(a.turn_at(later, Some(Duration::ZERO))), 0);
        let other = limiter("unit:ratelimit:b");
        assert_eq!(
            other.turn_at(now, None),
            Duration::ZERO,
            "another shop has its own"
        );
    }
}
