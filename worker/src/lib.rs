//! The wxmedia Worker: an authenticated, caching proxy in front of WeChat's temporary-media API.
//!
//! Routes are declared in [`router`]; each handler is a small function. Configuration is read from
//! `env` once per request. This crate uses the core crate's Rust API only (no JS exports).

use serde_json::json;
use worker::{event, Context, Env, Request, Response, Result, Router};

/// Where the Worker forwards WeChat calls when `UPSTREAM_BASE` is not set.
const DEFAULT_UPSTREAM: &str = "https://api.weixin.qq.com";

/// The Worker's entry point.
#[event(fetch)]
pub async fn fetch(req: Request, env: Env, _ctx: Context) -> Result<Response> {
    router().run(req, env).await
}

fn router() -> Router<'static, ()> {
    Router::new().get("/healthz", |_req, ctx| {
        let upstream = ctx
            .env
            .var("UPSTREAM_BASE")
            .map(|v| v.to_string())
            .unwrap_or_else(|_| DEFAULT_UPSTREAM.to_string());
        Response::from_json(&json!({
            "ok": true,
            "service": "wxmedia-worker",
            "version": env!("CARGO_PKG_VERSION"),
            "upstream": upstream,
        }))
    })
}
