//! Errors: WeChat's own error answers, local validation failures, and transport failures.
//!
//! The split follows oauth2-rs: the server's error response ([`Error::WeChat`]), the transport
//! ([`Error::Network`], [`Error::Http`], [`Error::Timeout`], [`Error::Cancelled`]), parsing
//! ([`Error::Parse`], keeping the raw bytes), and our own checks before sending
//! ([`Error::Validation`]).
//!
//! No `Display` or `Debug` output in this module can contain an access token: WeChat's messages
//! carry none, network messages pass through [`redact_url`], and raw bytes of a token answer are
//! redacted before they are stored.

use std::fmt;

use super::secret::redact_url;

/// An error answer from WeChat: `{"errcode":N,"errmsg":"…"}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WeChatError {
    /// The numeric code. Match on this, never on the message.
    pub errcode: i64,
    /// The message without its ` hint: [...]` and ` rid: ...` suffixes.
    pub errmsg: String,
    /// The `hint: [...]` value, without brackets.
    pub hint: Option<String>,
    /// The `rid: ...` request id, which WeChat support asks for.
    pub rid: Option<String>,
    /// The message exactly as it arrived.
    pub raw_errmsg: String,
}

impl WeChatError {
    /// Builds an error from a code and the raw `errmsg`, splitting off the ` hint: [..]` and
    /// ` rid: ..` suffixes (in either order).
    ///
    /// ```
    /// use wxmedia::protocol::error::WeChatError;
    /// let e = WeChatError::parse_errmsg(
    ///     40007,
    ///     "invalid media_id hint: [lI41IA03143712] rid: 6099e0e2-7115a6ac-00bb4fa8",
    /// );
    /// assert_eq!(e.errmsg, "invalid media_id");
    /// assert_eq!(e.hint.as_deref(), Some("lI41IA03143712"));
    /// assert_eq!(e.rid.as_deref(), Some("6099e0e2-7115a6ac-00bb4fa8"));
    /// ```
    pub fn parse_errmsg(errcode: i64, raw: &str) -> WeChatError {
        let mut rest = raw.trim_end();
        let mut hint = None;
        let mut rid = None;
        loop {
            if rid.is_none() {
                if let Some((before, value)) = split_suffix(rest, "rid:") {
                    let value = value.trim();
                    if !value.is_empty() && !value.contains(char::is_whitespace) {
                        rid = Some(value.to_owned());
                        rest = before;
                        continue;
                    }
                }
            }
            if hint.is_none() {
                if let Some((before, value)) = split_suffix(rest, "hint:") {
                    let value = value.trim();
                    if let Some(inner) = value.strip_prefix('[').and_then(|v| v.strip_suffix(']')) {
                        hint = Some(inner.to_owned());
                        rest = before;
                        continue;
                    }
                }
            }
            break;
        }
        WeChatError {
            errcode,
            errmsg: rest.trim_end().to_owned(),
            hint,
            rid,
            raw_errmsg: raw.to_owned(),
        }
    }

    /// What a client should do about this error (see [`action_for`]).
    pub fn action(&self) -> ErrorAction {
        action_for(self.errcode)
    }

    /// A one-sentence explanation of the code, if it is a known one (see [`describe`]).
    pub fn description(&self) -> Option<&'static str> {
        describe(self.errcode)
    }
}

/// The same as [`WeChatError::parse_errmsg`], as a free function.
pub fn parse_errmsg(errcode: i64, raw: &str) -> WeChatError {
    WeChatError::parse_errmsg(errcode, raw)
}

/// Splits `text` at the last `marker` that starts the text or follows whitespace, returning the
/// text before it (without trailing whitespace) and the text after the marker.
fn split_suffix<'a>(text: &'a str, marker: &str) -> Option<(&'a str, &'a str)> {
    let at = text.rfind(marker)?;
    let before = &text[..at];
    if !before.is_empty() && !before.ends_with(char::is_whitespace) {
        return None;
    }
    Some((before.trim_end(), &text[at + marker.len()..]))
}

impl fmt::Display for WeChatError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "WeChat error {}: {}", self.errcode, self.errmsg)?;
        if let Some(rid) = &self.rid {
            write!(f, " (rid: {rid})")?;
        }
        Ok(())
    }
}

impl std::error::Error for WeChatError {}

/// What a client should do about a WeChat `errcode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorAction {
    /// Transient (`-1` system error): retry with bounded backoff.
    RetryWithBackoff,
    /// The token is invalid or expired: drop it if it is the one that failed, refresh once,
    /// retry once.
    RefreshTokenAndRetry,
    /// Minute quota reached (45011): wait for the next minute.
    WaitNextMinute,
    /// Wrong appid, secret, IP whitelist or account permissions: never retry, fix the setup.
    Configuration,
    /// The caller sent something WeChat refuses (type, format, size, missing media_id).
    CallerError,
    /// The media_id does not exist or has expired (3 days): never retry.
    NotFound,
    /// The daily quota is used up (45009): never retry before it resets.
    DailyQuota,
    /// The account may not use this API (48001, e.g. HD voice on an unverified account).
    NotAuthorized,
    /// Cannot succeed by retrying (a client bug): never retry.
    Fatal,
    /// A code this client does not know: do not retry.
    Unknown,
}

impl ErrorAction {
    /// A stable SCREAMING_SNAKE name, e.g. `REFRESH_TOKEN_AND_RETRY`.
    pub const fn as_str(self) -> &'static str {
        match self {
            ErrorAction::RetryWithBackoff => "RETRY_WITH_BACKOFF",
            ErrorAction::RefreshTokenAndRetry => "REFRESH_TOKEN_AND_RETRY",
            ErrorAction::WaitNextMinute => "WAIT_NEXT_MINUTE",
            ErrorAction::Configuration => "CONFIGURATION",
            ErrorAction::CallerError => "CALLER_ERROR",
            ErrorAction::NotFound => "NOT_FOUND",
            ErrorAction::DailyQuota => "DAILY_QUOTA",
            ErrorAction::NotAuthorized => "NOT_AUTHORIZED",
            ErrorAction::Fatal => "FATAL",
            ErrorAction::Unknown => "UNKNOWN",
        }
    }
}

/// The errcodes other layers name (the Worker answers some in WeChat's shape): their one home,
/// beside the table that says what each means.
pub mod errcode {
    /// `invalid credential, access_token is invalid or not latest`.
    pub const INVALID_CREDENTIAL: i64 = 40001;
    /// `invalid media_id`.
    pub const INVALID_MEDIA_ID: i64 = 40007;
    /// `access_token missing`.
    pub const MISSING_ACCESS_TOKEN: i64 = 41001;
    /// `media_id missing`.
    pub const MISSING_MEDIA_ID: i64 = 41006;
    /// `api unauthorized`.
    pub const API_UNAUTHORIZED: i64 = 48001;
    /// `invalid grant_type`.
    pub const INVALID_GRANT_TYPE: i64 = 40002;
    /// `invalid appid`.
    pub const INVALID_APPID: i64 = 40013;
    /// `invalid appsecret`.
    pub const INVALID_APPSECRET: i64 = 40125;
    /// `invalid ip … not in whitelist`: the token API refuses the caller's address.
    pub const IP_NOT_WHITELISTED: i64 = 40164;
}

/// Every errcode this client knows: (code, action, description).
const TABLE: &[(i64, ErrorAction, &str)] = &[
    (-1, ErrorAction::RetryWithBackoff, "WeChat had a transient system error; retry after a short backoff."),
    (40001, ErrorAction::RefreshTokenAndRetry, "The access_token is invalid or no longer the latest (another process may have refreshed it); fetch a new token and retry once."),
    (40014, ErrorAction::RefreshTokenAndRetry, "The access_token is invalid; fetch a new token and retry once."),
    (42001, ErrorAction::RefreshTokenAndRetry, "The access_token has expired; fetch a new token and retry once."),
    (41001, ErrorAction::Configuration, "The request carried no access_token; configure credentials."),
    (40002, ErrorAction::Configuration, "The grant_type is invalid; check the token request configuration."),
    (40013, ErrorAction::Configuration, "The appid is invalid; check the configured appid (do not retry)."),
    (40125, ErrorAction::Configuration, "The appsecret is invalid; check the configured secret (do not retry)."),
    (40164, ErrorAction::Configuration, "The caller's IP address is not in the account's IP whitelist; add it in the WeChat console (do not retry)."),
    (41002, ErrorAction::Configuration, "The appid is missing from the token request; configure it."),
    (41004, ErrorAction::Configuration, "The appsecret is missing from the token request; configure it."),
    (43002, ErrorAction::Fatal, "The endpoint requires POST; this is a client bug."),
    (40004, ErrorAction::CallerError, "The media type is invalid; use image, voice, video or thumb."),
    (40005, ErrorAction::CallerError, "The file type is invalid: the file's format or extension does not fit the media type."),
    (40006, ErrorAction::CallerError, "The file size is invalid: it is empty or over the limit for its media type."),
    (41005, ErrorAction::Fatal, "The upload carried no media data (an empty part, a spent body re-sent, or a filename WeChat cannot read); this is a client bug."),
    (40007, ErrorAction::NotFound, "The media_id is invalid or has expired (temporary media lasts 3 days); do not retry."),
    (46001, ErrorAction::NotFound, "The media does not exist; do not retry."),
    (41006, ErrorAction::CallerError, "The media_id is missing; pass one."),
    (45009, ErrorAction::DailyQuota, "The account's daily API quota is used up; do not retry until tomorrow."),
    (45011, ErrorAction::WaitNextMinute, "The per-minute API quota is reached; retry after the next minute starts."),
    (48001, ErrorAction::NotAuthorized, "The account is not authorised for this API (HD voice needs a verified account); do not retry."),
];

/// What a client should do about `errcode`, from the table in upstream-api.md §5. Codes not in
/// the table give [`ErrorAction::Unknown`].
pub fn action_for(errcode: i64) -> ErrorAction {
    TABLE
        .iter()
        .find(|(code, _, _)| *code == errcode)
        .map_or(ErrorAction::Unknown, |(_, action, _)| *action)
}

/// One English sentence saying what `errcode` means and what to do, or `None` for an unknown
/// code.
pub fn describe(errcode: i64) -> Option<&'static str> {
    TABLE
        .iter()
        .find(|(code, _, _)| *code == errcode)
        .map(|(_, _, text)| *text)
}

/// The validation failure a caller-error errcode amounts to: WeChat refused what a local check
/// ([`super::validate`]) would have refused (40004 type, 40005 format, 40006 size, 41005 no
/// data). The one map between WeChat's refusals and the client's own codes; the Worker answers
/// both alike, and its WeChat-shaped routes map back with [`ValidationCode::wechat_errcode`].
pub fn validation_code_for(errcode: i64) -> Option<ValidationCode> {
    VALIDATION_ERRCODES
        .iter()
        .find(|(_, code, _)| *code == errcode)
        .map(|(v, _, _)| *v)
}

/// Validation codes and the errcode (with WeChat's own errmsg) that WeChat answers for the same
/// refusal.
const VALIDATION_ERRCODES: &[(ValidationCode, i64, &str)] = &[
    (ValidationCode::BadType, 40004, "invalid media type"),
    (ValidationCode::BadFormat, 40005, "invalid file type"),
    (ValidationCode::TooLarge, 40006, "invalid meida size"),
    (ValidationCode::Empty, 41005, "media data missing"),
];

/// Every errcode in the table, in table order.
pub fn known_errcodes() -> impl Iterator<Item = i64> {
    TABLE.iter().map(|(code, _, _)| *code)
}

/// The kind of a [`ValidationError`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ValidationCode {
    /// Over the size limit for the media type.
    TooLarge,
    /// Not a recognised format, or a format the media type does not accept.
    BadFormat,
    /// Zero bytes.
    Empty,
    /// Not one of the four media types.
    BadType,
    /// A media_id that is empty, blank, too long or contains control characters.
    BadMediaId,
    /// Unusable client configuration, such as a base URL that is not a valid URL.
    BadConfig,
}

impl ValidationCode {
    /// The stable code string: `TOO_LARGE`, `BAD_FORMAT`, `EMPTY`, `BAD_TYPE`, `BAD_MEDIA_ID`,
    /// `BAD_CONFIG`.
    pub const fn as_str(self) -> &'static str {
        match self {
            ValidationCode::TooLarge => "TOO_LARGE",
            ValidationCode::BadFormat => "BAD_FORMAT",
            ValidationCode::Empty => "EMPTY",
            ValidationCode::BadType => "BAD_TYPE",
            ValidationCode::BadMediaId => "BAD_MEDIA_ID",
            ValidationCode::BadConfig => "BAD_CONFIG",
        }
    }

    /// The errcode and errmsg WeChat answers for the same refusal, if it has one (see
    /// [`validation_code_for`]).
    pub fn wechat_errcode(self) -> Option<(i64, &'static str)> {
        VALIDATION_ERRCODES
            .iter()
            .find(|(v, _, _)| *v == self)
            .map(|(_, code, msg)| (*code, *msg))
    }
}

impl fmt::Display for ValidationCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A local check failed before anything was sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidationError {
    /// What kind of failure.
    pub code: ValidationCode,
    /// A human sentence, e.g. `thumb is 70000 bytes; the limit is 65536 bytes`.
    pub message: String,
}

impl ValidationError {
    /// Builds a validation error.
    pub fn new(code: ValidationCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }
}

impl fmt::Display for ValidationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ValidationError {}

impl From<super::media_type::UnknownMediaType> for ValidationError {
    fn from(e: super::media_type::UnknownMediaType) -> Self {
        ValidationError::new(ValidationCode::BadType, e.to_string())
    }
}

/// Everything that can go wrong talking to WeChat.
#[derive(Clone, PartialEq, Eq)]
pub enum Error {
    /// WeChat answered with an error JSON.
    WeChat(WeChatError),
    /// A local check refused the input before sending.
    Validation(ValidationError),
    /// The overall deadline passed.
    Timeout {
        /// What was being fetched: `"token"` or `"media"`.
        what: &'static str,
        /// The deadline, in milliseconds.
        after_ms: u64,
    },
    /// The transport failed (DNS, TLS, connection reset, CORS…). The message is redacted when
    /// printed; build it with [`Error::network`] to redact it when stored too.
    Network(String),
    /// A non-2xx HTTP status (WeChat itself always answers 200, so this is a proxy or the edge).
    Http {
        /// The status code.
        status: u16,
    },
    /// The answer could not be understood.
    Parse {
        /// What was wrong.
        message: String,
        /// The body as received (with any access token redacted).
        raw: Vec<u8>,
    },
    /// The caller cancelled the operation.
    Cancelled,
}

/// The shortest run of a long secret that is redacted on its own: an echo of part of a token
/// (its first 60 characters, say) is as telling as the whole.
pub const MIN_SECRET_RUN: usize = 10;

/// Replaces every occurrence of each secret (at least 4 bytes long) in `text` with
/// `[redacted]`, and every run of [`MIN_SECRET_RUN`] or more consecutive bytes of a longer
/// secret as well.
pub fn redact_secrets(text: &str, secrets: &[&str]) -> String {
    let bytes = text.as_bytes();
    // Which bytes of `text` belong to a secret's run (an interval count per byte boundary).
    let mut depth = vec![0i32; bytes.len() + 1];
    let mut any = false;
    for secret in secrets
        .iter()
        .map(|s| s.as_bytes())
        .filter(|s| s.len() >= 4)
    {
        let min = secret.len().min(MIN_SECRET_RUN);
        // Longest common substring runs, row by row: run[j + 1] is the length of the common run
        // ending at text[i] and secret[j].
        let mut prev = vec![0usize; secret.len() + 1];
        let mut run = vec![0usize; secret.len() + 1];
        for (i, &b) in bytes.iter().enumerate() {
            let mut longest = 0;
            for (j, &c) in secret.iter().enumerate() {
                run[j + 1] = if b == c { prev[j] + 1 } else { 0 };
                longest = longest.max(run[j + 1]);
            }
            if longest >= min {
                depth[i + 1 - longest] += 1;
                depth[i + 1] -= 1;
                any = true;
            }
            std::mem::swap(&mut prev, &mut run);
        }
    }
    if !any {
        return text.to_string();
    }
    let mut hidden = vec![false; bytes.len()];
    let mut open = 0;
    for (i, hide) in hidden.iter_mut().enumerate() {
        open += depth[i];
        *hide = open > 0;
    }
    // Whole characters only: a run that starts or ends inside one hides all of it.
    for (at, ch) in text.char_indices() {
        let span = at..at + ch.len_utf8();
        if span.len() > 1 && hidden[span.clone()].iter().any(|&h| h) {
            hidden[span].fill(true);
        }
    }
    let mut out = String::with_capacity(text.len());
    let mut start = 0;
    while start < bytes.len() {
        let end = (start..bytes.len())
            .find(|&k| hidden[k] != hidden[start])
            .unwrap_or(bytes.len());
        if hidden[start] {
            out.push_str("[redacted]");
        } else {
            out.push_str(&text[start..end]);
        }
        start = end;
    }
    out
}

impl Error {
    /// Removes every secret in `secrets` from text that came from upstream (an `errmsg` that
    /// echoes the token, a raw body), so it can reach a caller.
    pub fn redact(&mut self, secrets: &[&str]) {
        match self {
            Error::WeChat(e) => {
                e.errmsg = redact_secrets(&e.errmsg, secrets);
                e.raw_errmsg = redact_secrets(&e.raw_errmsg, secrets);
                e.hint = e.hint.as_deref().map(|h| redact_secrets(h, secrets));
                e.rid = e.rid.as_deref().map(|r| redact_secrets(r, secrets));
            }
            Error::Parse { message, raw } => {
                *message = redact_secrets(message, secrets);
                let text = String::from_utf8_lossy(raw);
                if secrets.iter().any(|s| s.len() >= 4 && text.contains(s)) {
                    *raw = redact_secrets(&text, secrets).into_bytes();
                }
            }
            Error::Network(message) => *message = redact_secrets(message, secrets),
            Error::Validation(_)
            | Error::Timeout { .. }
            | Error::Http { .. }
            | Error::Cancelled => {}
        }
    }

    /// A network error whose message has any `access_token=`/`secret=` values redacted.
    pub fn network(message: impl AsRef<str>) -> Self {
        Error::Network(redact_url(message.as_ref()))
    }

    /// A stable code string for callers to branch on: `WECHAT`, the [`ValidationCode`] string,
    /// `TIMEOUT`, `NETWORK`, `HTTP`, `PARSE` or `CANCELLED`.
    pub fn code(&self) -> &'static str {
        match self {
            Error::WeChat(_) => "WECHAT",
            Error::Validation(v) => v.code.as_str(),
            Error::Timeout { .. } => "TIMEOUT",
            Error::Network(_) => "NETWORK",
            Error::Http { .. } => "HTTP",
            Error::Parse { .. } => "PARSE",
            Error::Cancelled => "CANCELLED",
        }
    }

    /// The WeChat errcode, if this is a WeChat error.
    pub fn errcode(&self) -> Option<i64> {
        match self {
            Error::WeChat(e) => Some(e.errcode),
            _ => None,
        }
    }
}

impl From<WeChatError> for Error {
    fn from(e: WeChatError) -> Self {
        Error::WeChat(e)
    }
}

impl From<ValidationError> for Error {
    fn from(e: ValidationError) -> Self {
        Error::Validation(e)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::WeChat(e) => e.fmt(f),
            Error::Validation(e) => e.fmt(f),
            Error::Timeout { what, after_ms } => {
                write!(f, "the {what} request timed out after {after_ms} ms")
            }
            Error::Network(message) => write!(f, "network error: {}", redact_url(message)),
            Error::Http { status } => write!(f, "upstream answered HTTP {status}"),
            Error::Parse { message, raw } => write!(
                f,
                "could not understand the upstream answer ({} bytes): {message}",
                raw.len()
            ),
            Error::Cancelled => f.write_str("the operation was cancelled"),
        }
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::WeChat(e) => f.debug_tuple("WeChat").field(e).finish(),
            Error::Validation(e) => f.debug_tuple("Validation").field(e).finish(),
            Error::Timeout { what, after_ms } => f
                .debug_struct("Timeout")
                .field("what", what)
                .field("after_ms", after_ms)
                .finish(),
            Error::Network(message) => f
                .debug_tuple("Network")
                .field(&redact_url(message))
                .finish(),
            Error::Http { status } => f.debug_struct("Http").field("status", status).finish(),
            Error::Parse { message, raw } => {
                const PREVIEW: usize = 256;
                let shown = &raw[..raw.len().min(PREVIEW)];
                let mut preview = String::from_utf8_lossy(shown).into_owned();
                if raw.len() > PREVIEW {
                    preview.push('…');
                }
                f.debug_struct("Parse")
                    .field("message", message)
                    .field("raw", &preview)
                    .field("raw_len", &raw.len())
                    .finish()
            }
            Error::Cancelled => f.write_str("Cancelled"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::WeChat(e) => Some(e),
            Error::Validation(e) => Some(e),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errmsg_suffixes() {
        /// (errcode, raw, errmsg, hint, rid)
        type Case<'a> = (i64, &'a str, &'a str, Option<&'a str>, Option<&'a str>);
        let cases: &[Case] = &[
            (
                40007,
                "invalid media_id hint: [lI41IA03143712] rid: 6099e0e2-7115a6ac-00bb4fa8",
                "invalid media_id",
                Some("lI41IA03143712"),
                Some("6099e0e2-7115a6ac-00bb4fa8"),
            ),
            (
                42001,
                "access_token expired hint: [I9JQua0689a456!]",
                "access_token expired",
                Some("I9JQua0689a456!"),
                None,
            ),
            (
                46001,
                "media data no exist rid: 6099e0e2-7115a6ac-00bb4fa8",
                "media data no exist",
                None,
                Some("6099e0e2-7115a6ac-00bb4fa8"),
            ),
            (
                40001,
                "invalid credential, access_token is invalid or not latest, could get access_token by getStableAccessToken, more details at https://mmbizurl.cn/s/JtxxFh33r rid: 65a0ed3d-1cbb4c4e-6a3bd2a8",
                "invalid credential, access_token is invalid or not latest, could get access_token by getStableAccessToken, more details at https://mmbizurl.cn/s/JtxxFh33r",
                None,
                Some("65a0ed3d-1cbb4c4e-6a3bd2a8"),
            ),
            (
                40001,
                "invalid credential, access_token is invalid or not latest hint: [Wx0dKa0aa1b2c3] rid: 1-2-3",
                "invalid credential, access_token is invalid or not latest",
                Some("Wx0dKa0aa1b2c3"),
                Some("1-2-3"),
            ),
            // rid before hint
            (-1, "system error rid: abc hint: [h1]", "system error", Some("h1"), Some("abc")),
            (40004, "invalid media type", "invalid media type", None, None),
            (0, "ok", "ok", None, None),
            (-1, "", "", None, None),
            // Not suffixes: no space before the marker, or no brackets, or a blank rid.
            (1, "xhint: [a]", "xhint: [a]", None, None),
            (1, "bad hint: a", "bad hint: a", None, None),
            (1, "bad rid: ", "bad rid:", None, None),
            (45011, "api minute-quota reach limit, must slower, retry next minute", "api minute-quota reach limit, must slower, retry next minute", None, None),
        ];
        for &(code, raw, errmsg, hint, rid) in cases {
            let e = parse_errmsg(code, raw);
            assert_eq!(e, WeChatError::parse_errmsg(code, raw));
            assert_eq!(e.errcode, code);
            assert_eq!(e.errmsg, errmsg, "raw: {raw}");
            assert_eq!(e.hint.as_deref(), hint, "raw: {raw}");
            assert_eq!(e.rid.as_deref(), rid, "raw: {raw}");
            assert_eq!(e.raw_errmsg, raw);
        }
    }

    #[test]
    fn action_table() {
        use ErrorAction::*;
        let expected = [
            (-1, RetryWithBackoff),
            (40001, RefreshTokenAndRetry),
            (40014, RefreshTokenAndRetry),
            (42001, RefreshTokenAndRetry),
            (41001, Configuration),
            (40002, Configuration),
            (40013, Configuration),
            (40125, Configuration),
            (40164, Configuration),
            (41002, Configuration),
            (41004, Configuration),
            (43002, Fatal),
            (40004, CallerError),
            (40005, CallerError),
            (40006, CallerError),
            (41005, Fatal),
            (40007, NotFound),
            (46001, NotFound),
            (41006, CallerError),
            (45009, DailyQuota),
            (45011, WaitNextMinute),
            (48001, NotAuthorized),
        ];
        for (code, action) in expected {
            assert_eq!(action_for(code), action, "errcode {code}");
            let text = describe(code).unwrap_or_else(|| panic!("no description for {code}"));
            assert!(text.ends_with('.'), "{code}: {text}");
            assert!(!text.contains('\n'));
        }
        assert_eq!(known_errcodes().count(), expected.len());
        assert_eq!(action_for(0), Unknown);
        assert_eq!(action_for(99999), Unknown);
        assert_eq!(describe(99999), None);
        let e = WeChatError::parse_errmsg(45011, "api minute-quota reach limit");
        assert_eq!(e.action(), WaitNextMinute);
        assert!(e.description().unwrap().contains("next minute"));
        assert_eq!(RefreshTokenAndRetry.as_str(), "REFRESH_TOKEN_AND_RETRY");
    }

    #[test]
    fn echoed_secrets_are_redacted() {
        let mut e = Error::WeChat(WeChatError::parse_errmsg(
            40001,
            "invalid credential, access_token is TOKEN-123 secret s3cret hint: [TOKEN-123]",
        ));
        e.redact(&["TOKEN-123", "s3cret", ""]);
        let shown = format!("{e} {e:?}");
        assert!(
            !shown.contains("TOKEN-123") && !shown.contains("s3cret"),
            "{shown}"
        );
        let mut p = Error::Parse {
            message: "bad TOKEN-123".into(),
            raw: b"{\"x\":\"TOKEN-123\"}".to_vec(),
        };
        p.redact(&["TOKEN-123"]);
        let Error::Parse { message, raw } = p else {
            unreachable!()
        };
        assert_eq!(message, "bad [redacted]");
        assert_eq!(raw, b"{\"x\":\"[redacted]\"}");
    }

    #[test]
    fn long_runs_of_a_secret_are_redacted_too() {
        let token =
            "81_qZ3xPp0aW9vLk2Rt7mB4cN8dF1gH5jK6lM0nO3pQ2rS9tU4vW7xY1zA5bC8dE2fG6hI0jK3lM7nO1pQ5rS";
        // The token's first 60 characters, a middle run, and its last 10.
        let text = format!(
            "errmsg {} hint [{}] tail {} short {}",
            &token[..60],
            &token[20..45],
            &token[token.len() - 10..],
            &token[30..39]
        );
        let out = redact_secrets(&text, &[token]);
        assert_eq!(
            out,
            format!(
                "errmsg [redacted] hint [[redacted]] tail [redacted] short {}",
                &token[30..39]
            )
        );
        // Short secrets are redacted whole only; runs inside multi-byte characters hide the
        // whole character; nothing to hide leaves the text alone.
        assert_eq!(
            redact_secrets("key abcd and abc", &["abcd"]),
            "key [redacted] and abc"
        );
        let wide = "秘密秘密秘密-0123456789";
        assert_eq!(
            redact_secrets(&format!("x{}y", &wide[3..]), &[wide]),
            "x[redacted]y"
        );
        assert_eq!(
            redact_secrets("nothing here", &[token, "abcd"]),
            "nothing here"
        );
        assert_eq!(redact_secrets("", &[token]), "");
    }

    #[test]
    fn caller_errcodes_map_both_ways() {
        for code in [40004, 40005, 40006, 41005] {
            let v = validation_code_for(code).unwrap();
            assert_eq!(v.wechat_errcode().map(|(c, _)| c), Some(code));
        }
        assert_eq!(validation_code_for(40007), None);
        assert_eq!(validation_code_for(-1), None);
        assert_eq!(ValidationCode::BadConfig.wechat_errcode(), None);
        assert_eq!(
            ValidationCode::TooLarge.wechat_errcode(),
            Some((40006, "invalid meida size"))
        );
    }

    #[test]
    fn validation_codes() {
        let pairs = [
            (ValidationCode::TooLarge, "TOO_LARGE"),
            (ValidationCode::BadFormat, "BAD_FORMAT"),
            (ValidationCode::Empty, "EMPTY"),
            (ValidationCode::BadType, "BAD_TYPE"),
            (ValidationCode::BadMediaId, "BAD_MEDIA_ID"),
            (ValidationCode::BadConfig, "BAD_CONFIG"),
        ];
        for (code, s) in pairs {
            assert_eq!(code.as_str(), s);
            assert_eq!(code.to_string(), s);
        }
        let v: ValidationError = "news"
            .parse::<super::super::MediaType>()
            .unwrap_err()
            .into();
        assert_eq!(v.code, ValidationCode::BadType);
        assert!(v.message.contains("news"));
    }

    #[test]
    fn display_never_leaks_tokens() {
        let errors = [
            Error::WeChat(WeChatError::parse_errmsg(40007, "invalid media_id rid: r-1")),
            Error::Validation(ValidationError::new(
                ValidationCode::TooLarge,
                "thumb is 70000 bytes; the limit is 65536 bytes",
            )),
            Error::Timeout {
                what: "media",
                after_ms: 15000,
            },
            Error::Network(
                "error sending request for url (https://h/cgi-bin/media/get?access_token=SEKRIT&media_id=m)"
                    .into(),
            ),
            Error::network("fetch failed: https://h/cgi-bin/token?appid=a&secret=SEKRIT"),
            Error::Http { status: 502 },
            Error::Parse {
                message: "expected value".into(),
                raw: b"<html>".to_vec(),
            },
            Error::Cancelled,
        ];
        let expected_display = [
            "WeChat error 40007: invalid media_id (rid: r-1)",
            "thumb is 70000 bytes; the limit is 65536 bytes",
            "the media request timed out after 15000 ms",
            "network error: error sending request for url (https://h/cgi-bin/media/get?access_token=[redacted]&media_id=m)",
            "network error: fetch failed: https://h/cgi-bin/token?appid=a&secret=[redacted]",
            "upstream answered HTTP 502",
            "could not understand the upstream answer (6 bytes): expected value",
            "the operation was cancelled",
        ];
        let expected_codes = [
            "WECHAT",
            "TOO_LARGE",
            "TIMEOUT",
            "NETWORK",
            "NETWORK",
            "HTTP",
            "PARSE",
            "CANCELLED",
        ];
        for ((e, display), code) in errors.iter().zip(expected_display).zip(expected_codes) {
            assert_eq!(e.to_string(), display);
            assert_eq!(e.code(), code);
            let debug = format!("{e:?}");
            assert!(!debug.contains("SEKRIT"), "{debug}");
        }
        assert_eq!(errors[0].errcode(), Some(40007));
        assert_eq!(errors[2].errcode(), None);
        // The constructor stores the redacted form.
        assert_eq!(
            errors[4],
            Error::Network(
                "fetch failed: https://h/cgi-bin/token?appid=a&secret=[redacted]".into()
            )
        );
        assert!(std::error::Error::source(&errors[0]).is_some());
        assert!(format!("{:?}", errors[6]).contains("<html>"));
    }
}
