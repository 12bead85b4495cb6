//! Signed download URLs: `…/media/{mediaId}?exp={unix secs}&sig={base64url HMAC-SHA256}`.
//!
//! The Worker signs the URLs it hands out and verifies them on download; servers that hold the
//! same `SIGNING_KEY` can sign URLs themselves (the npm package's `signMediaUrl`). What is signed
//! is `"{kind}\n{media_id}\n{exp}"` with the media id *decoded*, so percent-encoding differences
//! cannot produce two valid spellings of one URL.
//!
//! A Worker serving many WeChat apps hands out `…/apps/{appid}/media/{mediaId}` URLs: those are
//! signed *in the app's scope*, `"app:{appid}\n{kind}\n{media_id}\n{exp}"`, so a URL signed for
//! one app fails on another ([`signature_in`], [`verify_in`]). Unprefixed URLs (the default app's
//! `…/media/{mediaId}`) are signed as before, without a scope, so URLs signed before keep working;
//! no kind starts with `app:`, so the two messages never coincide.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Which download a signature is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SignedKind {
    /// `GET /media/{mediaId}`.
    Media,
    /// `GET /media/{mediaId}/hd-voice`.
    HdVoice,
}

impl SignedKind {
    fn as_str(self) -> &'static str {
        match self {
            SignedKind::Media => "media",
            SignedKind::HdVoice => "hd-voice",
        }
    }
}

/// Why a signed URL was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SignatureError {
    /// `exp` or `sig` is missing.
    Missing,
    /// `exp` is in the past.
    Expired,
    /// `exp` or `sig` is malformed, or the signature does not match.
    Invalid,
}

impl std::fmt::Display for SignatureError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            SignatureError::Missing => "this URL needs exp and sig parameters (a signed URL)",
            SignatureError::Expired => "this signed URL has expired",
            SignatureError::Invalid => "this signed URL's signature does not match",
        })
    }
}

impl std::error::Error for SignatureError {}

fn mac(key: &[u8], app: Option<&str>, kind: SignedKind, media_id: &str, exp: u64) -> Hmac<Sha256> {
    // HMAC accepts keys of any length.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC takes any key length");
    if let Some(app) = app {
        mac.update(format!("app:{app}\n").as_bytes());
    }
    mac.update(format!("{}\n{media_id}\n{exp}", kind.as_str()).as_bytes());
    mac
}

/// The `sig` for a download of `media_id` that expires at `exp` (Unix seconds).
pub fn signature(key: &[u8], kind: SignedKind, media_id: &str, exp: u64) -> String {
    signature_in(key, None, kind, media_id, exp)
}

/// The `sig` for a download of `media_id` in app `app`'s scope (`/apps/{app}/media/…`), or
/// without a scope (`/media/…`) when `app` is `None`.
pub fn signature_in(
    key: &[u8],
    app: Option<&str>,
    kind: SignedKind,
    media_id: &str,
    exp: u64,
) -> String {
    URL_SAFE_NO_PAD.encode(mac(key, app, kind, media_id, exp).finalize().into_bytes())
}

/// The query string (`exp=…&sig=…`) of a signed URL.
pub fn signed_query(key: &[u8], kind: SignedKind, media_id: &str, exp: u64) -> String {
    signed_query_in(key, None, kind, media_id, exp)
}

/// The query string (`exp=…&sig=…`) of a signed URL in app `app`'s scope ([`signature_in`]).
pub fn signed_query_in(
    key: &[u8],
    app: Option<&str>,
    kind: SignedKind,
    media_id: &str,
    exp: u64,
) -> String {
    format!(
        "exp={exp}&sig={}",
        signature_in(key, app, kind, media_id, exp)
    )
}

/// Whether `id` is an app id as the Worker takes one (`WECHAT_APPS`, `/apps/{appid}/…`, a signed
/// URL's scope): 1 to 64 of `A-Z a-z 0-9 _ -`.
pub fn valid_appid(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// Where an app's routes live on the Worker: `/apps/{appid}`.
pub fn app_prefix(appid: &str) -> String {
    format!("/apps/{appid}")
}

/// The path of a download on the Worker: `/media/{id}` (`/hd-voice` added for HD voice), under
/// `/apps/{app}` in an app's scope. `media_id` and `app` must already be valid
/// ([`super::validate_media_id`], [`valid_appid`]): they are written as they are.
pub fn media_path(app: Option<&str>, kind: SignedKind, media_id: &str) -> String {
    let suffix = match kind {
        SignedKind::Media => "",
        SignedKind::HdVoice => "/hd-voice",
    };
    match app {
        Some(app) => format!("{}/media/{media_id}{suffix}", app_prefix(app)),
        None => format!("/media/{media_id}{suffix}"),
    }
}

/// The path and query of a signed download URL ([`media_path`], then [`signed_query_in`]): the
/// one shape the Worker hands out and `signMediaUrl` makes.
pub fn signed_path(
    key: &[u8],
    app: Option<&str>,
    kind: SignedKind,
    media_id: &str,
    exp: u64,
) -> String {
    format!(
        "{}?{}",
        media_path(app, kind, media_id),
        signed_query_in(key, app, kind, media_id, exp)
    )
}

/// The expiry of a URL signed at `now_secs` to live `lifetime_secs`: `None` when the lifetime is
/// not 1 to [`MAX_LIFETIME_SECS`] or the sum would overflow.
pub fn expiry(now_secs: u64, lifetime_secs: u64) -> Option<u64> {
    if !(1..=MAX_LIFETIME_SECS).contains(&lifetime_secs) {
        return None;
    }
    now_secs.checked_add(lifetime_secs)
}

/// The longest a signed URL may live, in seconds (7 days): no URL is signed for longer, and a
/// URL whose expiry lies further ahead than this is refused as invalid (it was not signed here).
pub const MAX_LIFETIME_SECS: u64 = 7 * 86_400;

/// Checks a signed URL's `exp` and `sig` (as found in the query) at `now_secs`, in constant time.
/// A URL that expires more than [`MAX_LIFETIME_SECS`] from now is [`SignatureError::Invalid`].
pub fn verify(
    key: &[u8],
    kind: SignedKind,
    media_id: &str,
    exp: Option<&str>,
    sig: Option<&str>,
    now_secs: u64,
) -> Result<(), SignatureError> {
    verify_in(key, None, kind, media_id, exp, sig, now_secs)
}

/// [`verify`] in app `app`'s scope: a URL signed for another app (or for none) is
/// [`SignatureError::Invalid`].
pub fn verify_in(
    key: &[u8],
    app: Option<&str>,
    kind: SignedKind,
    media_id: &str,
    exp: Option<&str>,
    sig: Option<&str>,
    now_secs: u64,
) -> Result<(), SignatureError> {
    let (Some(exp), Some(sig)) = (exp, sig) else {
        return Err(SignatureError::Missing);
    };
    if exp.is_empty() || exp.len() > 12 || !exp.bytes().all(|b| b.is_ascii_digit()) {
        return Err(SignatureError::Invalid);
    }
    let exp: u64 = exp.parse().map_err(|_| SignatureError::Invalid)?;
    let sig = URL_SAFE_NO_PAD
        .decode(sig)
        .map_err(|_| SignatureError::Invalid)?;
    mac(key, app, kind, media_id, exp)
        .verify_slice(&sig)
        .map_err(|_| SignatureError::Invalid)?;
    if exp <= now_secs {
        return Err(SignatureError::Expired);
    }
    if exp - now_secs > MAX_LIFETIME_SECS {
        return Err(SignatureError::Invalid);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lifetimes_beyond_the_cap_are_refused() {
        let now = 1_700_000_000;
        let ok = now + MAX_LIFETIME_SECS;
        let sig = |exp: u64| signature(b"k", SignedKind::Media, "m", exp);
        let check = |exp: u64| {
            verify(
                b"k",
                SignedKind::Media,
                "m",
                Some(&exp.to_string()),
                Some(&sig(exp)),
                now,
            )
        };
        assert_eq!(check(ok), Ok(()));
        assert_eq!(check(ok + 1), Err(SignatureError::Invalid));
        assert_eq!(check(999_999_999_999), Err(SignatureError::Invalid));
    }

    const KEY: &[u8] = b"test-signing-key";

    #[test]
    fn urls_have_one_shape_and_checked_expiries() {
        let exp = 1_000;
        assert_eq!(
            signed_path(KEY, None, SignedKind::Media, "m1", exp),
            format!(
                "/media/m1?{}",
                signed_query(KEY, SignedKind::Media, "m1", exp)
            )
        );
        assert_eq!(
            signed_path(KEY, Some("wxA"), SignedKind::HdVoice, "m1", exp),
            format!(
                "/apps/wxA/media/m1/hd-voice?{}",
                signed_query_in(KEY, Some("wxA"), SignedKind::HdVoice, "m1", exp)
            )
        );
        assert_eq!(expiry(10, 5), Some(15));
        assert_eq!(expiry(u64::MAX - 3, 5), None);
        assert_eq!(expiry(10, 0), None);
        assert_eq!(expiry(10, MAX_LIFETIME_SECS + 1), None);
        for ok in ["wxA", "wx0123456789abcdef", "a_b-c", &"x".repeat(64)] {
            assert!(valid_appid(ok), "{ok}");
        }
        for bad in [
            "",
            "wx/../x",
            "wx\nA",
            &"x".repeat(65),
            "wx测试",
            "wx A",
            "wx.A",
        ] {
            assert!(!valid_appid(bad), "{bad:?}");
        }
    }

    #[test]
    fn a_signature_verifies_until_it_expires() {
        let sig = signature(KEY, SignedKind::Media, "abc_DEF-1", 1_000);
        assert_eq!(
            verify(
                KEY,
                SignedKind::Media,
                "abc_DEF-1",
                Some("1000"),
                Some(&sig),
                999
            ),
            Ok(())
        );
        assert_eq!(
            verify(
                KEY,
                SignedKind::Media,
                "abc_DEF-1",
                Some("1000"),
                Some(&sig),
                1_000
            ),
            Err(SignatureError::Expired)
        );
    }

    #[test]
    fn anything_altered_is_refused() {
        let sig = signature(KEY, SignedKind::Media, "abc", 1_000);
        let check = |key: &[u8], kind, id: &str, exp: &str, sig: &str| {
            verify(key, kind, id, Some(exp), Some(sig), 0)
        };
        assert_eq!(
            check(KEY, SignedKind::Media, "abd", "1000", &sig),
            Err(SignatureError::Invalid)
        );
        assert_eq!(
            check(KEY, SignedKind::Media, "abc", "1001", &sig),
            Err(SignatureError::Invalid)
        );
        assert_eq!(
            check(KEY, SignedKind::HdVoice, "abc", "1000", &sig),
            Err(SignatureError::Invalid)
        );
        assert_eq!(
            check(b"other", SignedKind::Media, "abc", "1000", &sig),
            Err(SignatureError::Invalid)
        );
        assert_eq!(
            check(KEY, SignedKind::Media, "abc", "1000", "AAAA"),
            Err(SignatureError::Invalid)
        );
        assert_eq!(
            check(KEY, SignedKind::Media, "abc", "1e3", &sig),
            Err(SignatureError::Invalid)
        );
        assert_eq!(
            check(KEY, SignedKind::Media, "abc", "1000", "not base64!"),
            Err(SignatureError::Invalid)
        );
        assert_eq!(
            verify(KEY, SignedKind::Media, "abc", None, Some(&sig), 0),
            Err(SignatureError::Missing)
        );
    }

    #[test]
    fn app_scoped_signatures_fail_in_another_scope() {
        let exp = Some("1000");
        let a = signature_in(KEY, Some("wxA"), SignedKind::Media, "abc", 1000);
        let check =
            |app, sig: &str| verify_in(KEY, app, SignedKind::Media, "abc", exp, Some(sig), 0);
        assert_eq!(check(Some("wxA"), &a), Ok(()));
        assert_eq!(check(Some("wxB"), &a), Err(SignatureError::Invalid));
        assert_eq!(check(None, &a), Err(SignatureError::Invalid));
        let unscoped = signature(KEY, SignedKind::Media, "abc", 1000);
        assert_eq!(check(None, &unscoped), Ok(()));
        assert_eq!(check(Some("wxA"), &unscoped), Err(SignatureError::Invalid));
        // Independently computed: printf 'app:wxA\nmedia\nabc\n1000' | openssl dgst -sha256 -hmac test-signing-key -binary | basenc --base64url
        assert_eq!(a, "fUnBeffVk4-Dayq0CCdvjE9_46XYDjL-BITMR2SEIRw");
    }

    #[test]
    fn the_signature_is_hmac_sha256_of_the_documented_message() {
        // Independently computed: printf 'media\nabc\n1000' | openssl dgst -sha256 -hmac test-signing-key -binary | basenc --base64url
        let sig = signature(KEY, SignedKind::Media, "abc", 1000);
        assert_eq!(sig, "5eK_XYOJuZ0ywcCfPhkzkvdzqQFuKKzAiWvuM7RMHqQ");
        assert_eq!(
            signed_query(KEY, SignedKind::Media, "abc", 1000),
            format!("exp=1000&sig={sig}")
        );
    }
}
