//! The client: the protocol core driven over the Fetch API.
//!
//! This is the Rust API that the Worker uses and that `js.rs` wraps for JavaScript. Every call is
//! a [`Call`] state machine from the protocol core, driven here: [`Client::drive`] does what each
//! [`Step`] says (get a token, send an attempt, sleep) and feeds the result back.
//!
//! - [`config`]: the settings.
//! - `tokens`: the token cache and the one fetch in flight that concurrent callers share.
//! - `download`: sorting a download's answer into media, video URL or error.
//! - `shared`: [`lead_or_wait`], work shared by concurrent callers (token fetches here; the
//!   Worker's fills and voice renditions).

mod config;
mod download;
mod drive;
mod shared;
mod tokens;

use std::future::Future;
use std::rc::Rc;

use web_sys::AbortSignal;

/// The message of a thrown JS value (with its `cause`'s): the one reader of JS errors, for the
/// Worker too.
pub use crate::web::js_message;
/// What an upload sends: a Blob, or bytes as the caller holds them.
pub use crate::web::UploadMedia;
/// The first bytes of a blob, for format sniffing (the Worker checks what it is about to store),
/// and a stream read whole into a Blob.
pub use crate::web::{read_head, read_whole, read_whole_within};
/// A promise as a future without a closure made per promise, and how many are being waited for;
/// a promise's outcome mapped the same way.
pub use crate::web::{then_map, waiting_promises, Settled};
pub use config::{
    ClientConfig, Credentials, TokenMode, TokenProvider, TokenWait, UploadOptions,
    DEFAULT_MEDIA_TIMEOUT_MS, DEFAULT_TOKEN_TIMEOUT_MS, PROVIDER_TOKEN_LIFETIME_SECS,
};
pub use download::{Download, MediaBody};
pub use shared::lead_or_wait;

use crate::protocol::{
    media_request, media_url, parse_upload, upload_request, validate, validate_media_id,
    AccessToken, Call, Error, MediaType, TokenGrant, Uploaded, Validated, GET_PATH, HD_VOICE_PATH,
};
use crate::web::{self, AbortGuard};
pub use tokens::token_url_provider;
use tokens::Tokens;

/// A client of WeChat's temporary-media API. Cheap to clone; clones share the token cache.
#[derive(Clone)]
pub struct Client {
    config: Rc<ClientConfig>,
    tokens: Rc<Tokens>,
}

impl Client {
    /// A client with these settings.
    pub fn new(config: ClientConfig) -> Self {
        let config = Rc::new(config);
        Self {
            tokens: Rc::new(Tokens::new(config.clone())),
            config,
        }
    }

    /// The settings in use.
    pub fn config(&self) -> &ClientConfig {
        &self.config
    }

    /// A valid access token: the cached one, or a fresh one. Concurrent callers share one fetch.
    /// Bounded by the token timeout.
    pub async fn access_token(&self) -> Result<AccessToken, Error> {
        let guard = AbortGuard::new(self.config.token_timeout_ms, None);
        self.tokens.get(&guard, "token").await
    }

    /// A valid access token with its remaining lifetime in seconds (for a token holder that
    /// serves other clients).
    pub async fn token_grant(&self) -> Result<TokenGrant, Error> {
        let guard = AbortGuard::new(self.config.token_timeout_ms, None);
        self.tokens.grant(&guard).await
    }

    /// Drops the cached token if it is `failed` (a newer one is kept). Returns whether it dropped.
    pub fn invalidate_token(&self, failed: &AccessToken) -> bool {
        self.tokens.invalidate(failed)
    }

    /// Uploads `media` as temporary media of type `media_type`.
    ///
    /// The size and format are checked first (only the first bytes of the media are read); the
    /// media itself goes to the form untouched, and every attempt sends it whole.
    pub async fn upload(
        &self,
        media_type: MediaType,
        media: &UploadMedia,
        options: &UploadOptions,
    ) -> Result<Uploaded, Error> {
        Ok(self.upload_checked(media_type, media, options).await?.0)
    }

    /// [`upload`](Self::upload), also returning what validation found (format, the filename and
    /// content type sent), for callers that store the media themselves (the Worker's cache).
    pub async fn upload_checked(
        &self,
        media_type: MediaType,
        media: &UploadMedia,
        options: &UploadOptions,
    ) -> Result<(Uploaded, Validated), Error> {
        let config = &self.config;
        let head = media.head().await?;
        let checked = validate(
            media_type,
            media.size(),
            &head,
            options.filename.as_deref(),
            &config.limits,
        )
        .map_err(Error::Validation)?;
        let content_type = options
            .content_type
            .as_deref()
            .unwrap_or(checked.content_type);
        // The caller's bytes, or a Blob over them of the part's type: sent again and again by
        // the attempts without another copy.
        let parts = config
            .fetch
            .as_ref()
            .is_some_and(web::Transport::takes_form_parts);
        let body = media.form_body(content_type, parts)?;
        let filename = checked.filename.clone();
        let uploaded = self
            .drive(options.signal.as_ref(), None, |token, guard| {
                let request = upload_request(&config.base_url, &token, media_type);
                let body = body.clone();
                let filename = filename.clone();
                async move {
                    let request = web::upload_request(&request, &body, &filename)?;
                    let response =
                        web::fetch(&request, &guard, "media", config.fetch.as_ref()).await?;
                    let body = web::read_json_answer(&response, &guard, "media").await?;
                    parse_upload(&body, media_type)
                }
            })
            .await?;
        Ok((uploaded, checked))
    }

    /// Downloads media (`/cgi-bin/media/get`): bytes as a stream, or a video's URL.
    pub async fn get(
        &self,
        media_id: &str,
        signal: Option<&AbortSignal>,
    ) -> Result<Download, Error> {
        validate_media_id(media_id).map_err(Error::Validation)?;
        self.download(signal, GET_PATH, media_id, None).await
    }

    /// Downloads a JSSDK voice recording as 16 kHz speex (`/cgi-bin/media/get/jssdk`).
    pub async fn hd_voice(
        &self,
        media_id: &str,
        signal: Option<&AbortSignal>,
    ) -> Result<MediaBody, Error> {
        validate_media_id(media_id).map_err(Error::Validation)?;
        hd_voice_media(self.download(signal, HD_VOICE_PATH, media_id, None).await?)
    }

    /// The URL of a download's first attempt when it can go out at once: `media_id` is valid and
    /// a token is cached (`None` otherwise: call [`get`](Self::get) or
    /// [`hd_voice`](Self::hd_voice)). The URL holds the access token.
    ///
    /// For a caller that sends the first attempt itself, as a plain `GET` bounded by the media
    /// timeout and the caller's signal, and hands what it answered to
    /// [`first_media`](Self::first_media) and, when that is not media,
    /// [`download_after`](Self::download_after). The npm
    /// package's Node entry does: a download that answers media then makes no task, request
    /// object or timer of the client's.
    pub fn first_download_url(&self, hd_voice: bool, media_id: &str) -> Option<String> {
        validate_media_id(media_id).ok()?;
        let token = self.tokens.cached()?;
        let path = if hd_voice { HD_VOICE_PATH } else { GET_PATH };
        Some(media_url(&self.config.base_url, path, &token, media_id))
    }

    /// The first attempt's answer (see [`first_download_url`](Self::first_download_url)) as media,
    /// unread, when its head says it is: what [`get`](Self::get) would hand back for it. Its body
    /// stays bounded by the call's deadline (from `started_ms`) and `signal`. `None` for any other
    /// answer: then the call goes on with [`download_after`](Self::download_after).
    pub fn first_media(
        &self,
        answer: &web_sys::Response,
        started_ms: f64,
        signal: Option<&AbortSignal>,
    ) -> Option<MediaBody> {
        let limits = &self.config.limits;
        let meta = download::media_at_once(answer, limits)?;
        let guard = AbortGuard::started_at(started_ms, self.config.media_timeout_ms, signal);
        let max_bytes = crate::protocol::max_answer_bytes(&meta, limits);
        Some(MediaBody::fetched(
            meta,
            Clone::clone(answer),
            guard,
            max_bytes,
        ))
    }

    /// Goes on with a download whose first attempt the caller sent to `url` (from
    /// [`first_download_url`](Self::first_download_url)) at `started_ms`, and which answered
    /// `answer` or failed with it: from there on as [`get`](Self::get) (or
    /// [`hd_voice`](Self::hd_voice), when `hd_voice`) would have gone (the answer sorted, retries,
    /// a token refresh), within the same deadline.
    pub async fn download_after(
        &self,
        hd_voice: bool,
        media_id: &str,
        url: &str,
        started_ms: u64,
        signal: Option<&AbortSignal>,
        answer: Result<web_sys::Response, wasm_bindgen::JsValue>,
    ) -> Result<Download, Error> {
        let path = if hd_voice { HD_VOICE_PATH } else { GET_PATH };
        // The token the first attempt carried is the one cached now when `url` is the URL it
        // makes (no token is read back out of a URL). Otherwise the cache has moved on since (a
        // refresh in between): that answer is let go and the call starts afresh.
        let carried = self
            .tokens
            .cached()
            .filter(|token| media_url(&self.config.base_url, path, token, media_id) == url);
        let first = match carried {
            Some(token) => Some(First {
                token,
                started_ms,
                answer,
            }),
            None => {
                // Nothing reads this answer: its connection is let go now, not at the deadline.
                if let Some(body) = answer.ok().and_then(|r| r.body()) {
                    web::discard(&body);
                }
                None
            }
        };
        let download = self.download(signal, path, media_id, first).await?;
        if hd_voice {
            hd_voice_media(download).map(Download::Media)
        } else {
            Ok(download)
        }
    }

    /// A `GET` of `path` ([`GET_PATH`] or [`HD_VOICE_PATH`]) for `media_id`, its answer sorted;
    /// its first attempt already sent and answered when `first` says so.
    async fn download(
        &self,
        signal: Option<&AbortSignal>,
        path: &'static str,
        media_id: &str,
        first: Option<First>,
    ) -> Result<Download, Error> {
        let base = self.config.base_url.as_str();
        let also = self.config.video_hosts.as_slice();
        let limits = &self.config.limits;
        let custom = self.config.fetch.as_ref();
        let (start, mut answer) = first.map(|f| ((f.token, f.started_ms), f.answer)).unzip();
        self.drive(signal, start, |token, guard| {
            // The first attempt's answer when the caller sent it, else a request to send.
            let to_send = match answer.take() {
                Some(answered) => Err(answered),
                None => Ok(web::to_web_request(&media_request(
                    base, path, &token, media_id,
                ))),
            };
            async move {
                let response = match to_send {
                    Ok(request) => web::fetch(&request?, &guard, "media", custom).await?,
                    Err(answered) => answered.map_err(|e| guard.failure("media", &e))?,
                };
                download::classify(response, &guard, base, also, limits).await
            }
        })
        .await
    }

    /// Drives one media call's [`Call`]: tokens from the shared cache, `attempt` for each send,
    /// timers for the waits. The whole call, waits included, is bounded by the media timeout and
    /// the caller's `signal`.
    ///
    /// `first`: the call started at that time (ms) with an attempt already sent with that token,
    /// whose answer `attempt` holds for its first send.
    async fn drive<T, F, Fut>(
        &self,
        signal: Option<&AbortSignal>,
        first: Option<(AccessToken, u64)>,
        mut attempt: F,
    ) -> Result<T, Error>
    where
        F: FnMut(AccessToken, AbortGuard) -> Fut,
        Fut: Future<Output = Result<T, Error>>,
    {
        let timeout_ms = self.config.media_timeout_ms;
        let started = first.as_ref().map_or_else(web::now_ms, |(_, at)| *at);
        let guard = AbortGuard::started_at(started as f64, timeout_ms, signal);
        let call = Call::new(
            self.config.retry,
            self.tokens.token_use(),
            "media",
            started,
            timeout_ms,
        )
        .redacting(&[self.config.credentials.secret()]);
        let attempt = |token: Option<AccessToken>, guard| {
            let sent = token.map(|token| attempt(token, guard));
            async move {
                match sent {
                    Some(sent) => sent.await,
                    None => Err(Error::network("a media call needs a token")),
                }
            }
        };
        drive::drive(
            call,
            started,
            &guard,
            "media",
            Some(&self.tokens),
            first,
            attempt,
        )
        .await
    }
}

/// A download's first attempt, sent by the caller (see [`Client::first_download_url`]).
struct First {
    /// The token it went out with.
    token: AccessToken,
    /// When it went out (ms): the call's start.
    started_ms: u64,
    /// What it answered, or what it failed with.
    answer: Result<web_sys::Response, wasm_bindgen::JsValue>,
}

/// An HD-voice download's media: a video URL in its place is an error.
fn hd_voice_media(download: Download) -> Result<MediaBody, Error> {
    match download {
        Download::Media(body) => Ok(body),
        Download::Video { .. } => Err(Error::Parse {
            message: "HD voice answered with a video URL".to_string(),
            raw: Vec::new(),
        }),
    }
}

/// Tokens only: one app's token cache and the one fetch in flight, without the media API. What a
/// token holder serving other clients keeps (the Worker's token Durable Object): it parses no
/// media settings and holds no media state.
#[derive(Clone)]
pub struct TokenKeeper {
    timeout_ms: u64,
    tokens: Rc<Tokens>,
    /// When the last forced refresh began (ms), and the forced refreshes of the current UTC day.
    forced: Rc<std::cell::RefCell<ForcedRefreshes>>,
}

/// A keeper's record of forced refreshes.
#[derive(Clone, Copy, Debug, Default)]
struct ForcedRefreshes {
    last_ms: u64,
    day: u64,
    count: u32,
}

/// What a forced refresh came to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refresh {
    /// The token was rotated (or the failed one was already replaced): this is the new one.
    Rotated(TokenGrant),
    /// Not rotated: the last forced refresh was less than [`FORCE_SPACING_MS`] ago, or the day's
    /// budget ([`FORCE_DAILY_BUDGET`]) is spent. The current token.
    Kept(TokenGrant),
}

impl Refresh {
    /// The token either way.
    pub fn grant(self) -> TokenGrant {
        match self {
            Refresh::Rotated(g) | Refresh::Kept(g) => g,
        }
    }
}

/// At most one forced refresh in this long (WeChat's own rule for stable_token).
pub const FORCE_SPACING_MS: u64 = 30_000;

/// Forced refreshes a keeper makes in a UTC day: below WeChat's 20, so its callers cannot spend
/// the account's whole quota.
pub const FORCE_DAILY_BUDGET: u32 = 15;

impl TokenKeeper {
    /// A keeper that fetches `appid`'s tokens from `base_url` with `secret` through `mode`'s call,
    /// each fetch bounded by `timeout_ms`, concurrent askers waiting as `wait` says.
    pub fn new(
        appid: String,
        secret: crate::protocol::AppSecret,
        mode: TokenMode,
        base_url: String,
        timeout_ms: u64,
        wait: TokenWait,
    ) -> Self {
        let mut config = ClientConfig::new(Credentials::AppSecret {
            appid,
            secret,
            mode,
        });
        config.base_url = base_url;
        config.token_timeout_ms = timeout_ms;
        config.token_wait = wait;
        TokenKeeper {
            timeout_ms,
            tokens: Rc::new(Tokens::new(Rc::new(config))),
            forced: Rc::default(),
        }
    }

    /// A forced refresh asked by a caller (a token hub's `force_refresh`). With `failed` (the
    /// token that failed for the caller) it is compare-and-invalidate: the token is rotated only
    /// if `failed` is still the current one, else the current one is the answer. Either way at
    /// most one rotation per [`FORCE_SPACING_MS`] and [`FORCE_DAILY_BUDGET`] a day, whatever
    /// the number of callers: concurrent callers get the one new token.
    pub async fn force_refresh(&self, failed: Option<&AccessToken>) -> Result<Refresh, Error> {
        let now = web::now_ms();
        let current = self.tokens.cached();
        match (failed, &current) {
            // Someone else's refresh already replaced it, or none is cached: no rotation, the
            // current token (fetched if need be) is the answer.
            (Some(failed), Some(current)) if failed != current => {
                return self.grant().await.map(Refresh::Rotated)
            }
            (Some(_), None) => return self.grant().await.map(Refresh::Rotated),
            (None, None) => return self.grant().await.map(Refresh::Kept),
            _ => {}
        }
        let day = now / 86_400_000;
        let allowed = {
            let mut forced = self.forced.borrow_mut();
            if forced.day != day {
                *forced = ForcedRefreshes {
                    day,
                    ..ForcedRefreshes::default()
                };
            }
            let spaced =
                forced.last_ms == 0 || now.saturating_sub(forced.last_ms) >= FORCE_SPACING_MS;
            let ok = spaced && forced.count < FORCE_DAILY_BUDGET;
            if ok {
                forced.last_ms = now;
                forced.count += 1;
            }
            ok
        };
        if !allowed {
            return self.grant().await.map(Refresh::Kept);
        }
        self.tokens.force_next();
        self.grant().await.map(Refresh::Rotated)
    }

    /// The record of forced refreshes — the UTC day, how many that day, when the last began
    /// (ms) — for a holder that keeps it across restarts ([`TokenKeeper::restore_forced`]).
    pub fn forced_record(&self) -> (u64, u32, u64) {
        let forced = self.forced.borrow();
        (forced.day, forced.count, forced.last_ms)
    }

    /// Takes back a record of [`TokenKeeper::forced_record`]: the day's budget and the spacing
    /// hold across a holder's restarts.
    pub fn restore_forced(&self, day: u64, count: u32, last_ms: u64) {
        *self.forced.borrow_mut() = ForcedRefreshes {
            last_ms,
            day,
            count,
        };
    }

    /// Forced refreshes made today (UTC), and the day's budget.
    pub fn forced_today(&self) -> (u32, u32) {
        let forced = self.forced.borrow();
        let today = web::now_ms() / 86_400_000;
        (
            if forced.day == today { forced.count } else { 0 },
            FORCE_DAILY_BUDGET,
        )
    }

    /// A valid access token with its remaining lifetime in seconds: the cached one, or a fresh
    /// one (concurrent askers share one fetch).
    pub async fn grant(&self) -> Result<TokenGrant, Error> {
        let guard = AbortGuard::new(self.timeout_ms, None);
        self.tokens.grant(&guard).await
    }

    /// Drops the cached token if it is `failed` (a newer one is kept). Returns whether it dropped.
    pub fn invalidate(&self, failed: &AccessToken) -> bool {
        self.tokens.invalidate(failed)
    }
}
