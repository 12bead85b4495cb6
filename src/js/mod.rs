//! The JavaScript API (`MediaClient`, `MediaFile`, typed errors), behind the `js` feature.
//!
//! This module only translates: options from JS objects, results into JS objects, and
//! [`Error`] into `Error` instances with a `name` (and `errcode`/`code` to branch on).
//!
//! - [`file`]: `MediaFile`, a download's body read once within the call's deadline.
//! - [`node`]: the Node entry's own first attempt at a download.
//! - [`options`]: options and arguments read from JS values.

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
use crate::web::spawn_promise;

mod file;
mod node;
mod options;

pub use file::MediaFile;
pub use node::*;
use options::*;

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
  /** 'stable' (default) uses /cgi-bin/stable_token; 'classic' uses /cgi-bin/token; 'hub' (the default with tokenBase) asks a token hub to refresh a token that failed. */
  tokenMode?: 'stable' | 'classic' | 'hub';
  /** Where token calls go instead of baseUrl: a token hub (the wxmedia Worker's, a 中控 speaking WeChat's token API), with appSecret one of its token keys. */
  tokenBase?: string;
  /** A 中控 with its own API: GET this URL for {access_token, expires_in} (and with ?invalid=<token> after a token failed). */
  tokenUrl?: string;
  /** Sent to tokenUrl as Authorization: Bearer. */
  tokenKey?: string;
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
  /** Attempts per call for transient errors (-1, 5xx, network), the first included: 1 to 10. Default 3. */
  maxAttempts?: number;
  /** @deprecated The older name of maxAttempts: it counts attempts, the first included. */
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
  /** BAD_VOICE, NOT_VOICE: decodeVoice(), wav(), splitVoice(); BAD_AUDIO, UNSUPPORTED_AUDIO, TOO_LONG, BAD_OPTION: encodeVoice() (BAD_OPTION: splitVoice() too); uploadVoice(): those of encodeVoice() and upload(), TOO_LONG/TOO_LARGE with split: false. */
  code: 'TOO_LARGE' | 'BAD_FORMAT' | 'EMPTY' | 'BAD_TYPE' | 'BAD_MEDIA_ID' | 'BAD_VOICE' | 'NOT_VOICE' | 'BAD_AUDIO' | 'UNSUPPORTED_AUDIO' | 'TOO_LONG' | 'BAD_OPTION';
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
pub(super) fn download_value(download: Download) -> Result<JsValue, JsValue> {
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

pub(super) fn set(obj: &Object, key: &str, value: &JsValue) -> Result<(), JsValue> {
    Reflect::set(obj, &key.into(), value).map(|_| ())
}

pub(super) fn type_error(message: &str) -> JsValue {
    js_sys::TypeError::new(message).into()
}

pub(super) fn is_error_named(err: &JsValue, name: &str) -> bool {
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
