//! Errors as answered to clients: `{"error":{"code","message","errcode"?}}` with an HTTP status
//! (REST routes), or WeChat's own `{"errcode","errmsg"}` with HTTP 200 (compatible routes).
//!
//! Messages come from the core's errors, which never contain the access token, or are written
//! here; none carries a URL with a query.

use serde_json::json;
use wxmedia::protocol::{
    errcode, validation_code_for, Error, ErrorAction, ValidationCode, ValidationError,
};

/// Every error the Worker answers: its stable code, HTTP status, the errcode its WeChat-shaped
/// routes answer, and what it means in plain words (which the console shows). The one home of
/// these facts: the REST answer, the compatible answer and the console all read them from here.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    /// 400: a request the Worker cannot read.
    BadRequest,
    /// 400: not a media id.
    BadMediaId,
    /// 400: no media id given (WeChat-shaped routes).
    MissingMediaId,
    /// 400: not a media type.
    BadType,
    /// 415: a format the media type does not accept.
    BadFormat,
    /// 413: over the media type's size limit.
    TooLarge,
    /// 400: no bytes.
    Empty,
    /// 401: no or wrong API key.
    Unauthorized,
    /// 403: a download without a signed URL or a key.
    SignatureRequired,
    /// 403: a signed URL past its expiry.
    SignatureExpired,
    /// 403: a signed URL whose signature does not match.
    SignatureInvalid,
    /// 403: the WeChat account may not use this API.
    NotAuthorized,
    /// 404: no such media (or route).
    NotFound,
    /// 404: no such app (`/apps/{appid}/…` for an app the deployment does not serve).
    UnknownApp,
    /// 405: a method the route does not take.
    MethodNotAllowed,
    /// 429: WeChat's daily quota is used up.
    QuotaExceeded,
    /// 429: WeChat's per-minute quota is used up.
    RateLimited,
    /// 500: a setting is missing or malformed.
    Config,
    /// 500: the Worker itself failed.
    Internal,
    /// 502: WeChat refused the Worker's own credentials.
    UpstreamAuth,
    /// 502: WeChat failed, or answered something unusable.
    UpstreamError,
    /// 502: WeChat's answer was cut short.
    UpstreamTruncated,
    /// 504: WeChat did not answer in time.
    UpstreamTimeout,
    /// 415: `?format=wav` on media that is not voice.
    NotVoice,
    /// 422: voice that cannot be decoded (`?format=wav`).
    BadVoice,
    /// 400: a WAV uploaded as voice that cannot be read (cut short, sizes past its end, zero
    /// channels, an impossible rate).
    BadAudio,
    /// 415: a WAV uploaded as voice in a kind that is not read (ADPCM, A-law, RF64…).
    UnsupportedAudio,
    /// 403: a push (or URL check) whose signature or timestamp does not verify.
    PushRefused,
    /// 400: a push that is not a WeChat message (broken XML, a DOCTYPE or entity, a bad
    /// envelope, another app's message).
    PushMalformed,
}

impl ErrorCode {
    /// Every code, for tests and documentation.
    pub const ALL: [ErrorCode; 29] = [
        ErrorCode::BadRequest,
        ErrorCode::BadMediaId,
        ErrorCode::MissingMediaId,
        ErrorCode::BadType,
        ErrorCode::BadFormat,
        ErrorCode::TooLarge,
        ErrorCode::Empty,
        ErrorCode::Unauthorized,
        ErrorCode::SignatureRequired,
        ErrorCode::SignatureExpired,
        ErrorCode::SignatureInvalid,
        ErrorCode::NotAuthorized,
        ErrorCode::NotFound,
        ErrorCode::UnknownApp,
        ErrorCode::MethodNotAllowed,
        ErrorCode::QuotaExceeded,
        ErrorCode::RateLimited,
        ErrorCode::Config,
        ErrorCode::Internal,
        ErrorCode::UpstreamAuth,
        ErrorCode::UpstreamError,
        ErrorCode::UpstreamTruncated,
        ErrorCode::UpstreamTimeout,
        ErrorCode::NotVoice,
        ErrorCode::BadVoice,
        ErrorCode::BadAudio,
        ErrorCode::UnsupportedAudio,
        ErrorCode::PushRefused,
        ErrorCode::PushMalformed,
    ];

    /// The code whose [`ErrorCode::as_str`] is `code`.
    pub fn parse(code: &str) -> Option<ErrorCode> {
        Self::ALL.into_iter().find(|c| c.as_str() == code)
    }

    /// The stable string clients branch on.
    pub const fn as_str(self) -> &'static str {
        match self {
            ErrorCode::BadRequest => "BAD_REQUEST",
            ErrorCode::BadMediaId => "BAD_MEDIA_ID",
            ErrorCode::MissingMediaId => "MISSING_MEDIA_ID",
            ErrorCode::BadType => "BAD_TYPE",
            ErrorCode::BadFormat => "BAD_FORMAT",
            ErrorCode::TooLarge => "TOO_LARGE",
            ErrorCode::Empty => "EMPTY",
            ErrorCode::Unauthorized => "UNAUTHORIZED",
            ErrorCode::SignatureRequired => "SIGNATURE_REQUIRED",
            ErrorCode::SignatureExpired => "SIGNATURE_EXPIRED",
            ErrorCode::SignatureInvalid => "SIGNATURE_INVALID",
            ErrorCode::NotAuthorized => "NOT_AUTHORIZED",
            ErrorCode::NotFound => "NOT_FOUND",
            ErrorCode::UnknownApp => "UNKNOWN_APP",
            ErrorCode::MethodNotAllowed => "METHOD_NOT_ALLOWED",
            ErrorCode::QuotaExceeded => "QUOTA_EXCEEDED",
            ErrorCode::RateLimited => "RATE_LIMITED",
            ErrorCode::Config => "CONFIG",
            ErrorCode::Internal => "INTERNAL",
            ErrorCode::UpstreamAuth => "UPSTREAM_AUTH",
            ErrorCode::UpstreamError => "UPSTREAM_ERROR",
            ErrorCode::UpstreamTruncated => "UPSTREAM_TRUNCATED",
            ErrorCode::UpstreamTimeout => "UPSTREAM_TIMEOUT",
            ErrorCode::NotVoice => "NOT_VOICE",
            ErrorCode::BadVoice => "BAD_VOICE",
            ErrorCode::BadAudio => "BAD_AUDIO",
            ErrorCode::UnsupportedAudio => "UNSUPPORTED_AUDIO",
            ErrorCode::PushRefused => "PUSH_REFUSED",
            ErrorCode::PushMalformed => "PUSH_MALFORMED",
        }
    }

    /// The HTTP status of the REST answer.
    pub const fn status(self) -> u16 {
        match self {
            ErrorCode::BadRequest
            | ErrorCode::BadMediaId
            | ErrorCode::MissingMediaId
            | ErrorCode::BadType
            | ErrorCode::Empty
            | ErrorCode::BadAudio
            | ErrorCode::PushMalformed => 400,
            ErrorCode::Unauthorized => 401,
            ErrorCode::SignatureRequired
            | ErrorCode::SignatureExpired
            | ErrorCode::SignatureInvalid
            | ErrorCode::NotAuthorized
            | ErrorCode::PushRefused => 403,
            ErrorCode::NotFound | ErrorCode::UnknownApp => 404,
            ErrorCode::MethodNotAllowed => 405,
            ErrorCode::TooLarge => 413,
            ErrorCode::BadFormat | ErrorCode::NotVoice | ErrorCode::UnsupportedAudio => 415,
            ErrorCode::BadVoice => 422,
            ErrorCode::QuotaExceeded | ErrorCode::RateLimited => 429,
            ErrorCode::Config | ErrorCode::Internal => 500,
            ErrorCode::UpstreamAuth | ErrorCode::UpstreamError | ErrorCode::UpstreamTruncated => {
                502
            }
            ErrorCode::UpstreamTimeout => 504,
        }
    }

    /// The errcode and errmsg of a WeChat-shaped answer for this error, when WeChat has one of its
    /// own for it (else the answer is `-1 system error`).
    pub fn wechat_errcode(self) -> Option<(i64, &'static str)> {
        match self {
            ErrorCode::Unauthorized => Some((
                errcode::INVALID_CREDENTIAL,
                "invalid credential, access_token is invalid or not latest",
            )),
            ErrorCode::BadMediaId => Some((errcode::INVALID_MEDIA_ID, "invalid media_id")),
            ErrorCode::MissingMediaId => Some((errcode::MISSING_MEDIA_ID, "media_id missing")),
            // A misconfigured proxy will not get better on retry: never -1, which SDKs retry.
            ErrorCode::Config => Some((
                errcode::API_UNAUTHORIZED,
                "api unauthorized: the proxy is not configured",
            )),
            other => other.validation().and_then(ValidationCode::wechat_errcode),
        }
    }

    /// The core's validation code this error is, if it is one.
    const fn validation(self) -> Option<ValidationCode> {
        match self {
            ErrorCode::TooLarge => Some(ValidationCode::TooLarge),
            // Audio WeChat would not take as voice: its "invalid file type".
            ErrorCode::BadFormat | ErrorCode::BadAudio | ErrorCode::UnsupportedAudio => {
                Some(ValidationCode::BadFormat)
            }
            ErrorCode::Empty => Some(ValidationCode::Empty),
            ErrorCode::BadType => Some(ValidationCode::BadType),
            ErrorCode::BadMediaId => Some(ValidationCode::BadMediaId),
            _ => None,
        }
    }

    /// The error a failed local check is.
    pub const fn from_validation(code: ValidationCode) -> ErrorCode {
        match code {
            ValidationCode::TooLarge => ErrorCode::TooLarge,
            ValidationCode::BadFormat => ErrorCode::BadFormat,
            ValidationCode::Empty => ErrorCode::Empty,
            ValidationCode::BadType => ErrorCode::BadType,
            ValidationCode::BadMediaId => ErrorCode::BadMediaId,
            _ => ErrorCode::Config,
        }
    }

    /// What it means, in plain words (the console's title for it).
    pub const fn title(self) -> &'static str {
        match self {
            ErrorCode::BadRequest => "The proxy could not read the request",
            ErrorCode::BadMediaId | ErrorCode::MissingMediaId => "That is not a valid media id",
            ErrorCode::BadType => "The media type was refused",
            ErrorCode::BadFormat => "This kind of file is not accepted",
            ErrorCode::TooLarge => "The file is too large",
            ErrorCode::Empty => "The file is empty",
            ErrorCode::Unauthorized => "The API key was not accepted",
            ErrorCode::SignatureRequired => "This download needs a signed URL or an API key",
            ErrorCode::SignatureExpired => "The signed URL has expired",
            ErrorCode::SignatureInvalid => "The signed URL is not valid",
            ErrorCode::NotAuthorized => "This WeChat account may not use this API",
            ErrorCode::NotFound => "WeChat has no such media",
            ErrorCode::UnknownApp => "This proxy does not serve that app",
            ErrorCode::MethodNotAllowed => "The route does not take this method",
            ErrorCode::QuotaExceeded => "WeChat's daily quota is used up",
            ErrorCode::RateLimited => "WeChat's per-minute quota is used up",
            ErrorCode::Config => "The proxy is not fully configured",
            ErrorCode::Internal => "The proxy failed",
            ErrorCode::UpstreamAuth => "WeChat refused the proxy's own credentials",
            ErrorCode::UpstreamError => "WeChat failed",
            ErrorCode::UpstreamTruncated => "WeChat's answer was cut short",
            ErrorCode::UpstreamTimeout => "WeChat did not answer in time",
            ErrorCode::NotVoice => "This media is not voice, so it has no WAV",
            ErrorCode::BadVoice => "The voice could not be decoded",
            ErrorCode::BadAudio => "The WAV could not be read, so it was not encoded",
            ErrorCode::UnsupportedAudio => "This kind of WAV is not encoded",
            ErrorCode::PushRefused => "The push's signature or timestamp does not verify",
            ErrorCode::PushMalformed => "The push is not a WeChat message",
        }
    }
}

thread_local! {
    /// Every secret this isolate holds (app secret, fixed token, API keys, signing key): removed
    /// from every error message before it is answered, whatever the message's source.
    static SECRETS: std::cell::RefCell<Vec<String>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Sets the secrets that no error answer may contain (see [`ApiError::to_response`]).
pub fn hold_secrets(secrets: Vec<String>) {
    SECRETS.with(|s| *s.borrow_mut() = secrets);
}

/// `text` without any secret this isolate holds.
fn scrub(text: &str) -> String {
    SECRETS.with(|s| {
        let secrets = s.borrow();
        let refs: Vec<&str> = secrets.iter().map(String::as_str).collect();
        wxmedia::protocol::redact_secrets(text, &refs)
    })
}

/// An error answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiError {
    /// What went wrong, which fixes the HTTP status.
    pub code: ErrorCode,
    /// What happened, for people.
    pub message: String,
    /// WeChat's errcode, when WeChat said it.
    pub errcode: Option<i64>,
    /// Seconds to wait, for 429s.
    pub retry_after: Option<u64>,
    /// Answered from the Worker's memory of an earlier failure (a "no such media", a voice that
    /// does not decode): the answer says `X-Cache: HIT`.
    pub remembered: bool,
}

impl ApiError {
    /// An error with no errcode.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            errcode: None,
            retry_after: None,
            remembered: false,
        }
    }

    /// The HTTP status of the REST answer.
    pub fn status(&self) -> u16 {
        self.code.status()
    }

    /// A missing or malformed setting: a 500 whose message names it.
    pub fn config(message: &str) -> Self {
        Self::new(ErrorCode::Config, message)
    }

    /// 401: no or wrong API key.
    pub fn unauthorized(message: &str) -> Self {
        Self::new(ErrorCode::Unauthorized, message)
    }

    /// 400: a request the Worker cannot read.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::BadRequest, message)
    }

    /// 500: the Worker itself failed.
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Internal, message)
    }

    /// A failed local check.
    pub fn from_validation(err: &ValidationError) -> Self {
        Self::new(ErrorCode::from_validation(err.code), err.message.clone())
    }

    /// Whether this is a "no such media" answer (negative-cached briefly).
    pub fn is_not_found(&self) -> bool {
        self.code == ErrorCode::NotFound
    }

    /// The REST answer.
    pub fn to_response(&self) -> worker::Result<worker::Response> {
        let mut body = json!({ "error": {
            "code": self.code.as_str(),
            "title": self.code.title(),
            "message": scrub(&self.message),
        } });
        if let Some(errcode) = self.errcode {
            body["error"]["errcode"] = json!(errcode);
        }
        let mut response = worker::Response::from_json(&body)?.with_status(self.status());
        response.headers_mut().set("Cache-Control", "no-store")?;
        if self.remembered {
            response.headers_mut().set("X-Cache", "HIT")?;
        }
        if let Some(secs) = self.retry_after {
            response
                .headers_mut()
                .set("Retry-After", &secs.to_string())?;
        }
        Ok(response)
    }

    /// The errcode and errmsg of the WeChat-shaped answer.
    pub fn wechat_errcode(&self) -> (i64, String) {
        match (self.errcode, self.code.wechat_errcode()) {
            (Some(code), _) => (code, scrub(&self.message)),
            (None, Some((code, msg))) => (code, msg.to_string()),
            (None, None) => (-1, format!("system error: {}", scrub(&self.message))),
        }
    }

    /// The answer of a WeChat-compatible route: WeChat's errcode JSON, HTTP 200.
    pub fn to_wechat_response(&self) -> worker::Result<worker::Response> {
        let (errcode, errmsg) = self.wechat_errcode();
        let mut response =
            worker::Response::from_json(&json!({ "errcode": errcode, "errmsg": errmsg }))?;
        response
            .headers_mut()
            .set("Content-Type", "application/json; encoding=utf-8")?;
        response.headers_mut().set("Cache-Control", "no-store")?;
        Ok(response)
    }

    /// Seconds from `now_secs` to the next whole minute (WeChat's minute quota).
    fn until_next_minute(now_secs: u64) -> u64 {
        60 - now_secs % 60
    }

    /// Seconds from `now_secs` to the next midnight in China (UTC+8), when daily quotas reset.
    fn until_quota_reset(now_secs: u64) -> u64 {
        let day = 86_400;
        let local = now_secs + 8 * 3600;
        day - local % day
    }

    /// Maps a core error to an answer, at `now_secs` (for `Retry-After`). WeChat's errcodes go by
    /// the core's [`ErrorAction`] for them; refusals that a local check would also have made
    /// answer like that check.
    pub fn from_core(err: &Error, now_secs: u64) -> ApiError {
        match err {
            Error::Validation(v) => ApiError::from_validation(v),
            Error::WeChat(e) => {
                let described = |what: &str| match e.description() {
                    Some(d) => format!("{what} (WeChat errcode {}: {}; {d})", e.errcode, e.errmsg),
                    None => format!("{what} (WeChat errcode {}: {})", e.errcode, e.errmsg),
                };
                let (code, what, retry_after) = match (e.action(), validation_code_for(e.errcode)) {
                    (ErrorAction::NotFound, _) => (
                        ErrorCode::NotFound,
                        "no such media, or it has expired",
                        None,
                    ),
                    (ErrorAction::DailyQuota, _) => (
                        ErrorCode::QuotaExceeded,
                        "WeChat's daily quota is used up",
                        Some(Self::until_quota_reset(now_secs)),
                    ),
                    (ErrorAction::WaitNextMinute, _) => (
                        ErrorCode::RateLimited,
                        "WeChat's per-minute quota is used up",
                        Some(Self::until_next_minute(now_secs)),
                    ),
                    (ErrorAction::NotAuthorized, _) => (
                        ErrorCode::NotAuthorized,
                        "this account may not use this API",
                        None,
                    ),
                    _ if e.errcode == errcode::IP_NOT_WHITELISTED => (
                        ErrorCode::Config,
                        "WeChat refuses token calls from this Worker's address: a Worker runs on \
                         Cloudflare's addresses, which no IP whitelist can list. Set \
                         TOKEN_UPSTREAM_BASE to a token hub (another wxmedia Worker, a 中控) or to a \
                         proxy on a whitelisted address, or run the token fetching there",
                        None,
                    ),
                    (ErrorAction::RefreshTokenAndRetry | ErrorAction::Configuration, _) => (
                        ErrorCode::UpstreamAuth,
                        "WeChat refused the Worker's credentials",
                        None,
                    ),
                    (_, Some(v)) => (
                        ErrorCode::from_validation(v),
                        "WeChat refused the media",
                        None,
                    ),
                    (
                        ErrorAction::RetryWithBackoff
                        | ErrorAction::CallerError
                        | ErrorAction::Fatal
                        | ErrorAction::Unknown,
                        None,
                    ) => (ErrorCode::UpstreamError, "WeChat failed", None),
                };
                // WeChat's errmsg of a 40164 names the caller's address: not passed on.
                let message = if e.errcode == errcode::IP_NOT_WHITELISTED {
                    format!("{what} (WeChat errcode {})", e.errcode)
                } else {
                    described(what)
                };
                ApiError {
                    code,
                    message,
                    errcode: Some(e.errcode),
                    retry_after,
                    remembered: false,
                }
            }
            Error::Timeout { after_ms, .. } => ApiError::new(
                ErrorCode::UpstreamTimeout,
                format!("WeChat did not answer within {after_ms} ms"),
            ),
            Error::Http { status } => ApiError::new(
                ErrorCode::UpstreamError,
                format!("WeChat answered HTTP {status}"),
            ),
            Error::Network(_) | Error::Parse { .. } | Error::Cancelled => ApiError::new(
                ErrorCode::UpstreamError,
                format!("talking to WeChat failed: {err}"),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wxmedia::protocol::{ValidationError, WeChatError};

    fn wechat(errcode: i64) -> Error {
        Error::WeChat(WeChatError::parse_errmsg(
            errcode,
            "message hint: [x] rid: y",
        ))
    }

    #[test]
    fn statuses_follow_the_contract() {
        let status = |e: Error| ApiError::from_core(&e, 0).status();
        assert_eq!(status(wechat(40007)), 404);
        assert_eq!(status(wechat(46001)), 404);
        assert_eq!(status(wechat(45009)), 429);
        assert_eq!(status(wechat(45011)), 429);
        assert_eq!(status(wechat(-1)), 502);
        assert_eq!(status(Error::Http { status: 503 }), 502);
        assert_eq!(
            status(Error::Timeout {
                what: "media",
                after_ms: 5
            }),
            504
        );
        let v = |code| Error::Validation(ValidationError::new(code, "m"));
        assert_eq!(status(v(ValidationCode::TooLarge)), 413);
        assert_eq!(status(v(ValidationCode::BadFormat)), 415);
        assert_eq!(status(v(ValidationCode::Empty)), 400);
        // WeChat's own refusals answer like the local checks.
        assert_eq!(status(wechat(40006)), 413);
        assert_eq!(status(wechat(40005)), 415);
        assert_eq!(status(wechat(40004)), 400);
        assert_eq!(status(wechat(41005)), 400);
        assert_eq!(status(wechat(48001)), 403);
        for code in [
            40001, 40014, 42001, 40013, 40125, 40002, 41001, 41002, 41004,
        ] {
            assert_eq!(
                ApiError::from_core(&wechat(code), 0).code,
                ErrorCode::UpstreamAuth
            );
        }
        // The IP whitelist: a configuration error that says what to do.
        let whitelist = ApiError::from_core(&wechat(40164), 0);
        assert_eq!(whitelist.code, ErrorCode::Config);
        assert!(
            whitelist.message.contains("TOKEN_UPSTREAM_BASE"),
            "{}",
            whitelist.message
        );
        for code in [-1, 43002, 41006, 99999] {
            assert_eq!(
                ApiError::from_core(&wechat(code), 0).code,
                ErrorCode::UpstreamError
            );
        }
    }

    #[test]
    fn held_secrets_never_reach_an_answer() {
        hold_secrets(vec!["key-one".into(), "sign-key".into()]);
        let err = ApiError::new(ErrorCode::UpstreamError, "WeChat said key-one and sign-key");
        let (_, msg) = err.wechat_errcode();
        assert_eq!(msg, "system error: WeChat said [redacted] and [redacted]");
        hold_secrets(Vec::new());
    }

    #[test]
    fn every_code_has_a_status_a_title_and_a_unique_name() {
        let mut names = std::collections::HashSet::new();
        for code in ErrorCode::ALL {
            assert!(names.insert(code.as_str()), "{code:?}");
            assert_eq!(ErrorCode::parse(code.as_str()), Some(code));
            assert!((400..600).contains(&code.status()), "{code:?}");
            assert!(!code.title().is_empty());
        }
        assert_eq!(ErrorCode::parse("NOPE"), None);
        // The WeChat-shaped routes answer WeChat's own errcode where it has one.
        let wx = |code: ErrorCode| ApiError::new(code, "m").wechat_errcode().0;
        assert_eq!(wx(ErrorCode::TooLarge), 40006);
        assert_eq!(wx(ErrorCode::BadFormat), 40005);
        assert_eq!(wx(ErrorCode::BadAudio), 40005);
        assert_eq!(wx(ErrorCode::UnsupportedAudio), 40005);
        assert_eq!(ErrorCode::BadAudio.status(), 400);
        assert_eq!(ErrorCode::UnsupportedAudio.status(), 415);
        assert_eq!(wx(ErrorCode::Empty), 41005);
        assert_eq!(wx(ErrorCode::BadType), 40004);
        assert_eq!(wx(ErrorCode::BadMediaId), 40007);
        assert_eq!(wx(ErrorCode::MissingMediaId), 41006);
        assert_eq!(wx(ErrorCode::Unauthorized), 40001);
        assert_eq!(wx(ErrorCode::UpstreamError), -1);
        assert_eq!(wx(ErrorCode::Config), 48001);
    }

    #[test]
    fn retry_after_counts_to_the_next_minute_or_china_midnight() {
        let e = ApiError::from_core(&wechat(45011), 1_700_000_010); // :30 past a minute
        assert_eq!(e.retry_after, Some(30));
        // 1_700_000_000 is 2023-11-14 22:13:20 UTC = 06:13:20 in China; midnight is 17h46m40s on.
        let e = ApiError::from_core(&wechat(45009), 1_700_000_000);
        assert_eq!(e.retry_after, Some(17 * 3600 + 46 * 60 + 40));
    }
}
