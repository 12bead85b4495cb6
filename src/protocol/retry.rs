//! Retry decisions as a pure function of the error, the attempt count and the time.
//!
//! Bounded everywhere: backoff stops at `max_attempts` and at the deadline, a token refresh
//! happens at most once per operation, and errors that cannot succeed on retry give up at once.
//! The transport must rebuild an upload's body for every attempt (a spent body gives 41005).

use super::error::{action_for, Error, ErrorAction};

/// Extra wait after the minute boundary for 45011, so clock skew does not land the retry in the
/// same minute.
pub const NEXT_MINUTE_SLACK_MS: u64 = 250;

/// What to do after a failed attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Wait this many milliseconds, then try again.
    RetryAfter(u64),
    /// Drop the failed token (see [`super::token::TokenCache::invalidate_if`]), fetch a new one,
    /// and retry at once.
    RefreshTokenAndRetry,
    /// Stop and return the error.
    GiveUp,
}

/// How hard to retry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Total attempts for transient failures, the first one included (default 3).
    pub max_attempts: u32,
    /// Backoff before the second attempt, doubled for each later one (default 200 ms).
    pub base_delay_ms: u64,
    /// Cap on a single backoff (default 2000 ms).
    pub max_delay_ms: u64,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 3,
            base_delay_ms: 200,
            max_delay_ms: 2000,
        }
    }
}

/// Whether an HTTP status from the edge or a proxy is worth retrying: 408, 429 and 5xx.
fn retryable_status(status: u16) -> bool {
    status == 408 || status == 429 || (500..600).contains(&status)
}

impl RetryPolicy {
    /// The backoff after `attempt` attempts (≥ 1): `base * 2^(attempt-1)`, capped at
    /// `max_delay_ms`. Deterministic; add jitter at the edge if wanted.
    pub fn backoff_ms(&self, attempt: u32) -> u64 {
        let exponent = attempt.saturating_sub(1).min(63);
        self.base_delay_ms
            .saturating_mul(1u64 << exponent)
            .min(self.max_delay_ms)
    }

    /// Decides what to do after attempt number `attempt` (1 for the first) failed with `err`.
    ///
    /// - `-1`, [`Error::Network`] and HTTP 408/429/5xx: [`Decision::RetryAfter`] the backoff,
    ///   while `attempt < max_attempts` and `now_ms + delay < deadline_ms`.
    /// - Token errors (40001, 40014, 42001): [`Decision::RefreshTokenAndRetry`] once — if
    ///   `token_refreshed_already`, give up. The decision itself does not depend on `attempt`
    ///   (a stale token is not a transient failure), but the retried attempt is counted like any
    ///   other (see [`super::call::Call`]), and the deadline applies.
    /// - 45011: wait until the next whole minute of `now_ms` (plus [`NEXT_MINUTE_SLACK_MS`]),
    ///   within `max_attempts` and only if that is before the deadline.
    /// - Everything else — configuration, caller, not-found, quota and unknown errcodes,
    ///   validation, timeout, cancellation, parse errors, other HTTP statuses: give up.
    pub fn decide(
        &self,
        attempt: u32,
        err: &Error,
        token_refreshed_already: bool,
        now_ms: u64,
        deadline_ms: u64,
    ) -> Decision {
        let attempt = attempt.max(1);
        let within_attempts = attempt < self.max_attempts;
        let retry_after = |delay: u64| {
            if within_attempts && now_ms.saturating_add(delay) < deadline_ms {
                Decision::RetryAfter(delay)
            } else {
                Decision::GiveUp
            }
        };
        match err {
            Error::WeChat(e) => match action_for(e.errcode) {
                ErrorAction::RetryWithBackoff => retry_after(self.backoff_ms(attempt)),
                ErrorAction::RefreshTokenAndRetry => {
                    if token_refreshed_already || now_ms >= deadline_ms {
                        Decision::GiveUp
                    } else {
                        Decision::RefreshTokenAndRetry
                    }
                }
                ErrorAction::WaitNextMinute => {
                    retry_after(60_000 - now_ms % 60_000 + NEXT_MINUTE_SLACK_MS)
                }
                ErrorAction::Configuration
                | ErrorAction::CallerError
                | ErrorAction::NotFound
                | ErrorAction::DailyQuota
                | ErrorAction::NotAuthorized
                | ErrorAction::Fatal
                | ErrorAction::Unknown => Decision::GiveUp,
            },
            Error::Network(_) => retry_after(self.backoff_ms(attempt)),
            Error::Http { status } if retryable_status(*status) => {
                retry_after(self.backoff_ms(attempt))
            }
            Error::Http { .. }
            | Error::Validation(_)
            | Error::Timeout { .. }
            | Error::Parse { .. }
            | Error::Cancelled => Decision::GiveUp,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::error::{ValidationCode, ValidationError, WeChatError};

    fn wx(code: i64) -> Error {
        Error::WeChat(WeChatError::parse_errmsg(code, "x"))
    }

    const NOW: u64 = 1_700_000_000_000; // a whole minute: 1_700_000_000_000 % 60_000 == 20_000
    const FAR: u64 = NOW + 600_000;

    #[test]
    fn backoff_is_exponential_and_capped() {
        let p = RetryPolicy::default();
        assert_eq!(
            p,
            RetryPolicy {
                max_attempts: 3,
                base_delay_ms: 200,
                max_delay_ms: 2000
            }
        );
        assert_eq!(p.backoff_ms(0), 200);
        assert_eq!(p.backoff_ms(1), 200);
        assert_eq!(p.backoff_ms(2), 400);
        assert_eq!(p.backoff_ms(3), 800);
        assert_eq!(p.backoff_ms(4), 1600);
        assert_eq!(p.backoff_ms(5), 2000);
        assert_eq!(p.backoff_ms(u32::MAX), 2000);
    }

    #[test]
    fn transient_errors_back_off_within_attempts_and_deadline() {
        let p = RetryPolicy::default();
        for err in [
            wx(-1),
            Error::Network("connection reset".into()),
            Error::Http { status: 502 },
            Error::Http { status: 503 },
            Error::Http { status: 429 },
        ] {
            assert_eq!(
                p.decide(1, &err, false, NOW, FAR),
                Decision::RetryAfter(200),
                "{err}"
            );
            assert_eq!(
                p.decide(2, &err, false, NOW, FAR),
                Decision::RetryAfter(400),
                "{err}"
            );
            // Third attempt failed: max_attempts (3) reached.
            assert_eq!(
                p.decide(3, &err, false, NOW, FAR),
                Decision::GiveUp,
                "{err}"
            );
            // Not enough time left before the deadline.
            assert_eq!(
                p.decide(1, &err, false, NOW, NOW + 200),
                Decision::GiveUp,
                "{err}"
            );
            assert_eq!(
                p.decide(1, &err, false, NOW, NOW + 201),
                Decision::RetryAfter(200)
            );
            // Past the deadline.
            assert_eq!(p.decide(1, &err, false, FAR, NOW), Decision::GiveUp);
        }
        let many = RetryPolicy {
            max_attempts: 10,
            ..p
        };
        assert_eq!(
            many.decide(6, &wx(-1), false, NOW, FAR),
            Decision::RetryAfter(2000)
        );
        let once = RetryPolicy {
            max_attempts: 1,
            ..p
        };
        assert_eq!(once.decide(1, &wx(-1), false, NOW, FAR), Decision::GiveUp);
    }

    #[test]
    fn token_errors_refresh_once() {
        let p = RetryPolicy::default();
        for code in [40001, 40014, 42001] {
            assert_eq!(
                p.decide(1, &wx(code), false, NOW, FAR),
                Decision::RefreshTokenAndRetry
            );
            assert_eq!(p.decide(2, &wx(code), true, NOW, FAR), Decision::GiveUp);
            // Independent of max_attempts, but not of the deadline.
            assert_eq!(
                p.decide(3, &wx(code), false, NOW, FAR),
                Decision::RefreshTokenAndRetry
            );
            assert_eq!(p.decide(1, &wx(code), false, NOW, NOW), Decision::GiveUp);
        }
    }

    #[test]
    fn minute_quota_waits_for_the_next_minute() {
        let p = RetryPolicy::default();
        // 20 s into the minute: 40 s to the boundary.
        assert_eq!(NOW % 60_000, 20_000);
        assert_eq!(
            p.decide(1, &wx(45011), false, NOW, FAR),
            Decision::RetryAfter(40_000 + NEXT_MINUTE_SLACK_MS)
        );
        // Exactly on a boundary: a whole minute.
        let on = NOW - 20_000;
        assert_eq!(
            p.decide(1, &wx(45011), false, on, FAR),
            Decision::RetryAfter(60_000 + NEXT_MINUTE_SLACK_MS)
        );
        // One millisecond before the boundary.
        assert_eq!(
            p.decide(1, &wx(45011), false, on + 59_999, FAR),
            Decision::RetryAfter(1 + NEXT_MINUTE_SLACK_MS)
        );
        // Deadline before the next minute: give up.
        assert_eq!(
            p.decide(1, &wx(45011), false, NOW, NOW + 30_000),
            Decision::GiveUp
        );
        // Out of attempts.
        assert_eq!(p.decide(3, &wx(45011), false, NOW, FAR), Decision::GiveUp);
    }

    #[test]
    fn hopeless_errors_give_up() {
        let p = RetryPolicy::default();
        let codes = [
            40013, 40125, 40164, 45009, 48001, 40007, 46001, 40002, 41002, 41004, 41001, 43002,
            40004, 40005, 40006, 41005, 41006, 99999, 0,
        ];
        for code in codes {
            assert_eq!(
                p.decide(1, &wx(code), false, NOW, FAR),
                Decision::GiveUp,
                "{code}"
            );
        }
        let others = [
            Error::Validation(ValidationError::new(ValidationCode::TooLarge, "big")),
            Error::Timeout {
                what: "media",
                after_ms: 1000,
            },
            Error::Cancelled,
            Error::Parse {
                message: "bad".into(),
                raw: vec![],
            },
            Error::Http { status: 404 },
            Error::Http { status: 403 },
            Error::Http { status: 400 },
        ];
        for err in others {
            assert_eq!(
                p.decide(1, &err, false, NOW, FAR),
                Decision::GiveUp,
                "{err}"
            );
        }
    }
}
