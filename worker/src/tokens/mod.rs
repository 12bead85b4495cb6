//! Access tokens for upstream calls, and the per-isolate clients that use them (one per app).
//!
//! With the `TOKENS` Durable Object bound, one holder per app id fetches through `stable_token`,
//! one fetch at a time, and drops a token only if it is the one that failed. Isolates keep a
//! short local copy (at most [`LOCAL_COPY_SECS`]). Without the binding, the isolate's own client
//! holds the token the same way; with `WECHAT_ACCESS_TOKEN`, that fixed token is used as is.

pub mod message;

#[cfg(target_arch = "wasm32")]
mod isolate;
#[cfg(target_arch = "wasm32")]
pub use isolate::*;
