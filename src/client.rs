//! The client: the protocol core driven over the Fetch API.
//!
//! This is the Rust API that the Worker uses and that `js.rs` wraps for JavaScript. Each call is a
//! loop of attempts around the pure pieces of [`crate::protocol`]: build a request, send it with
//! the global `fetch`, classify the answer, and let [`RetryPolicy::decide`] say what to do next.

use std::cell::RefCell;
use std::future::Future;
use std::rc::Rc;

use futures_util::future::{select, Either, FutureExt, LocalBoxFuture, Shared};
use js_sys::{Array, Uint8Array};
use wasm_bindgen::JsValue;
use wasm_bindgen_futures::JsFuture;
use web_sys::{AbortSignal, Blob, BlobPropertyBag, FormData, ReadableStream, RequestInit};

use crate::protocol::{
    classify_head, classify_json, get_request, hd_voice_request, looks_like_json, parse_token,
    parse_upload, stable_token_request, token_request, upload_url, validate, validate_media_id,
    AccessToken, Decision, Error, Head, Limits, MediaMeta, MediaType, Outcome, RetryPolicy,
    TokenCache, TokenGrant, Uploaded, Validated, SNIFF_LEN,
};
use crate::transport::{self, AbortGuard, ChunkReader};

/// WeChat's API origin, the default `base_url`.
pub const DEFAULT_BASE_URL: &str = "https://api.weixin.qq.com";
/// Default bound on fetching a token, in milliseconds.
pub const DEFAULT_TOKEN_TIMEOUT_MS: u64 = 10_000;
/// Default bound on one media call, retries and waits included, in milliseconds.
pub const DEFAULT_MEDIA_TIMEOUT_MS: u64 = 60_000;
/// How much of an answer that might be JSON is read to find out (error JSON is tiny).
const MAX_JSON_BYTES: usize = 1 << 20;
/// How long to keep a token whose source says nothing about its expiry (a fixed token, or a
/// provider that only returns a string): WeChat's token lifetime. A token that fails sooner is
/// dropped and asked for again.
pub const PROVIDER_TOKEN_LIFETIME_SECS: u64 = 7200;

/// Which WeChat call issues tokens from an app id and secret.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum TokenMode {
    /// `POST /cgi-bin/stable_token`: idempotent, so several holders do not invalidate each other.
    #[default]
    Stable,
    /// `GET /cgi-bin/token`: each call issues a new token and retires the previous one.
    Classic,
}

/// How concurrent callers wait for the one token fetch in flight.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum TokenWait {
    /// Await one shared future (Node, browsers).
    #[default]
    Shared,
    /// Check the shared state on a timer of the caller's own. For Cloudflare Workers, where a
    /// request must not wait on a promise that another request's I/O settles: the runtime
    /// cancels such a request as hung.
    Poll {
        /// How often a waiting caller looks again.
        interval_ms: u64,
    },
}

/// A caller-supplied source of access tokens (a central token service, a Durable Object…).
///
/// It is called when no token is cached, with the token that just failed (40001/40014/42001)
/// if that is why, so that a shared holder can drop it if it still holds it. The grant's
/// `expires_in` says how long the client may cache the token.
pub type TokenProvider =
    Rc<dyn Fn(Option<AccessToken>) -> LocalBoxFuture<'static, Result<TokenGrant, Error>>>;

/// Where the client's access tokens come from.
#[derive(Clone)]
pub enum Credentials {
    /// A fixed token. It is never refreshed: a token error is returned to the caller.
    AccessToken(AccessToken),
    /// An app id and secret; the client fetches and caches tokens itself.
    AppSecret {
        /// The official account's app id.
        appid: String,
        /// The app secret.
        secret: String,
        /// Which token call to use.
        mode: TokenMode,
    },
    /// A provider called whenever a token is needed and none is cached.
    Provider(TokenProvider),
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Credentials::AccessToken(t) => f.debug_tuple("AccessToken").field(t).finish(),
            Credentials::AppSecret { appid, mode, .. } => f
                .debug_struct("AppSecret")
                .field("appid", appid)
                .field("secret", &"[redacted]")
                .field("mode", mode)
                .finish(),
            Credentials::Provider(_) => f.write_str("Provider(..)"),
        }
    }
}

/// The client's settings.
#[derive(Clone, Debug)]
pub struct ClientConfig {
    /// Where WeChat (or a proxy speaking its protocol) is; check it with
    /// [`crate::protocol::request::check_base_url`].
    pub base_url: String,
    /// Where tokens come from.
    pub credentials: Credentials,
    /// Bound on one token fetch, in milliseconds.
    pub token_timeout_ms: u64,
    /// Bound on one media call, retries and waits included, in milliseconds.
    pub media_timeout_ms: u64,
    /// When to retry.
    pub retry: RetryPolicy,
    /// Per-type size limits checked before upload.
    pub limits: Limits,
    /// How concurrent callers wait for a token fetch.
    pub token_wait: TokenWait,
}

impl ClientConfig {
    /// Settings with the defaults for everything but the credentials.
    pub fn new(credentials: Credentials) -> Self {
        Self {
            base_url: DEFAULT_BASE_URL.to_string(),
            credentials,
            token_timeout_ms: DEFAULT_TOKEN_TIMEOUT_MS,
            media_timeout_ms: DEFAULT_MEDIA_TIMEOUT_MS,
            retry: RetryPolicy::default(),
            limits: Limits::default(),
            token_wait: TokenWait::default(),
        }
    }
}

/// Per-call options of [`Client::upload`].
#[derive(Clone, Debug, Default)]
pub struct UploadOptions {
    /// The filename to send (its extension is corrected to fit the detected format).
    pub filename: Option<String>,
    /// The part's Content-Type; defaults to the detected format's.
    pub content_type: Option<String>,
    /// Aborts the call.
    pub signal: Option<AbortSignal>,
}

/// What a download answered.
pub enum Download {
    /// Media bytes, as a stream that has not been read.
    Media(MediaBody),
    /// A video, which WeChat answers with a URL to fetch it from.
    Video {
        /// Where the video is (no token in it).
        video_url: String,
    },
}

/// Media bytes and what the headers said about them.
pub struct MediaBody {
    /// Content type, filename and length as announced.
    pub meta: MediaMeta,
    /// The bytes. Reading may still fail (a connection cut short of its Content-Length).
    pub body: ReadableStream,
    /// The answer as fetched, when `body` is its own unread body (not a tee'd copy): reading
    /// through it (`arrayBuffer()`, `blob()`) keeps the runtime's native path.
    pub fetched: Option<web_sys::Response>,
}

type TokenFuture = Shared<LocalBoxFuture<'static, Result<AccessToken, Error>>>;

struct Inner {
    config: ClientConfig,
    cache: RefCell<TokenCache>,
    in_flight: RefCell<Option<TokenFuture>>,
    /// The token that last failed, for the provider's next call.
    failed: RefCell<Option<AccessToken>>,
    /// The state [`TokenWait::Poll`] callers look at.
    polled: RefCell<PolledFetch>,
}

/// A token fetch that other callers poll for ([`TokenWait::Poll`]).
#[derive(Default)]
struct PolledFetch {
    /// A fetch is in flight.
    fetching: bool,
    /// How many fetches have finished.
    finished: u64,
    /// The error of the last fetch that failed, with its number.
    last_error: Option<(u64, Error)>,
}

/// Marks the polled fetch as over when its leader finishes or is dropped mid-way, so that a
/// waiting caller can take over.
struct PollLeader(Rc<Inner>);

impl Drop for PollLeader {
    fn drop(&mut self) {
        self.0.polled.borrow_mut().fetching = false;
    }
}

/// A client of WeChat's temporary-media API. Cheap to clone; clones share the token cache.
#[derive(Clone)]
pub struct Client {
    inner: Rc<Inner>,
}

impl Client {
    /// A client with these settings.
    pub fn new(config: ClientConfig) -> Self {
        Self {
            inner: Rc::new(Inner {
                config,
                cache: RefCell::new(TokenCache::default()),
                in_flight: RefCell::new(None),
                failed: RefCell::new(None),
                polled: RefCell::new(PolledFetch::default()),
            }),
        }
    }

    /// The settings in use.
    pub fn config(&self) -> &ClientConfig {
        &self.inner.config
    }

    /// A valid access token: the cached one, or a fresh one. Concurrent callers share one fetch.
    pub async fn access_token(&self) -> Result<AccessToken, Error> {
        let guard = AbortGuard::new(self.inner.config.token_timeout_ms, None)?;
        self.token(&guard).await
    }

    /// A valid access token with its remaining lifetime in seconds (for a token holder that
    /// serves other clients).
    pub async fn token_grant(&self) -> Result<TokenGrant, Error> {
        let token = self.access_token().await?;
        let expires_at = self.inner.cache.borrow().expires_at_ms();
        let remaining_ms = expires_at.map_or(0, |at| at.saturating_sub(transport::now_ms()));
        Ok(TokenGrant {
            token,
            expires_in: remaining_ms / 1000,
        })
    }

    /// Drops the cached token if it is `failed` (a newer one is kept). Returns whether it dropped.
    pub fn invalidate_token(&self, failed: &AccessToken) -> bool {
        let dropped = self.inner.cache.borrow_mut().invalidate_if(failed);
        *self.inner.failed.borrow_mut() = Some(failed.clone());
        dropped
    }

    /// Uploads `media` as temporary media of type `media_type`.
    ///
    /// The size and format are checked first (only the first bytes of the blob are read); the
    /// blob itself goes to `FormData` untouched, and every attempt sends it whole.
    pub async fn upload(
        &self,
        media_type: MediaType,
        media: &Blob,
        options: &UploadOptions,
    ) -> Result<Uploaded, Error> {
        Ok(self.upload_checked(media_type, media, options).await?.0)
    }

    /// [`upload`](Self::upload), also returning what validation found (format, the filename and
    /// content type sent), for callers that store the media themselves (the Worker's cache).
    pub async fn upload_checked(
        &self,
        media_type: MediaType,
        media: &Blob,
        options: &UploadOptions,
    ) -> Result<(Uploaded, Validated), Error> {
        let config = &self.inner.config;
        let head = read_head(media).await?;
        let checked = validate(
            media_type,
            media.size() as u64,
            &head,
            options.filename.as_deref(),
            &config.limits,
        )
        .map_err(Error::Validation)?;
        let content_type = options
            .content_type
            .as_deref()
            .unwrap_or(checked.content_type);
        // A new Blob over the caller's: no bytes are copied, and it can be sent again and again.
        let typed = typed_blob(media, content_type)?;
        let filename = checked.filename.clone();
        let uploaded = self
            .with_retries(options.signal.as_ref(), |token, guard| {
                let url = upload_url(&config.base_url, &token, media_type);
                let typed = typed.clone();
                let filename = filename.clone();
                async move {
                    let form = FormData::new().map_err(|e| js_error(&e))?;
                    form.append_with_blob_and_filename("media", &typed, &filename)
                        .map_err(|e| js_error(&e))?;
                    let init = RequestInit::new();
                    init.set_method("POST");
                    init.set_body(&form);
                    init.set_signal(Some(&guard.signal()));
                    let request = web_sys::Request::new_with_str_and_init(&url, &init)
                        .map_err(|e| js_error(&e))?;
                    let response = transport::fetch(&request, &guard, "media").await?;
                    if !(200..300).contains(&response.status()) {
                        return Err(Error::Http {
                            status: response.status(),
                        });
                    }
                    let body = read_small_body(&response, &guard, "media").await?;
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
        let base = &self.inner.config.base_url;
        self.download(signal, |token| get_request(base, token, media_id))
            .await
    }

    /// Downloads a JSSDK voice recording as 16 kHz speex (`/cgi-bin/media/get/jssdk`).
    pub async fn hd_voice(
        &self,
        media_id: &str,
        signal: Option<&AbortSignal>,
    ) -> Result<MediaBody, Error> {
        validate_media_id(media_id).map_err(Error::Validation)?;
        let base = &self.inner.config.base_url;
        match self
            .download(signal, |token| hd_voice_request(base, token, media_id))
            .await?
        {
            Download::Media(body) => Ok(body),
            Download::Video { .. } => Err(Error::Parse {
                message: "HD voice answered with a video URL".to_string(),
                raw: Vec::new(),
            }),
        }
    }

    async fn download(
        &self,
        signal: Option<&AbortSignal>,
        build: impl Fn(&AccessToken) -> http::Request<Vec<u8>>,
    ) -> Result<Download, Error> {
        self.with_retries(signal, |token, guard| {
            let request = build(&token);
            async move {
                let request = to_web_request(&request, &guard)?;
                let response = transport::fetch(&request, &guard, "media").await?;
                classify(response, &guard).await
            }
        })
        .await
    }

    /// Runs `attempt` until it succeeds or the retry policy gives up, refreshing the token once
    /// on a token error. The whole call, waits included, is bounded by the media timeout.
    async fn with_retries<T, F, Fut>(
        &self,
        signal: Option<&AbortSignal>,
        mut attempt: F,
    ) -> Result<T, Error>
    where
        F: FnMut(AccessToken, AbortGuard) -> Fut,
        Fut: Future<Output = Result<T, Error>>,
    {
        let config = &self.inner.config;
        let deadline = transport::now_ms() + config.media_timeout_ms;
        let guard = AbortGuard::new(config.media_timeout_ms, signal)?;
        let mut attempts = 0;
        let mut refreshed = false;
        loop {
            let token = self.token(&guard).await?;
            attempts += 1;
            let err = match attempt(token.clone(), guard.clone()).await {
                Ok(value) => return Ok(value),
                Err(err) => err,
            };
            match config
                .retry
                .decide(attempts, &err, refreshed, transport::now_ms(), deadline)
            {
                Decision::GiveUp => return Err(err),
                Decision::RefreshTokenAndRetry => {
                    if matches!(config.credentials, Credentials::AccessToken(_)) {
                        return Err(err);
                    }
                    self.invalidate_token(&token);
                    refreshed = true;
                }
                Decision::RetryAfter(ms) => {
                    transport::sleep_unless_aborted(ms, &guard.signal()).await;
                    if let Some(e) = guard.error("media") {
                        return Err(e);
                    }
                }
            }
        }
    }

    /// The cached token, or the result of the one fetch in flight (started here if none is).
    async fn token(&self, guard: &AbortGuard) -> Result<AccessToken, Error> {
        if let Credentials::AccessToken(token) = &self.inner.config.credentials {
            return Ok(token.clone());
        }
        if let Some(token) = self.inner.cache.borrow().current(transport::now_ms()) {
            return Ok(token);
        }
        if let TokenWait::Poll { interval_ms } = self.inner.config.token_wait {
            return self.token_polled(guard, interval_ms).await;
        }
        let shared = {
            let mut slot = self.inner.in_flight.borrow_mut();
            match &*slot {
                Some(fetch) => fetch.clone(),
                None => {
                    let fetch = fetch_and_store(self.inner.clone()).boxed_local().shared();
                    *slot = Some(fetch.clone());
                    fetch
                }
            }
        };
        let aborted = transport::aborted(&guard.signal());
        match select(shared, aborted).await {
            Either::Left((result, _)) => result,
            Either::Right(_) => Err(guard.error("media").unwrap_or(Error::Cancelled)),
        }
    }
}

impl Client {
    /// [`TokenWait::Poll`]: the first caller fetches; the others look at the cache (or the
    /// fetch's error) every `interval_ms` on timers of their own.
    async fn token_polled(
        &self,
        guard: &AbortGuard,
        interval_ms: u64,
    ) -> Result<AccessToken, Error> {
        let inner = &self.inner;
        let start = inner.polled.borrow().finished;
        loop {
            if let Some(token) = inner.cache.borrow().current(transport::now_ms()) {
                return Ok(token);
            }
            if let Some((n, err)) = &inner.polled.borrow().last_error {
                if *n > start {
                    return Err(err.clone());
                }
            }
            let lead = {
                let mut polled = inner.polled.borrow_mut();
                !std::mem::replace(&mut polled.fetching, true)
            };
            if lead {
                let _leader = PollLeader(inner.clone());
                let failed = inner.failed.borrow_mut().take();
                let fetch = fetch_token(&inner.config, failed).boxed_local();
                let result = match select(fetch, transport::aborted(&guard.signal())).await {
                    Either::Left((result, _)) => result,
                    Either::Right(_) => {
                        return Err(guard.error("media").unwrap_or(Error::Cancelled))
                    }
                };
                let mut polled = inner.polled.borrow_mut();
                polled.finished += 1;
                match result {
                    Ok(grant) => {
                        inner.cache.borrow_mut().store(&grant, transport::now_ms());
                        return Ok(grant.token);
                    }
                    Err(err) => {
                        polled.last_error = Some((polled.finished, err.clone()));
                        return Err(err);
                    }
                }
            }
            transport::sleep_unless_aborted(interval_ms, &guard.signal()).await;
            if let Some(err) = guard.error("media") {
                return Err(err);
            }
        }
    }
}

/// Fetches a token, caches it, and empties the in-flight slot.
async fn fetch_and_store(inner: Rc<Inner>) -> Result<AccessToken, Error> {
    let failed = inner.failed.borrow_mut().take();
    let result = fetch_token(&inner.config, failed).await;
    if let Ok(grant) = &result {
        inner.cache.borrow_mut().store(grant, transport::now_ms());
    }
    inner.in_flight.borrow_mut().take();
    result.map(|grant| grant.token)
}

/// One token fetch (with retries on transient errors) within the token timeout.
async fn fetch_token(
    config: &ClientConfig,
    failed: Option<AccessToken>,
) -> Result<TokenGrant, Error> {
    let timeout_ms = config.token_timeout_ms;
    let (appid, secret, mode) = match &config.credentials {
        Credentials::AppSecret {
            appid,
            secret,
            mode,
        } => (appid, secret, *mode),
        Credentials::Provider(provider) => return provider(failed).await,
        Credentials::AccessToken(token) => {
            return Ok(TokenGrant {
                token: token.clone(),
                expires_in: PROVIDER_TOKEN_LIFETIME_SECS,
            })
        }
    };
    let deadline = transport::now_ms() + timeout_ms;
    let guard = AbortGuard::new(timeout_ms, None)?;
    let mut attempts = 0;
    loop {
        attempts += 1;
        let request = match mode {
            TokenMode::Stable => stable_token_request(&config.base_url, appid, secret, false),
            TokenMode::Classic => token_request(&config.base_url, appid, secret),
        };
        let result = async {
            let request = to_web_request(&request, &guard)?;
            let response = transport::fetch(&request, &guard, "token").await?;
            if !(200..300).contains(&response.status()) {
                return Err(Error::Http {
                    status: response.status(),
                });
            }
            let body = read_small_body(&response, &guard, "token").await?;
            parse_token(&body)
        }
        .await;
        let err = match result {
            Ok(grant) => return Ok(grant),
            Err(err) => err,
        };
        // A token error cannot happen here; anything but a transient failure ends the fetch.
        match config
            .retry
            .decide(attempts, &err, true, transport::now_ms(), deadline)
        {
            Decision::RetryAfter(ms) => {
                transport::sleep_unless_aborted(ms, &guard.signal()).await;
                if let Some(e) = guard.error("token") {
                    return Err(e);
                }
            }
            Decision::GiveUp | Decision::RefreshTokenAndRetry => return Err(err),
        }
    }
}

/// Sorts a download's answer into media, video URL or error, reading the body only when the
/// headers leave it open, and then only as much as it takes.
async fn classify(response: web_sys::Response, guard: &AbortGuard) -> Result<Download, Error> {
    let headers = header_map(&response);
    let body = response.body();
    match classify_head(response.status(), &headers) {
        Head::HttpError(status) => {
            if let Some(body) = &body {
                transport::discard(body);
            }
            Err(Error::Http { status })
        }
        Head::Media(meta) => Ok(Download::Media(match body {
            Some(body) => MediaBody {
                meta,
                body,
                fetched: Some(response),
            },
            None => MediaBody {
                meta,
                body: transport::empty_stream()?,
                fetched: None,
            },
        })),
        Head::Inspect => {
            let meta = MediaMeta {
                content_type: header_str(&headers, http::header::CONTENT_TYPE),
                filename: None,
                content_length: header_str(&headers, http::header::CONTENT_LENGTH)
                    .and_then(|v| v.trim().parse().ok()),
            };
            let Some(body) = body else {
                return Ok(Download::Media(MediaBody {
                    meta,
                    body: transport::empty_stream()?,
                    fetched: None,
                }));
            };
            inspect(meta, &body, guard).await
        }
    }
}

/// Looks at the start of an unlabelled body. JSON (error, video URL) is read whole, up to
/// [`MAX_JSON_BYTES`]; anything else is handed back as an untouched stream.
async fn inspect(
    meta: MediaMeta,
    body: &ReadableStream,
    guard: &AbortGuard,
) -> Result<Download, Error> {
    let (peek, keep) = transport::tee(body);
    let reader = ChunkReader::new(&peek);
    let read_failed = |e: JsValue| guard.failure("media", &e);
    let mut bytes = Vec::new();
    // The first non-empty chunk decides.
    while bytes.is_empty() {
        match reader.next().await.map_err(read_failed)? {
            Some(chunk) => bytes.extend_from_slice(&chunk),
            None => break,
        }
    }
    if !looks_like_json(meta.content_type.as_deref(), &bytes) {
        reader.cancel();
        return Ok(Download::Media(MediaBody {
            meta,
            body: keep,
            fetched: None,
        }));
    }
    loop {
        if bytes.len() > MAX_JSON_BYTES {
            reader.cancel();
            return Ok(Download::Media(MediaBody {
                meta,
                body: keep,
                fetched: None,
            }));
        }
        match reader.next().await.map_err(read_failed)? {
            Some(chunk) => bytes.extend_from_slice(&chunk),
            None => break,
        }
    }
    match classify_json(&bytes) {
        Outcome::NotJson => Ok(Download::Media(MediaBody {
            meta,
            body: keep,
            fetched: None,
        })),
        outcome => {
            transport::discard(&keep);
            match outcome {
                Outcome::Video { video_url } => Ok(Download::Video { video_url }),
                Outcome::Error(e) => Err(Error::WeChat(e)),
                _ => Err(Error::Parse {
                    message: "unexpected JSON in place of media".to_string(),
                    raw: bytes,
                }),
            }
        }
    }
}

/// The headers the classifier reads, as an `http::HeaderMap`. Fetch exposes header values as
/// byte strings (one char per byte): they are turned back into the bytes that were sent, so a raw
/// UTF-8 filename survives.
fn header_map(response: &web_sys::Response) -> http::HeaderMap {
    let mut map = http::HeaderMap::new();
    let headers = response.headers();
    for name in [
        http::header::CONTENT_TYPE,
        http::header::CONTENT_DISPOSITION,
        http::header::CONTENT_LENGTH,
    ] {
        let Ok(Some(value)) = headers.get(name.as_str()) else {
            continue;
        };
        let bytes: Vec<u8> = if value.chars().all(|c| (c as u32) < 256) {
            value.chars().map(|c| c as u8).collect()
        } else {
            value.into_bytes()
        };
        if let Ok(value) = http::HeaderValue::from_bytes(&bytes) {
            map.insert(name, value);
        }
    }
    map
}

fn header_str(headers: &http::HeaderMap, name: http::header::HeaderName) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

/// Reads a small answer (token or upload JSON) whole, refusing one that says it is large.
async fn read_small_body(
    response: &web_sys::Response,
    guard: &AbortGuard,
    what: &'static str,
) -> Result<Vec<u8>, Error> {
    let declared = response
        .headers()
        .get("content-length")
        .ok()
        .flatten()
        .and_then(|v| v.trim().parse::<usize>().ok());
    if declared.is_some_and(|n| n > MAX_JSON_BYTES) {
        if let Some(body) = response.body() {
            transport::discard(&body);
        }
        return Err(Error::Parse {
            message: format!(
                "answer of {} bytes where JSON was expected",
                declared.unwrap_or(0)
            ),
            raw: Vec::new(),
        });
    }
    let promise = response.array_buffer().map_err(|e| js_error(&e))?;
    let buffer = JsFuture::from(promise)
        .await
        .map_err(|e| guard.failure(what, &e))?;
    Ok(Uint8Array::new(&buffer).to_vec())
}

/// The first [`SNIFF_LEN`] bytes of a blob, for format detection.
pub(crate) async fn read_head(blob: &Blob) -> Result<Vec<u8>, Error> {
    let head = blob
        .slice_with_f64_and_f64(0.0, SNIFF_LEN as f64)
        .map_err(|e| js_error(&e))?;
    let buffer = JsFuture::from(head.array_buffer())
        .await
        .map_err(|e| js_error(&e))?;
    Ok(Uint8Array::new(&buffer).to_vec())
}

/// A blob with the same bytes as `blob` and the given type (the bytes are not copied).
fn typed_blob(blob: &Blob, content_type: &str) -> Result<Blob, Error> {
    if blob.type_() == content_type {
        return Ok(blob.clone());
    }
    let parts = Array::of1(blob);
    let options = BlobPropertyBag::new();
    options.set_type(content_type);
    Blob::new_with_blob_sequence_and_options(&parts, &options).map_err(|e| js_error(&e))
}

/// A `fetch` Request for a request built by the protocol core.
fn to_web_request(
    request: &http::Request<Vec<u8>>,
    guard: &AbortGuard,
) -> Result<web_sys::Request, Error> {
    let init = RequestInit::new();
    init.set_method(request.method().as_str());
    init.set_signal(Some(&guard.signal()));
    let headers = web_sys::Headers::new().map_err(|e| js_error(&e))?;
    for (name, value) in request.headers() {
        if let Ok(value) = value.to_str() {
            headers
                .append(name.as_str(), value)
                .map_err(|e| js_error(&e))?;
        }
    }
    init.set_headers(&headers);
    if !request.body().is_empty() {
        init.set_body(&Uint8Array::from(request.body().as_slice()));
    }
    web_sys::Request::new_with_str_and_init(&request.uri().to_string(), &init)
        .map_err(|e| js_error(&e))
}

/// An unexpected exception from a web API, as a network error (redacted).
fn js_error(err: &JsValue) -> Error {
    transport::network_error(err)
}
