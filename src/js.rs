//! The JavaScript API (`MediaClient`, `MediaFile`, typed errors), behind the `js` feature.
//!
//! This module only translates: options from JS objects, results into JS objects, and
//! [`Error`] into `Error` instances with a `name` (and `errcode`/`code` to branch on).

use std::rc::Rc;

use futures_util::FutureExt;
use js_sys::{Array, Function, Object, Promise, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{AbortSignal, Blob, ReadableStream};

use crate::client::{
    Client, ClientConfig, Credentials, Download, MediaBody, TokenMode, UploadMedia, UploadOptions,
    PROVIDER_TOKEN_LIFETIME_SECS,
};
use crate::protocol::{
    AccessToken, AppSecret, Error, Limits, MediaType, TokenGrant, ValidationError,
};
use crate::transport::spawn_promise;

#[wasm_bindgen(typescript_custom_section)]
const TYPES: &'static str = r#"
/** A temporary-media type of WeChat. */
export type MediaType = 'image' | 'voice' | 'video' | 'thumb';

/** Settings of a MediaClient. Give one of: accessToken, getAccessToken, or appId + appSecret. */
export interface MediaClientOptions {
  /** The official account's app id (with appSecret: the client fetches tokens itself). */
  appId?: string;
  /** The app secret. Keep it on servers. */
  appSecret?: string;
  /** 'stable' (default) uses /cgi-bin/stable_token; 'classic' uses /cgi-bin/token. */
  tokenMode?: 'stable' | 'classic';
  /** A fixed access token (never refreshed by the client). */
  accessToken?: string;
  /** Called for a token whenever none is cached, and again once after a token error. */
  getAccessToken?: () => Promise<string> | string;
  /** Default https://api.weixin.qq.com. Point it at the wxmedia Worker or the emulator. */
  baseUrl?: string;
  /** Bound on one call, retries included, in milliseconds. Default 60000. */
  timeoutMs?: number;
  /** Bound on one token fetch, in milliseconds. Default 10000. */
  tokenTimeoutMs?: number;
  /** Attempts per call for transient errors (-1, 5xx, network), the first included. Default 3. */
  maxRetries?: number;
  /** Size limits in bytes, checked before upload. Defaults: image and video 10 MiB, voice 2 MiB, thumb 64 KiB. */
  limits?: { image?: number; voice?: number; video?: number; thumb?: number };
  /** Your own transport, called as fetch(url, init) instead of the default (the global fetch; in Node, a transport over undici); it must resolve to a Response. */
  fetch?: (url: string, init: RequestInit) => Promise<Response>;
  /** Hosts ('host' or 'host:port') whose video URLs are trusted besides WeChat's own and the baseUrl's: a proxy in front of WeChat's video CDN, or a local stand-in for it. */
  videoHosts?: string[];
}

/** Per-call options of upload(). */
export interface UploadOptions {
  /** The filename sent to WeChat; its extension is corrected to fit the detected format. */
  filename?: string;
  /** The part's Content-Type; defaults to the detected format's. */
  contentType?: string;
  /** Aborts the call (it then rejects with an AbortError). */
  signal?: AbortSignal;
}

/** Per-call options of get() and getHdVoice(). */
export interface GetOptions {
  /** Aborts the call (it then rejects with an AbortError). */
  signal?: AbortSignal;
}

/** What validateMedia() resolves to: what would be sent. */
export interface ValidatedMedia {
  type: MediaType;
  /** The detected format: 'jpeg' | 'png' | 'gif' | 'amr' | 'mp3' | 'mp4'. */
  format: string;
  /** The filename that would be sent (its extension fits the format). */
  filename: string;
  contentType: string;
  size: number;
}

/** Options of signMediaUrl(). */
export interface SignMediaUrlOptions {
  /** The Worker's origin (and path prefix, if any), e.g. https://media.example.com */
  baseUrl: string;
  mediaId: string;
  /** The Worker's SIGNING_KEY secret. */
  signingKey: string;
  /** Lifetime in seconds. Default 3600. */
  expiresIn?: number;
  /** Sign the /media/{mediaId}/hd-voice download instead. */
  hdVoice?: boolean;
  /** Unix seconds to count from (default: now). */
  now?: number;
  /** A Worker serving many apps: sign /apps/{appId}/media/... in that app's scope. */
  appId?: string;
}

/** What upload() resolves to. For thumbs, mediaId is WeChat's thumb_media_id. */
export interface UploadResult {
  type: MediaType;
  mediaId: string;
  /** Unix seconds. */
  createdAt: number;
}

/** What get() resolves to for a video: WeChat answers videos with a URL. */
export interface VideoLink {
  kind: 'video';
  videoUrl: string;
}

/** WeChat answered with an error (errcode ≠ 0). */
export interface WeChatError extends Error {
  name: 'WeChatError';
  code: 'WECHAT';
  errcode: number;
  /** WeChat's message without its hint/rid suffixes. */
  errmsg: string;
  hint: string | null;
  rid: string | null;
  /** What the errcode means and what to do about it, when known. */
  description: string | null;
  /** What to do about it (the core's table): retry, refresh the token, fix the configuration… */
  action:
    | 'RETRY_WITH_BACKOFF'
    | 'REFRESH_TOKEN_AND_RETRY'
    | 'WAIT_NEXT_MINUTE'
    | 'CONFIGURATION'
    | 'CALLER_ERROR'
    | 'NOT_FOUND'
    | 'DAILY_QUOTA'
    | 'NOT_AUTHORIZED'
    | 'FATAL'
    | 'UNKNOWN';
}

/** The input was refused before anything was sent. */
export interface MediaValidationError extends Error {
  name: 'MediaValidationError';
  /** BAD_VOICE and NOT_VOICE come from decodeVoice() and MediaFile.wav(). */
  code: 'TOO_LARGE' | 'BAD_FORMAT' | 'EMPTY' | 'BAD_TYPE' | 'BAD_MEDIA_ID' | 'BAD_VOICE' | 'NOT_VOICE';
}

/** The call (or the token fetch) took longer than its timeout. */
export interface TimeoutError extends Error {
  name: 'TimeoutError';
  code: 'TIMEOUT';
}

/** The transport failed, or an answer could not be understood. */
export interface NetworkError extends Error {
  name: 'NetworkError';
  code: 'NETWORK' | 'HTTP' | 'PARSE';
  /** The HTTP status, for code 'HTTP'. */
  status?: number;
}
"#;

/// Downloaded media: its metadata and its bytes, readable once (as a stream, an ArrayBuffer or a
/// Blob), like a `Response` body.
#[wasm_bindgen]
pub struct MediaFile {
    content_type: String,
    filename: Option<String>,
    content_length: Option<f64>,
    /// The answer, until its body is read whole: then it is let go (with the runtime's own
    /// state of the answer), so it does not live on until this object is finalized.
    response: std::cell::RefCell<Option<web_sys::Response>>,
    /// The call's deadline and signal, which bound reading the body too; dropped once it is read.
    deadline: std::cell::RefCell<Option<crate::transport::AbortGuard>>,
    /// For a body of unknown length, the most bytes a read takes before it fails (WeChat's limit
    /// for the media's type plus a margin): such a body is counted as it is read whole.
    cap: Option<u64>,
}

#[wasm_bindgen]
impl MediaFile {
    /// Always `"media"` (a video link has kind `"video"`).
    #[wasm_bindgen(getter, unchecked_return_type = "'media'")]
    pub fn kind(&self) -> String {
        "media".to_string()
    }

    /// The media's Content-Type (`application/octet-stream` when WeChat gave none).
    #[wasm_bindgen(getter, js_name = contentType)]
    pub fn content_type(&self) -> String {
        self.content_type.clone()
    }

    /// The filename from Content-Disposition (`filename*` preferred), or null.
    #[wasm_bindgen(getter)]
    pub fn filename(&self) -> Option<String> {
        self.filename.clone()
    }

    /// The announced length in bytes, or null.
    #[wasm_bindgen(getter, js_name = contentLength)]
    pub fn content_length(&self) -> Option<f64> {
        self.content_length
    }

    /// The bytes as a stream. Reading fails if the connection ends short of its length.
    #[wasm_bindgen(getter, unchecked_return_type = "ReadableStream<Uint8Array>")]
    pub fn body(&self) -> Option<ReadableStream> {
        self.response.borrow().as_ref().and_then(|r| r.body())
    }

    /// Whether the body has been read.
    #[wasm_bindgen(getter, js_name = bodyUsed)]
    pub fn body_used(&self) -> bool {
        self.response
            .borrow()
            .as_ref()
            .is_none_or(|r| r.body_used())
    }

    /// Reads the whole body, within the call's timeout and signal.
    #[wasm_bindgen(js_name = arrayBuffer, unchecked_return_type = "Promise<ArrayBuffer>")]
    pub fn array_buffer(&self) -> Promise {
        match self.cap {
            None => self.read(|response| response.array_buffer()),
            Some(cap) => self.read(move |response| {
                let blob = counted_blob(response, cap, None);
                Ok(spawn_promise(async move {
                    let blob: Blob = crate::transport::Settled::new(&blob)
                        .await?
                        .unchecked_into();
                    crate::transport::Settled::new(&blob.array_buffer()).await
                }))
            }),
        }
    }

    /// Reads the whole body as a Blob of the media's type, within the call's timeout and signal.
    #[wasm_bindgen(unchecked_return_type = "Promise<Blob>")]
    pub fn blob(&self) -> Promise {
        match self.cap {
            None => self.read(|response| response.blob()),
            Some(cap) => {
                let content_type = self.content_type.clone();
                self.read(move |response| Ok(counted_blob(response, cap, Some(content_type))))
            }
        }
    }
}

#[wasm_bindgen]
extern "C" {
    /// [`CUT`]'s closure, seen as the function it is (for `bind`).
    type CutFn;
    #[wasm_bindgen(method, js_name = bind)]
    fn bind_cut(
        this: &CutFn,
        context: &JsValue,
        started_ms: f64,
        timeout_ms: f64,
        parent: &JsValue,
    ) -> Function;
    /// A promise, for `catch` with a plain function.
    type Catchable;
    #[wasm_bindgen(method, js_name = catch)]
    fn catch_with(this: &Catchable, rejected: &Function) -> Promise;
}

thread_local! {
    /// What a body read rejects with, given the call's start, timeout and signal (bound) and the
    /// read's failure: made once, so a read whose guard has no controller needs no Rust state.
    static CUT: CutFn = Closure::<dyn FnMut(f64, f64, JsValue, JsValue) -> Result<JsValue, JsValue>>::new(
        |started_ms: f64, timeout_ms: f64, parent: JsValue, err: JsValue| {
            let guard = crate::transport::AbortGuard::started_at(
                started_ms,
                timeout_ms as u64,
                parent.dyn_ref::<AbortSignal>(),
            );
            Err(read_error(Some(guard), err))
        },
    )
    .into_js_value()
    .unchecked_into();
}

/// What a body read that failed with `err` rejects with: the client's `TimeoutError` or
/// `AbortError` when the call's deadline or signal cut it off, else a `NetworkError`.
fn read_error(deadline: Option<crate::transport::AbortGuard>, err: JsValue) -> JsValue {
    match deadline.and_then(|d| d.cut("media", &err)) {
        Some(cut) => to_js_error(cut),
        None => body_error(err),
    }
}

impl MediaFile {
    /// A read of the body: a read cut off by the call's deadline or signal rejects with the
    /// client's `TimeoutError` or `AbortError`. The deadline stops applying once it settles.
    /// (A promise mapped, not a Rust task: the read's success costs no more than the runtime's.
    /// When the guard has no controller, as with the Node transport, which bounds the read
    /// itself, only a failure calls back into the wasm.)
    fn read(&self, start: impl FnOnce(&web_sys::Response) -> Result<Promise, JsValue>) -> Promise {
        let deadline = self.deadline.borrow_mut().take();
        let Some(response) = self.response.borrow_mut().take() else {
            let used = js_sys::TypeError::new("Body is unusable: Body has already been read");
            return Promise::reject(&body_error(used.into()));
        };
        let promise = match start(&response) {
            Ok(promise) => promise,
            Err(err) => return Promise::reject(&body_error(err)),
        };
        if let Some((started, timeout, parent)) = deadline.as_ref().and_then(|d| d.unarmed()) {
            let parent = parent.map_or(JsValue::UNDEFINED, JsValue::from);
            let rejected =
                CUT.with(|cut| cut.bind_cut(&JsValue::NULL, started, timeout as f64, &parent));
            return promise.unchecked_ref::<Catchable>().catch_with(&rejected);
        }
        crate::transport::then_map(&promise, move |result| {
            result.map_err(|err| read_error(deadline, err))
        })
    }
}

fn body_error(err: JsValue) -> JsValue {
    // The caller's abort, and the client's own refusals (a body past its cap), as they are.
    let coded = Reflect::get(&err, &"code".into()).is_ok_and(|c| c.is_string());
    if is_error_named(&err, "AbortError") || (coded && is_error_named(&err, "NetworkError")) {
        return err;
    }
    to_js_error(Error::network(crate::transport::js_message(
        &err,
        "reading the body failed",
    )))
}

/// A body of unknown length read whole into a Blob (of `content_type`, when given), counted as
/// it comes: past `cap` bytes the read stops and rejects with the client's `NetworkError`
/// (`PARSE`), as an answer that declared such a length is refused.
fn counted_blob(response: &web_sys::Response, cap: u64, content_type: Option<String>) -> Promise {
    let body = response.body();
    spawn_promise(async move {
        let Some(body) = body else {
            return Ok(Blob::new()?.into());
        };
        match crate::transport::read_whole_within(&body, cap).await? {
            Some(blob) => match content_type {
                Some(t) => crate::transport::typed_blob(&blob, &t)
                    .map(JsValue::from)
                    .map_err(to_js_error),
                None => Ok(blob.into()),
            },
            None => Err(to_js_error(Error::Parse {
                message: format!(
                    "the answer is more than {cap} bytes, more than any media WeChat serves of its type"
                ),
                raw: Vec::new(),
            })),
        }
    })
}

impl MediaFile {
    fn new(media: MediaBody) -> Result<MediaFile, JsValue> {
        let cap = media
            .meta
            .content_length
            .is_none()
            .then_some(media.max_bytes);
        let content_type = media
            .meta
            .content_type
            .clone()
            .unwrap_or_else(|| "application/octet-stream".to_string());
        let response = match &media.fetched {
            Some(fetched) => Clone::clone(fetched),
            None => {
                let init = web_sys::ResponseInit::new();
                let headers = web_sys::Headers::new()?;
                headers.set("content-type", &content_type)?;
                init.set_headers(&headers);
                let body = media.body().map_err(to_js_error)?;
                web_sys::Response::new_with_opt_readable_stream_and_init(Some(&body), &init)?
            }
        };
        Ok(MediaFile {
            content_type,
            filename: media.meta.filename,
            content_length: media.meta.content_length.map(|n| n as f64),
            response: std::cell::RefCell::new(Some(response)),
            deadline: std::cell::RefCell::new(media.deadline),
            cap,
        })
    }
}

/// A client of WeChat's temporary-media API.
#[wasm_bindgen]
pub struct MediaClient {
    client: Client,
}

#[wasm_bindgen]
impl MediaClient {
    /// Creates a client. Throws a `TypeError` for missing or malformed options.
    #[wasm_bindgen(constructor)]
    pub fn new(
        #[wasm_bindgen(unchecked_param_type = "MediaClientOptions")] options: JsValue,
    ) -> Result<MediaClient, JsValue> {
        Ok(MediaClient {
            client: Client::new(parse_options(&options)?),
        })
    }

    /// Uploads temporary media. Resolves to `{ type, mediaId, createdAt }`.
    #[wasm_bindgen(unchecked_return_type = "Promise<UploadResult>")]
    pub fn upload(
        &self,
        #[wasm_bindgen(js_name = "type", unchecked_param_type = "MediaType")] media_type: JsValue,
        #[wasm_bindgen(unchecked_param_type = "Blob | Uint8Array | ArrayBuffer")] media: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "UploadOptions")] options: JsValue,
    ) -> Promise {
        let client = self.client.clone();
        spawn_promise(async move {
            let media_type = parse_media_type(&media_type).map_err(to_js_error)?;
            let media = to_upload_media(&media)?;
            let options = UploadOptions {
                filename: opt_string(&options, "filename")?,
                content_type: opt_content_type(&options)?,
                signal: opt_signal(&options)?,
            };
            let uploaded = client
                .upload(media_type, &media, &options)
                .await
                .map_err(to_js_error)?;
            let out = Object::new();
            set(&out, "type", &uploaded.media_type.as_str().into())?;
            set(&out, "mediaId", &uploaded.media_id.as_str().into())?;
            set(&out, "createdAt", &(uploaded.created_at as f64).into())?;
            Ok(out.into())
        })
    }

    /// Downloads media. Resolves to a `MediaFile`, or `{ kind: 'video', videoUrl }` for videos.
    #[wasm_bindgen(unchecked_return_type = "Promise<MediaFile | VideoLink>")]
    pub fn get(
        &self,
        #[wasm_bindgen(js_name = mediaId, unchecked_param_type = "string")] media_id: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "GetOptions")] options: JsValue,
    ) -> Promise {
        let client = self.client.clone();
        spawn_promise(async move {
            let media_id = string_arg(&media_id, "mediaId")?;
            let signal = opt_signal(&options)?;
            download_value(
                client
                    .get(&media_id, signal.as_ref())
                    .await
                    .map_err(to_js_error)?,
            )
        })
    }

    /// Downloads a JSSDK voice recording as 16 kHz speex (`/cgi-bin/media/get/jssdk`).
    #[wasm_bindgen(js_name = getHdVoice, unchecked_return_type = "Promise<MediaFile>")]
    pub fn get_hd_voice(
        &self,
        #[wasm_bindgen(js_name = mediaId, unchecked_param_type = "string")] media_id: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "GetOptions")] options: JsValue,
    ) -> Promise {
        let client = self.client.clone();
        spawn_promise(async move {
            let media_id = string_arg(&media_id, "mediaId")?;
            let signal = opt_signal(&options)?;
            let media = client
                .hd_voice(&media_id, signal.as_ref())
                .await
                .map_err(to_js_error)?;
            Ok(MediaFile::new(media)?.into())
        })
    }

    /// The access token the client would use now (fetching one if needed). It is a secret: for
    /// server-side tools only.
    #[wasm_bindgen(js_name = accessToken, unchecked_return_type = "Promise<string>")]
    pub fn access_token(&self) -> Promise {
        let client = self.client.clone();
        spawn_promise(async move {
            let token = client.access_token().await.map_err(to_js_error)?;
            Ok(token.expose().into())
        })
    }
}

/// What `get()` resolves to for a download: a `MediaFile`, or `{ kind: 'video', videoUrl }`.
fn download_value(download: Download) -> Result<JsValue, JsValue> {
    match download {
        Download::Media(media) => Ok(MediaFile::new(media)?.into()),
        Download::Video { video_url } => {
            let out = Object::new();
            set(&out, "kind", &"video".into())?;
            set(&out, "videoUrl", &video_url.into())?;
            Ok(out.into())
        }
    }
}

// The Node entry's downloads (not part of the API, and not in the types): its `get()` and
// `getHdVoice()` send a download's first attempt themselves (over undici) when a token is cached,
// and hand the answer back here, where the same rules as `get()`'s sort it. A download that
// answers media then costs one call into the wasm before it is sent and one after, and no task,
// request object or timer of the client's (see `Client::first_download_url` and `Client::download_after`).

/// The URL of `client`'s first attempt at a download, or undefined when it cannot go out at once
/// (an invalid id, no token cached): then `get()` itself makes the call.
#[wasm_bindgen(js_name = __firstGetUrl, skip_typescript)]
pub fn first_get_url(client: &MediaClient, media_id: &str, hd_voice: bool) -> Option<String> {
    client.client.first_download_url(hd_voice, media_id)
}

/// `client`'s media timeout in milliseconds: what bounds the first attempt (from its start).
#[wasm_bindgen(js_name = __timeoutOf, skip_typescript)]
pub fn timeout_of(client: &MediaClient) -> f64 {
    client.client.config().media_timeout_ms as f64
}

/// What a transport that takes timeouts rejects with when one is up (how the client tells a
/// timeout from other failures).
#[wasm_bindgen(js_name = __timeoutReason, skip_typescript)]
pub fn timeout_reason() -> JsValue {
    crate::transport::timeout_reason()
}

/// The first attempt's answer as a `MediaFile` when its head says it is media (its body is read
/// within the call's deadline from `started_ms` and `signal`), else undefined. The answer is the
/// Node transport's (`nodeGet`'s): Response-shaped, read through the same properties and methods
/// as a `Response`, though not one (no `instanceof` check here).
#[wasm_bindgen(js_name = __firstGetMedia, skip_typescript)]
pub fn first_get_media(
    client: &MediaClient,
    answer: &JsValue,
    started_ms: f64,
    signal: Option<AbortSignal>,
) -> Result<Option<MediaFile>, JsValue> {
    let answer = answer.unchecked_ref::<web_sys::Response>();
    match client
        .client
        .first_media(answer, started_ms, signal.as_ref())
    {
        Some(media) => MediaFile::new(media).map(Some),
        None => Ok(None),
    }
}

/// A download whose first attempt went to `url` at `started_ms` and answered `answer` (`ok`: the
/// Node transport's Response-shaped answer, as for [`first_get_media`]) or failed with it, gone on
/// with as `get()` (or `getHdVoice()`) would have: a promise of what those resolve to.
#[allow(clippy::too_many_arguments)]
#[wasm_bindgen(js_name = __getAfter, skip_typescript)]
pub fn get_after(
    client: &MediaClient,
    media_id: String,
    hd_voice: bool,
    url: String,
    started_ms: f64,
    signal: Option<AbortSignal>,
    answer: JsValue,
    ok: bool,
) -> Promise {
    let client = client.client.clone();
    spawn_promise(async move {
        let answer = if ok {
            Ok(answer.unchecked_into::<web_sys::Response>())
        } else {
            Err(answer)
        };
        let signal = signal.as_ref();
        let started = started_ms as u64;
        download_value(
            client
                .download_after(hd_voice, &media_id, &url, started, signal, answer)
                .await
                .map_err(to_js_error)?,
        )
    })
}

fn parse_options(options: &JsValue) -> Result<ClientConfig, JsValue> {
    if !options.is_object() {
        return Err(type_error("MediaClient options must be an object"));
    }
    let credentials = if let Some(token) = opt_string(options, "accessToken")? {
        if token.trim().is_empty() {
            return Err(type_error("option accessToken must not be empty"));
        }
        Credentials::AccessToken(AccessToken::new(token))
    } else if let Some(provider) = opt_function(options, "getAccessToken")? {
        Credentials::Provider(js_provider(provider))
    } else {
        let appid = opt_string(options, "appId")?;
        let secret = opt_string(options, "appSecret")?;
        let mode = match opt_string(options, "tokenMode")?.as_deref() {
            None | Some("stable") => TokenMode::Stable,
            Some("classic") => TokenMode::Classic,
            Some(other) => {
                return Err(type_error(&format!(
                    "tokenMode must be 'stable' or 'classic', not '{other}'"
                )))
            }
        };
        match (appid, secret) {
            (Some(appid), Some(secret)) => Credentials::AppSecret {
                appid,
                secret: AppSecret::new(secret),
                mode,
            },
            _ => {
                return Err(type_error(
                    "MediaClient needs accessToken, getAccessToken, or appId and appSecret",
                ))
            }
        }
    };
    let mut config = ClientConfig::new(credentials);
    if let Some(base) = opt_string(options, "baseUrl")? {
        crate::protocol::request::check_base_url(&base)
            .map_err(|e| type_error(&format!("option baseUrl: {}", e.message)))?;
        config.base_url = base;
    }
    if let Some(ms) = opt_timeout(options, "timeoutMs")? {
        config.media_timeout_ms = ms;
    }
    if let Some(ms) = opt_timeout(options, "tokenTimeoutMs")? {
        config.token_timeout_ms = ms;
    }
    if let Some(n) = opt_number(options, "maxRetries")? {
        config.retry.max_attempts = n.clamp(1, 10) as u32;
    }
    config.limits = parse_limits(options)?;
    config.fetch = opt_function(options, "fetch")?.map(crate::transport::Transport::new);
    config.video_hosts = parse_video_hosts(options)?;
    Ok(config)
}

/// The `videoHosts` option: an array of `host` or `host:port` strings.
fn parse_video_hosts(options: &JsValue) -> Result<Vec<crate::protocol::VideoHost>, JsValue> {
    let Some(value) = opt_value(options, "videoHosts")? else {
        return Ok(Vec::new());
    };
    let bad = || type_error("option videoHosts must be an array of 'host' or 'host:port' strings");
    if !Array::is_array(&value) {
        return Err(bad());
    }
    Array::from(&value)
        .iter()
        .map(|v| {
            v.as_string()
                .as_deref()
                .and_then(crate::protocol::VideoHost::parse)
                .ok_or_else(bad)
        })
        .collect()
}

/// Wraps a JS `() => Promise<string> | string` as a token provider.
fn js_provider(provider: Function) -> crate::client::TokenProvider {
    Rc::new(move |_failed| {
        let provider = provider.clone();
        async move {
            let failed = |e: JsValue| {
                Error::network(format!(
                    "getAccessToken failed: {}",
                    crate::transport::js_message(&e, "no reason given")
                ))
            };
            let value = provider.call0(&JsValue::UNDEFINED).map_err(failed)?;
            let value = crate::transport::Settled::new(&Promise::resolve(&value))
                .await
                .map_err(failed)?;
            match value.as_string() {
                Some(token) if !token.is_empty() => Ok(TokenGrant {
                    token: AccessToken::new(token),
                    expires_in: PROVIDER_TOKEN_LIFETIME_SECS,
                }),
                _ => Err(Error::network(
                    "getAccessToken did not resolve to a non-empty string",
                )),
            }
        }
        .boxed_local()
    })
}

fn parse_media_type(value: &JsValue) -> Result<MediaType, Error> {
    let text = value.as_string().unwrap_or_default();
    text.parse::<MediaType>()
        .map_err(|e| Error::Validation(ValidationError::from(e)))
}

/// The media of a Blob, a Uint8Array (a Node Buffer too), another typed array or an ArrayBuffer:
/// bytes are taken as a Uint8Array over the same memory, not copied.
fn to_upload_media(media: &JsValue) -> Result<UploadMedia, JsValue> {
    if let Some(blob) = media.dyn_ref::<Blob>() {
        return Ok(UploadMedia::Blob(blob.clone()));
    }
    if let Some(bytes) = media.dyn_ref::<Uint8Array>() {
        return Ok(UploadMedia::Bytes(bytes.clone()));
    }
    if let Some(buffer) = media.dyn_ref::<js_sys::ArrayBuffer>() {
        return Ok(UploadMedia::Bytes(Uint8Array::new(buffer)));
    }
    if js_sys::ArrayBuffer::is_view(media) {
        let get = |key: &str| Reflect::get(media, &key.into());
        let offset = get("byteOffset")?.as_f64().unwrap_or(0.0) as u32;
        let length = get("byteLength")?.as_f64().unwrap_or(0.0) as u32;
        return Ok(UploadMedia::Bytes(
            Uint8Array::new_with_byte_offset_and_length(&get("buffer")?, offset, length),
        ));
    }
    Err(type_error(
        "media must be a Blob, a Uint8Array or an ArrayBuffer",
    ))
}

fn opt_value(obj: &JsValue, key: &str) -> Result<Option<JsValue>, JsValue> {
    if !obj.is_object() {
        return Ok(None);
    }
    let value = Reflect::get(obj, &key.into())?;
    Ok((!value.is_undefined() && !value.is_null()).then_some(value))
}

fn opt_string(obj: &JsValue, key: &str) -> Result<Option<String>, JsValue> {
    match opt_value(obj, key)? {
        None => Ok(None),
        Some(v) => v
            .as_string()
            .map(Some)
            .ok_or_else(|| type_error(&format!("option {key} must be a string"))),
    }
}

/// A required string argument, checked at the boundary: anything else is a `TypeError` (never
/// handed to wasm as a string it is not).
fn string_arg(value: &JsValue, name: &str) -> Result<String, JsValue> {
    value
        .as_string()
        .ok_or_else(|| type_error(&format!("{name} must be a string")))
}

/// The longest timer the platform keeps (2^31 − 1 ms): a longer one fires at once.
const MAX_TIMER_MS: u64 = (1 << 31) - 1;

/// A timeout option: a whole number of milliseconds from 1 to 2^31 − 1.
fn opt_timeout(obj: &JsValue, key: &str) -> Result<Option<u64>, JsValue> {
    match opt_value(obj, key)? {
        None => Ok(None),
        Some(v) => match v.as_f64() {
            Some(n) if n.fract() == 0.0 && n >= 1.0 && n <= MAX_TIMER_MS as f64 => {
                Ok(Some(n as u64))
            }
            _ => Err(type_error(&format!(
                "option {key} must be a whole number of milliseconds from 1 to {MAX_TIMER_MS}"
            ))),
        },
    }
}

fn opt_number(obj: &JsValue, key: &str) -> Result<Option<u64>, JsValue> {
    match opt_value(obj, key)? {
        None => Ok(None),
        Some(v) => match v.as_f64() {
            Some(n) if n.is_finite() && n >= 0.0 => Ok(Some(n as u64)),
            _ => Err(type_error(&format!(
                "option {key} must be a non-negative number"
            ))),
        },
    }
}

fn opt_function(obj: &JsValue, key: &str) -> Result<Option<Function>, JsValue> {
    match opt_value(obj, key)? {
        None => Ok(None),
        Some(v) => v
            .dyn_into::<Function>()
            .map(Some)
            .map_err(|_| type_error(&format!("option {key} must be a function"))),
    }
}

fn opt_signal(obj: &JsValue) -> Result<Option<AbortSignal>, JsValue> {
    match opt_value(obj, "signal")? {
        None => Ok(None),
        Some(v) => v
            .dyn_into::<AbortSignal>()
            .map(Some)
            .map_err(|_| type_error("option signal must be an AbortSignal")),
    }
}

fn set(obj: &Object, key: &str, value: &JsValue) -> Result<(), JsValue> {
    Reflect::set(obj, &key.into(), value).map(|_| ())
}

fn type_error(message: &str) -> JsValue {
    js_sys::TypeError::new(message).into()
}

fn is_error_named(err: &JsValue, name: &str) -> bool {
    Reflect::get(err, &"name".into())
        .ok()
        .and_then(|n| n.as_string())
        .as_deref()
        == Some(name)
}

/// An `Error` with a `name` and the properties callers branch on. Messages never contain the
/// access token: the protocol core's errors are built without URLs or token values.
pub fn to_js_error(err: Error) -> JsValue {
    let js = js_sys::Error::new(&err.to_string());
    let obj: &Object = js.as_ref();
    let put = |key: &str, value: JsValue| {
        let _ = Reflect::set(obj, &key.into(), &value);
    };
    put("code", err.code().into());
    match &err {
        Error::WeChat(e) => {
            js.set_name("WeChatError");
            put("errcode", (e.errcode as f64).into());
            put("errmsg", e.errmsg.as_str().into());
            put(
                "hint",
                e.hint.as_deref().map_or(JsValue::NULL, JsValue::from),
            );
            put("rid", e.rid.as_deref().map_or(JsValue::NULL, JsValue::from));
            put(
                "description",
                e.description().map_or(JsValue::NULL, JsValue::from),
            );
            put("action", e.action().as_str().into());
        }
        Error::Validation(_) => js.set_name("MediaValidationError"),
        Error::Timeout { .. } => js.set_name("TimeoutError"),
        Error::Cancelled => js.set_name("AbortError"),
        Error::Http { status } => {
            js.set_name("NetworkError");
            put("status", (*status).into());
        }
        Error::Network(_) | Error::Parse { .. } => js.set_name("NetworkError"),
    }
    js.into()
}

/// Checks media as `upload` would, without sending anything: resolves to what would be sent, or
/// rejects with a `MediaValidationError`. Only the first bytes of the media are read.
#[wasm_bindgen(js_name = validateMedia, unchecked_return_type = "Promise<ValidatedMedia>")]
pub fn validate_media(
    #[wasm_bindgen(js_name = "type", unchecked_param_type = "MediaType")] media_type: JsValue,
    #[wasm_bindgen(unchecked_param_type = "Blob | Uint8Array | ArrayBuffer")] media: JsValue,
    #[wasm_bindgen(
        unchecked_optional_param_type = "{ filename?: string; limits?: MediaClientOptions['limits'] }"
    )]
    options: JsValue,
) -> Promise {
    spawn_promise(async move {
        let media_type = parse_media_type(&media_type).map_err(to_js_error)?;
        let media = to_upload_media(&media)?;
        let limits = parse_limits(&options)?;
        let head = media.head().await.map_err(to_js_error)?;
        let filename = opt_string(&options, "filename")?;
        let size = media.size();
        let checked =
            crate::protocol::validate(media_type, size, &head, filename.as_deref(), &limits)
                .map_err(|e| to_js_error(Error::Validation(e)))?;
        let out = Object::new();
        set(&out, "type", &media_type.as_str().into())?;
        set(
            &out,
            "format",
            &checked.format.ext().replace("jpg", "jpeg").into(),
        )?;
        set(&out, "filename", &checked.filename.into())?;
        set(&out, "contentType", &checked.content_type.into())?;
        set(&out, "size", &(size as f64).into())?;
        Ok(out.into())
    })
}

/// The media type that fits a file's format (by its first bytes): `'image'` for JPEG, PNG and
/// GIF, `'voice'` for AMR and MP3, `'video'` for MP4; `null` when the format is not one WeChat
/// takes.
#[wasm_bindgen(js_name = inferMediaType, unchecked_return_type = "Promise<MediaType | null>")]
pub fn infer_media_type(
    #[wasm_bindgen(unchecked_param_type = "Blob | Uint8Array | ArrayBuffer")] media: JsValue,
) -> Promise {
    use crate::protocol::Format;
    spawn_promise(async move {
        let head = to_upload_media(&media)?.head().await.map_err(to_js_error)?;
        Ok(match crate::protocol::sniff(&head) {
            Some(Format::Jpeg | Format::Png | Format::Gif) => "image".into(),
            Some(Format::Amr | Format::Mp3) => "voice".into(),
            Some(Format::Mp4) => "video".into(),
            None => JsValue::NULL,
        })
    })
}

/// A signed download URL for the wxmedia Worker (`DOWNLOAD_AUTH=signed`), made on a server that
/// holds the Worker's `SIGNING_KEY`.
#[wasm_bindgen(js_name = signMediaUrl)]
pub fn sign_media_url(
    #[wasm_bindgen(unchecked_param_type = "SignMediaUrlOptions")] options: JsValue,
) -> Result<String, JsValue> {
    use crate::protocol::sign::{signed_path, SignedKind};
    let required = |key: &str| {
        opt_string(&options, key)?.ok_or_else(|| type_error(&format!("option {key} is required")))
    };
    if !options.is_object() {
        return Err(type_error("signMediaUrl options must be an object"));
    }
    let base = required("baseUrl")?;
    let media_id = required("mediaId")?;
    let key = required("signingKey")?;
    crate::protocol::request::check_base_url(&base)
        .map_err(|e| type_error(&format!("option baseUrl: {}", e.message)))?;
    crate::protocol::request::validate_media_id(&media_id)
        .map_err(|e| to_js_error(Error::Validation(e)))?;
    if key.is_empty() {
        return Err(type_error("option signingKey must not be empty"));
    }
    let max = crate::protocol::sign::MAX_LIFETIME_SECS;
    let expires_in = opt_whole(&options, "expiresIn", max)?.unwrap_or(3600);
    let now = match opt_whole(&options, "now", MAX_SAFE_INTEGER)? {
        Some(now) => now,
        None => (js_sys::Date::now() / 1000.0) as u64,
    };
    let exp = crate::protocol::sign::expiry(now, expires_in).ok_or_else(|| {
        type_error(&format!(
            "option expiresIn must be 1 to {max} seconds (the Worker refuses longer-lived URLs)"
        ))
    })?;
    let hd_voice = opt_value(&options, "hdVoice")?.is_some_and(|v| v.is_truthy());
    let kind = if hd_voice {
        SignedKind::HdVoice
    } else {
        SignedKind::Media
    };
    let app = opt_string(&options, "appId")?;
    if let Some(app) = &app {
        if !crate::protocol::sign::valid_appid(app) {
            return Err(type_error(
                "option appId must be an app id: 1 to 64 of A-Z a-z 0-9 _ -",
            ));
        }
    }
    Ok(format!(
        "{}{}",
        base.trim_end_matches('/'),
        signed_path(key.as_bytes(), app.as_deref(), kind, &media_id, exp)
    ))
}

/// The `contentType` upload option: a part header's value, so printable ASCII only (a CR or LF
/// would start a header line of its own in the multipart body).
fn opt_content_type(options: &JsValue) -> Result<Option<String>, JsValue> {
    let value = opt_string(options, "contentType")?;
    match &value {
        Some(v) if v.is_empty() || v.len() > 255 || !v.bytes().all(|b| (0x20..0x7f).contains(&b)) => {
            Err(type_error(
                "option contentType must be 1 to 255 printable ASCII characters (no control characters)",
            ))
        }
        _ => Ok(value),
    }
}

/// The largest whole number a JS number holds exactly (`Number.MAX_SAFE_INTEGER`).
const MAX_SAFE_INTEGER: u64 = (1 << 53) - 1;

/// An optional whole number from 0 to `max` (a fraction, a negative or a larger number is a
/// `TypeError`).
fn opt_whole(obj: &JsValue, key: &str, max: u64) -> Result<Option<u64>, JsValue> {
    match opt_value(obj, key)? {
        None => Ok(None),
        Some(v) => match v.as_f64() {
            Some(n) if n.fract() == 0.0 && n >= 0.0 && n <= max as f64 => Ok(Some(n as u64)),
            _ => Err(type_error(&format!(
                "option {key} must be a whole number from 0 to {max}"
            ))),
        },
    }
}

fn parse_limits(options: &JsValue) -> Result<Limits, JsValue> {
    let defaults = Limits::default();
    let Some(limits) = opt_value(options, "limits")? else {
        return Ok(defaults);
    };
    if !limits.is_object() {
        return Err(type_error(
            "option limits must be an object: { image?, voice?, video?, thumb? } in bytes",
        ));
    }
    Ok(Limits {
        image: opt_number(&limits, "image")?.unwrap_or(defaults.image),
        voice: opt_number(&limits, "voice")?.unwrap_or(defaults.voice),
        video: opt_number(&limits, "video")?.unwrap_or(defaults.video),
        thumb: opt_number(&limits, "thumb")?.unwrap_or(defaults.thumb),
    })
}
