//! Media through the cache tiers: the Cache API under a synthetic key without the token, then R2
//! when bound, then WeChat.
//!
//! A miss *fills* the cache before answering: the upstream body is read into a Blob (runtime
//! memory, never wasm memory), its length checked against Content-Length, and only then stored
//! in the cache (and R2); the answer is read back with `cache.match`, which also serves `Range`
//! and `If-None-Match`. Filling first is what makes a body cut short a 502 that is never cached,
//! and lets concurrent misses for one media id share one upstream fetch: followers wait for the
//! leader's fill and read the cache too. Hits stream straight from the cache as JS streams.

pub mod keys;
pub mod memory;

#[cfg(target_arch = "wasm32")]
mod cache;
#[cfg(target_arch = "wasm32")]
mod fill;
#[cfg(target_arch = "wasm32")]
mod tiers;

#[cfg(target_arch = "wasm32")]
pub use cache::*;
#[cfg(target_arch = "wasm32")]
pub use fill::*;
#[cfg(target_arch = "wasm32")]
pub use tiers::*;
