//! Pure helpers for media ids and what is stored under them: validation, cache keys, ETags,
//! Content-Disposition. No platform types, so they are tested natively.

use wxmedia::protocol::request::encode_query_value;
use wxmedia::protocol::sign::SignedKind;

use crate::error::ApiError;

/// Checks a media id from a URL with the core's rule
/// ([`wxmedia::protocol::validate_media_id`]), before any lookup: a 400 `BAD_MEDIA_ID`.
pub fn check_media_id(id: &str) -> Result<(), ApiError> {
    wxmedia::protocol::validate_media_id(id).map_err(|e| ApiError::from_validation(&e))
}

/// The cache (and R2) key: the app id and media id, never the token.
pub fn cache_key(appid: &str, media_id: &str, kind: SignedKind) -> String {
    let (mut key, suffix) = cache_key_parts(appid, kind);
    key.reserve(media_id.len() + suffix.len());
    key.push_str(media_id);
    key.push_str(suffix);
    key
}

/// What comes before and after the media id in its [`cache_key`]. (Built by hand, not with
/// `format!`: the memory tier asks for a key on every hit it answers.)
pub fn cache_key_parts(appid: &str, kind: SignedKind) -> (String, &'static str) {
    let suffix = match kind {
        SignedKind::Media => "",
        SignedKind::HdVoice => "/hd-voice",
    };
    const ORIGIN: &str = "https://wxmedia.cache/";
    let mut prefix = String::with_capacity(ORIGIN.len() + appid.len() + 1 + 64);
    prefix.push_str(ORIGIN);
    prefix.push_str(&encode_query_value(appid));
    prefix.push('/');
    (prefix, suffix)
}

/// The key under which a "no such media" answer is remembered.
pub fn not_found_key(key: &str) -> String {
    format!("{key}/not-found")
}

/// The key under which a rendition of `key` that failed (415 `NOT_VOICE`, 422 `BAD_VOICE`) is
/// remembered.
pub fn failed_key(key: &str) -> String {
    format!("{key}/failed")
}

/// The ETag of a media id's bytes (media ids name immutable content).
pub fn etag(media_id: &str, kind: SignedKind) -> String {
    match kind {
        SignedKind::Media => format!("\"{media_id}\""),
        SignedKind::HdVoice => format!("\"{media_id}.hd\""),
    }
}

/// A Content-Disposition for `filename`: plain when it is printable ASCII, otherwise with an
/// RFC 5987 `filename*` and an ASCII fallback.
pub fn content_disposition(filename: &str, fallback: &str) -> String {
    let plain = filename
        .bytes()
        .all(|b| (0x20..0x7f).contains(&b) && b != b'"' && b != b'\\');
    if plain {
        format!("attachment; filename=\"{filename}\"")
    } else {
        format!(
            "attachment; filename=\"{fallback}\"; filename*=UTF-8''{}",
            encode_query_value(filename)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn media_ids_are_checked_before_any_lookup() {
        assert!(check_media_id("6vU1rUJp0mN8S7Jx0a-Yp5b_Q").is_ok());
        for bad in [
            "",
            "a&b",
            "a/b",
            "..",
            "a%00",
            "a b",
            "é",
            &"x".repeat(10_000),
        ] {
            let err = check_media_id(bad).unwrap_err();
            assert_eq!(
                (err.status(), err.code.as_str()),
                (400, "BAD_MEDIA_ID"),
                "{bad:?}"
            );
            assert!(err.message.len() < 200);
        }
    }

    #[test]
    fn cache_keys_carry_no_token_and_differ_by_kind() {
        let a = cache_key("wx01", "abc", SignedKind::Media);
        assert_eq!(a, "https://wxmedia.cache/wx01/abc");
        assert_eq!(
            cache_key("wx01", "abc", SignedKind::HdVoice),
            "https://wxmedia.cache/wx01/abc/hd-voice"
        );
    }

    #[test]
    fn dispositions_are_plain_or_rfc5987() {
        assert_eq!(
            content_disposition("a.jpg", "x.jpg"),
            "attachment; filename=\"a.jpg\""
        );
        assert_eq!(
            content_disposition("测试.jpg", "x.jpg"),
            "attachment; filename=\"x.jpg\"; filename*=UTF-8''%E6%B5%8B%E8%AF%95.jpg"
        );
    }
}
