//! Rate limits per bearer token: a token bucket for each caller, refilled continuously.
//!
//! Searches are limited this way because an exact-match search is still a yes/no oracle: a
//! viewer who sees `137****9931` could otherwise try all 10^4 candidates in a few seconds.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

/// How many actions a caller may take: `burst` at once, refilled at `per_minute`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    pub burst: u32,
    pub per_minute: u32,
}

impl Default for RateLimit {
    fn default() -> Self {
        RateLimit {
            burst: 30,
            per_minute: 60,
        }
    }
}

/// The buckets of every caller seen, keyed by the SHA-256 of the caller's token (only
/// authenticated tokens get a bucket, so there are at most as many as configured tokens).
#[derive(Debug)]
pub struct RateLimiter {
    rate: RateLimit,
    buckets: Mutex<HashMap<[u8; 32], (f64, Instant)>>,
}

impl RateLimiter {
    pub fn new(rate: RateLimit) -> RateLimiter {
        RateLimiter {
            rate,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    pub fn rate(&self) -> RateLimit {
        self.rate
    }

    /// Takes one action from `caller`'s bucket; false when it is empty.
    pub fn take(&self, caller: &[u8; 32]) -> bool {
        self.take_at(caller, Instant::now())
    }

    fn take_at(&self, caller: &[u8; 32], now: Instant) -> bool {
        let burst = f64::from(self.rate.burst);
        let mut buckets = self
            .buckets
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let (level, at) = buckets.entry(*caller).or_insert((burst, now));
        let refill = now.saturating_duration_since(*at).as_secs_f64()
            * f64::from(self.rate.per_minute)
            / 60.0;
        *level = (*level + refill).min(burst);
        *at = now;
        if *level >= 1.0 {
            *level -= 1.0;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_bucket_empties_refills_and_is_per_caller() {
        let l = RateLimiter::new(RateLimit {
            burst: 2,
            per_minute: 60,
        });
        let t0 = Instant::now();
        let (a, b) = ([1u8; 32], [2u8; 32]);
        assert!(l.take_at(&a, t0));
        assert!(l.take_at(&a, t0));
        assert!(!l.take_at(&a, t0), "the burst is spent");
        assert!(l.take_at(&b, t0), "another caller has its own bucket");
        assert!(!l.take_at(&a, t0 + Duration::from_millis(500)));
        assert!(
            l.take_at(&a, t0 + Duration::from_millis(1600)),
            "one a second"
        );
        // Never more than the burst, however long the caller waited.
        let later = t0 + Duration::from_secs(3600);
        assert!(l.take_at(&a, later) && l.take_at(&a, later));
        assert!(!l.take_at(&a, later));
    }
}
