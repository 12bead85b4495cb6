//! The Fetch API edge: the global `fetch`, timers, the clock and stream helpers.
//!
//! Only this module (and `js.rs`) touches JavaScript values. It binds the *global* `fetch` and
//! `setTimeout`, never `window`, so the same code runs in Node, browsers and Cloudflare Workers.

use js_sys::{Array, Promise, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{AbortController, AbortSignal, ReadableStream, ReadableStreamDefaultReader, Request};

use crate::protocol::Error;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_name = fetch)]
    fn global_fetch(input: &Request) -> Promise;
    #[wasm_bindgen(js_name = setTimeout)]
    fn set_timeout(handler: &js_sys::Function, ms: f64) -> JsValue;
    #[wasm_bindgen(js_name = clearTimeout)]
    fn clear_timeout(id: &JsValue);
}

/// Milliseconds since the Unix epoch, from the platform clock.
pub fn now_ms() -> u64 {
    js_sys::Date::now() as u64
}

/// Resolves after `ms` milliseconds, or as soon as `signal` aborts.
pub async fn sleep_unless_aborted(ms: u64, signal: &AbortSignal) {
    if signal.aborted() {
        return;
    }
    let promise = Promise::new(&mut |resolve, _reject| {
        set_timeout(&resolve, ms as f64);
        let _ = signal.add_event_listener_with_callback("abort", &resolve);
    });
    let _ = JsFuture::from(promise).await;
}

/// Resolves when `signal` aborts (never, if it does not).
pub fn aborted(signal: &AbortSignal) -> JsFuture {
    let promise = Promise::new(&mut |resolve, _reject| {
        if signal.aborted() {
            let _ = resolve.call0(&JsValue::UNDEFINED);
        } else {
            let _ = signal.add_event_listener_with_callback("abort", &resolve);
        }
    });
    JsFuture::from(promise)
}

/// A stream with no bytes, for answers without a body.
pub fn empty_stream() -> Result<ReadableStream, Error> {
    web_sys::Response::new_with_opt_u8_array(Some(&mut []))
        .map_err(|e| network_error(&e))?
        .body()
        .ok_or_else(|| Error::network("an empty Response has no body stream"))
}

/// An `AbortController` that fires after a timeout or when a caller's signal aborts.
///
/// Clones share one controller. When the last clone is dropped, the timer is cleared and the
/// listener on the caller's signal removed.
#[derive(Clone)]
pub struct AbortGuard {
    inner: std::rc::Rc<GuardInner>,
}

struct GuardInner {
    controller: AbortController,
    timer: JsValue,
    _on_timeout: Closure<dyn FnMut()>,
    timed_out: std::rc::Rc<std::cell::Cell<bool>>,
    timeout_ms: u64,
    parent: Option<(AbortSignal, Closure<dyn FnMut()>)>,
}

impl AbortGuard {
    /// Arms a controller that aborts after `timeout_ms`, or earlier when `parent` aborts.
    pub fn new(timeout_ms: u64, parent: Option<&AbortSignal>) -> Result<Self, Error> {
        let controller = AbortController::new()
            .map_err(|e| Error::network(js_message(&e, "AbortController")))?;
        let timed_out = std::rc::Rc::new(std::cell::Cell::new(false));
        let on_timeout = {
            let controller = controller.clone();
            let timed_out = timed_out.clone();
            Closure::<dyn FnMut()>::new(move || {
                timed_out.set(true);
                controller.abort();
            })
        };
        let timer = set_timeout(on_timeout.as_ref().unchecked_ref(), timeout_ms as f64);
        let parent = match parent {
            Some(signal) if signal.aborted() => {
                controller.abort();
                None
            }
            Some(signal) => {
                let on_abort = {
                    let controller = controller.clone();
                    Closure::<dyn FnMut()>::new(move || controller.abort())
                };
                let _ = signal
                    .add_event_listener_with_callback("abort", on_abort.as_ref().unchecked_ref());
                Some((signal.clone(), on_abort))
            }
            None => None,
        };
        let inner = GuardInner {
            controller,
            timer,
            _on_timeout: on_timeout,
            timed_out,
            timeout_ms,
            parent,
        };
        Ok(Self {
            inner: std::rc::Rc::new(inner),
        })
    }

    /// The signal to hand to `fetch`.
    pub fn signal(&self) -> AbortSignal {
        self.inner.controller.signal()
    }

    /// The error for this guard's abort, if it has aborted: [`Error::Timeout`] when its timer
    /// fired (`what` says what timed out), else [`Error::Cancelled`].
    pub fn error(&self, what: &'static str) -> Option<Error> {
        if self.inner.timed_out.get() {
            Some(Error::Timeout {
                what,
                after_ms: self.inner.timeout_ms,
            })
        } else if self.inner.controller.signal().aborted() {
            Some(Error::Cancelled)
        } else {
            None
        }
    }

    /// The error for a rejected web API call: the abort's, or a network error.
    pub fn failure(&self, what: &'static str, err: &JsValue) -> Error {
        self.error(what).unwrap_or_else(|| network_error(err))
    }
}

impl Drop for GuardInner {
    fn drop(&mut self) {
        clear_timeout(&self.timer);
        if let Some((signal, on_abort)) = self.parent.take() {
            let _ = signal
                .remove_event_listener_with_callback("abort", on_abort.as_ref().unchecked_ref());
        }
    }
}

/// Sends `request` with the global `fetch`. An abort becomes [`Error::Timeout`] or
/// [`Error::Cancelled`]; anything else that rejects becomes [`Error::Network`] (whose message
/// never includes the URL: it carries the access token).
pub async fn fetch(
    request: &Request,
    guard: &AbortGuard,
    what: &'static str,
) -> Result<web_sys::Response, Error> {
    JsFuture::from(global_fetch(request))
        .await
        .map(JsCast::unchecked_into)
        .map_err(|err| guard.failure(what, &err))
}

/// A network failure, described without any URL.
pub fn network_error(err: &JsValue) -> Error {
    Error::network(js_message(err, "fetch failed"))
}

/// The `message` of a thrown JS value (plus its `cause`'s, which Node puts the real reason in).
pub fn js_message(err: &JsValue, fallback: &str) -> String {
    let text = |v: &JsValue| {
        Reflect::get(v, &JsValue::from_str("message"))
            .ok()
            .and_then(|m| m.as_string())
    };
    let mut message = text(err)
        .or_else(|| err.as_string())
        .unwrap_or_else(|| fallback.to_string());
    if let Ok(cause) = Reflect::get(err, &JsValue::from_str("cause")) {
        if let Some(c) = text(&cause) {
            message = format!("{message}: {c}");
        }
    }
    message
}

/// Splits a stream into two branches that each see every chunk.
pub fn tee(stream: &ReadableStream) -> (ReadableStream, ReadableStream) {
    let branches: Array = stream.tee();
    (
        branches.get(0).unchecked_into(),
        branches.get(1).unchecked_into(),
    )
}

/// A reader over a stream's chunks.
pub struct ChunkReader {
    reader: ReadableStreamDefaultReader,
}

impl ChunkReader {
    /// Locks `stream` for reading.
    pub fn new(stream: &ReadableStream) -> Self {
        Self {
            reader: stream.get_reader().unchecked_into(),
        }
    }

    /// The next chunk, or `None` at the end of the stream.
    pub async fn next(&self) -> Result<Option<Vec<u8>>, JsValue> {
        let result = JsFuture::from(self.reader.read()).await?;
        let done = Reflect::get(&result, &JsValue::from_str("done"))?
            .as_bool()
            .unwrap_or(true);
        if done {
            return Ok(None);
        }
        let value = Reflect::get(&result, &JsValue::from_str("value"))?;
        Ok(Some(Uint8Array::new(&value).to_vec()))
    }

    /// Cancels the stream: the rest of its bytes are not wanted.
    pub fn cancel(&self) {
        let _ = self.reader.cancel();
    }
}

/// Cancels a stream nobody will read, so its source can stop.
pub fn discard(stream: &ReadableStream) {
    let _ = stream.cancel();
}
