//! When a failed attempt runs again: exponential backoff with jitter, never sooner than
//! the platform's `Retry-After`.

use std::time::Duration;

use rand::Rng;

/// No wait grows beyond this, whatever the attempt number.
const MAX_BACKOFF: Duration = Duration::from_secs(300);

/// The wait before attempt `attempt + 1`: `base × 2^(attempt−1)`, of which the upper half
/// is random ("equal jitter": workers that failed together do not retry together, and
/// none retries at once), and at least `retry_after` when the platform named one.
pub fn backoff(attempt: i32, base: Duration, retry_after: Option<Duration>) -> Duration {
    let exponent = attempt.clamp(1, 20) as u32 - 1;
    let full = base.saturating_mul(1u32 << exponent).min(MAX_BACKOFF);
    let half = full / 2;
    let jitter = rand::thread_rng().gen_range(0..=half.as_millis() as u64);
    let wait = half + Duration::from_millis(jitter);
    wait.max(retry_after.unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: Duration = Duration::from_secs(2);

    #[test]
    fn each_retry_waits_about_twice_as_long_as_the_one_before() {
        for _ in 0..200 {
            let first = backoff(1, BASE, None);
            let second = backoff(2, BASE, None);
            assert!(first >= Duration::from_secs(1) && first <= Duration::from_secs(2));
            assert!(second >= Duration::from_secs(2) && second <= Duration::from_secs(4));
        }
    }

    #[test]
    fn waits_are_jittered() {
        let waits: std::collections::HashSet<_> = (0..50).map(|_| backoff(3, BASE, None)).collect();
        assert!(waits.len() > 10, "only {} distinct waits", waits.len());
    }

    #[test]
    fn retry_after_is_honoured() {
        let wait = backoff(1, BASE, Some(Duration::from_secs(30)));
        assert_eq!(wait, Duration::from_secs(30));
    }

    #[test]
    fn waits_are_capped() {
        assert!(backoff(60, BASE, None) <= MAX_BACKOFF);
    }
}
