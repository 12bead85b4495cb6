//! Access tokens of one account: issuing (classic and stable), overlap after rotation, expiry,
//! revocation and daily quotas. Pure logic: the emulated time `now` (unix seconds) is passed in.
//! Each emulated app has its own [`TokenStore`], so its tokens, quotas and revocations are its
//! own.

use std::collections::HashMap;

/// Lifetime of a freshly issued token.
pub(crate) const LIFETIME: u64 = 7200;
/// How long a superseded token keeps working.
pub(crate) const OVERLAP: u64 = 300;
/// Classic `/cgi-bin/token` calls per emulated day.
pub(crate) const CLASSIC_DAILY_QUOTA: u32 = 2000;
/// Stable force-refresh calls per emulated day.
pub(crate) const FORCE_DAILY_QUOTA: u32 = 20;
/// Minimum spacing of two force refreshes; a closer one does not rotate.
pub(crate) const FORCE_SPACING: u64 = 30;
/// Length of issued tokens.
pub(crate) const TOKEN_LEN: usize = 136;
/// Tokens dead for this long are forgotten (they then answer 40001 instead of 42001).
const FORGET_AFTER: u64 = 7 * 86_400;

const CHARSET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-";

/// Whether `token` looks like a token at all (charset `[A-Za-z0-9_-]`, 32 to 512 characters).
/// Anything else answers 40014 rather than 40001.
pub(crate) fn well_formed(token: &str) -> bool {
    (32..=512).contains(&token.len())
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// `len` random characters of `[A-Za-z0-9_-]`.
pub(crate) fn random_id(len: usize) -> String {
    (0..len)
        .map(|_| char::from(CHARSET[fastrand::usize(..CHARSET.len())]))
        .collect()
}

/// A token shaped like the real ones: a two-digit prefix, `_`, then random characters.
fn new_token() -> String {
    format!("{}_{}", fastrand::u8(10..100), random_id(TOKEN_LEN - 3))
}

/// Which endpoint issued a token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// `GET /cgi-bin/token`.
    Classic,
    /// `POST /cgi-bin/stable_token`.
    Stable,
}

impl Kind {
    /// The control API's name for it.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Classic => "classic",
            Kind::Stable => "stable",
        }
    }
}

/// One issued token as the control API lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TokenInfo {
    /// The token.
    pub token: String,
    /// Which endpoint issued it.
    pub kind: Kind,
    /// When it was issued (emulated unix seconds).
    pub issued_at: u64,
    /// When it expires.
    pub expires_at: u64,
    /// When it stops working because a newer one was issued, if one was.
    pub invalid_after: Option<u64>,
    /// Revoked through the control API.
    pub revoked: bool,
    /// Whether a media call with it would pass the token check now.
    pub valid: bool,
}

#[derive(Debug)]
struct Record {
    kind: Kind,
    issued_at: u64,
    expires_at: u64,
    /// Set when a newer token of the same kind was issued: it stops working at this time.
    invalid_after: Option<u64>,
    revoked: bool,
}

/// A per-day call counter.
#[derive(Debug, Default)]
struct DayCounter {
    day: u64,
    count: u32,
}

impl DayCounter {
    fn count(&mut self, now: u64) -> u32 {
        let day = now / 86_400;
        if day != self.day {
            self.day = day;
            self.count = 0;
        }
        self.count
    }

    fn bump(&mut self, now: u64) {
        self.count(now);
        self.count += 1;
    }
}

/// An issued token and its remaining lifetime.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Issued {
    /// The token.
    pub token: String,
    /// Seconds it has left.
    pub expires_in: u64,
}

/// All tokens and quotas.
#[derive(Debug, Default)]
pub(crate) struct TokenStore {
    records: HashMap<String, Record>,
    latest_classic: Option<String>,
    stable: Option<String>,
    classic_quota: DayCounter,
    force_quota: DayCounter,
    last_force: Option<u64>,
}

impl TokenStore {
    /// Checks a token presented to a media call; `Err(errcode)` when it does not work.
    pub fn check(&self, token: Option<&str>, now: u64) -> Result<(), i64> {
        let token = match token {
            None | Some("") => return Err(41001),
            Some(t) => t,
        };
        if !well_formed(token) {
            return Err(40014);
        }
        let Some(rec) = self.records.get(token) else {
            return Err(40001);
        };
        if rec.revoked {
            return Err(40001);
        }
        if now >= rec.expires_at {
            return Err(42001);
        }
        if rec.invalid_after.is_some_and(|d| now >= d) {
            return Err(40001);
        }
        Ok(())
    }

    /// `GET /cgi-bin/token`: a new token every time; the previous classic one keeps working for
    /// at most [`OVERLAP`] more seconds.
    pub fn issue_classic(&mut self, now: u64) -> Result<Issued, i64> {
        if self.classic_quota.count(now) >= CLASSIC_DAILY_QUOTA {
            return Err(45009);
        }
        self.classic_quota.bump(now);
        self.forget_dead(now);
        if let Some(prev) = self.latest_classic.take() {
            self.supersede(&prev, now);
        }
        let token = self.insert(Kind::Classic, now);
        self.latest_classic = Some(token.clone());
        Ok(Issued {
            token,
            expires_in: LIFETIME,
        })
    }

    /// `POST /cgi-bin/stable_token`. Normal mode returns the current stable token with its
    /// remaining lifetime, rotating it when less than [`OVERLAP`] seconds would remain. Force
    /// mode rotates (at most [`FORCE_DAILY_QUOTA`] a day, else 45009); a force refresh less than
    /// [`FORCE_SPACING`] seconds after the previous one does not rotate and answers like normal
    /// mode (the documented "否则不会刷新").
    pub fn stable(&mut self, force: bool, now: u64) -> Result<Issued, i64> {
        let current = self.stable.as_ref().and_then(|t| {
            let rec = self.records.get(t)?;
            let usable = !rec.revoked
                && rec.invalid_after.is_none()
                && rec.expires_at.saturating_sub(now) >= OVERLAP;
            usable.then(|| (t.clone(), rec.expires_at - now))
        });
        if force {
            if self.force_quota.count(now) >= FORCE_DAILY_QUOTA {
                return Err(45009);
            }
            let too_soon = self.last_force.is_some_and(|t| now < t + FORCE_SPACING);
            if !too_soon || current.is_none() {
                self.force_quota.bump(now);
                self.last_force = Some(now);
                return Ok(self.rotate_stable(now));
            }
        }
        match current {
            Some((token, expires_in)) => Ok(Issued { token, expires_in }),
            None => Ok(self.rotate_stable(now)),
        }
    }

    fn rotate_stable(&mut self, now: u64) -> Issued {
        self.forget_dead(now);
        if let Some(prev) = self.stable.take() {
            self.supersede(&prev, now);
        }
        let token = self.insert(Kind::Stable, now);
        self.stable = Some(token.clone());
        Issued {
            token,
            expires_in: LIFETIME,
        }
    }

    /// Makes every issued token answer 40001; returns how many were still live.
    pub fn revoke_all(&mut self, now: u64) -> usize {
        let mut live = 0;
        for rec in self.records.values_mut() {
            if !rec.revoked && now < rec.expires_at && rec.invalid_after.is_none_or(|d| now < d) {
                live += 1;
            }
            rec.revoked = true;
        }
        self.latest_classic = None;
        self.stable = None;
        live
    }

    /// Whether this store issued `token` (and still remembers it), valid or not.
    pub fn knows(&self, token: &str) -> bool {
        self.records.contains_key(token)
    }

    /// Every remembered token, oldest first.
    pub fn list(&self, now: u64) -> Vec<TokenInfo> {
        let mut all: Vec<TokenInfo> = self
            .records
            .iter()
            .map(|(token, rec)| TokenInfo {
                token: token.clone(),
                kind: rec.kind,
                issued_at: rec.issued_at,
                expires_at: rec.expires_at,
                invalid_after: rec.invalid_after,
                revoked: rec.revoked,
                valid: self.check(Some(token), now).is_ok(),
            })
            .collect();
        all.sort_by(|a, b| a.issued_at.cmp(&b.issued_at).then(a.token.cmp(&b.token)));
        all
    }

    fn insert(&mut self, kind: Kind, now: u64) -> String {
        let token = new_token();
        self.records.insert(
            token.clone(),
            Record {
                kind,
                issued_at: now,
                expires_at: now + LIFETIME,
                invalid_after: None,
                revoked: false,
            },
        );
        token
    }

    fn supersede(&mut self, token: &str, now: u64) {
        if let Some(rec) = self.records.get_mut(token) {
            let deadline = rec.expires_at.min(now + OVERLAP);
            rec.invalid_after = Some(rec.invalid_after.map_or(deadline, |d| d.min(deadline)));
        }
    }

    /// Forgets tokens that have been dead for a long time, so memory stays bounded.
    fn forget_dead(&mut self, now: u64) {
        self.records.retain(|_, rec| {
            let dead_since = rec
                .invalid_after
                .unwrap_or(rec.expires_at)
                .min(rec.expires_at);
            now < dead_since + FORGET_AFTER
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: u64 = 1_700_000_000;

    #[test]
    fn classic_overlap_then_invalid() {
        let mut s = TokenStore::default();
        let a = s.issue_classic(T0).unwrap().token;
        assert_eq!(a.len(), TOKEN_LEN);
        assert!(well_formed(&a));
        let b = s.issue_classic(T0 + 100).unwrap().token;
        assert_ne!(a, b);
        assert_eq!(s.check(Some(&a), T0 + 399), Ok(()));
        assert_eq!(s.check(Some(&a), T0 + 400), Err(40001));
        assert_eq!(s.check(Some(&b), T0 + 400), Ok(()));
        assert_eq!(s.check(Some(&b), T0 + 100 + LIFETIME), Err(42001));
        assert_eq!(s.records.len(), 2);
    }

    #[test]
    fn stable_idempotent_and_rotation() {
        let mut s = TokenStore::default();
        let first = s.stable(false, T0).unwrap();
        assert_eq!(first.expires_in, LIFETIME);
        let again = s.stable(false, T0 + 1000).unwrap();
        assert_eq!(again.token, first.token);
        assert_eq!(again.expires_in, LIFETIME - 1000);
        // 299 s would remain: rotate.
        let rotated = s.stable(false, T0 + LIFETIME - 299).unwrap();
        assert_ne!(rotated.token, first.token);
        assert_eq!(rotated.expires_in, LIFETIME);
        assert_eq!(s.check(Some(&first.token), T0 + LIFETIME - 1), Ok(()));
        assert_eq!(s.check(Some(&first.token), T0 + LIFETIME), Err(42001));
    }

    #[test]
    fn force_spacing_and_quota() {
        let mut s = TokenStore::default();
        let a = s.stable(true, T0).unwrap();
        let same = s.stable(true, T0 + 29).unwrap();
        assert_eq!(same.token, a.token);
        let b = s.stable(true, T0 + 30).unwrap();
        assert_ne!(b.token, a.token);
        assert_eq!(s.check(Some(&a.token), T0 + 329), Ok(()));
        assert_eq!(s.check(Some(&a.token), T0 + 330), Err(40001));
        let mut t = T0 + 30;
        for _ in 2..FORCE_DAILY_QUOTA {
            t += 30;
            s.stable(true, t).unwrap();
        }
        assert_eq!(s.stable(true, t + 30), Err(45009));
        assert!(s.stable(true, T0 + 86_400 * 2).is_ok());
    }

    #[test]
    fn malformed_and_missing() {
        let s = TokenStore::default();
        assert_eq!(s.check(None, T0), Err(41001));
        assert_eq!(s.check(Some(""), T0), Err(41001));
        assert_eq!(s.check(Some("short"), T0), Err(40014));
        assert_eq!(s.check(Some(&"a!".repeat(40)), T0), Err(40014));
        assert_eq!(s.check(Some(&random_id(TOKEN_LEN)), T0), Err(40001));
    }
}
