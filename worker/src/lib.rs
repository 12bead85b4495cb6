//! The wxmedia Worker: an authenticated, caching proxy in front of WeChat's temporary-media API.
//!
//! It holds the access token (never shown to anyone), answers downloads from the edge cache
//! (then R2, then WeChat), and speaks both a REST shape (`/media…`) and WeChat's own
//! (`/cgi-bin/media/…`, with an API key as `access_token`). Each route is a small function in
//! [`routes`] or [`compat`], over the steps they share in [`pipeline`]; configuration is read from `env` once per isolate ([`config`]).
//!
//! The pure parts ([`auth`], [`config`], [`error`], [`keys`]) compile natively and are unit-tested
//! with `cargo test`; the rest runs only in workerd and is tested there (`tests/worker/`).

pub mod auth;
pub mod config;
pub mod error;
pub mod keys;
pub mod memory;

#[cfg(target_arch = "wasm32")]
pub mod bindings;
#[cfg(target_arch = "wasm32")]
pub mod compat;
#[cfg(target_arch = "wasm32")]
pub mod media;
#[cfg(target_arch = "wasm32")]
pub mod pipeline;
#[cfg(target_arch = "wasm32")]
pub mod routes;
#[cfg(target_arch = "wasm32")]
pub mod tokens;
#[cfg(target_arch = "wasm32")]
pub mod voice;

#[cfg(target_arch = "wasm32")]
pub use tokens::TokenHolder;

#[cfg(target_arch = "wasm32")]
use worker::{event, Context, Env, Request, Result};

#[cfg(target_arch = "wasm32")]
use crate::config::Apps;

/// The Worker's entry point.
#[cfg(target_arch = "wasm32")]
#[event(fetch)]
pub async fn fetch(req: Request, env: Env, ctx: Context) -> Result<web_sys::Response> {
    let origin = req.headers().get("Origin").ok().flatten();
    let apps = Apps::cached(&env);
    let response = match &apps {
        Ok(apps) => routes::route(req, &env, &ctx, apps).await,
        Err(err) => err.to_response().map(Into::into),
    };
    let allowed = apps
        .as_ref()
        .map(|a| a.default.cors_origins.as_slice())
        .unwrap_or(&[]);
    routes::with_cors(response?, origin.as_deref(), allowed)
}
