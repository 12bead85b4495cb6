//! The application: shared state, the emulated clock, request routing, fault application,
//! rendering of replies (with quirks), CORS, the request log and the stderr access log.

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::{json, Map, Value};

use crate::api::{self, Reply};
use crate::control;
use crate::faults::{FaultKind, FaultQueue, Quirk};
use crate::hd_voice::{self, HdError};
use crate::http::{self, Request, Response};
use crate::store::MediaStore;
use crate::tokens::TokenStore;
use crate::wx;
use crate::{AppCredentials, Config};

/// The CDN domain that WeChat's video URLs carry as their first path segment.
pub(crate) const CDN_DOMAIN: &str = "vweixinp.tc.qq.com";

/// Entries kept in the request log.
pub(crate) const LOG_CAPACITY: usize = 10_000;

/// One upstream call, as listed by `GET /_emulator/requests`.
#[derive(Debug, Clone)]
pub(crate) struct LogEntry {
    pub method: String,
    pub path: String,
    pub query: Vec<(String, String)>,
    pub status: u16,
    pub errcode: Option<i64>,
    /// The app the call was for: the `appid` of a token call when it names a served app, else
    /// the app whose token the call carried (valid or not); `None` when neither is known.
    pub appid: Option<String>,
    /// The call's `Host` header: callers on one machine (all 127.0.0.1) told apart by the name
    /// they call the emulator by (`127.0.0.1:PORT`, `localhost:PORT`).
    pub host: Option<String>,
}

impl LogEntry {
    /// The control API's JSON shape.
    pub fn to_json(&self) -> Value {
        let query: Map<String, Value> = self
            .query
            .iter()
            .map(|(k, v)| (k.clone(), json!(v)))
            .collect();
        json!({
            "method": self.method,
            "path": self.path,
            "query": query,
            "status": self.status,
            "errcode": self.errcode,
            "appid": self.appid,
            "host": self.host,
        })
    }
}

/// Everything that changes while the emulator runs.
#[derive(Debug)]
pub(crate) struct State {
    /// Seconds added to the real clock.
    pub offset: u64,
    /// One token store per served account, in [`App::accounts`] order.
    pub tokens: Vec<TokenStore>,
    pub media: MediaStore,
    pub log: VecDeque<LogEntry>,
    pub faults: FaultQueue,
    /// Bumped by every reset, so a call that was in flight across a reset (a delayed one, say)
    /// is not logged into the new run.
    pub epoch: u64,
    /// The video CDN's links: file key (`1007_<key>.f10.mp4`) to the media id and its `vkey`.
    pub video_links: HashMap<String, VideoLink>,
}

/// A video's link on the emulated CDN.
#[derive(Debug, Clone)]
pub(crate) struct VideoLink {
    /// The media id the link serves.
    pub id: String,
    /// The `vkey` query value the CDN wants (403 otherwise).
    pub vkey: String,
}

impl State {
    /// Emulated unix time in seconds.
    pub fn now(&self) -> u64 {
        let real = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        real + self.offset
    }

    /// The app that issued `token` (and still remembers it), valid or not.
    pub fn app_of_token(&self, token: &str) -> Option<usize> {
        self.tokens.iter().position(|store| store.knows(token))
    }

    /// Back to a fresh start (configuration is kept).
    pub fn reset(&mut self) {
        self.offset = 0;
        for store in &mut self.tokens {
            *store = TokenStore::default();
        }
        self.media.clear();
        self.log.clear();
        self.faults.clear();
        self.video_links.clear();
        self.epoch += 1;
    }

    /// The file key and `vkey` of media `id`'s CDN link, made on first use.
    pub fn video_link(&mut self, id: &str) -> (String, String) {
        if let Some((key, link)) = self.video_links.iter().find(|(_, l)| l.id == id) {
            return (key.clone(), link.vkey.clone());
        }
        let key = format!("{:032x}", fastrand::u128(..));
        let vkey: String = (0..3)
            .map(|_| format!("{:032X}", fastrand::u128(..)))
            .collect();
        self.video_links.insert(
            key.clone(),
            VideoLink {
                id: id.to_owned(),
                vkey: vkey.clone(),
            },
        );
        (key, vkey)
    }
}

/// The emulator application shared by all connections.
#[derive(Debug)]
pub(crate) struct App {
    pub config: Config,
    /// The served accounts: the default one first (index 0), then `config.apps`.
    pub accounts: Vec<AppCredentials>,
    state: Mutex<State>,
    /// HD voice transcodes running at once (each holds one recording and its output).
    hd_slots: tokio::sync::Semaphore,
    /// The address of the listener that stands for WeChat's video CDN, if there is one.
    cdn: Option<SocketAddr>,
}

/// Most HD voice transcodes at once: they are CPU work on the blocking pool, and each holds up
/// to 2 MiB of AMR and its Speex rendition.
const HD_CONCURRENCY: usize = 2;

impl App {
    /// The application for `config`; `cdn` is the video CDN listener's address (requests that
    /// arrive there are CDN requests), whose `IP:PORT` video URLs name unless
    /// [`Config::video_host`] says otherwise.
    pub fn new(config: Config, cdn: Option<SocketAddr>) -> Self {
        let accounts = config.accounts();
        let state = State {
            offset: 0,
            tokens: accounts.iter().map(|_| TokenStore::default()).collect(),
            media: MediaStore::new(config.max_store_bytes),
            log: VecDeque::new(),
            faults: FaultQueue::default(),
            epoch: 0,
            video_links: HashMap::new(),
        };
        App {
            config,
            accounts,
            state: Mutex::new(state),
            hd_slots: tokio::sync::Semaphore::new(HD_CONCURRENCY),
            cdn,
        }
    }

    /// The index of the served account with this AppID.
    pub fn account(&self, appid: &str) -> Option<usize> {
        self.accounts.iter().position(|a| a.appid == appid)
    }

    /// The AppID of the call's app, for the request log: the `appid` a token call names when it
    /// is served here, else the app of the `access_token` it carries.
    fn appid_of(&self, req: &Request) -> Option<String> {
        let named = match req.path.as_str() {
            "/cgi-bin/token" => req.query_param("appid").map(str::to_owned),
            "/cgi-bin/stable_token" => match &req.body {
                http::Body::Full(b) => serde_json::from_slice::<Value>(b)
                    .ok()
                    .and_then(|v| v.get("appid")?.as_str().map(str::to_owned)),
                http::Body::TooLarge => None,
            },
            _ => None,
        };
        if let Some(appid) = named {
            return self.account(&appid).map(|_| appid);
        }
        let token = req.query_param("access_token")?;
        let index = self.state().app_of_token(token)?;
        Some(self.accounts[index].appid.clone())
    }

    /// Locks the state. A panic while holding the lock cannot leave it inconsistent in a way that
    /// matters to an emulator, so poisoning is ignored.
    pub fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Handles one request.
    pub async fn handle(&self, req: Request) -> Response {
        let started = Instant::now();
        let epoch = self.state().epoch;
        let is_control = !self.on_cdn(&req) && req.path.starts_with("/_emulator/");
        let (mut resp, errcode, logged) = if req.method == "OPTIONS" {
            (self.preflight(&req), None, false)
        } else if is_control && req.path == "/_emulator/push" && req.method == "POST" {
            (crate::push::handle(self, &req).await, None, false)
        } else if is_control {
            (control::handle(self, &req), None, false)
        } else {
            let (resp, errcode) = self.upstream(&req).await;
            (resp, errcode, true)
        };
        // After the call, so a token it issued is known; a token call names its app anyway.
        let appid = if logged { self.appid_of(&req) } else { None };
        if self.config.cors && !resp.has_header("access-control-allow-origin") {
            resp.headers
                .push(("Access-Control-Allow-Origin".into(), b"*".to_vec()));
            resp.headers.push((
                "Access-Control-Expose-Headers".into(),
                b"Content-disposition, Content-Length, Content-Type".to_vec(),
            ));
        }
        if logged {
            let mut state = self.state();
            // A call that started before a reset belongs to the previous run: not logged.
            if state.epoch == epoch {
                if state.log.len() >= LOG_CAPACITY {
                    state.log.pop_front();
                }
                state.log.push_back(LogEntry {
                    method: req.method.clone(),
                    path: req.path.clone(),
                    query: req.query.clone(),
                    status: resp.status,
                    errcode,
                    appid,
                    host: req
                        .header("host")
                        .map(|h| String::from_utf8_lossy(h).into_owned()),
                });
            }
        }
        if self.config.log_requests {
            let query = redacted_query(&req.raw_query);
            let errcode = errcode.map(|c| format!(" errcode={c}")).unwrap_or_default();
            eprintln!(
                "{} {} {}{} -> {}{} ({} ms)",
                req.peer.ip(),
                req.method,
                req.path,
                query,
                resp.status,
                errcode,
                started.elapsed().as_millis()
            );
        }
        resp
    }

    /// `OPTIONS`: a CORS preflight answer when CORS is on, else 405.
    fn preflight(&self, req: &Request) -> Response {
        if !self.config.cors {
            return Response::text(405, "405 method not allowed\n")
                .header("Allow", "GET, HEAD, POST");
        }
        let allow_headers = req
            .header("access-control-request-headers")
            .filter(|h| !h.is_empty())
            .map_or_else(|| b"Content-Type".to_vec(), <[u8]>::to_vec);
        Response::new(204, "")
            .header("Access-Control-Allow-Origin", "*")
            .header(
                "Access-Control-Allow-Methods",
                "GET, HEAD, POST, DELETE, OPTIONS",
            )
            .header("Access-Control-Allow-Headers", allow_headers)
            .header("Access-Control-Max-Age", "600")
            .header("Vary", "Access-Control-Request-Headers")
    }

    /// An upstream call: faults, the endpoint, rendering. Returns the errcode answered.
    async fn upstream(&self, req: &Request) -> (Response, Option<i64>) {
        let fault = self.state().faults.take(&req.path);
        let quirk = match fault {
            Some(FaultKind::Quirk(q)) => Some(q),
            _ => None,
        };
        let reply = match fault {
            Some(FaultKind::Errcode(code)) => Reply::Error(code, None),
            Some(FaultKind::Status(status)) => Reply::Raw(Response::text(
                status,
                format!("{status} {}\n", http::reason(status)),
            )),
            Some(FaultKind::DelayMs(ms)) => {
                tokio::time::sleep(Duration::from_millis(ms)).await;
                self.route(req)
            }
            _ => self.route(req),
        };
        let reply = self.finish(reply).await;
        let (mut resp, errcode) = self.render(reply, quirk);
        if let Some(FaultKind::Truncate(at)) = fault {
            let len = resp.body.len();
            let at = at.unwrap_or(len / 2).min(len.saturating_sub(1));
            resp.truncate_at = Some(at);
        }
        (resp, errcode)
    }

    /// Whether `req` came in on the video CDN's listener.
    fn on_cdn(&self, req: &Request) -> bool {
        self.cdn.is_some_and(|a| a.port() == req.local.port())
    }

    /// The endpoint for `req`: the CDN's on its listener, WeChat's API on the other.
    fn route(&self, req: &Request) -> Reply {
        if self.on_cdn(req) {
            api::cdn(self, req)
        } else {
            api::route(self, req)
        }
    }

    /// Does the work a reply left for later: HD voice is transcoded on the blocking pool, at most
    /// [`HD_CONCURRENCY`] at once.
    async fn finish(&self, reply: Reply) -> Reply {
        let Reply::HdVoice { id, amr } = reply else {
            return reply;
        };
        let Ok(_slot) = self.hd_slots.acquire().await else {
            return Reply::Error(-1, None);
        };
        let speex = tokio::task::spawn_blocking(move || hd_voice::amr_to_hd_speex(&amr)).await;
        match speex {
            Ok(Ok(bytes)) => Reply::File {
                bytes: bytes.into(),
                content_type: "voice/speex",
                id,
                ext: "speex",
            },
            Ok(Err(HdError::NotAmrNb)) => Reply::Error(40007, None),
            Ok(Err(HdError::Codec)) | Err(_) => Reply::Error(-1, None),
        }
    }

    /// Turns a reply into a response, applying a quirk where it fits.
    fn render(&self, reply: Reply, quirk: Option<Quirk>) -> (Response, Option<i64>) {
        match reply {
            Reply::Error(code, detail) => {
                let content_type = if quirk == Some(Quirk::TextPlainError) {
                    "text/plain"
                } else {
                    wx::JSON_TYPE
                };
                let body = wx::error_body(code, detail.as_deref());
                (
                    Response::new(200, body).header("Content-Type", content_type),
                    Some(code),
                )
            }
            Reply::Json(mut pairs) => {
                if quirk == Some(Quirk::OkErrcode) {
                    pairs.push(("errcode", json!(0)));
                    pairs.push(("errmsg", json!("ok")));
                }
                (wx::json_response(wx::ordered_json(&pairs)), Some(0))
            }
            Reply::Video { id, bytes } => {
                if quirk == Some(Quirk::VideoRaw) {
                    return (attachment(bytes, "video/mp4", &id, "mp4", None), None);
                }
                let url = self.video_url(&id);
                let mut pairs = vec![("video_url", json!(url))];
                if quirk == Some(Quirk::OkErrcode) {
                    pairs.push(("errcode", json!(0)));
                    pairs.push(("errmsg", json!("ok")));
                }
                (wx::json_response(wx::ordered_json(&pairs)), Some(0))
            }
            Reply::File {
                bytes,
                content_type,
                id,
                ext,
            } => (attachment(bytes, content_type, &id, ext, quirk), None),
            Reply::HdVoice { .. } => (Response::text(500, "HD voice not transcoded\n"), None),
            Reply::Raw(resp) => {
                let errcode = resp
                    .headers
                    .iter()
                    .any(|(n, v)| {
                        n.eq_ignore_ascii_case("content-type") && v.starts_with(b"application/json")
                    })
                    .then(|| serde_json::from_slice::<Value>(&resp.body).ok())
                    .flatten()
                    .and_then(|v| v.get("errcode").and_then(Value::as_i64));
                (resp, errcode)
            }
        }
    }

    /// `http://host:port` as the client addressed us (Host header), else the connection's local
    /// address.
    /// A video's URL in the field's shape: WeChat's CDN named by address, its domain as the first
    /// path segment, a `vkey` (../shared/upstream-api.md §3).
    fn video_url(&self, id: &str) -> String {
        let (key, vkey) = self.state().video_link(id);
        let host = match (&self.config.video_host, self.cdn) {
            (Some(host), _) => host.clone(),
            (None, Some(addr)) => crate::base_url(addr)["http://".len()..].to_owned(),
            (None, None) => "203.205.137.89".to_owned(),
        };
        format!("http://{host}/{CDN_DOMAIN}/1007_{key}.f10.mp4?vkey={vkey}&sha=0&save=1")
    }
}

/// A download answer in WeChat's exact header spelling (or a quirk of it).
fn attachment(
    bytes: bytes::Bytes,
    content_type: &str,
    id: &str,
    ext: &str,
    quirk: Option<Quirk>,
) -> Response {
    let resp = Response::new(200, bytes);
    let resp = match quirk {
        Some(Quirk::TextPlain) => resp.header("Content-Type", "text/plain"),
        Some(Quirk::FilenameStar) => resp.header("Content-Type", content_type).header(
            "Content-disposition",
            format!(
                "attachment; filename*=utf-8''%E6%B5%8B%E8%AF%95.{ext}; filename=\"测试.{ext}\""
            ),
        ),
        _ => resp.header("Content-Type", content_type).header(
            "Content-disposition",
            format!("attachment; filename=\"{id}.{ext}\""),
        ),
    };
    resp.header("Cache-Control", "no-cache, must-revalidate")
}

/// The query string with `access_token` and `secret` values replaced by `[redacted]`
/// (with a leading `?`, or empty).
pub(crate) fn redacted_query(raw: &str) -> String {
    if raw.is_empty() {
        return String::new();
    }
    let parts: Vec<String> = raw
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((k, _)) if k == "access_token" || k == "secret" => format!("{k}=[redacted]"),
            _ => pair.to_owned(),
        })
        .collect();
    format!("?{}", parts.join("&"))
}

#[cfg(test)]
mod tests {
    use super::redacted_query;

    #[test]
    fn redaction() {
        assert_eq!(redacted_query(""), "");
        assert_eq!(
            redacted_query("access_token=abc&type=image"),
            "?access_token=[redacted]&type=image"
        );
        assert_eq!(
            redacted_query("grant_type=client_credential&appid=wx1&secret=s3"),
            "?grant_type=client_credential&appid=wx1&secret=[redacted]"
        );
    }
}
