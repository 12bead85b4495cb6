//! The Node entry's downloads (not part of the API, and not in the types): its `get()` and
//! `getHdVoice()` send a download's first attempt themselves (over undici) when a token is
//! cached, and hand the answer back here, where the same rules as `get()`'s sort it. A download
//! that answers media then costs one call into the wasm before it is sent and one after, and no
//! task, request object or timer of the client's (see `Client::first_download_url` and
//! `Client::download_after`).

use super::*;

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
    crate::web::timeout_reason()
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
