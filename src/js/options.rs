//! Reading the options callers pass from JS: each a `TypeError` naming the option when it is
//! malformed, checked before anything is sent.

use super::*;

pub(super) fn parse_options(options: &JsValue) -> Result<ClientConfig, JsValue> {
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
    } else if let Some(url) = opt_string(options, "tokenUrl")? {
        crate::protocol::request::check_base_url(url.split('?').next().unwrap_or(&url))
            .map_err(|e| type_error(&format!("option tokenUrl: {}", e.message)))?;
        let key = opt_string(options, "tokenKey")?.map(crate::protocol::TokenUrlKey::new);
        let timeout = opt_timeout(options, "tokenTimeoutMs")?
            .unwrap_or(crate::client::DEFAULT_TOKEN_TIMEOUT_MS);
        let custom = opt_function(options, "fetch")?.map(crate::web::Transport::new);
        Credentials::Provider(crate::client::token_url_provider(url, key, timeout, custom))
    } else {
        let appid = opt_string(options, "appId")?;
        let secret = opt_string(options, "appSecret")?;
        let hub = opt_string(options, "tokenBase")?.is_some();
        let mode = match opt_string(options, "tokenMode")?.as_deref() {
            None if hub => TokenMode::Hub,
            None | Some("stable") => TokenMode::Stable,
            Some("classic") => TokenMode::Classic,
            Some("hub") => TokenMode::Hub,
            Some(other) => {
                return Err(type_error(&format!(
                    "tokenMode must be 'stable', 'classic' or 'hub', not '{other}'"
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
    if let Some(base) = opt_string(options, "tokenBase")? {
        crate::protocol::request::check_base_url(&base)
            .map_err(|e| type_error(&format!("option tokenBase: {}", e.message)))?;
        config.token_base_url = Some(base);
    }
    if let Some(ms) = opt_timeout(options, "timeoutMs")? {
        config.media_timeout_ms = ms;
    }
    if let Some(ms) = opt_timeout(options, "tokenTimeoutMs")? {
        config.token_timeout_ms = ms;
    }
    // `maxAttempts` counts attempts, the first included; `maxRetries` is its older name (it
    // always counted attempts too), still read when `maxAttempts` is not given.
    let attempts = opt_whole(options, "maxAttempts", 10)?;
    let legacy = opt_number(options, "maxRetries")?;
    if let (Some(a), Some(r)) = (attempts, legacy) {
        if a != r.clamp(1, 10) {
            return Err(type_error(
                "options maxAttempts and maxRetries disagree: give maxAttempts only (maxRetries is its older name)",
            ));
        }
    }
    if attempts == Some(0) {
        return Err(type_error(
            "option maxAttempts must be 1 to 10 (attempts per call, the first included)",
        ));
    }
    if let Some(n) = attempts.or(legacy) {
        config.retry.max_attempts = n.clamp(1, 10) as u32;
    }
    config.limits = parse_limits(options)?;
    config.fetch = opt_function(options, "fetch")?.map(crate::web::Transport::new);
    config.video_hosts = parse_video_hosts(options)?;
    Ok(config)
}

/// The `videoHosts` option: an array of `host` or `host:port` strings.
pub(super) fn parse_video_hosts(
    options: &JsValue,
) -> Result<Vec<crate::protocol::VideoHost>, JsValue> {
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
pub(super) fn js_provider(provider: Function) -> crate::client::TokenProvider {
    Rc::new(move |_failed| {
        let provider = provider.clone();
        async move {
            let failed = |e: JsValue| {
                Error::network(format!(
                    "getAccessToken failed: {}",
                    crate::web::js_message(&e, "no reason given")
                ))
            };
            let value = provider.call0(&JsValue::UNDEFINED).map_err(failed)?;
            let value = crate::web::Settled::new(&Promise::resolve(&value))
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

pub(super) fn parse_media_type(value: &JsValue) -> Result<MediaType, Error> {
    let text = value.as_string().unwrap_or_default();
    text.parse::<MediaType>()
        .map_err(|e| Error::Validation(ValidationError::from(e)))
}

/// The media of a Blob, a Uint8Array (a Node Buffer too), another typed array or an ArrayBuffer:
/// bytes are taken as a Uint8Array over the same memory, not copied.
pub(super) fn to_upload_media(media: &JsValue) -> Result<UploadMedia, JsValue> {
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

pub(super) fn opt_value(obj: &JsValue, key: &str) -> Result<Option<JsValue>, JsValue> {
    if !obj.is_object() {
        return Ok(None);
    }
    let value = Reflect::get(obj, &key.into())?;
    Ok((!value.is_undefined() && !value.is_null()).then_some(value))
}

pub(super) fn opt_string(obj: &JsValue, key: &str) -> Result<Option<String>, JsValue> {
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
pub(super) fn string_arg(value: &JsValue, name: &str) -> Result<String, JsValue> {
    value
        .as_string()
        .ok_or_else(|| type_error(&format!("{name} must be a string")))
}

/// The longest timer the platform keeps (2^31 − 1 ms): a longer one fires at once.
pub(super) const MAX_TIMER_MS: u64 = (1 << 31) - 1;

/// A timeout option: a whole number of milliseconds from 1 to 2^31 − 1.
pub(super) fn opt_timeout(obj: &JsValue, key: &str) -> Result<Option<u64>, JsValue> {
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

pub(super) fn opt_number(obj: &JsValue, key: &str) -> Result<Option<u64>, JsValue> {
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

pub(super) fn opt_function(obj: &JsValue, key: &str) -> Result<Option<Function>, JsValue> {
    match opt_value(obj, key)? {
        None => Ok(None),
        Some(v) => v
            .dyn_into::<Function>()
            .map(Some)
            .map_err(|_| type_error(&format!("option {key} must be a function"))),
    }
}

pub(super) fn opt_signal(obj: &JsValue) -> Result<Option<AbortSignal>, JsValue> {
    match opt_value(obj, "signal")? {
        None => Ok(None),
        Some(v) => v
            .dyn_into::<AbortSignal>()
            .map(Some)
            .map_err(|_| type_error("option signal must be an AbortSignal")),
    }
}

/// The `contentType` upload option: a part header's value, so printable ASCII only (a CR or LF
/// would start a header line of its own in the multipart body).
pub(super) fn opt_content_type(options: &JsValue) -> Result<Option<String>, JsValue> {
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
pub(super) const MAX_SAFE_INTEGER: u64 = (1 << 53) - 1;

/// An optional whole number from 0 to `max` (a fraction, a negative or a larger number is a
/// `TypeError`).
pub(super) fn opt_whole(obj: &JsValue, key: &str, max: u64) -> Result<Option<u64>, JsValue> {
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

pub(super) fn parse_limits(options: &JsValue) -> Result<Limits, JsValue> {
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
