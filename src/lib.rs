//! wxmedia: a client for WeChat's temporary-media API (临时素材) over the Fetch API, for Node,
//! browsers and Cloudflare Workers.
//!
//! - [`protocol`]: the sans-IO core (request builders, response classifier, validation, token
//!   and retry state machines). Pure Rust; compiles and tests natively.
//! - `voice` (feature `voice`): WeChat voice (AMR-NB, HD Speex) decoded to WAV; pure Rust.
//! - `client` (wasm32): the Rust API used by the Worker — the core driven over the global `fetch`.
//! - `js` (wasm32, feature `js`): the JavaScript API (`MediaClient`) published to npm.
//!
//! See `ARCHITECTURE.md` for the shape of the crate and its invariants.

pub mod protocol;
#[cfg(feature = "voice")]
pub use wxmedia_codecs as voice;

#[cfg(target_arch = "wasm32")]
pub mod client;
#[cfg(target_arch = "wasm32")]
mod web;

#[cfg(all(target_arch = "wasm32", feature = "js"))]
pub mod js;
