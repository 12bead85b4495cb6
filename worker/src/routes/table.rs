//! The route table: which app a path belongs to ([`scope`]) and which route a method and path
//! name ([`classify`]). The one home of the Worker's route paths: the full handler
//! ([`super::rest::route`]) dispatches on a [`Route`], and the JS entry's hit plans
//! ([`super::hit`]) ask the same table, so the two cannot disagree on what a path means. Pure.

use std::rc::Rc;

use wxmedia::protocol::sign::SignedKind;

use crate::config::{Apps, Config};
use crate::error::{ApiError, ErrorCode};

/// The app whose routes a path names and the path's segments under it: `/apps/{appid}/…` is
/// that app's (only its media, archive and callback routes), anything else the default app's.
/// An unknown app, or another route under `/apps/{appid}`, is refused.
pub fn scope<'a, 'p>(
    apps: &'a Apps,
    path: &'p str,
) -> Result<(&'a Rc<Config>, Vec<&'p str>), ApiError> {
    // Room for every route's segments without growing (a request for a plain hit allocates once).
    let mut all: Vec<&str> = Vec::with_capacity(8);
    all.extend(path.trim_start_matches('/').split('/'));
    match all.as_slice() {
        ["apps", appid, rest @ ..] => match (apps.app(appid), rest) {
            (Some(config), ["media" | "archive", ..] | ["wechat", "callback"]) => {
                Ok((config, rest.to_vec()))
            }
            (None, _) => {
                // At most an app id's length of it echoed: a path can be kilobytes long.
                let shown: String = appid.chars().take(64).collect();
                let more = if appid.chars().count() > 64 {
                    "…"
                } else {
                    ""
                };
                Err(ApiError::new(
                    ErrorCode::UnknownApp,
                    format!("this proxy serves no app {shown:?}{more}"),
                ))
            }
            (Some(_), _) => Err(ApiError::new(ErrorCode::NotFound, "no such route")),
        },
        _ => Ok((&apps.default, all)),
    }
}

/// What a method and the segments of a path (under their [`scope`]) ask for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Route<'a> {
    /// `OPTIONS` anything: a CORS preflight.
    Preflight,
    /// `GET /healthz`.
    Healthz,
    /// `POST /media`.
    Upload,
    /// `GET`/`HEAD /media/{id}` and `/media/{id}/hd-voice`.
    Download {
        /// The media id, as the path gives it.
        id: &'a str,
        /// Which download.
        kind: SignedKind,
    },
    /// `POST /media/{id}/sign`.
    Sign {
        /// The media id, as the path gives it.
        id: &'a str,
    },
    /// `GET /wechat/callback`: WeChat's URL check.
    CallbackCheck,
    /// `POST /wechat/callback`: a message push.
    Callback,
    /// `GET /archive`.
    Archive,
    /// `GET /cgi-bin/token` (the token hub).
    HubToken,
    /// `POST /cgi-bin/stable_token` (the token hub).
    HubStableToken,
    /// `POST /cgi-bin/media/upload`, WeChat's shape.
    WeChatUpload,
    /// `GET`/`HEAD /cgi-bin/media/get` and `/cgi-bin/media/get/jssdk`, WeChat's shape.
    WeChatDownload {
        /// Which download.
        kind: SignedKind,
    },
    /// `/media/a/b…`: a media id with a slash in it.
    SlashInMediaId,
    /// A route of ours asked with a method it does not take.
    MethodNotAllowed,
    /// Anything else: the console's static files.
    Assets,
}

/// The route `method` (as the runtime spells it: `GET`, `HEAD`, …) and `segments` name.
pub fn classify<'a>(method: &str, segments: &[&'a str]) -> Route<'a> {
    let read = matches!(method, "GET" | "HEAD");
    match (method, segments) {
        ("OPTIONS", _) => Route::Preflight,
        ("GET", ["healthz"]) => Route::Healthz,
        ("POST", ["media"]) => Route::Upload,
        (_, ["media", id]) if read => Route::Download {
            id,
            kind: SignedKind::Media,
        },
        (_, ["media", id, "hd-voice"]) if read => Route::Download {
            id,
            kind: SignedKind::HdVoice,
        },
        ("POST", ["media", id, "sign"]) => Route::Sign { id },
        ("GET", ["wechat", "callback"]) => Route::CallbackCheck,
        ("POST", ["wechat", "callback"]) => Route::Callback,
        ("GET", ["archive"]) => Route::Archive,
        ("GET", ["cgi-bin", "token"]) => Route::HubToken,
        ("POST", ["cgi-bin", "stable_token"]) => Route::HubStableToken,
        ("POST", ["cgi-bin", "media", "upload"]) => Route::WeChatUpload,
        (_, ["cgi-bin", "media", "get"]) if read => Route::WeChatDownload {
            kind: SignedKind::Media,
        },
        (_, ["cgi-bin", "media", "get", "jssdk"]) if read => Route::WeChatDownload {
            kind: SignedKind::HdVoice,
        },
        (_, ["media", ..])
            if segments.len() > 3
                || segments
                    .get(2)
                    .is_some_and(|s| !matches!(*s, "hd-voice" | "sign")) =>
        {
            Route::SlashInMediaId
        }
        (
            _,
            ["media", ..] | ["healthz"] | ["cgi-bin", ..] | ["wechat", "callback"] | ["archive"],
        ) => Route::MethodNotAllowed,
        _ => Route::Assets,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn route(method: &str, path: &str) -> Route<'static> {
        let path: &'static str = Box::leak(path.to_string().into_boxed_str());
        let segments: Vec<&'static str> = path.trim_start_matches('/').split('/').collect();
        classify(method, &segments)
    }

    #[test]
    fn each_route_by_method_and_path() {
        use Route::*;
        let media = SignedKind::Media;
        let hd = SignedKind::HdVoice;
        for (method, path, want) in [
            ("OPTIONS", "/anything/at/all", Preflight),
            ("GET", "/healthz", Healthz),
            ("POST", "/media", Upload),
            (
                "GET",
                "/media/X",
                Download {
                    id: "X",
                    kind: media,
                },
            ),
            ("HEAD", "/media/X/hd-voice", Download { id: "X", kind: hd }),
            ("POST", "/media/X/sign", Sign { id: "X" }),
            ("GET", "/wechat/callback", CallbackCheck),
            ("POST", "/wechat/callback", Callback),
            ("GET", "/archive", Archive),
            ("GET", "/cgi-bin/token", HubToken),
            ("POST", "/cgi-bin/stable_token", HubStableToken),
            ("POST", "/cgi-bin/media/upload", WeChatUpload),
            ("HEAD", "/cgi-bin/media/get", WeChatDownload { kind: media }),
            (
                "GET",
                "/cgi-bin/media/get/jssdk",
                WeChatDownload { kind: hd },
            ),
            ("GET", "/media/a/b", SlashInMediaId),
            ("GET", "/media/a/", SlashInMediaId),
            ("GET", "/media/a/hd-voice/x", SlashInMediaId),
            ("DELETE", "/media/X", MethodNotAllowed),
            ("POST", "/media/X/hd-voice", MethodNotAllowed),
            ("GET", "/media/X/sign", MethodNotAllowed),
            ("PUT", "/cgi-bin/anything", MethodNotAllowed),
            ("POST", "/healthz", MethodNotAllowed),
            ("GET", "/", Assets),
            ("GET", "/app.js", Assets),
            ("POST", "/media-not", Assets),
        ] {
            assert_eq!(route(method, path), want, "{method} {path}");
        }
    }
}
