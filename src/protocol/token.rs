//! The access-token cache: a plain state machine, with time passed in as `now_ms` (milliseconds
//! on any monotonic or wall clock, as long as the caller uses one clock consistently).
//!
//! The cache refreshes early (a margin before expiry), and drops a token on a token error only
//! if the failed request used *that* token: when several requests fail with a token that another
//! request has already replaced, the newer token survives.

use super::response::TokenGrant;
use super::secret::AccessToken;

/// The default refresh margin: 5 minutes before expiry.
pub const DEFAULT_REFRESH_MARGIN_MS: u64 = 5 * 60 * 1000;

/// Whether `errcode` means the access token is invalid or expired (40001, 40014, 42001): what
/// the errcode table says to refresh the token for.
pub fn is_token_error(errcode: i64) -> bool {
    super::error::action_for(errcode) == super::error::ErrorAction::RefreshTokenAndRetry
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Entry {
    token: AccessToken,
    stored_at_ms: u64,
    expires_at_ms: u64,
}

impl Entry {
    fn lifetime_ms(&self) -> u64 {
        self.expires_at_ms - self.stored_at_ms
    }
}

/// Holds at most one access token and decides when it needs refreshing.
///
/// `Debug` shows the token as `AccessToken([redacted])`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenCache {
    refresh_margin_ms: u64,
    entry: Option<Entry>,
}

impl Default for TokenCache {
    /// An empty cache with [`DEFAULT_REFRESH_MARGIN_MS`].
    fn default() -> Self {
        TokenCache::new(DEFAULT_REFRESH_MARGIN_MS)
    }
}

impl TokenCache {
    /// An empty cache that treats a token as due for refresh `refresh_margin_ms` before it
    /// expires — but never more than half its lifetime before, so a short-lived token (the stable
    /// token API may return one with 300 s left) is still used.
    pub fn new(refresh_margin_ms: u64) -> Self {
        TokenCache {
            refresh_margin_ms,
            entry: None,
        }
    }

    /// The configured refresh margin.
    pub fn refresh_margin_ms(&self) -> u64 {
        self.refresh_margin_ms
    }

    fn effective_margin(&self, entry: &Entry) -> u64 {
        self.refresh_margin_ms.min(entry.lifetime_ms() / 2)
    }

    /// The time from which the cached token is due for refresh ([`current`](Self::current)
    /// returns `None`), or `None` if the cache is empty.
    pub fn refresh_at_ms(&self) -> Option<u64> {
        self.entry
            .as_ref()
            .map(|e| e.expires_at_ms - self.effective_margin(e))
    }

    /// When the cached token expires, or `None` if the cache is empty.
    pub fn expires_at_ms(&self) -> Option<u64> {
        self.entry.as_ref().map(|e| e.expires_at_ms)
    }

    /// The token to use now: `None` if there is none or it is within the refresh margin of
    /// expiry (then fetch a new one and [`store`](Self::store) it).
    pub fn current(&self, now_ms: u64) -> Option<AccessToken> {
        let entry = self.entry.as_ref()?;
        let refresh_at = entry.expires_at_ms - self.effective_margin(entry);
        (now_ms < refresh_at).then(|| entry.token.clone())
    }

    /// The cached token if it has not yet expired, ignoring the margin: a fallback while a
    /// refresh fails.
    pub fn usable(&self, now_ms: u64) -> Option<AccessToken> {
        let entry = self.entry.as_ref()?;
        (now_ms < entry.expires_at_ms).then(|| entry.token.clone())
    }

    /// Stores a freshly fetched token; `now_ms` is when the answer arrived.
    pub fn store(&mut self, grant: &TokenGrant, now_ms: u64) {
        let lifetime_ms = grant.expires_in.saturating_mul(1000);
        self.entry = Some(Entry {
            token: grant.token.clone(),
            stored_at_ms: now_ms,
            expires_at_ms: now_ms.saturating_add(lifetime_ms),
        });
    }

    /// After a token error: drops the cached token only if it is `failed` (the token the failed
    /// request used). Returns whether it dropped it. A stale failure never drops a newer token.
    pub fn invalidate_if(&mut self, failed: &AccessToken) -> bool {
        if self.entry.as_ref().is_some_and(|e| &e.token == failed) {
            self.entry = None;
            true
        } else {
            false
        }
    }

    /// Forgets the cached token.
    pub fn clear(&mut self) {
        self.entry = None;
    }

    /// Whether a token is cached (valid or not).
    pub fn is_empty(&self) -> bool {
        self.entry.is_none()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grant(token: &str, expires_in: u64) -> TokenGrant {
        TokenGrant {
            token: AccessToken::new(token),
            expires_in,
        }
    }

    const T0: u64 = 1_700_000_000_000;

    #[test]
    fn token_errors() {
        for code in [40001, 40014, 42001] {
            assert!(is_token_error(code));
        }
        for code in [0, -1, 41001, 40007, 40013, 45011, 40125] {
            assert!(!is_token_error(code));
        }
    }

    #[test]
    fn empty_cache() {
        let cache = TokenCache::default();
        assert_eq!(cache.refresh_margin_ms(), DEFAULT_REFRESH_MARGIN_MS);
        assert!(cache.is_empty());
        assert_eq!(cache.current(T0), None);
        assert_eq!(cache.usable(T0), None);
        assert_eq!(cache.refresh_at_ms(), None);
        assert_eq!(cache.expires_at_ms(), None);
    }

    #[test]
    fn expiry_and_margin() {
        let mut cache = TokenCache::default();
        cache.store(&grant("A", 7200), T0);
        let a = AccessToken::new("A");
        assert_eq!(cache.current(T0), Some(a.clone()));
        assert_eq!(cache.expires_at_ms(), Some(T0 + 7_200_000));
        assert_eq!(cache.refresh_at_ms(), Some(T0 + 6_900_000));
        // One millisecond before the margin: still current.
        assert_eq!(cache.current(T0 + 6_899_999), Some(a.clone()));
        // Inside the margin: due for refresh, but still usable as a fallback.
        assert_eq!(cache.current(T0 + 6_900_000), None);
        assert_eq!(cache.usable(T0 + 6_900_000), Some(a.clone()));
        assert_eq!(cache.usable(T0 + 7_199_999), Some(a));
        // Expired.
        assert_eq!(cache.usable(T0 + 7_200_000), None);
        assert_eq!(cache.current(T0 + 10_000_000), None);
        // A new grant replaces it.
        cache.store(&grant("B", 7200), T0 + 6_900_000);
        assert_eq!(cache.current(T0 + 6_900_001), Some(AccessToken::new("B")));
    }

    #[test]
    fn margin_never_exceeds_half_the_lifetime() {
        let mut cache = TokenCache::default();
        // A stable token with 300 s left: the 5-minute margin would make it useless.
        cache.store(&grant("S", 300), T0);
        assert_eq!(cache.refresh_at_ms(), Some(T0 + 150_000));
        assert_eq!(cache.current(T0 + 149_999), Some(AccessToken::new("S")));
        assert_eq!(cache.current(T0 + 150_000), None);

        let mut small = TokenCache::new(1000);
        small.store(&grant("S", 300), T0);
        assert_eq!(small.current(T0 + 298_999), Some(AccessToken::new("S")));
        assert_eq!(small.current(T0 + 299_000), None);

        let mut zero = TokenCache::new(0);
        zero.store(&grant("Z", 0), T0);
        assert_eq!(zero.current(T0), None);
        zero.store(&grant("Z", u64::MAX), u64::MAX - 5);
        assert_eq!(zero.current(u64::MAX - 1), Some(AccessToken::new("Z")));
    }

    #[test]
    fn invalidate_only_the_failed_token() {
        let mut cache = TokenCache::default();
        let old = AccessToken::new("OLD");
        let new = AccessToken::new("NEW");
        cache.store(&grant("OLD", 7200), T0);
        // Request 1 and 2 both used OLD. Request 1 fails first: OLD is dropped.
        assert!(cache.invalidate_if(&old));
        assert_eq!(cache.current(T0 + 1), None);
        // Request 1 refreshes to NEW.
        cache.store(&grant("NEW", 7200), T0 + 10);
        // Request 2's failure (with OLD) arrives late: NEW must survive.
        assert!(!cache.invalidate_if(&old));
        assert_eq!(cache.current(T0 + 20), Some(new.clone()));
        // A failure with NEW drops it.
        assert!(cache.invalidate_if(&new));
        assert!(cache.is_empty());
        assert!(!cache.invalidate_if(&new));
    }

    #[test]
    fn clear_and_debug() {
        let mut cache = TokenCache::new(60_000);
        cache.store(&grant("SEKRIT", 7200), T0);
        assert!(!format!("{cache:?}").contains("SEKRIT"));
        cache.clear();
        assert!(cache.is_empty());
        assert_eq!(cache.current(T0), None);
    }
}
