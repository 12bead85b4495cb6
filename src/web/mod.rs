//! The web edge: everything that touches the Fetch API and the JS event loop, split by concern.
//!
//! - [`executor`]: futures over JS promises, and tasks run as promises.
//! - [`deadline`]: the clock, sleeps, and a call's deadline as an `AbortSignal`.
//! - [`fetch`]: sending a request built by the protocol core, through `fetch` or the caller's
//!   transport.
//! - [`body`]: reading answers (headers, small JSON, media kept out of wasm memory).
//! - [`upload`]: the media an upload sends and the form each attempt builds.
//!
//! It binds the *global* `fetch`, `setTimeout` and `queueMicrotask`, never `window`, so the same
//! code runs in Node, browsers and Cloudflare Workers. The conversions between the protocol
//! core's values (`http::Request`, `http::HeaderMap`, bytes) and the web platform's (`Request`,
//! `Headers`, `Blob`, `FormData`, `ReadableStream`) live here and nowhere else.

use js_sys::Promise;
use wasm_bindgen::prelude::*;
use web_sys::RequestInit;

pub mod body;
pub mod deadline;
pub mod executor;
pub mod fetch;
pub mod upload;

pub use body::*;
pub use deadline::*;
pub use executor::*;
pub use fetch::*;
pub use upload::*;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_name = fetch)]
    fn global_fetch(url: &str, init: &RequestInit) -> Promise;
    #[wasm_bindgen(js_name = setTimeout)]
    fn set_timeout(handler: &js_sys::Function, ms: f64) -> JsValue;
    #[wasm_bindgen(js_name = clearTimeout)]
    fn clear_timeout(id: &JsValue);
    #[cfg(feature = "js")]
    #[wasm_bindgen(js_name = queueMicrotask)]
    fn queue_microtask(f: &js_sys::Function);
}
