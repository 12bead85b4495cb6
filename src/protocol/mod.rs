//! The sans-IO protocol core: request builders, response classification, validation and the
//! token state machine. No JS, no IO, no clock.
//!
//! Invariants:
//!
//! - Nothing here performs IO or reads a clock: time is an argument (`now_ms`), bodies are
//!   bytes, requests are `http::Request<Vec<u8>>` values.
//! - The raw access token is reachable only through [`AccessToken::expose`], which only
//!   [`request`] calls. Every `Display`/`Debug` output redacts it, and [`Error`] messages never
//!   contain a URL query string.
//! - The download classifier never needs media bytes: headers first ([`classify_head`]), then a
//!   peek at the first bytes ([`looks_like_json`]), and only then a small JSON body
//!   ([`classify_json`]).
//!
//! Code map:
//!
//! - [`secret`] — [`AccessToken`] and URL redaction.
//! - [`media_type`] — [`MediaType`].
//! - [`error`] — [`Error`], [`WeChatError`], the errcode table ([`action_for`], [`describe`]).
//! - [`disposition`] — `Content-Disposition` filename parsing.
//! - [`validate`](mod@validate) — format sniffing, size limits, upload filenames.
//! - [`request`] — request builders and URL encoding.
//! - [`response`] — the download classifier and upload/token parsers.
//! - [`token`] — [`TokenCache`].
//! - [`retry`] — [`RetryPolicy::decide`].
//! - [`lead`] — [`lead::Leads`]: one run of some work per key, the other askers waiting, a stalled
//!   leader taken over (the Worker's fills and voice renditions).
//! - [`call`] — [`Call`]: the call loop (tokens, attempts, refreshes, waits, deadline) as a state
//!   machine that a transport drives.
//! - [`video_url`] — which `video_url`s are followed or shown ([`check_video_url`]).
//! - [`sign`] — signed download URLs (HMAC-SHA256).

pub mod call;
pub mod disposition;
pub mod error;
pub mod lead;
pub mod media_type;
pub mod request;
pub mod response;
pub mod retry;
pub mod secret;
pub mod sign;
pub mod token;
pub mod validate;
pub mod video_url;

pub use call::{Call, Step, TokenUse};
pub use error::{
    action_for, describe, errcode, redact_secrets, validation_code_for, Error, ErrorAction,
    ValidationCode, ValidationError, WeChatError,
};
pub use media_type::{MediaType, UnknownMediaType};
pub use request::{
    hub_refresh_request, media_request, media_url, stable_token_request, token_request,
    upload_request, upload_url, validate_media_id, DEFAULT_BASE, GET_PATH, HD_VOICE_PATH,
};
pub use response::{
    check_answer_size, check_media, classify_head, classify_json, looks_like_json,
    max_answer_bytes, media_meta, parse_token, parse_upload, Head, MediaMeta, Outcome, TokenGrant,
    Uploaded,
};
pub use retry::{Decision, RetryPolicy};
pub use secret::{
    AccessToken, ApiKey, AppSecret, CallbackToken, SigningKey, TokenKey, TokenUrlKey,
};
pub use token::{is_token_error, TokenCache};
pub use validate::{check_size_hint, sniff, validate, Format, Limits, Validated, SNIFF_LEN};
pub use video_url::{check_video_url, VideoHost, VIDEO_HOSTS};
