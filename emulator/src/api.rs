//! The imitated upstream endpoints (upstream-api.md §1–4). Each handler returns a [`Reply`];
//! [`crate::app`] turns it into bytes on the wire, applying any quirk.

use std::net::IpAddr;

use bytes::Bytes;
use serde_json::{json, Value};

use crate::app::App;
use crate::http::{Body, Request, Response};
use crate::media::{self, Format, MediaKind};
use crate::store::Media;
use crate::tokens::Issued;

/// What an endpoint answers, before rendering.
#[derive(Debug)]
pub(crate) enum Reply {
    /// `{"errcode":N,"errmsg":"..."}`; the optional text replaces the table's errmsg.
    Error(i64, Option<String>),
    /// Success JSON with keys in this order.
    Json(Vec<(&'static str, Value)>),
    /// An attachment: Content-Type, `Content-disposition: attachment; filename="..."`.
    File {
        /// The bytes.
        bytes: Bytes,
        /// Its Content-Type.
        content_type: &'static str,
        /// The media id (the filename's stem).
        id: String,
        /// The filename's extension.
        ext: &'static str,
    },
    /// A video: `{"video_url":...}` (or raw bytes under the `video_raw` quirk).
    Video {
        /// The media id.
        id: String,
        /// The video bytes.
        bytes: Bytes,
    },
    /// A finished response (404s, the store-full error, the video URL's bytes).
    Raw(Response),
    /// HD voice still to be made from this AMR-NB recording (transcoded off the async runtime
    /// by [`crate::app`], then answered as a [`Reply::File`]).
    HdVoice {
        /// The media id.
        id: String,
        /// The stored AMR-NB file.
        amr: Bytes,
    },
}

impl From<i64> for Reply {
    fn from(code: i64) -> Self {
        Reply::Error(code, None)
    }
}

/// Dispatches an upstream call by path.
pub(crate) fn route(app: &App, req: &Request) -> Reply {
    let result = match req.path.as_str() {
        "/cgi-bin/token" => token(app, req),
        "/cgi-bin/stable_token" => stable_token(app, req),
        "/cgi-bin/media/upload" => upload(app, req),
        "/cgi-bin/media/get" => get(app, req),
        "/cgi-bin/media/get/jssdk" => jssdk(app, req),
        _ => Ok(Reply::Raw(Response::text(404, "404 page not found\n"))),
    };
    result.unwrap_or_else(|e| e)
}

type Handled = Result<Reply, Reply>;

fn issued(i: Issued) -> Reply {
    Reply::Json(vec![
        ("access_token", json!(i.token)),
        ("expires_in", json!(i.expires_in)),
    ])
}

/// The IPv4 form of an IPv4-mapped IPv6 address, else the address itself.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// Credential and whitelist checks shared by both token endpoints; returns the index of the
/// account the credentials belong to.
fn check_credentials(
    app: &App,
    peer: IpAddr,
    grant_type: Option<&str>,
    appid: Option<&str>,
    secret: Option<&str>,
) -> Result<usize, Reply> {
    let config = &app.config;
    if grant_type != Some("client_credential") {
        return Err(40002.into());
    }
    let appid = appid.filter(|s| !s.is_empty()).ok_or(41002)?;
    let secret = secret.filter(|s| !s.is_empty()).ok_or(41004)?;
    let index = app.account(appid).ok_or(40013)?;
    if secret != app.accounts[index].secret {
        return Err(40125.into());
    }
    if let Some(list) = &config.ip_whitelist {
        let ip = canonical(peer);
        if !list.iter().any(|w| canonical(*w) == ip) {
            let detail = match ip {
                IpAddr::V4(v4) => format!("invalid ip {v4} ipv6 ::ffff:{v4}, not in whitelist"),
                IpAddr::V6(v6) => format!("invalid ip {v6} ipv6 {v6}, not in whitelist"),
            };
            return Err(Reply::Error(40164, Some(detail)));
        }
    }
    Ok(index)
}

/// `GET /cgi-bin/token?grant_type=client_credential&appid=A&secret=S`.
fn token(app: &App, req: &Request) -> Handled {
    let index = check_credentials(
        app,
        req.peer.ip(),
        req.query_param("grant_type"),
        req.query_param("appid"),
        req.query_param("secret"),
    )?;
    let mut state = app.state();
    let now = state.now();
    Ok(issued(state.tokens[index].issue_classic(now)?))
}

/// `POST /cgi-bin/stable_token` with a JSON body.
fn stable_token(app: &App, req: &Request) -> Handled {
    if req.method != "POST" {
        return Err(43002.into());
    }
    let Body::Full(body) = &req.body else {
        return Err(47001.into());
    };
    let Ok(Value::Object(obj)) = serde_json::from_slice::<Value>(body) else {
        return Err(47001.into());
    };
    let field = |k: &str| obj.get(k).and_then(Value::as_str);
    let index = check_credentials(
        app,
        req.peer.ip(),
        field("grant_type"),
        field("appid"),
        field("secret"),
    )?;
    let force = match obj.get("force_refresh") {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => s == "true",
        _ => false,
    };
    let mut state = app.state();
    let now = state.now();
    Ok(issued(state.tokens[index].stable(force, now)?))
}

/// Checks the `access_token` query parameter; returns the emulated time of the check and the
/// app the token belongs to.
fn check_token(app: &App, req: &Request) -> Result<(u64, usize), Reply> {
    let state = app.state();
    let now = state.now();
    let token = req.query_param("access_token");
    // A token no app knows is checked against the default app's store, which answers 41001,
    // 40014 or 40001 for it.
    let index = token.and_then(|t| state.app_of_token(t)).unwrap_or(0);
    state.tokens[index].check(token, now)?;
    Ok((now, index))
}

/// `POST /cgi-bin/media/upload?access_token=T&type=TYPE`, multipart with a `media` part.
fn upload(app: &App, req: &Request) -> Handled {
    let (now, owner) = check_token(app, req)?;
    let kind = req
        .query_param("type")
        .and_then(MediaKind::parse)
        .ok_or(40004)?;
    if req.method != "POST" {
        return Err(43002.into());
    }
    let body = match &req.body {
        Body::TooLarge => return Err(40006.into()),
        Body::Full(b) => b,
    };
    let part = req
        .header("content-type")
        .and_then(media::boundary)
        .and_then(|b| media::parse_multipart(body, &b))
        .and_then(|parts| {
            parts
                .into_iter()
                .find(|p| p.name.as_deref() == Some("media"))
        })
        .ok_or(41005)?;
    if part.data.is_empty() || (part.filename.is_none() && part.has_filename_star) {
        return Err(41005.into());
    }
    let filename = part.filename.as_deref().ok_or(40005)?;
    let format = media::validate(kind, filename, &part.data)?;
    let stored = Media {
        kind,
        format,
        app: owner,
        // A copy, so the store does not pin the whole request body.
        bytes: Bytes::copy_from_slice(&part.data),
        created_at: now,
    };
    let id = app.state().media.insert(stored, now).map_err(|full| {
        let body = json!({
            "errcode": -1,
            "errmsg": format!(
                "emulator: media store full (cap {} bytes); POST /_emulator/reset",
                full.cap
            ),
        });
        Reply::Raw(
            Response::new(507, body.to_string()).header("Content-Type", crate::wx::JSON_TYPE),
        )
    })?;
    let id_key = if kind == MediaKind::Thumb {
        "thumb_media_id"
    } else {
        "media_id"
    };
    Ok(Reply::Json(vec![
        ("type", json!(kind.as_str())),
        (id_key, json!(id)),
        ("created_at", json!(now)),
    ]))
}

/// Looks up the `media_id` query parameter for the app `owner` (41006 when missing, 40007 when
/// unknown, expired or another app's: media ids are per account).
fn lookup(app: &App, req: &Request, now: u64, owner: usize) -> Result<(String, Media), Reply> {
    let id = req
        .query_param("media_id")
        .filter(|s| !s.is_empty())
        .ok_or(41006)?;
    let media = app
        .state()
        .media
        .get(id, now)
        .filter(|m| m.app == owner)
        .ok_or(40007)?;
    Ok((id.to_owned(), media))
}

/// `GET /cgi-bin/media/get?access_token=T&media_id=M`.
fn get(app: &App, req: &Request) -> Handled {
    let (now, owner) = check_token(app, req)?;
    let (id, media) = lookup(app, req, now, owner)?;
    Ok(if media.kind == MediaKind::Video {
        Reply::Video {
            id,
            bytes: media.bytes,
        }
    } else {
        Reply::File {
            bytes: media.bytes,
            content_type: media.format.content_type(),
            id,
            ext: media.format.ext(),
        }
    })
}

/// `GET /cgi-bin/media/get/jssdk?access_token=T&media_id=M`: voice as speex.
fn jssdk(app: &App, req: &Request) -> Handled {
    let (now, owner) = check_token(app, req)?;
    if !app.config.verified {
        return Err(48001.into());
    }
    let (id, media) = lookup(app, req, now, owner)?;
    // Only AMR-NB has an HD rendition (what JSSDK records); other media, MP3 and AMR-WB voice
    // answer 40007 like a media id JSSDK never saw.
    if media.kind != MediaKind::Voice || media.format != Format::Amr {
        return Err(40007.into());
    }
    Ok(Reply::HdVoice {
        id,
        amr: media.bytes,
    })
}

/// A request to the video CDN's listener: `GET /vweixinp.tc.qq.com/1007_KEY.f10.mp4?vkey=V`, the
/// target of a `video_url` (no token: the `vkey` is the credential). A wrong `vkey` answers 403,
/// an unknown or expired video 404, as a CDN does.
pub(crate) fn cdn(app: &App, req: &Request) -> Reply {
    let not_found = || Reply::Raw(Response::text(404, "404 Not Found\n"));
    if req.method != "GET" && req.method != "HEAD" {
        return Reply::Raw(Response::text(405, "405 Method Not Allowed\n"));
    }
    let key = req
        .path
        .strip_prefix('/')
        .and_then(|p| p.strip_prefix(crate::app::CDN_DOMAIN))
        .and_then(|p| p.strip_prefix("/1007_"))
        .and_then(|p| p.strip_suffix(".f10.mp4"));
    let mut state = app.state();
    let Some(link) = key.and_then(|k| state.video_links.get(k)).cloned() else {
        return not_found();
    };
    if req.query_param("vkey") != Some(link.vkey.as_str()) {
        return Reply::Raw(Response::text(403, "403 Forbidden\n"));
    }
    let now = state.now();
    match state.media.get(&link.id, now) {
        Some(m) if m.kind == MediaKind::Video => Reply::Raw(
            Response::new(200, m.bytes)
                .header("Content-Type", "video/mp4")
                .header("Cache-Control", "max-age=86400"),
        ),
        _ => not_found(),
    }
}
