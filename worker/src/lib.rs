//! The wxmedia Worker: an authenticated, caching proxy in front of WeChat's temporary-media API.
//!
//! It holds the access token (never shown to anyone), answers downloads from the edge cache
//! (then R2, then WeChat), and speaks both a REST shape (`/media…`) and WeChat's own
//! (`/cgi-bin/media/…`, with an API key as `access_token`). Each route is a small function in
//! [`routes`] or [`compat`], over the steps they share in [`pipeline`]; configuration is read from `env` once per isolate ([`config`]).
//!
//! The pure parts ([`auth`], [`config`], [`error`], [`keys`], [`encode`]: WAV voice uploads
//! encoded to AMR) compile natively and are unit-tested
//! with `cargo test`; the rest runs only in workerd and is tested there (`tests/worker/`).

pub mod config;
pub mod encode;
pub mod error;
pub mod media;
pub mod push;
pub mod routes;
pub mod tokens;

#[cfg(target_arch = "wasm32")]
pub mod bindings;
#[cfg(target_arch = "wasm32")]
pub mod renditions;
#[cfg(target_arch = "wasm32")]
pub mod shell;

#[cfg(target_arch = "wasm32")]
pub use push::log::PushLog;
#[cfg(target_arch = "wasm32")]
pub use tokens::TokenHolder;

#[cfg(target_arch = "wasm32")]
use worker::{event, Context, Env, Request, Result};

#[cfg(target_arch = "wasm32")]
use crate::config::Apps;

/// The archive Queue's consumer (message push: each fan's media fetched and stored in R2).
#[cfg(target_arch = "wasm32")]
#[event(queue)]
pub async fn queue(
    batch: worker::MessageBatch<push::records::ArchiveJob>,
    env: Env,
    _ctx: Context,
) -> Result<()> {
    use worker::MessageExt;
    for message in batch.messages()? {
        push::archive::consume(&env, message.body().clone()).await;
        // Retries are sent as new messages (with their attempt counted): this one is done.
        message.ack();
    }
    Ok(())
}

/// The Worker's entry point.
#[cfg(target_arch = "wasm32")]
#[event(fetch)]
pub async fn fetch(req: Request, env: Env, ctx: Context) -> Result<web_sys::Response> {
    let origin = req.headers().get("Origin").ok().flatten();
    let apps = Apps::cached(&env);
    let response = match &apps {
        Ok(apps) => within_deadline(apps, routes::rest::route(req, &env, &ctx, apps)).await,
        Err(err) => err.to_response().map(Into::into),
    };
    let allowed = apps
        .as_ref()
        .map(|a| a.default.cors_origins.as_slice())
        .unwrap_or(&[]);
    routes::rest::with_cors(response?, origin.as_deref(), allowed)
}

/// How long past `UPSTREAM_TIMEOUT_MS` a request may take in all: reading the client's body,
/// cache and R2 calls, decoding voice.
#[cfg(target_arch = "wasm32")]
pub const REQUEST_MARGIN_MS: u64 = 5_000;

/// The whole request, or a 504 once `UPSTREAM_TIMEOUT_MS` plus [`REQUEST_MARGIN_MS`] has passed
/// without an answer, whatever it was waiting for (every wait inside has its own deadline; this
/// one holds even where one of them does not). A body still streaming after the answer's head
/// is not cut.
#[cfg(target_arch = "wasm32")]
async fn within_deadline(
    apps: &Apps,
    work: impl std::future::Future<Output = Result<web_sys::Response>>,
) -> Result<web_sys::Response> {
    use futures_util::future::{select, Either};
    // A timer's longest wait is 2^31 - 1 ms; anything longer fires at once.
    let limit = apps
        .default
        .upstream_timeout_ms
        .saturating_add(REQUEST_MARGIN_MS)
        .min((1 << 31) - 1);
    let timer = worker::Delay::from(std::time::Duration::from_millis(limit));
    match select(std::pin::pin!(work), timer).await {
        Either::Left((response, _)) => response,
        Either::Right(_) => error::ApiError::new(
            error::ErrorCode::UpstreamTimeout,
            format!("the request was not answered within {limit} ms"),
        )
        .to_response()
        .map(Into::into),
    }
}
