//! Classifying WeChat's answers (upstream-api.md §3, §4) and parsing upload and token bodies.
//!
//! A download answer is classified in two steps, so the classifier never needs the media bytes:
//!
//! 1. [`classify_head`] looks at the status and headers only. A `Content-Disposition` with
//!    `attachment` or a filename means media ([`Head::Media`]): stream the body to the caller.
//! 2. Otherwise ([`Head::Inspect`]) the transport peeks at the first bytes (at least
//!    [`PEEK_LEN`]) and asks [`looks_like_json`]. If yes, it reads the body (up to
//!    [`MAX_JSON_LEN`]) and calls [`classify_json`]; [`Outcome::NotJson`] or a "no" means the
//!    bytes are media without a name.
//!
//! Every WeChat answer is HTTP 200, errors included. A JSON outcome is never media, so it must
//! never be cached as media.

use http::header::{CONTENT_DISPOSITION, CONTENT_LENGTH, CONTENT_TYPE};
use http::HeaderMap;
use serde_json::{Map, Value};

use super::disposition;
use super::error::{Error, WeChatError};
use super::media_type::MediaType;
use super::secret::AccessToken;

/// How many leading bytes [`looks_like_json`] should be given (fewer if the body is shorter).
pub const PEEK_LEN: usize = 64;

/// The largest body worth parsing as JSON. WeChat's JSON answers are tiny; a body without a JSON
/// content type that is larger than this is media.
pub const MAX_JSON_LEN: usize = 64 * 1024;

/// What the headers say about a download answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Head {
    /// Media bytes (a `Content-Disposition` with `attachment` or a filename).
    Media(MediaMeta),
    /// No disposition: peek at the body with [`looks_like_json`].
    Inspect,
    /// A non-2xx status (a proxy or the edge: WeChat itself always answers 200).
    HttpError(u16),
}

/// Headers of a media answer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MediaMeta {
    /// The `Content-Type`, as sent (for example `image/jpeg` or `voice/speex`).
    pub content_type: Option<String>,
    /// The file name from `Content-Disposition` (`filename*` preferred).
    pub filename: Option<String>,
    /// The `Content-Length`, if present and numeric.
    pub content_length: Option<u64>,
}

/// Reads the media-related headers, whatever the classification.
pub fn media_meta(headers: &HeaderMap) -> MediaMeta {
    MediaMeta {
        content_type: headers
            .get(CONTENT_TYPE)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).trim().to_owned())
            .filter(|v| !v.is_empty()),
        filename: headers
            .get_all(CONTENT_DISPOSITION)
            .iter()
            .find_map(|v| disposition::filename(v.as_bytes())),
        content_length: headers
            .get(CONTENT_LENGTH)
            .and_then(|v| std::str::from_utf8(v.as_bytes()).ok())
            .and_then(|v| v.trim().parse().ok()),
    }
}

/// Bytes a media answer may exceed WeChat's own limit by before it is refused.
pub const ANSWER_MARGIN: u64 = 1024 * 1024;

/// The most bytes a media answer may have: the limit for the kind of media its Content-Type
/// names (voice — `audio/*`, `voice/*` — 2 MiB; anything else the largest, 10 MiB) plus
/// [`ANSWER_MARGIN`]. Past it, the answer is not media WeChat serves: it is refused, never read
/// whole or stored. The limits are WeChat's, or `limits` where those are higher (a client told
/// WeChat's limits grew): a lowered upload limit never refuses a download.
pub fn max_answer_bytes(meta: &MediaMeta, limits: &super::Limits) -> u64 {
    let wechat = super::Limits::default();
    let limits = super::Limits {
        image: limits.image.max(wechat.image),
        voice: limits.voice.max(wechat.voice),
        video: limits.video.max(wechat.video),
        thumb: limits.thumb.max(wechat.thumb),
    };
    let essence = meta
        .content_type
        .as_deref()
        .map(essence)
        .unwrap_or_default();
    let limit = if essence.starts_with("audio/") || essence.starts_with("voice/") {
        limits.voice
    } else {
        limits.image.max(limits.video)
    };
    limit.saturating_add(ANSWER_MARGIN)
}

/// Refuses a media answer that says (or turns out) to be larger than [`max_answer_bytes`].
pub fn check_answer_size(
    meta: &MediaMeta,
    size: Option<u64>,
    limits: &super::Limits,
) -> Result<(), Error> {
    let max = max_answer_bytes(meta, limits);
    match size.or(meta.content_length) {
        Some(size) if size > max => Err(Error::Parse {
            message: format!(
                "the answer is {} bytes, more than any media WeChat serves of its type ({max} at most)",
                size
            ),
            raw: Vec::new(),
        }),
        _ => Ok(()),
    }
}

/// Step one: classifies a download answer from its status and headers.
///
/// A non-2xx status is [`Head::HttpError`] whatever the headers say (so a proxy's error page is
/// never taken for media); then a `Content-Disposition` (matched case-insensitively, as
/// `Content-disposition` arrives) marking an attachment or carrying a filename is
/// [`Head::Media`]; anything else is [`Head::Inspect`].
pub fn classify_head(status: u16, headers: &HeaderMap) -> Head {
    if !(200..300).contains(&status) {
        return Head::HttpError(status);
    }
    let attachment = headers
        .get_all(CONTENT_DISPOSITION)
        .iter()
        .any(|v| disposition::is_attachment(v.as_bytes()));
    if attachment {
        Head::Media(media_meta(headers))
    } else {
        Head::Inspect
    }
}

/// The media type's essence, lowercased, without parameters: `application/json; encoding=utf-8`
/// gives `application/json`.
fn essence(content_type: &str) -> String {
    content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}

fn is_json_type(essence: &str) -> bool {
    essence == "application/json"
        || essence == "text/json"
        || essence == "application/x-json"
        || essence.ends_with("+json")
}

/// Skips a UTF-8 byte-order mark and ASCII whitespace.
fn skip_blank(bytes: &[u8]) -> &[u8] {
    let bytes = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]).unwrap_or(bytes);
    let start = bytes
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(bytes.len());
    &bytes[start..]
}

/// Step two: whether an answer without a disposition should be parsed as JSON.
///
/// Yes for a JSON media type (`application/json` with any parameters such as
/// `; encoding=utf-8`, `text/json`, `…+json`). Otherwise — `text/plain`, another type or none —
/// yes only if the first non-blank byte of `prefix` is `{`: WeChat sometimes labels media bytes
/// `text/plain`, and sometimes labels error JSON that way.
pub fn looks_like_json(content_type: Option<&str>, prefix: &[u8]) -> bool {
    if content_type.is_some_and(|ct| is_json_type(&essence(ct))) {
        return true;
    }
    skip_blank(prefix).first() == Some(&b'{')
}

/// What a JSON download answer means.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// A video answer: `{"video_url":"http://…"}`. The caller fetches the URL itself.
    Video {
        /// Where to download the video.
        video_url: String,
    },
    /// An error answer (`errcode` ≠ 0).
    Error(WeChatError),
    /// Valid JSON of no known shape.
    UnknownJson(Value),
    /// It starts like a JSON object but does not parse: JSON cut short or mangled on the way. Never
    /// media (no media format WeChat serves starts with `{`), so it is an error, never cached.
    Malformed,
    /// Not JSON after all: treat the body as media bytes.
    NotJson,
}

/// `errcode` as a number or a numeric string. `None` if absent; `Some(Err)` if present but not a
/// whole number.
fn errcode(obj: &Map<String, Value>) -> Option<Result<i64, ()>> {
    let value = obj.get("errcode")?;
    Some(match value {
        Value::Number(n) => n
            .as_i64()
            .or_else(|| n.as_f64().filter(|f| f.fract() == 0.0).map(|f| f as i64))
            .ok_or(()),
        Value::String(s) => s.trim().parse().map_err(|_| ()),
        _ => Err(()),
    })
}

fn errmsg(obj: &Map<String, Value>) -> String {
    match obj.get("errmsg") {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Null) | None => String::new(),
        Some(other) => other.to_string(),
    }
}

/// The WeChat error in an answer, if `errcode` is present and non-zero.
fn wechat_error(obj: &Map<String, Value>) -> Option<WeChatError> {
    match errcode(obj) {
        Some(Ok(code)) if code != 0 => Some(WeChatError::parse_errmsg(code, &errmsg(obj))),
        _ => None,
    }
}

fn parse_object(body: &[u8]) -> Result<Value, serde_json::Error> {
    serde_json::from_slice(skip_blank(body))
}

/// Classifies a JSON download answer: `errcode` ≠ 0 is an error (checked first, so an error with
/// a `video_url` is still an error); a non-empty string `video_url` is a video; other valid JSON
/// is [`Outcome::UnknownJson`]; an unparseable body that starts with `{` is
/// [`Outcome::Malformed`]; anything else unparseable is [`Outcome::NotJson`].
pub fn classify_json(body: &[u8]) -> Outcome {
    let value = match parse_object(body) {
        Ok(value) => value,
        Err(_) if skip_blank(body).first() == Some(&b'{') => return Outcome::Malformed,
        Err(_) => return Outcome::NotJson,
    };
    let Value::Object(obj) = &value else {
        return Outcome::UnknownJson(value);
    };
    if let Some(e) = wechat_error(obj) {
        return Outcome::Error(e);
    }
    if matches!(errcode(obj), Some(Err(()))) {
        return Outcome::UnknownJson(value);
    }
    match obj.get("video_url") {
        Some(Value::String(url)) if !url.trim().is_empty() => Outcome::Video {
            video_url: url.trim().to_owned(),
        },
        _ => Outcome::UnknownJson(value),
    }
}

/// Whether bytes a download answered are a positive media answer, fit to store and serve: the
/// last check before anything is cached. `meta` is what the headers said (a filename means an
/// attachment), `size` the bytes received, `head` their first [`super::validate::SNIFF_LEN`] or
/// more bytes, `headerless` whether the media has no magic bytes to sniff (HD voice: raw Speex).
///
/// Refused: no bytes; a text or markup type other than `text/plain` (an HTML error page from a
/// proxy); a media type whose bytes are not of any known format; an answer that names no media
/// type and carries no attachment, unless its bytes sniff as a known format.
pub fn check_media(
    meta: &MediaMeta,
    size: u64,
    head: &[u8],
    headerless: bool,
) -> Result<(), Error> {
    let refuse = |why: String| {
        Err(Error::Parse {
            message: format!("WeChat's answer is not media: {why}"),
            raw: Vec::new(),
        })
    };
    if size == 0 {
        return refuse("it has no bytes".to_string());
    }
    let essence = meta
        .content_type
        .as_deref()
        .map(essence)
        .unwrap_or_default();
    let sniffed = super::validate::sniff(head);
    let markup = essence.starts_with("text/") && essence != "text/plain"
        || essence.contains("html")
        || essence.contains("xml")
        || is_json_type(&essence);
    if markup {
        return refuse(format!("it is labelled {essence}"));
    }
    if headerless {
        return Ok(());
    }
    let media_type = ["image/", "audio/", "voice/", "video/"]
        .iter()
        .any(|p| essence.starts_with(p));
    match (sniffed, media_type, meta.filename.is_some()) {
        (Some(_), _, _) => Ok(()),
        (None, true, _) => refuse(format!(
            "it is labelled {essence}, but its bytes are of no known format"
        )),
        (None, false, true) => Ok(()),
        (None, false, false) => refuse(
            "it names no media type, carries no attachment and its bytes are of no known format"
                .to_string(),
        ),
    }
}

/// A successful upload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Uploaded {
    /// The type that was requested.
    pub media_type: MediaType,
    /// The media_id (`thumb_media_id` for thumbs), valid for 3 days.
    pub media_id: String,
    /// Upload time, Unix seconds.
    pub created_at: i64,
}

fn parse_error(message: impl Into<String>, raw: &[u8]) -> Error {
    Error::Parse {
        message: message.into(),
        raw: raw.to_vec(),
    }
}

/// A whole number from a JSON number or numeric string.
fn integer(value: &Value) -> Option<i64> {
    match value {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn non_empty_str<'a>(obj: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    match obj.get(key) {
        Some(Value::String(s)) if !s.trim().is_empty() => Some(s.trim()),
        _ => None,
    }
}

/// Parses an upload answer: `{"type":"image","media_id":"…","created_at":1700000000}`, possibly
/// with `"errcode":0,"errmsg":"ok"`; a thumb answers `thumb_media_id` (either key is accepted for
/// any type, the type's own key first). `created_at` may be a number or a string. `errcode` ≠ 0
/// is [`Error::WeChat`]; anything malformed is [`Error::Parse`] with the raw bytes.
pub fn parse_upload(body: &[u8], requested: MediaType) -> Result<Uploaded, Error> {
    let value = parse_object(body).map_err(|e| parse_error(format!("upload answer: {e}"), body))?;
    let Value::Object(obj) = value else {
        return Err(parse_error("upload answer is not a JSON object", body));
    };
    if let Some(e) = wechat_error(&obj) {
        return Err(Error::WeChat(e));
    }
    if matches!(errcode(&obj), Some(Err(()))) {
        return Err(parse_error("upload answer has a non-numeric errcode", body));
    }
    let keys: [&str; 2] = if requested == MediaType::Thumb {
        ["thumb_media_id", "media_id"]
    } else {
        ["media_id", "thumb_media_id"]
    };
    let media_id = keys
        .iter()
        .find_map(|k| non_empty_str(&obj, k))
        .ok_or_else(|| parse_error("upload answer has no media_id", body))?;
    let created_at = match obj.get("created_at") {
        None => return Err(parse_error("upload answer has no created_at", body)),
        Some(v) => integer(v)
            .ok_or_else(|| parse_error("upload answer has a non-numeric created_at", body))?,
    };
    Ok(Uploaded {
        media_type: requested,
        media_id: media_id.to_owned(),
        created_at,
    })
}

/// A token answer: `{"access_token":"…","expires_in":7200}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenGrant {
    /// The token.
    pub token: AccessToken,
    /// Seconds until it expires, counted from when the answer arrived.
    pub expires_in: u64,
}

/// Replaces the value of every `"access_token":"…"` in a JSON text with `[redacted]`, so raw
/// bytes kept in an [`Error::Parse`] never hold a token.
fn redact_token_json(body: &[u8]) -> Vec<u8> {
    const KEY: &[u8] = b"\"access_token\"";
    let mut out = Vec::with_capacity(body.len());
    let mut i = 0;
    while i < body.len() {
        if body[i..].starts_with(KEY) {
            out.extend_from_slice(KEY);
            i += KEY.len();
            // Whitespace and ':' then the value.
            while i < body.len() && (body[i].is_ascii_whitespace() || body[i] == b':') {
                out.push(body[i]);
                i += 1;
            }
            if i < body.len() && body[i] == b'"' {
                i += 1;
                while i < body.len() && body[i] != b'"' {
                    if body[i] == b'\\' {
                        i += 1;
                    }
                    i += 1;
                }
                i += 1; // closing quote
                out.extend_from_slice(b"\"[redacted]\"");
            } else {
                // A bare value: up to the next delimiter.
                let start = i;
                while i < body.len() && !matches!(body[i], b',' | b'}' | b']') {
                    i += 1;
                }
                if i > start {
                    out.extend_from_slice(b"[redacted]");
                }
            }
            continue;
        }
        out.push(body[i]);
        i += 1;
    }
    out
}

/// Parses a token answer (classic or stable). `errcode` ≠ 0 is [`Error::WeChat`]; a missing or
/// empty `access_token` or a missing or negative `expires_in` (number or numeric string) is
/// [`Error::Parse`], whose raw bytes have the token redacted.
pub fn parse_token(body: &[u8]) -> Result<TokenGrant, Error> {
    let fail = |message: &str| Error::Parse {
        message: message.to_owned(),
        raw: redact_token_json(body),
    };
    let value = parse_object(body).map_err(|_| fail("token answer is not valid JSON"))?;
    let Value::Object(obj) = value else {
        return Err(fail("token answer is not a JSON object"));
    };
    if let Some(e) = wechat_error(&obj) {
        return Err(Error::WeChat(e));
    }
    if matches!(errcode(&obj), Some(Err(()))) {
        return Err(fail("token answer has a non-numeric errcode"));
    }
    let token = match obj.get("access_token") {
        Some(Value::String(s)) if !s.is_empty() => AccessToken::new(s.as_str()),
        _ => return Err(fail("token answer has no access_token")),
    };
    let expires_in = obj
        .get("expires_in")
        .and_then(integer)
        .and_then(|n| u64::try_from(n).ok())
        .ok_or_else(|| fail("token answer has no valid expires_in"))?;
    Ok(TokenGrant { token, expires_in })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_positive_media_answers_pass() {
        let meta = |ct: Option<&str>, name: Option<&str>| MediaMeta {
            content_type: ct.map(str::to_string),
            filename: name.map(str::to_string),
            content_length: None,
        };
        let jpeg = [0xFF, 0xD8, 0xFF, 0xE0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
        let junk = b"<html><body>502";
        let ok = |m: MediaMeta, head: &[u8], size: u64, hd: bool| {
            check_media(&m, size, head, hd).is_ok()
        };
        assert!(ok(
            meta(Some("image/jpeg"), Some("a.jpg")),
            &jpeg,
            100,
            false
        ));
        assert!(ok(meta(Some("text/plain"), None), &jpeg, 100, false));
        assert!(ok(meta(None, Some("a.bin")), b"\x01\x02", 2, false));
        assert!(ok(
            meta(Some("voice/speex"), Some("a.speex")),
            b"\x01\x02",
            2,
            true
        ));
        // Zero bytes, an HTML page, JSON, an image type over junk, unlabelled junk.
        assert!(!ok(meta(Some("image/jpeg"), Some("a.jpg")), &[], 0, false));
        assert!(!ok(
            meta(Some("text/html; charset=utf-8"), None),
            junk,
            15,
            false
        ));
        assert!(!ok(meta(Some("text/html"), Some("a.html")), junk, 15, true));
        assert!(!ok(meta(Some("application/json"), None), b"{", 1, false));
        assert!(!ok(meta(Some("image/jpeg"), None), junk, 15, false));
        assert!(!ok(meta(Some("text/plain"), None), junk, 15, false));
        assert!(!ok(meta(None, None), junk, 15, false));
    }

    #[test]
    fn answers_past_wechat_limits_are_refused() {
        let m = |t: Option<&str>, len: Option<u64>| MediaMeta {
            content_type: t.map(str::to_owned),
            filename: None,
            content_length: len,
        };
        let wechat = super::super::Limits::default();
        const MIB: u64 = 1 << 20;
        assert_eq!(
            max_answer_bytes(&m(Some("image/jpeg"), None), &wechat),
            11 * MIB
        );
        assert_eq!(
            max_answer_bytes(&m(Some("audio/amr"), None), &wechat),
            3 * MIB
        );
        assert_eq!(
            max_answer_bytes(&m(Some("voice/speex"), None), &wechat),
            3 * MIB
        );
        assert_eq!(max_answer_bytes(&m(None, None), &wechat), 11 * MIB);
        assert!(check_answer_size(&m(Some("image/jpeg"), Some(11 * MIB)), None, &wechat).is_ok());
        assert!(
            check_answer_size(&m(Some("image/jpeg"), Some(11 * MIB + 1)), None, &wechat).is_err()
        );
        assert!(check_answer_size(&m(Some("audio/amr"), Some(4 * MIB)), None, &wechat).is_err());
        assert!(check_answer_size(&m(Some("audio/amr"), None), Some(4 * MIB), &wechat).is_err());
        assert!(check_answer_size(&m(Some("audio/amr"), None), None, &wechat).is_ok());
        // Raised limits raise the cap; lowered ones never lower it below WeChat's.
        let raised = super::super::Limits {
            image: 512 * MIB,
            ..wechat
        };
        assert_eq!(
            max_answer_bytes(&m(Some("image/jpeg"), None), &raised),
            513 * MIB
        );
        let lowered = super::super::Limits {
            image: MIB,
            voice: MIB,
            video: MIB,
            thumb: 1,
        };
        assert_eq!(
            max_answer_bytes(&m(Some("image/jpeg"), None), &lowered),
            11 * MIB
        );
    }

    #[test]
    fn malformed_json_is_never_media() {
        assert_eq!(classify_json(br#"{"errcode": 4000"#), Outcome::Malformed);
        assert_eq!(classify_json(b"  {not json"), Outcome::Malformed);
        assert_eq!(classify_json(b"\xff\xd8\xff"), Outcome::NotJson);
    }

    use http::HeaderValue;

    /// Runs a download answer through the whole two-step classifier, as a transport would, and
    /// renders the result as one line.
    fn run(status: u16, headers: &[(&str, &[u8])], body: &[u8]) -> String {
        let mut map = HeaderMap::new();
        for (name, value) in headers {
            map.append(
                http::header::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                HeaderValue::from_bytes(value).unwrap(),
            );
        }
        match classify_head(status, &map) {
            Head::HttpError(s) => format!("http error {s}"),
            Head::Media(meta) => format!(
                "media name={:?} type={:?} len={:?}",
                meta.filename, meta.content_type, meta.content_length
            ),
            Head::Inspect => {
                let meta = media_meta(&map);
                let prefix = &body[..body.len().min(PEEK_LEN)];
                let bytes = || format!("bytes type={:?} len={}", meta.content_type, body.len());
                if !looks_like_json(meta.content_type.as_deref(), prefix) {
                    return bytes();
                }
                match classify_json(body) {
                    Outcome::Video { video_url } => format!("video {video_url}"),
                    Outcome::Error(e) => format!(
                        "error {} {:?} hint={:?} rid={:?}",
                        e.errcode, e.errmsg, e.hint, e.rid
                    ),
                    Outcome::UnknownJson(v) => format!("unknown json {v}"),
                    Outcome::Malformed => "malformed json".to_string(),
                    Outcome::NotJson => format!("not json, {}", bytes()),
                }
            }
        }
    }

    fn check(status: u16, headers: &[(&str, &[u8])], body: &[u8], expect: &str) {
        let actual = run(status, headers, body);
        assert_eq!(
            actual,
            expect,
            "\nheaders: {headers:?}\nbody: {}",
            String::from_utf8_lossy(body)
        );
    }

    const JPEG: &[u8] = &[
        0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, b'J', b'F', b'I', b'F', 0x00,
    ];

    #[test]
    fn download_shapes() {
        // §3.1 bytes, with the documented headers and their odd spelling.
        check(
            200,
            &[
                ("Content-Type", b"image/jpeg"),
                (
                    "Content-disposition",
                    b"attachment; filename=\"MEDIA_ID.jpg\"",
                ),
                ("Cache-Control", b"no-cache, must-revalidate"),
                ("Content-Length", b"339721"),
            ],
            JPEG,
            "media name=Some(\"MEDIA_ID.jpg\") type=Some(\"image/jpeg\") len=Some(339721)",
        );
        check(
            200,
            &[
                ("content-type", b"image/png"),
                ("CONTENT-DISPOSITION", b"attachment"),
            ],
            b"\x89PNG",
            "media name=None type=Some(\"image/png\") len=None",
        );
        // A disposition wins even over a JSON-looking body or type.
        check(
            200,
            &[
                ("Content-Type", b"application/json"),
                ("Content-Disposition", b"attachment; filename=\"data.json\""),
            ],
            b"{\"errcode\":40007}",
            "media name=Some(\"data.json\") type=Some(\"application/json\") len=None",
        );
        // §3.2 video as JSON, and as a raw byte stream.
        check(
            200,
            &[("Content-Type", b"application/json")],
            b"{\"video_url\":\"http://vweixinf.tc.qq.com/102/20202/snsvideodownload?filekey=abc\"}",
            "video http://vweixinf.tc.qq.com/102/20202/snsvideodownload?filekey=abc",
        );
        check(
            200,
            &[("Content-Type", b"text/plain")],
            b"{\"video_url\":\"http://v/x.mp4\"}",
            "video http://v/x.mp4",
        );
        check(
            200,
            &[],
            b"  \r\n{\"video_url\":\"http://v/x.mp4\",\"errcode\":0}",
            "video http://v/x.mp4",
        );
        check(
            200,
            &[("Content-Type", b"video/mp4")],
            b"\x00\x00\x00\x18ftypisom",
            "bytes type=Some(\"video/mp4\") len=12",
        );
        check(
            200,
            &[
                ("Content-Type", b"video/mp4"),
                (
                    "Content-Disposition",
                    b"attachment; filename=\"MEDIA_ID.mp4\"",
                ),
            ],
            b"\x00\x00\x00\x18ftypisom",
            "media name=Some(\"MEDIA_ID.mp4\") type=Some(\"video/mp4\") len=None",
        );
        // §3.3 error JSON, including token errors with suffixes.
        check(
            200,
            &[("Content-Type", b"application/json")],
            b"{\"errcode\":40007,\"errmsg\":\"invalid media_id\"}",
            "error 40007 \"invalid media_id\" hint=None rid=None",
        );
        check(
            200,
            &[("Content-Type", b"application/json; charset=utf-8")],
            b"{\"errcode\":40007,\"errmsg\":\"invalid media_id hint: [lI41IA03143712] rid: 6099e0e2-7115a6ac-00bb4fa8\"}",
            "error 40007 \"invalid media_id\" hint=Some(\"lI41IA03143712\") rid=Some(\"6099e0e2-7115a6ac-00bb4fa8\")",
        );
        check(
            200,
            &[("Content-Type", b"application/json")],
            b"{\"errcode\":42001,\"errmsg\":\"access_token expired hint: [I9JQua0689a456!]\"}",
            "error 42001 \"access_token expired\" hint=Some(\"I9JQua0689a456!\") rid=None",
        );
        check(
            200,
            &[("Content-Type", b"application/json")],
            b"{\"errcode\":40001,\"errmsg\":\"invalid credential, access_token is invalid or not latest, could get access_token by getStableAccessToken, more details at https://mmbizurl.cn/s/JtxxFh33r rid: 65a0ed3d-1cbb4c4e-6a3bd2a8\"}",
            "error 40001 \"invalid credential, access_token is invalid or not latest, could get access_token by getStableAccessToken, more details at https://mmbizurl.cn/s/JtxxFh33r\" hint=None rid=Some(\"65a0ed3d-1cbb4c4e-6a3bd2a8\")",
        );
        check(
            200,
            &[],
            b"{\"errcode\":46001,\"errmsg\":\"media data no exist\"}",
            "error 46001 \"media data no exist\" hint=None rid=None",
        );
        check(
            200,
            &[("Content-Type", b"application/json")],
            b"{\"errcode\":-1,\"errmsg\":\"system error\"}",
            "error -1 \"system error\" hint=None rid=None",
        );
        check(
            200,
            &[("Content-Type", b"application/json")],
            b"{\"errcode\":\"45011\",\"errmsg\":\"api minute-quota reach limit, must slower, retry next minute\"}",
            "error 45011 \"api minute-quota reach limit, must slower, retry next minute\" hint=None rid=None",
        );
        // Error with a video_url: still an error.
        check(
            200,
            &[("Content-Type", b"application/json")],
            b"{\"errcode\":40007,\"errmsg\":\"x\",\"video_url\":\"http://v\"}",
            "error 40007 \"x\" hint=None rid=None",
        );
        // §3.4 odd ones: bytes labelled text/plain with no disposition.
        check(
            200,
            &[("Content-Type", b"text/plain")],
            JPEG,
            "bytes type=Some(\"text/plain\") len=11",
        );
        check(
            200,
            &[("Content-Type", b"text/plain; charset=utf-8")],
            b"#!AMR\n\x3c\x48",
            "bytes type=Some(\"text/plain; charset=utf-8\") len=8",
        );
        // Error JSON with a non-standard parameter, or labelled text/plain.
        check(
            200,
            &[("Content-Type", b"application/json; encoding=utf-8")],
            b"{\"errcode\":40007,\"errmsg\":\"invalid media_id\"}",
            "error 40007 \"invalid media_id\" hint=None rid=None",
        );
        check(
            200,
            &[("Content-Type", b"Application/JSON;encoding=utf-8")],
            b"\xEF\xBB\xBF{\"errcode\":40007,\"errmsg\":\"invalid media_id\"}",
            "error 40007 \"invalid media_id\" hint=None rid=None",
        );
        check(
            200,
            &[("Content-Type", b"text/plain")],
            b"{\"errcode\":40001,\"errmsg\":\"invalid credential\"}",
            "error 40001 \"invalid credential\" hint=None rid=None",
        );
        check(
            200,
            &[("Content-Type", b"text/json")],
            b"{\"errcode\":40014,\"errmsg\":\"invalid access_token\"}",
            "error 40014 \"invalid access_token\" hint=None rid=None",
        );
        check(
            200,
            &[("Content-Type", b"application/problem+json")],
            b"{\"errcode\":48001,\"errmsg\":\"api unauthorized\"}",
            "error 48001 \"api unauthorized\" hint=None rid=None",
        );
        // A UTF-8 name both ways.
        let mut both = b"attachment; filename*=utf-8''%E6%B5%8B%E8%AF%95.jpg; filename=\"".to_vec();
        both.extend_from_slice("测试.jpg".as_bytes());
        both.push(b'"');
        check(
            200,
            &[
                ("Content-Type", b"image/jpeg"),
                ("Content-disposition", &both),
            ],
            JPEG,
            "media name=Some(\"测试.jpg\") type=Some(\"image/jpeg\") len=None",
        );
        let mut raw = b"attachment; filename=\"".to_vec();
        raw.extend_from_slice("测试.jpg".as_bytes());
        raw.push(b'"');
        check(
            200,
            &[("Content-disposition", &raw)],
            JPEG,
            "media name=Some(\"测试.jpg\") type=None len=None",
        );
        // §4 HD voice.
        check(
            200,
            &[
                ("Content-Type", b"voice/speex"),
                (
                    "Content-disposition",
                    b"attachment; filename=\"MEDIA_ID.speex\"",
                ),
            ],
            b"Speex   ",
            "media name=Some(\"MEDIA_ID.speex\") type=Some(\"voice/speex\") len=None",
        );
        check(
            200,
            &[("Content-Type", b"application/json")],
            b"{\"errcode\":48001,\"errmsg\":\"api unauthorized rid: 1-2-3\"}",
            "error 48001 \"api unauthorized\" hint=None rid=Some(\"1-2-3\")",
        );
        // Unknown JSON and broken JSON.
        check(
            200,
            &[("Content-Type", b"application/json")],
            b"{\"errcode\":0,\"errmsg\":\"ok\"}",
            "unknown json {\"errcode\":0,\"errmsg\":\"ok\"}",
        );
        check(
            200,
            &[("Content-Type", b"application/json")],
            b"{\"video_url\":null}",
            "unknown json {\"video_url\":null}",
        );
        check(
            200,
            &[("Content-Type", b"application/json")],
            b"{\"errcode\":\"oops\"}",
            "unknown json {\"errcode\":\"oops\"}",
        );
        check(
            200,
            &[("Content-Type", b"application/json")],
            b"[1,2]",
            "unknown json [1,2]",
        );
        check(
            200,
            &[("Content-Type", b"text/plain")],
            b"{ this is not json",
            // No media format starts with `{`: JSON cut short or mangled, never media.
            "malformed json",
        );
        check(
            200,
            &[("Content-Type", b"application/json")],
            b"",
            "not json, bytes type=Some(\"application/json\") len=0",
        );
        // No type, binary body.
        check(200, &[], JPEG, "bytes type=None len=11");
        check(200, &[], b"", "bytes type=None len=0");
        // inline without filename is not an attachment.
        check(
            200,
            &[
                ("Content-Type", b"application/json"),
                ("Content-Disposition", b"inline"),
            ],
            b"{\"errcode\":40007,\"errmsg\":\"invalid media_id\"}",
            "error 40007 \"invalid media_id\" hint=None rid=None",
        );
        // Non-2xx from a proxy, even with a disposition.
        check(
            502,
            &[("Content-Type", b"text/html")],
            b"<html>",
            "http error 502",
        );
        check(
            404,
            &[("Content-Disposition", b"attachment; filename=\"x.jpg\"")],
            b"",
            "http error 404",
        );
        check(
            206,
            &[("Content-Disposition", b"attachment")],
            JPEG,
            "media name=None type=None len=None",
        );
        // Bad Content-Length is ignored.
        check(
            200,
            &[
                ("Content-Disposition", b"attachment"),
                ("Content-Length", b"12x"),
            ],
            JPEG,
            "media name=None type=None len=None",
        );
    }

    #[test]
    fn json_sniffing() {
        let cases: &[(Option<&str>, &[u8], bool)] = &[
            (Some("application/json"), b"{", true),
            (Some("application/json; encoding=utf-8"), b"", true),
            (Some("APPLICATION/JSON ; charset=UTF-8"), b"\xFF\xD8", true),
            (Some("text/json"), b"x", true),
            (Some("application/vnd.api+json"), b"", true),
            (Some("text/plain"), b"{\"errcode\":1}", true),
            (Some("text/plain"), b"\n\t {", true),
            (Some("text/plain"), b"\xFF\xD8\xFF", false),
            (Some("text/plain"), b"", false),
            (Some("image/jpeg"), b"\xFF\xD8\xFF", false),
            (Some("image/jpeg"), b"{\"errcode\":1}", true),
            (Some("voice/speex"), b"Speex", false),
            (None, b"{", true),
            (None, b"\xEF\xBB\xBF {", true),
            (None, b"   ", false),
            (None, b"[", false),
        ];
        for &(ct, prefix, expected) in cases {
            assert_eq!(looks_like_json(ct, prefix), expected, "{ct:?} {prefix:?}");
        }
    }

    /// (requested type, body, expected rendering)
    fn check_upload(requested: MediaType, body: &str, expect: &str) {
        let actual = match parse_upload(body.as_bytes(), requested) {
            Ok(u) => format!("ok {} {} {}", u.media_type, u.media_id, u.created_at),
            Err(Error::WeChat(e)) => format!("wechat {} {:?}", e.errcode, e.errmsg),
            Err(Error::Parse { message, raw }) => {
                assert_eq!(raw, body.as_bytes());
                format!("parse: {message}")
            }
            Err(other) => format!("other {other}"),
        };
        assert_eq!(actual, expect, "body: {body}");
    }

    #[test]
    fn upload_shapes() {
        use MediaType::*;
        let cases: &[(MediaType, &str, &str)] = &[
            (
                Image,
                r#"{"type":"image","media_id":"MID_1","created_at":1700000000}"#,
                "ok image MID_1 1700000000",
            ),
            (
                Image,
                r#"{"errcode":0,"errmsg":"ok","type":"image","media_id":"MID_2","created_at":1700000001}"#,
                "ok image MID_2 1700000001",
            ),
            (
                Voice,
                r#"{"type":"voice","media_id":"V","created_at":"1700000002"}"#,
                "ok voice V 1700000002",
            ),
            (
                Video,
                r#"  {"type":"video","media_id":"VID","created_at":1700000003}  "#,
                "ok video VID 1700000003",
            ),
            (
                Thumb,
                r#"{"type":"thumb","thumb_media_id":"TH","created_at":1700000004}"#,
                "ok thumb TH 1700000004",
            ),
            (
                Thumb,
                r#"{"type":"thumb","media_id":"TH2","created_at":1700000005}"#,
                "ok thumb TH2 1700000005",
            ),
            (
                Thumb,
                r#"{"errcode":0,"errmsg":"ok","type":"thumb","thumb_media_id":"TH3","media_id":"","created_at":1}"#,
                "ok thumb TH3 1",
            ),
            (
                Image,
                r#"{"errcode":"0","media_id":"M","created_at":2}"#,
                "ok image M 2",
            ),
            (
                Image,
                r#"{"errcode":40005,"errmsg":"invalid file type hint: [abc]"}"#,
                "wechat 40005 \"invalid file type\"",
            ),
            (
                Image,
                r#"{"errcode":40006,"errmsg":"invalid meida size"}"#,
                "wechat 40006 \"invalid meida size\"",
            ),
            (
                Image,
                r#"{"errcode":41005,"errmsg":"media data missing"}"#,
                "wechat 41005 \"media data missing\"",
            ),
            (
                Image,
                r#"{"errcode":40004,"errmsg":"invalid media type"}"#,
                "wechat 40004 \"invalid media type\"",
            ),
            (
                Image,
                r#"{"errcode":"45011","errmsg":"api minute-quota reach limit"}"#,
                "wechat 45011 \"api minute-quota reach limit\"",
            ),
            (
                Image,
                r#"{"errcode":42001,"errmsg":"access_token expired"}"#,
                "wechat 42001 \"access_token expired\"",
            ),
            (
                Image,
                r#"{"type":"image","created_at":1}"#,
                "parse: upload answer has no media_id",
            ),
            (
                Image,
                r#"{"type":"image","media_id":"","created_at":1}"#,
                "parse: upload answer has no media_id",
            ),
            (
                Image,
                r#"{"type":"image","media_id":"M"}"#,
                "parse: upload answer has no created_at",
            ),
            (
                Image,
                r#"{"type":"image","media_id":"M","created_at":"soon"}"#,
                "parse: upload answer has a non-numeric created_at",
            ),
            (
                Image,
                r#"{"errcode":"x","media_id":"M","created_at":1}"#,
                "parse: upload answer has a non-numeric errcode",
            ),
            (
                Image,
                r#"["media_id"]"#,
                "parse: upload answer is not a JSON object",
            ),
        ];
        for &(t, body, expect) in cases {
            check_upload(t, body, expect);
        }
        for body in ["", "<html>502 Bad Gateway</html>", "{\"media_id\":"] {
            let err = parse_upload(body.as_bytes(), Image).unwrap_err();
            match err {
                Error::Parse { message, raw } => {
                    assert!(message.starts_with("upload answer: "), "{message}");
                    assert_eq!(raw, body.as_bytes());
                }
                other => panic!("{other:?}"),
            }
        }
    }

    fn check_token(body: &str, expect: &str) {
        let actual = match parse_token(body.as_bytes()) {
            Ok(g) => format!("ok {} {}", g.token.expose(), g.expires_in),
            Err(Error::WeChat(e)) => format!("wechat {} {:?}", e.errcode, e.errmsg),
            Err(Error::Parse { message, raw }) => {
                let raw = String::from_utf8(raw).unwrap();
                format!("parse: {message} raw={raw}")
            }
            Err(other) => format!("other {other}"),
        };
        assert_eq!(actual, expect, "body: {body}");
    }

    #[test]
    fn token_shapes() {
        let cases: &[(&str, &str)] = &[
            (
                r#"{"access_token":"ACCESS_TOKEN","expires_in":7200}"#,
                "ok ACCESS_TOKEN 7200",
            ),
            (r#"{"access_token":"T2","expires_in":"5000"}"#, "ok T2 5000"),
            (
                r#"{"errcode":0,"errmsg":"ok","access_token":"T3","expires_in":300}"#,
                "ok T3 300",
            ),
            (
                r#"{"errcode":40013,"errmsg":"invalid appid"}"#,
                "wechat 40013 \"invalid appid\"",
            ),
            (
                r#"{"errcode":40125,"errmsg":"invalid appsecret rid: 1-2"}"#,
                "wechat 40125 \"invalid appsecret\"",
            ),
            (
                r#"{"errcode":40164,"errmsg":"invalid ip 1.2.3.4 ipv6 ::ffff:1.2.3.4, not in whitelist"}"#,
                "wechat 40164 \"invalid ip 1.2.3.4 ipv6 ::ffff:1.2.3.4, not in whitelist\"",
            ),
            (
                r#"{"errcode":43002,"errmsg":"require POST method"}"#,
                "wechat 43002 \"require POST method\"",
            ),
            (
                r#"{"errcode":45009,"errmsg":"reach max api daily quota limit"}"#,
                "wechat 45009 \"reach max api daily quota limit\"",
            ),
            (
                r#"{"errcode":40002,"errmsg":"invalid grant_type"}"#,
                "wechat 40002 \"invalid grant_type\"",
            ),
            (
                r#"{"errcode":41002,"errmsg":"appid missing"}"#,
                "wechat 41002 \"appid missing\"",
            ),
            (
                r#"{"errcode":41004,"errmsg":"appsecret missing"}"#,
                "wechat 41004 \"appsecret missing\"",
            ),
            // Malformed: the raw bytes are kept with the token redacted.
            (
                r#"{"access_token":"SEKRIT","expires_in":"soon"}"#,
                r#"parse: token answer has no valid expires_in raw={"access_token":"[redacted]","expires_in":"soon"}"#,
            ),
            (
                r#"{"access_token" : "SE\"KRIT"}"#,
                r#"parse: token answer has no valid expires_in raw={"access_token" : "[redacted]"}"#,
            ),
            (
                r#"{"access_token":"SEKRIT","expires_in":-5}"#,
                r#"parse: token answer has no valid expires_in raw={"access_token":"[redacted]","expires_in":-5}"#,
            ),
            (
                r#"{"access_token":"","expires_in":7200}"#,
                r#"parse: token answer has no access_token raw={"access_token":"[redacted]","expires_in":7200}"#,
            ),
            (
                r#"{"expires_in":7200}"#,
                r#"parse: token answer has no access_token raw={"expires_in":7200}"#,
            ),
            (
                r#"{"access_token":SEKRIT,"expires_in":7200"#,
                r#"parse: token answer is not valid JSON raw={"access_token":[redacted],"expires_in":7200"#,
            ),
            (
                r#"{"access_token":"SEKRIT"#,
                r#"parse: token answer is not valid JSON raw={"access_token":"[redacted]""#,
            ),
            ("<html>", "parse: token answer is not valid JSON raw=<html>"),
        ];
        for &(body, expect) in cases {
            check_token(body, expect);
        }
        let grant = parse_token(br#"{"access_token":"SEKRIT","expires_in":7200}"#).unwrap();
        assert!(!format!("{grant:?}").contains("SEKRIT"));
    }
}
