//! Errors as answered to clients: `{"error":{"code","message","errcode"?}}` with an HTTP status
//! (REST routes), or WeChat's own `{"errcode","errmsg"}` with HTTP 200 (compatible routes).
//!
//! Messages come from the core's errors, which never contain the access token, or are written
//! here; none carries a URL with a query.

use serde_json::json;
use wxmedia::protocol::{Error, ValidationCode};

/// An error answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiError {
    /// HTTP status of the REST answer.
    pub status: u16,
    /// A stable code to branch on.
    pub code: &'static str,
    /// What happened, for people.
    pub message: String,
    /// WeChat's errcode, when WeChat said it.
    pub errcode: Option<i64>,
    /// Seconds to wait, for 429s.
    pub retry_after: Option<u64>,
}

impl ApiError {
    /// An error with no errcode.
    pub fn new(status: u16, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            errcode: None,
            retry_after: None,
        }
    }

    /// A missing or malformed setting: a 500 whose message names it.
    pub fn config(message: &str) -> Self {
        Self::new(500, "CONFIG", message)
    }

    /// 401: no or wrong API key.
    pub fn unauthorized(message: &str) -> Self {
        Self::new(401, "UNAUTHORIZED", message)
    }

    /// 400: a request the Worker cannot read.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(400, "BAD_REQUEST", message)
    }

    /// Whether this is a "no such media" answer (negative-cached briefly).
    pub fn is_not_found(&self) -> bool {
        self.status == 404 && self.code == "NOT_FOUND"
    }

    /// The REST answer.
    pub fn to_response(&self) -> worker::Result<worker::Response> {
        let mut body = json!({ "error": { "code": self.code, "message": self.message } });
        if let Some(errcode) = self.errcode {
            body["error"]["errcode"] = json!(errcode);
        }
        let mut response = worker::Response::from_json(&body)?.with_status(self.status);
        response.headers_mut().set("Cache-Control", "no-store")?;
        if let Some(secs) = self.retry_after {
            response
                .headers_mut()
                .set("Retry-After", &secs.to_string())?;
        }
        Ok(response)
    }

    /// The answer of a WeChat-compatible route: WeChat's errcode JSON, HTTP 200.
    pub fn to_wechat_response(&self) -> worker::Result<worker::Response> {
        let (errcode, errmsg) = match (self.errcode, self.code) {
            (Some(code), _) => (code, self.message.clone()),
            (None, "UNAUTHORIZED") => (
                40001,
                "invalid credential, access_token is invalid or not latest".into(),
            ),
            (None, "TOO_LARGE") => (40006, "invalid meida size".into()),
            (None, "BAD_FORMAT") => (40005, "invalid file type".into()),
            (None, "EMPTY") => (41005, "media data missing".into()),
            (None, "BAD_TYPE") => (40004, "invalid media type".into()),
            (None, "BAD_MEDIA_ID") => (40007, "invalid media_id".into()),
            (None, "MISSING_MEDIA_ID") => (41006, "media_id missing".into()),
            (None, _) => (-1, format!("system error: {}", self.message)),
        };
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

    /// Maps a core error to an answer, at `now_secs` (for `Retry-After`).
    pub fn from_core(err: &Error, now_secs: u64) -> ApiError {
        match err {
            Error::Validation(v) => {
                let (status, code) = match v.code {
                    ValidationCode::TooLarge => (413, "TOO_LARGE"),
                    ValidationCode::BadFormat => (415, "BAD_FORMAT"),
                    ValidationCode::Empty => (400, "EMPTY"),
                    ValidationCode::BadType => (400, "BAD_TYPE"),
                    ValidationCode::BadMediaId => (400, "BAD_MEDIA_ID"),
                    _ => (500, "CONFIG"),
                };
                ApiError::new(status, code, v.message.clone())
            }
            Error::WeChat(e) => {
                let described = |what: &str| match e.description() {
                    Some(d) => format!("{what} (WeChat errcode {}: {}; {d})", e.errcode, e.errmsg),
                    None => format!("{what} (WeChat errcode {}: {})", e.errcode, e.errmsg),
                };
                let (status, code, message, retry_after) = match e.errcode {
                    40007 | 46001 => (
                        404,
                        "NOT_FOUND",
                        described("no such media, or it has expired"),
                        None,
                    ),
                    45009 => (
                        429,
                        "QUOTA_EXCEEDED",
                        described("WeChat's daily quota is used up"),
                        Some(Self::until_quota_reset(now_secs)),
                    ),
                    45011 => (
                        429,
                        "RATE_LIMITED",
                        described("WeChat's per-minute quota is used up"),
                        Some(Self::until_next_minute(now_secs)),
                    ),
                    40004 => (
                        400,
                        "BAD_TYPE",
                        described("WeChat refused the media type"),
                        None,
                    ),
                    40005 => (
                        415,
                        "BAD_FORMAT",
                        described("WeChat refused the file type"),
                        None,
                    ),
                    40006 => (413, "TOO_LARGE", described("WeChat refused the size"), None),
                    41005 => (400, "EMPTY", described("WeChat found no media data"), None),
                    48001 => (
                        403,
                        "NOT_AUTHORIZED",
                        described("this account may not use this API"),
                        None,
                    ),
                    40001 | 40014 | 42001 | 40013 | 40125 | 40164 | 40002 | 41001 | 41002
                    | 41004 => (
                        502,
                        "UPSTREAM_AUTH",
                        described("WeChat refused the Worker's credentials"),
                        None,
                    ),
                    _ => (502, "UPSTREAM_ERROR", described("WeChat failed"), None),
                };
                ApiError {
                    status,
                    code,
                    message,
                    errcode: Some(e.errcode),
                    retry_after,
                }
            }
            Error::Timeout { after_ms, .. } => ApiError::new(
                504,
                "UPSTREAM_TIMEOUT",
                format!("WeChat did not answer within {after_ms} ms"),
            ),
            Error::Http { status } => ApiError::new(
                502,
                "UPSTREAM_ERROR",
                format!("WeChat answered HTTP {status}"),
            ),
            Error::Network(_) | Error::Parse { .. } | Error::Cancelled => ApiError::new(
                502,
                "UPSTREAM_ERROR",
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
        let status = |e: Error| ApiError::from_core(&e, 0).status;
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
