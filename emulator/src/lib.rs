//! A local imitation of WeChat's temporary-media HTTP API (access tokens, upload, download, HD
//! voice), with an emulated clock, fault injection and a control API under `/_emulator/`.
//!
//! Used by every test of the project: these machines cannot reach WeChat. Start it in-process
//! with [`spawn`] (async) or [`spawn_thread`] (for tests without a runtime), or run the
//! `wxmedia-emulator` binary. See `README.md` for the CLI and the control API.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! let emu = wxmedia_emulator::spawn("127.0.0.1:0".parse().unwrap(), Default::default()).await?;
//! let token_url = format!(
//!     "{}/cgi-bin/token?grant_type=client_credential&appid=wx0000000000000001&secret=emulator-secret",
//!     emu.base_url()
//! );
//! # let _ = token_url;
//! emu.shutdown().await;
//! # Ok(()) }
//! ```
//!
//! Code map:
//! - `http`: a small HTTP/1.1 server (exact header spelling, truncation); knows no WeChat.
//! - `app`: state, emulated clock, routing, fault application, rendering with quirks, logs.
//! - `api`: the imitated endpoints; `tokens`, `media`, `store`: their pure logic.
//! - `hd_voice`: AMR-NB to WeChat HD voice (Speex wideband); `codec`: the reference codecs over
//!   FFI (the one module with `unsafe`).
//! - `faults`: the fault queue; `control`: the `/_emulator/` API; `wx`: errcodes and errmsgs.
//!
//! Invariant: the emulator shares no types with the client crate, so a renamed field breaks a
//! test instead of agreeing with itself.

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

mod api;
mod app;
mod codec;
mod control;
mod faults;
mod hd_voice;
mod http;
mod media;
mod push;
mod store;
mod tokens;
mod wx;

/// The credentials of one emulated WeChat account (app).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppCredentials {
    /// The AppID.
    pub appid: String,
    /// The AppSecret.
    pub secret: String,
    /// The Token of the account's server configuration (message push), when it has its own;
    /// else [`Config::callback_token`].
    pub callback_token: Option<String>,
    /// The account's EncodingAESKey, when it has its own; else [`Config::aes_key`].
    pub aes_key: Option<String>,
}

impl AppCredentials {
    /// An account with this AppID and AppSecret.
    pub fn new(appid: impl Into<String>, secret: impl Into<String>) -> Self {
        AppCredentials {
            appid: appid.into(),
            secret: secret.into(),
            callback_token: None,
            aes_key: None,
        }
    }
}

/// How the emulated accounts are set up.
///
/// The emulator serves `appid`/`secret` (the default app) and every account in `apps`. Each
/// app has its own tokens, quotas and media: a token of one app never works for another, and
/// media uploaded with one app's token answer 40007 to another's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// The default account's AppID (`/cgi-bin/token` answers 40013 for an AppID that is neither
    /// this one nor one of `apps`).
    pub appid: String,
    /// The default account's AppSecret (40125 for any other).
    pub secret: String,
    /// Further accounts served alongside the default one. An entry whose AppID is already
    /// served (the default's, or an earlier entry's) is ignored.
    pub apps: Vec<AppCredentials>,
    /// Answer with CORS headers and CORS preflights (for browser tests).
    pub cors: bool,
    /// Most bytes the media store holds; an upload past it answers HTTP 507.
    pub max_store_bytes: u64,
    /// When set, token calls from any other address answer 40164.
    pub ip_whitelist: Option<Vec<IpAddr>>,
    /// A verified account; when false, `/cgi-bin/media/get/jssdk` answers 48001.
    pub verified: bool,
    /// Print one line per request to stderr (tokens and secrets redacted). Off by default so
    /// in-process tests stay quiet; the binary turns it on.
    pub log_requests: bool,
    /// The host (`IP`, `IP:PORT` or a name) that video URLs name, as WeChat names its CDN by
    /// address (`http://203.205.137.89/vweixinp.tc.qq.com/1007_….f10.mp4?vkey=…`). `None`: the
    /// emulator's own CDN listener, a second port beside the API's (see [`Running::cdn_url`]).
    pub video_host: Option<String>,
    /// The Token pushes are signed with (every account without one of its own).
    pub callback_token: String,
    /// The EncodingAESKey of safe and compatible mode (every account without one of its own):
    /// 43 characters of base64.
    pub aes_key: String,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            appid: "wx0000000000000001".to_owned(),
            secret: "emulator-secret".to_owned(),
            apps: Vec::new(),
            cors: false,
            max_store_bytes: 256 * 1024 * 1024,
            ip_whitelist: None,
            verified: true,
            log_requests: false,
            video_host: None,
            callback_token: "emulator-callback-token".to_owned(),
            aes_key: "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG".to_owned(),
        }
    }
}

impl Config {
    /// Every served account, the default one first, then `apps` in order (duplicate AppIDs
    /// dropped).
    pub fn accounts(&self) -> Vec<AppCredentials> {
        let mut all = vec![AppCredentials::new(&self.appid, &self.secret)];
        for app in &self.apps {
            if !all.iter().any(|a| a.appid == app.appid) {
                all.push(app.clone());
            }
        }
        all
    }
}

/// A running emulator. Dropping it stops the server (see [`Running::shutdown`]).
#[derive(Debug)]
pub struct Running {
    addr: SocketAddr,
    cdn: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Running {
    /// The address the server listens on (with the real port when 0 was asked for).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT` (an unspecified listen address is shown as loopback).
    pub fn base_url(&self) -> String {
        base_url(self.addr)
    }

    /// `http://127.0.0.1:PORT` of the listener that stands for WeChat's video CDN: it serves the
    /// `video_url`s the API answers (a host and port other than the API's, as in the field).
    pub fn cdn_url(&self) -> String {
        base_url(self.cdn)
    }

    /// Stops accepting connections, closes open ones and waits until the server has stopped.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
        // A background thread (from `spawn_thread`) is joined by Drop.
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// `http://IP:PORT` for a listen address, with unspecified addresses shown as loopback.
pub(crate) fn base_url(addr: SocketAddr) -> String {
    let ip = match addr.ip() {
        IpAddr::V4(v4) if v4.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(v6) if v6.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    format!("http://{}", SocketAddr::new(ip, addr.port()))
}

/// Starts the emulator on the current tokio runtime, listening on `listen` (port 0 picks a free
/// port). The server runs until the returned [`Running`] is shut down or dropped, or the runtime
/// ends.
pub async fn spawn(listen: SocketAddr, config: Config) -> io::Result<Running> {
    let listener = TcpListener::bind(listen).await?;
    let cdn = TcpListener::bind(SocketAddr::new(listen.ip(), 0)).await?;
    let (addr, cdn_addr) = (listener.local_addr()?, cdn.local_addr()?);
    let (stop, stopped) = oneshot::channel();
    let task = tokio::spawn(serve_both(listener, cdn, config, stopped));
    Ok(Running {
        addr,
        cdn: cdn_addr,
        stop: Some(stop),
        task: Some(task),
        thread: None,
    })
}

/// Serves the API on `api` and the video CDN on `cdn` until `stopped` fires (or its sender is
/// dropped).
async fn serve_both(
    api: TcpListener,
    cdn: TcpListener,
    config: Config,
    stopped: oneshot::Receiver<()>,
) {
    let app = Arc::new(app::App::new(config, cdn.local_addr().ok()));
    let (stop_api, api_stopped) = oneshot::channel();
    let (stop_cdn, cdn_stopped) = oneshot::channel();
    let forward = async move {
        let _ = stopped.await;
        let _ = stop_api.send(());
        let _ = stop_cdn.send(());
    };
    tokio::join!(
        http::serve(api, Arc::clone(&app), api_stopped),
        http::serve(cdn, app, cdn_stopped),
        forward
    );
}

/// Starts the emulator on a background thread with its own single-threaded runtime, for tests
/// that are not async. Binding happens before this returns, so the port is ready. Dropping the
/// [`Running`] stops the server and joins the thread.
pub fn spawn_thread(listen: SocketAddr, config: Config) -> io::Result<Running> {
    let listener = std::net::TcpListener::bind(listen)?;
    listener.set_nonblocking(true)?;
    let cdn = std::net::TcpListener::bind(SocketAddr::new(listen.ip(), 0))?;
    cdn.set_nonblocking(true)?;
    let (addr, cdn_addr) = (listener.local_addr()?, cdn.local_addr()?);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let (stop, stopped) = oneshot::channel();
    let thread = std::thread::Builder::new()
        .name("wxmedia-emulator".to_owned())
        .spawn(move || {
            runtime.block_on(async move {
                match (TcpListener::from_std(listener), TcpListener::from_std(cdn)) {
                    (Ok(listener), Ok(cdn)) => serve_both(listener, cdn, config, stopped).await,
                    (Err(e), _) | (_, Err(e)) => {
                        eprintln!("wxmedia-emulator: cannot use listener: {e}")
                    }
                }
            });
        })?;
    Ok(Running {
        addr,
        cdn: cdn_addr,
        stop: Some(stop),
        task: None,
        thread: Some(thread),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accounts_default_first_duplicates_dropped() {
        let config = Config {
            apps: vec![
                AppCredentials::new("wxB", "b"),
                AppCredentials::new("wx0000000000000001", "other"),
                AppCredentials::new("wxB", "again"),
                AppCredentials::new("wxC", "c"),
            ],
            ..Config::default()
        };
        let ids: Vec<(String, String)> = config
            .accounts()
            .into_iter()
            .map(|a| (a.appid, a.secret))
            .collect();
        let want = [
            ("wx0000000000000001", "emulator-secret"),
            ("wxB", "b"),
            ("wxC", "c"),
        ];
        assert_eq!(ids, want.map(|(a, s)| (a.to_owned(), s.to_owned())));
    }
}
