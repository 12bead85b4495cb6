//! The account's callback endpoint: WeChat's message push received, verified, answered once,
//! forwarded to the developer's handler, and every fan's media archived in R2 before WeChat
//! forgets it (three days).
//!
//! - [`records`]: the typed messages between the route, the archiver and the log, and the
//!   archive index's items (pure, tested natively).
//! - [`log`]: `PushLog`, one SQLite-backed Durable Object per app: which pushes were seen and
//!   answered (exactly once across isolates), and the index.
//! - [`callback`]: the routes: URL check, push, forward, reply.
//! - [`archive`]: each media id fetched and stored, on a Queue or in `waitUntil`.
//! - [`index`]: `GET /archive`.

pub mod records;

#[cfg(target_arch = "wasm32")]
pub mod archive;
#[cfg(target_arch = "wasm32")]
pub mod callback;
#[cfg(target_arch = "wasm32")]
pub mod index;
#[cfg(target_arch = "wasm32")]
pub mod log;
