//! Pure request builders: every WeChat call as an `http::Request<Vec<u8>>`, ready for any
//! transport (oauth2-rs style).
//!
//! `base` is the API origin, `https://api.weixin.qq.com` in production ([`DEFAULT_BASE`]); it may
//! end with `/` or carry a path prefix (`http://127.0.0.1:8787/wx`), and must be an absolute
//! `http`/`https` URL without query or fragment. Check it once with [`check_base_url`] when the
//! client is configured: the builders are infallible, and an unusable `base` gives a request to
//! [`INVALID_BASE_FALLBACK`] (without query, so without secrets), which fails as a network error.
//!
//! The builders do not check media_ids: call [`validate_media_id`] first (any id still gives a
//! well-formed URL, as query values are percent-encoded).
//!
//! The URLs built here carry the access token (and, for the classic token call, the app secret).
//! Never log them or put them in an error: use [`super::secret::redact_url`].

use http::header::CONTENT_TYPE;
use http::{HeaderValue, Method, Request, Uri};

use super::error::{ValidationCode, ValidationError};
use super::media_type::MediaType;
use super::secret::{AccessToken, AppSecret};

/// The production API origin.
pub const DEFAULT_BASE: &str = "https://api.weixin.qq.com";

/// The longest media_id accepted by [`validate_media_id`], in bytes.
pub const MAX_MEDIA_ID_LEN: usize = 256;

/// Path of the classic token call.
pub const TOKEN_PATH: &str = "/cgi-bin/token";
/// Path of the stable token call.
pub const STABLE_TOKEN_PATH: &str = "/cgi-bin/stable_token";
/// Path of the upload call.
pub const UPLOAD_PATH: &str = "/cgi-bin/media/upload";
/// Path of the download call.
pub const GET_PATH: &str = "/cgi-bin/media/get";
/// Path of the HD-voice (JSSDK speex) download call.
pub const HD_VOICE_PATH: &str = "/cgi-bin/media/get/jssdk";

/// The multipart field name WeChat expects for the file part of an upload.
pub const UPLOAD_FIELD: &str = "media";

/// Percent-encodes a query component: everything but RFC 3986 unreserved characters
/// (`A-Z a-z 0-9 - . _ ~`) becomes `%XX` (UTF-8 bytes, uppercase hex).
///
/// ```
/// use wxmedia::protocol::request::encode_query_value;
/// assert_eq!(encode_query_value("a b&c=d/测"), "a%20b%26c%3Dd%2F%E6%B5%8B");
/// ```
pub fn encode_query_value(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    push_encoded(&mut out, value);
    out
}

/// Appends `value` to `out` as [`encode_query_value`] encodes it: runs of unreserved bytes are
/// copied whole.
fn push_encoded(out: &mut String, value: &str) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let unreserved = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~');
    let mut rest = value;
    while !rest.is_empty() {
        let run = rest.bytes().take_while(|&b| unreserved(b)).count();
        out.push_str(&rest[..run]);
        let Some(&b) = rest.as_bytes().get(run) else {
            break;
        };
        out.push('%');
        out.push(char::from(HEX[usize::from(b >> 4)]));
        out.push(char::from(HEX[usize::from(b & 0x0F)]));
        // A reserved byte may be the first of a multi-byte character: go on byte by byte
        // until the next character boundary.
        let mut next = run + 1;
        while !rest.is_char_boundary(next) {
            let b = rest.as_bytes()[next];
            out.push('%');
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 0x0F)]));
            next += 1;
        }
        rest = &rest[next..];
    }
}

fn bad_config(message: String) -> ValidationError {
    ValidationError::new(ValidationCode::BadConfig, message)
}

/// Checks that `base` is usable: an absolute `http://` or `https://` URL with a host, no query,
/// no fragment, and nothing that is not allowed in a URL.
pub fn check_base_url(base: &str) -> Result<(), ValidationError> {
    let rest = if let Some(rest) = base.strip_prefix("https://") {
        rest
    } else if let Some(rest) = base.strip_prefix("http://") {
        rest
    } else {
        return Err(bad_config(format!(
            "base URL {base:?} must start with http:// or https://"
        )));
    };
    let host = rest.split('/').next().unwrap_or("");
    if host.is_empty() {
        return Err(bad_config(format!("base URL {base:?} has no host")));
    }
    if base.contains(['?', '#']) {
        return Err(bad_config(format!(
            "base URL {base:?} must not contain a query or fragment"
        )));
    }
    if base.contains(|c: char| !c.is_ascii_graphic()) {
        return Err(bad_config(format!(
            "base URL {base:?} contains spaces, control or non-ASCII characters"
        )));
    }
    let probe = format!("{}{TOKEN_PATH}", base.trim_end_matches('/'));
    if probe.parse::<http::Uri>().is_err() {
        return Err(bad_config(format!("base URL {base:?} is not a valid URL")));
    }
    Ok(())
}

/// `base` (without trailing slashes) + `path` + `?` + encoded query.
fn url(base: &str, path: &str, query: &[(&str, &str)]) -> String {
    let base = base.trim_end_matches('/');
    let len = query
        .iter()
        .map(|(n, v)| n.len() + v.len() + 2)
        .sum::<usize>();
    let mut url = String::with_capacity(base.len() + path.len() + len + 16);
    url.push_str(base);
    url.push_str(path);
    for (i, (name, value)) in query.iter().enumerate() {
        url.push(if i == 0 { '?' } else { '&' });
        url.push_str(name);
        url.push('=');
        push_encoded(&mut url, value);
    }
    url
}

/// Where a request goes when `base` is unusable: `.invalid` never resolves (RFC 6761), so a
/// misconfigured client fails with a network error instead of sending anything anywhere.
pub const INVALID_BASE_FALLBACK: &str = "http://invalid-base-url.invalid";

fn build(
    method: Method,
    base: &str,
    path: &str,
    query: &[(&str, &str)],
    content_type: Option<&'static str>,
    body: Vec<u8>,
) -> Request<Vec<u8>> {
    let uri = match check_base_url(base) {
        Ok(()) => url(base, path, query).parse::<Uri>().ok(),
        Err(_) => None,
    };
    // The fallback has no query, so it carries no secret.
    let uri = uri.unwrap_or_else(|| {
        url(INVALID_BASE_FALLBACK, path, &[])
            .parse()
            .unwrap_or_default()
    });
    let mut request = Request::new(body);
    *request.method_mut() = method;
    *request.uri_mut() = uri;
    if let Some(ct) = content_type {
        request
            .headers_mut()
            .insert(CONTENT_TYPE, HeaderValue::from_static(ct));
    }
    request
}

/// The classic token call: `GET {base}/cgi-bin/token?grant_type=client_credential&appid=…&secret=…`.
///
/// Each call issues a new token and invalidates the previous one within minutes; prefer
/// [`stable_token_request`] when several processes share an appid.
pub fn token_request(base: &str, appid: &str, secret: &AppSecret) -> Request<Vec<u8>> {
    build(
        Method::GET,
        base,
        TOKEN_PATH,
        &[
            ("grant_type", "client_credential"),
            ("appid", appid),
            ("secret", secret.expose()),
        ],
        None,
        Vec::new(),
    )
}

/// The stable token call: `POST {base}/cgi-bin/stable_token` with the JSON body
/// `{"grant_type":"client_credential","appid":…,"secret":…,"force_refresh":…}` and
/// `Content-Type: application/json`.
///
/// With `force_refresh: false` it is idempotent (the same token, with its remaining lifetime);
/// `true` rotates the token and is limited to 20 calls a day.
pub fn stable_token_request(
    base: &str,
    appid: &str,
    secret: &AppSecret,
    force_refresh: bool,
) -> Request<Vec<u8>> {
    stable_token_call(base, appid, secret, force_refresh, None)
}

/// A forced refresh asked of a token hub (another wxmedia Worker, a 中控 speaking WeChat's
/// token API): the stable token call with `force_refresh: true` and the token that failed as
/// `access_token`, so the hub rotates only if that is still its current token
/// (compare-and-invalidate) and every caller that saw it fail gets the one new token.
pub fn hub_refresh_request(
    base: &str,
    appid: &str,
    secret: &AppSecret,
    failed: &AccessToken,
) -> Request<Vec<u8>> {
    stable_token_call(base, appid, secret, true, Some(failed))
}

/// `POST {base}/cgi-bin/stable_token` with its JSON body (and the failed token for a hub).
fn stable_token_call(
    base: &str,
    appid: &str,
    secret: &AppSecret,
    force_refresh: bool,
    failed: Option<&AccessToken>,
) -> Request<Vec<u8>> {
    let mut body = serde_json::json!({
        "grant_type": "client_credential",
        "appid": appid,
        "secret": secret.expose(),
        "force_refresh": force_refresh,
    });
    if let Some(failed) = failed {
        body["access_token"] = failed.expose().into();
    }
    let body = serde_json::to_vec(&body).unwrap_or_default();
    build(
        Method::POST,
        base,
        STABLE_TOKEN_PATH,
        &[],
        Some("application/json"),
        body,
    )
}

/// The upload URL: `{base}/cgi-bin/media/upload?access_token=…&type=…`.
///
/// The transport POSTs `multipart/form-data` to it with one file part named [`UPLOAD_FIELD`]
/// (`media`), whose filename and content type come from [`super::validate::validate`]. The
/// filename goes in `filename="…"` as raw UTF-8, never as `filename*=`. Build the body afresh for
/// every attempt: a spent stream re-sent gives 41005.
///
/// Call [`check_base_url`] once at configuration time; this function does not check `base`.
pub fn upload_url(base: &str, token: &AccessToken, media_type: MediaType) -> String {
    url(
        base,
        UPLOAD_PATH,
        &[
            ("access_token", token.expose()),
            ("type", media_type.as_str()),
        ],
    )
}

/// The upload request: `POST {base}/cgi-bin/media/upload?access_token=…&type=…` (see
/// [`upload_url`]). Its body is left empty here: the web edge attaches the multipart form, built
/// afresh for every attempt, because the media stays in JS memory (a `Blob` or the caller's
/// bytes) and never passes through the protocol core.
pub fn upload_request(base: &str, token: &AccessToken, media_type: MediaType) -> Request<Vec<u8>> {
    build(
        Method::POST,
        base,
        UPLOAD_PATH,
        &[
            ("access_token", token.expose()),
            ("type", media_type.as_str()),
        ],
        None,
        Vec::new(),
    )
}

/// A download request: `GET {base}{path}?access_token=…&media_id=…` (see [`media_url`]), no
/// headers, no body.
pub fn media_request(
    base: &str,
    path: &str,
    token: &AccessToken,
    media_id: &str,
) -> Request<Vec<u8>> {
    build(
        Method::GET,
        base,
        path,
        &[("access_token", token.expose()), ("media_id", media_id)],
        None,
        Vec::new(),
    )
}

/// Checks a media_id before any request or lookup: 1 to [`MAX_MEDIA_ID_LEN`] characters of
/// `A-Z a-z 0-9 _ -`, the alphabet of WeChat's ids. Anything else (`&`, `/`, `.`, `%`, spaces,
/// controls, non-ASCII) is refused. The one home of this rule: the client, `signMediaUrl` and the
/// Worker's routes all call it, so a URL the package signs is one the Worker accepts.
pub fn validate_media_id(id: &str) -> Result<(), ValidationError> {
    let fail = |message: String| Err(ValidationError::new(ValidationCode::BadMediaId, message));
    if id.is_empty() {
        return fail("media_id is empty".to_owned());
    }
    if id.len() > MAX_MEDIA_ID_LEN {
        return fail(format!(
            "media_id is {} bytes long; the limit is {MAX_MEDIA_ID_LEN} bytes",
            id.len()
        ));
    }
    if !id
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    {
        let shown: String = id.chars().take(40).collect();
        let more = if id.chars().count() > 40 { "…" } else { "" };
        return fail(format!(
            "{shown:?}{more} is not a media_id: ids are 1 to {MAX_MEDIA_ID_LEN} characters of A-Z, a-z, 0-9, _ and -"
        ));
    }
    Ok(())
}

/// The URL of a download: `{base}{path}?access_token=…&media_id=…` with `path` [`GET_PATH`] or
/// [`HD_VOICE_PATH`] (HD voice recorded with JSSDK `wx.uploadVoice`: its `serverId` is the
/// media_id; answers `voice/speex` at 16 kHz, verified accounts only), for a transport that sends
/// a plain `GET`. Like [`upload_url`], it does not check `base`: call
/// [`check_base_url`] once at configuration time, and [`validate_media_id`] first.
pub fn media_url(base: &str, path: &str, token: &AccessToken, media_id: &str) -> String {
    url(
        base,
        path,
        &[("access_token", token.expose()), ("media_id", media_id)],
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token() -> AccessToken {
        AccessToken::new("TOK+/=en")
    }

    #[test]
    fn encodes_query_values() {
        assert_eq!(encode_query_value(""), "");
        assert_eq!(encode_query_value("AZaz09-._~"), "AZaz09-._~");
        assert_eq!(
            encode_query_value("a+b/c=d&e?f#g h%"),
            "a%2Bb%2Fc%3Dd%26e%3Ff%23g%20h%25"
        );
        assert_eq!(encode_query_value("测"), "%E6%B5%8B");
    }

    #[test]
    fn classic_token() {
        let req = token_request(DEFAULT_BASE, "wx123", &AppSecret::new("s e&c=ret"));
        assert_eq!(req.method(), Method::GET);
        assert_eq!(
            req.uri().to_string(),
            "https://api.weixin.qq.com/cgi-bin/token?grant_type=client_credential&appid=wx123&secret=s%20e%26c%3Dret"
        );
        assert!(req.body().is_empty());
        assert!(req.headers().is_empty());
    }

    #[test]
    fn stable_token() {
        for force in [false, true] {
            let secret = AppSecret::new("se\"cret");
            let req = stable_token_request("http://127.0.0.1:8787/wx/", "wx1", &secret, force);
            assert_eq!(req.method(), Method::POST);
            assert_eq!(
                req.uri().to_string(),
                "http://127.0.0.1:8787/wx/cgi-bin/stable_token"
            );
            assert_eq!(req.headers()[CONTENT_TYPE], "application/json");
            let body: serde_json::Value = serde_json::from_slice(req.body()).unwrap();
            assert_eq!(
                body,
                serde_json::json!({
                    "grant_type": "client_credential",
                    "appid": "wx1",
                    "secret": "se\"cret",
                    "force_refresh": force,
                })
            );
        }
    }

    #[test]
    fn upload() {
        assert_eq!(
            upload_url(DEFAULT_BASE, &token(), MediaType::Thumb),
            "https://api.weixin.qq.com/cgi-bin/media/upload?access_token=TOK%2B%2F%3Den&type=thumb"
        );
        assert_eq!(
            upload_url("http://localhost:8787//", &token(), MediaType::Image),
            "http://localhost:8787/cgi-bin/media/upload?access_token=TOK%2B%2F%3Den&type=image"
        );
    }

    #[test]
    fn downloads() {
        assert_eq!(
            media_url("http://127.0.0.1:8787/wx", GET_PATH, &token(), "MEDIA_id-1"),
            "http://127.0.0.1:8787/wx/cgi-bin/media/get?access_token=TOK%2B%2F%3Den&media_id=MEDIA_id-1"
        );
        assert_eq!(
            media_url(DEFAULT_BASE, HD_VOICE_PATH, &token(), "a b"),
            "https://api.weixin.qq.com/cgi-bin/media/get/jssdk?access_token=TOK%2B%2F%3Den&media_id=a%20b"
        );
        // Ids are not checked here (validate_media_id does that), but always encoded; a trailing
        // slash on the base is not doubled.
        assert_eq!(
            media_url("http://127.0.0.1:8787/wx/", GET_PATH, &token(), "a&b=#\n"),
            "http://127.0.0.1:8787/wx/cgi-bin/media/get?access_token=TOK%2B%2F%3Den&media_id=a%26b%3D%23%0A"
        );
    }

    #[test]
    fn media_ids() {
        assert!(validate_media_id("Xy_9-abc").is_ok());
        assert!(validate_media_id("6vU1rUJp0mN8S7Jx0a-Yp5b_Q").is_ok());
        assert!(validate_media_id(&"a".repeat(MAX_MEDIA_ID_LEN)).is_ok());
        let long = "x".repeat(10_000);
        for bad in [
            "",
            " ",
            "\t\n",
            "a\nb",
            "a\u{7f}",
            "a\0",
            "with space",
            "a&b",
            "a/b",
            "..",
            "a%00",
            "é",
            "a.jpg",
        ] {
            let e = validate_media_id(bad).unwrap_err();
            assert_eq!(e.code, ValidationCode::BadMediaId, "{bad:?}");
            assert!(e.message.len() < 200, "{bad:?}");
        }
        assert!(validate_media_id(&long).unwrap_err().message.len() < 200);
        let e = validate_media_id(&"a".repeat(MAX_MEDIA_ID_LEN + 1)).unwrap_err();
        assert_eq!(
            e.message,
            "media_id is 257 bytes long; the limit is 256 bytes"
        );
    }

    #[test]
    fn base_urls() {
        for good in [
            DEFAULT_BASE,
            "https://api.weixin.qq.com/",
            "http://127.0.0.1:8787/wx",
            "http://[::1]:8787",
            "http://localhost:8787/a/b/",
        ] {
            assert_eq!(check_base_url(good), Ok(()), "{good}");
            let req = token_request(good, "a", &AppSecret::new("s"));
            assert!(
                req.uri()
                    .to_string()
                    .starts_with(good.trim_end_matches('/')),
                "{good}"
            );
        }
        for bad in [
            "",
            "api.weixin.qq.com",
            "ftp://x",
            "https://",
            "https:///path",
            "http://host/a b",
            "http://host/测试",
            "http://host/?x=1",
            "http://host/#f",
            "http://ho st",
        ] {
            let e = check_base_url(bad).unwrap_err();
            assert_eq!(e.code, ValidationCode::BadConfig, "{bad}");
            // The fallback goes nowhere and carries no secret.
            let req = token_request(bad, "a", &AppSecret::new("s"));
            assert_eq!(
                req.uri().to_string(),
                format!("{INVALID_BASE_FALLBACK}/cgi-bin/token"),
                "{bad}"
            );
            let req = stable_token_request(bad, "a", &AppSecret::new("s"), false);
            assert_eq!(req.method(), Method::POST);
            assert_eq!(req.headers()[CONTENT_TYPE], "application/json");
        }
    }
}
