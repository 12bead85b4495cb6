//! The hot path's decision: whether a request can be a plain cache hit, and if so everything the
//! answer needs — the cache key, what the lookup carries, whether the memory tier may answer,
//! and the header operations on the cached response. Pure (plain values in, plain values out)
//! and tested natively.
//!
//! The Worker's JS entry (`worker/shell.mjs`) asks for a [`HitPlan`] in one synchronous call
//! (`crate::shell`), then does the IO itself: the memory tier, `caches.default.match`, the
//! Response. Anything without a plan — a miss, an upload, a voice rendition, a refusal, a route
//! other than a download — goes to the full handler ([`super::rest::route`]) unchanged. The
//! rules here are the full handler's own: it routes with [`super::table`], answers with
//! [`answer_ops`] and [`cors_ops`], and checks credentials with [`super::auth`], so the two
//! paths cannot drift apart; `tests/worker/shell.test.mjs` compares their answers byte for byte.

use std::borrow::Cow;

use wxmedia::protocol::sign::SignedKind;

use crate::config::{Apps, Config, DownloadAuth};
use crate::media::keys;
use crate::media::memory::{bytes_range, is_plain};
use crate::routes::auth::{self, DownloadCredentials};
use crate::routes::table::{classify, scope, Route};
use crate::routes::url::{slice_of, split};

/// The headers CORS exposes to scripts on an allowed origin.
pub const EXPOSED_HEADERS: &str = "Content-Disposition, Content-Length, Content-Range, ETag, X-Cache, X-Cache-Source, Retry-After";

/// One change to a response's headers, applied in order.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum HeaderOp {
    /// `headers.set(name, value)`.
    Set(&'static str, String),
    /// `headers.append(name, value)`.
    Append(&'static str, String),
    /// `headers.delete(name)`.
    Delete(&'static str),
}

/// How the answer's headers differ from the cached response's: our Cache-Control, `X-Cache`
/// (`HIT` when the cache tiers held it) and `X-Cache-Source`, byte ranges, no sniffing, and no
/// `cf-cache-status` of the cache's own.
pub fn answer_ops(cache_control: &str, hit: bool, source: &str) -> Vec<HeaderOp> {
    vec![
        HeaderOp::Set("cache-control", cache_control.to_string()),
        HeaderOp::Set("x-cache", if hit { "HIT" } else { "MISS" }.to_string()),
        HeaderOp::Set("x-cache-source", source.to_string()),
        HeaderOp::Set("accept-ranges", "bytes".to_string()),
        // Media are served as what their Content-Type says, never sniffed into something else.
        HeaderOp::Set("x-content-type-options", "nosniff".to_string()),
        HeaderOp::Delete("cf-cache-status"),
    ]
}

/// What CORS adds to an answer: nothing (no `Origin`, or one `CORS_ORIGINS` does not list), any
/// origin (`*`), or the request's own origin echoed back (and `Vary: Origin`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Cors<'a> {
    /// No CORS headers.
    None,
    /// `Access-Control-Allow-Origin: *`.
    Any,
    /// The origin echoed back.
    Origin(&'a str),
}

impl<'a> Cors<'a> {
    /// What CORS adds for a request from `origin` when `CORS_ORIGINS` is `allowed`.
    pub fn of(origin: Option<&'a str>, allowed: &[String]) -> Self {
        let Some(origin) = origin else {
            return Cors::None;
        };
        if allowed.iter().any(|o| o == "*") {
            Cors::Any
        } else if allowed.iter().any(|o| o.eq_ignore_ascii_case(origin)) {
            Cors::Origin(origin)
        } else {
            Cors::None
        }
    }

    /// Its header operations.
    pub fn ops(self) -> Vec<HeaderOp> {
        let allow = match self {
            Cors::None => return Vec::new(),
            Cors::Any => "*",
            Cors::Origin(origin) => origin,
        };
        let mut ops = vec![
            HeaderOp::Set("access-control-allow-origin", allow.to_string()),
            HeaderOp::Set("access-control-expose-headers", EXPOSED_HEADERS.to_string()),
        ];
        if let Cors::Origin(_) = self {
            ops.push(HeaderOp::Append("vary", "Origin".to_string()));
        }
        ops
    }
}

/// The CORS headers for a request from `origin` when `CORS_ORIGINS` (`allowed`) lets it in;
/// none otherwise.
pub fn cors_ops(origin: Option<&str>, allowed: &[String]) -> Vec<HeaderOp> {
    Cors::of(origin, allowed).ops()
}

/// A download's Cache-Control, as a value: shared caches may keep public media from the REST
/// routes; anything behind a key or a signature, and anything through WeChat's shapes (always
/// behind a key), is private.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CacheControl {
    /// `public, max-age={0}, immutable`.
    Public(u64),
    /// `private, max-age={0}`.
    Private(u64),
}

impl CacheControl {
    /// A REST download's.
    pub fn download(config: &Config) -> Self {
        match config.download_auth {
            DownloadAuth::Public => CacheControl::Public(config.cache_ttl_secs),
            _ => CacheControl::Private(config.cache_ttl_secs),
        }
    }

    /// A download's through the WeChat-shaped routes.
    pub fn wechat(config: &Config) -> Self {
        CacheControl::Private(config.cache_ttl_secs)
    }

    /// The header's value.
    pub fn header(self) -> String {
        match self {
            CacheControl::Public(ttl) => format!("public, max-age={ttl}, immutable"),
            CacheControl::Private(ttl) => format!("private, max-age={ttl}"),
        }
    }
}

/// The Cache-Control of a REST download ([`CacheControl::download`]).
pub fn download_cache_control(config: &Config) -> String {
    CacheControl::download(config).header()
}

/// The Cache-Control of a download through the WeChat-shaped routes ([`CacheControl::wechat`]).
pub fn wechat_cache_control(config: &Config) -> String {
    CacheControl::wechat(config).header()
}

/// How a hit's answer differs from the cached response, as values: the header operations are
/// [`Answer::ops`], which the JS entry asks for once per distinct answer, not per request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Answer<'a> {
    /// Its Cache-Control.
    pub cache_control: CacheControl,
    /// Its CORS headers.
    pub cors: Cors<'a>,
}

impl Answer<'_> {
    /// The header operations: the full handler's for a hit ([`answer_ops`]) and CORS's
    /// ([`cors_ops`], which the full handler applies after them).
    pub fn ops(self) -> Vec<HeaderOp> {
        let mut ops = answer_ops(&self.cache_control.header(), true, "cache");
        ops.extend(self.cors.ops());
        ops
    }
}

/// What the entry knows of a request without reading its body: its method, URL and the few
/// headers a hit depends on.
#[derive(Clone, Copy, Debug, Default)]
pub struct Asked<'a> {
    /// The method, as the runtime gives it (`GET`, `HEAD`, …).
    pub method: &'a str,
    /// The whole URL.
    pub url: &'a str,
    /// `Range`.
    pub range: Option<&'a str>,
    /// `If-None-Match`.
    pub if_none_match: Option<&'a str>,
    /// `Authorization`.
    pub authorization: Option<&'a str>,
    /// `Origin`.
    pub origin: Option<&'a str>,
}

/// How to answer a download that the cache tiers may hold.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HitPlan<'a> {
    /// The app whose media it is.
    pub appid: &'a str,
    /// The media id, as the request gave it: borrowed from the request's URL when it is written
    /// there as it stands (the JS entry builds the key from it without another string crossing
    /// from wasm), owned when it was decoded.
    pub media_id: Cow<'a, str>,
    /// Which download.
    pub kind: SignedKind,
    /// The `Range` the cache lookup carries (bytes ranges only; the cache answers 206 or 416).
    pub range: Option<&'a str>,
    /// The `If-None-Match` the cache lookup carries (the cache answers 304).
    pub if_none_match: Option<&'a str>,
    /// Whether the memory tier may answer, and keep what the cache answers: a plain lookup, with
    /// the tier on.
    pub memory: bool,
    /// A `HEAD`: the answer has no body.
    pub head: bool,
    /// How the answer's headers differ from the cached response's ([`Answer::ops`]).
    pub answer: Answer<'a>,
    /// How long the cache lookup (and keeping a copy in memory) may take: past this, the full
    /// handler answers.
    pub timeout_ms: u64,
}

impl HitPlan<'_> {
    /// The cache key (no token in it): [`keys::cache_key`].
    pub fn key(&self) -> String {
        keys::cache_key(self.appid, &self.media_id, self.kind)
    }
}

/// The plan for `asked` if it is a download the cache tiers may answer as it stands — a known
/// route, a valid media id, credentials that pass, no voice rendition — or `None`, and the full
/// handler answers (whatever the reason: a refusal is its to word).
pub fn plan<'a>(apps: &'a Apps, asked: &Asked<'a>, now_secs: u64) -> Option<HitPlan<'a>> {
    let head = asked.method == "HEAD";
    // A plain URL (as the runtime serializes one) is read where it stands; anything else parsed.
    let parsed;
    let (path, query) = match split(asked.url) {
        Some(parts) => parts,
        None => {
            parsed = worker::Url::parse(asked.url).ok()?;
            (parsed.path(), parsed.query())
        }
    };
    // `Url::query_pairs`, which is this over the query (borrowing what needs no decoding).
    let first = |name: &str| {
        form_urlencoded::parse(query.unwrap_or("").as_bytes())
            .find(|(k, _)| k == name)
            .map(|(_, v)| v)
    };
    let (config, segments) = scope(apps, path).ok()?;
    let (config, media_id, kind, cache_control) = match classify(asked.method, &segments) {
        Route::Download { id, kind } => {
            keys::check_media_id(id).ok()?;
            // `?format=`: a voice rendition (or a refusal of one), the full handler's.
            if first("format").is_some() {
                return None;
            }
            let (exp, sig) = (first("exp"), first("sig"));
            let creds = DownloadCredentials {
                authorization: asked.authorization,
                exp: exp.as_deref(),
                sig: sig.as_deref(),
            };
            auth::check_download(config, kind, id, &creds, now_secs).ok()?;
            (
                config,
                Cow::Borrowed(id),
                kind,
                CacheControl::download(config),
            )
        }
        // WeChat's shapes: `scope` keeps them at the root.
        Route::WeChatDownload { kind } => {
            let config = auth::app_for_key(apps, &first("access_token")?).ok()??;
            let media_id = first("media_id").filter(|id| !id.is_empty())?;
            keys::check_media_id(&media_id).ok()?;
            (config, media_id, kind, CacheControl::wechat(config))
        }
        _ => return None,
    };
    // Borrowed from the request's URL when it is a piece of it; a copy otherwise (decoded, or
    // from a parsed URL).
    let media_id = match slice_of(asked.url, &media_id) {
        Some((_, id)) => Cow::Borrowed(id),
        None => Cow::Owned(media_id.into_owned()),
    };
    let range = asked.range.filter(|r| bytes_range(r));
    Some(HitPlan {
        appid: &config.appid,
        media_id,
        kind,
        range,
        if_none_match: asked.if_none_match,
        memory: config.memory_cache_bytes != 0 && is_plain(asked.range, asked.if_none_match),
        head,
        answer: Answer {
            cache_control,
            cors: Cors::of(asked.origin, &apps.default.cors_origins),
        },
        timeout_ms: config.upstream_timeout_ms,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::testing::Map;
    use std::collections::HashMap;
    use wxmedia::protocol::sign::SignedKind;

    fn apps(pairs: &[(&'static str, &'static str)]) -> Apps {
        let mut all: HashMap<_, _> = [
            ("WECHAT_APPID", "wxA"),
            ("WECHAT_SECRET", "s"),
            ("API_KEYS", "k1"),
        ]
        .into_iter()
        .collect();
        all.extend(pairs.iter().copied());
        Apps::from_settings(&Map(all, false)).unwrap()
    }

    fn ask(method: &'static str, url: &'static str) -> Asked<'static> {
        Asked {
            method,
            url,
            ..Asked::default()
        }
    }

    const ID: &str = "MEDIA_abc-123";

    #[test]
    fn a_public_download_is_planned_with_the_full_handlers_headers() {
        let apps = apps(&[("DOWNLOAD_AUTH", "public"), ("CACHE_TTL_SECS", "600")]);
        let plan = plan(
            &apps,
            &ask("GET", "https://w.example/media/MEDIA_abc-123"),
            0,
        )
        .unwrap();
        assert_eq!(plan.key(), keys::cache_key("wxA", ID, SignedKind::Media));
        assert_eq!(plan.appid, "wxA");
        assert!(plan.memory && !plan.head);
        assert_eq!(
            plan.answer.ops()[0],
            HeaderOp::Set("cache-control", "public, max-age=600, immutable".into())
        );
        assert_eq!(
            plan.answer.ops(),
            answer_ops("public, max-age=600, immutable", true, "cache")
        );
        let hd = super::plan(
            &apps,
            &ask("HEAD", "https://w.example//media/MEDIA_abc-123/hd-voice"),
            0,
        )
        .unwrap();
        assert_eq!(hd.key(), keys::cache_key("wxA", ID, SignedKind::HdVoice));
        assert!(hd.head);
    }

    #[test]
    fn anything_but_a_plain_download_goes_to_the_full_handler() {
        let apps = apps(&[("DOWNLOAD_AUTH", "public")]);
        for (method, url) in [
            ("POST", "https://w/media/ABC"),
            ("OPTIONS", "https://w/media/ABC"),
            ("GET", "https://w/media/ABC?format=wav"),
            ("GET", "https://w/media/ABC?format="),
            ("GET", "https://w/media/ABC/"),
            ("GET", "https://w/media/ABC/sign"),
            ("GET", "https://w/media/A%2FB"),
            ("GET", "https://w/media/"),
            ("GET", "https://w/healthz"),
            ("GET", "https://w/archive"),
            ("GET", "https://w/apps/wxNOPE/media/ABC"),
            (
                "GET",
                "https://w/apps/wxA/cgi-bin/media/get?access_token=k1&media_id=ABC",
            ),
            (
                "GET",
                "https://w/cgi-bin/media/get?access_token=wrong&media_id=ABC",
            ),
            ("GET", "https://w/cgi-bin/media/get?media_id=ABC"),
            (
                "GET",
                "https://w/cgi-bin/media/get?access_token=k1&media_id=",
            ),
            ("GET", "https://w/index.html"),
            ("GET", "not a url"),
        ] {
            assert_eq!(plan(&apps, &ask(method, url), 0), None, "{method} {url}");
        }
    }

    #[test]
    fn credentials_are_checked_as_the_full_handler_checks_them() {
        let keyed = apps(&[("DOWNLOAD_AUTH", "key")]);
        let url = "https://w/media/ABC";
        assert_eq!(plan(&keyed, &ask("GET", url), 0), None);
        let with = |authorization| Asked {
            authorization: Some(authorization),
            ..ask("GET", url)
        };
        assert_eq!(plan(&keyed, &with("Bearer nope"), 0), None);
        let ok = plan(&keyed, &with("Bearer k1"), 0).unwrap();
        assert_eq!(
            ok.answer.ops()[0],
            HeaderOp::Set("cache-control", "private, max-age=259200".into())
        );

        let signed = apps(&[("DOWNLOAD_AUTH", "signed"), ("SIGNING_KEY", "sk")]);
        let path =
            wxmedia::protocol::sign::signed_path(b"sk", None, SignedKind::Media, "ABC", 1000);
        let good = format!("https://w{path}");
        let good: &'static str = Box::leak(good.into_boxed_str());
        assert!(plan(&signed, &ask("GET", good), 999).is_some());
        assert_eq!(plan(&signed, &ask("GET", good), 1001), None, "expired");
        let forged: &'static str = Box::leak(good.replace("sig=", "sig=x").into_boxed_str());
        assert_eq!(plan(&signed, &ask("GET", forged), 999), None);
        assert!(plan(
            &signed,
            &Asked {
                authorization: Some("Bearer k1"),
                ..ask("GET", url)
            },
            0
        )
        .is_some());
    }

    #[test]
    fn wechat_shaped_downloads_pick_the_app_by_key() {
        let apps = apps(&[
            ("WECHAT_APPS", "wxA,wxB"),
            ("WECHAT_SECRET_wxB", "s"),
            ("API_KEYS_wxB", "kb"),
        ]);
        let plan = plan(
            &apps,
            &ask(
                "GET",
                "https://w/cgi-bin/media/get/jssdk?access_token=kb&media_id=ABC",
            ),
            0,
        )
        .unwrap();
        assert_eq!(plan.appid, "wxB");
        assert_eq!(
            plan.key(),
            keys::cache_key("wxB", "ABC", SignedKind::HdVoice)
        );
        assert_eq!(
            plan.answer.ops()[0],
            HeaderOp::Set("cache-control", "private, max-age=259200".into())
        );
    }

    #[test]
    fn the_media_id_is_borrowed_from_the_url_when_it_is_written_there() {
        let apps = apps(&[("DOWNLOAD_AUTH", "key")]);
        let url = "https://w/media/ABC";
        let rest = Asked {
            authorization: Some("Bearer k1"),
            ..ask("GET", url)
        };
        let plan = plan(&apps, &rest, 0).unwrap();
        assert!(matches!(plan.media_id, Cow::Borrowed("ABC")));
        assert_eq!(plan.key(), keys::cache_key("wxA", "ABC", SignedKind::Media));
        let wechat = "https://w/cgi-bin/media/get?access_token=k1&media_id=ABC";
        let plain = super::plan(&apps, &ask("GET", wechat), 0).unwrap();
        assert!(matches!(plain.media_id, Cow::Borrowed("ABC")));
        // Decoded from an escape: the same media, but not a piece of the URL.
        let escaped = "https://w/cgi-bin/media/get?access_token=k1&media_id=%41BC";
        let decoded = super::plan(&apps, &ask("GET", escaped), 0).unwrap();
        assert!(matches!(&decoded.media_id, Cow::Owned(id) if id == "ABC"));
        assert_eq!(decoded.key(), plain.key());
    }

    #[test]
    fn ranges_and_validators_are_carried_and_keep_the_memory_tier_out() {
        let apps = apps(&[("DOWNLOAD_AUTH", "public")]);
        let url = "https://w/media/ABC";
        let ranged = plan(
            &apps,
            &Asked {
                range: Some("bytes=0-9"),
                ..ask("GET", url)
            },
            0,
        )
        .unwrap();
        assert_eq!(ranged.range, Some("bytes=0-9"));
        assert!(!ranged.memory);
        // A range in another unit is ignored: a plain lookup.
        let other = plan(
            &apps,
            &Asked {
                range: Some("items=0-9"),
                ..ask("GET", url)
            },
            0,
        )
        .unwrap();
        assert_eq!(other.range, None);
        assert!(other.memory);
        let validated = plan(
            &apps,
            &Asked {
                if_none_match: Some("\"ABC\""),
                ..ask("GET", url)
            },
            0,
        )
        .unwrap();
        assert_eq!(validated.if_none_match, Some("\"ABC\""));
        assert!(!validated.memory);
        let off = apps_with_no_memory();
        assert!(!plan(&off, &ask("GET", url), 0).unwrap().memory);
    }

    fn apps_with_no_memory() -> Apps {
        apps(&[("DOWNLOAD_AUTH", "public"), ("MEMORY_CACHE_BYTES", "0")])
    }

    #[test]
    fn cors_follows_cors_origins() {
        let listed = vec!["https://a.example".to_string()];
        assert!(cors_ops(Some("https://b.example"), &listed).is_empty());
        assert!(cors_ops(None, &listed).is_empty());
        assert_eq!(
            cors_ops(Some("https://A.example"), &listed),
            vec![
                HeaderOp::Set("access-control-allow-origin", "https://A.example".into()),
                HeaderOp::Set("access-control-expose-headers", EXPOSED_HEADERS.into()),
                HeaderOp::Append("vary", "Origin".into()),
            ]
        );
        let any = cors_ops(Some("https://b.example"), &["*".to_string()]);
        assert_eq!(any.len(), 2);
        assert_eq!(
            any[0],
            HeaderOp::Set("access-control-allow-origin", "*".into())
        );
    }

    #[test]
    fn the_plan_never_holds_a_secret() {
        let apps = apps(&[("DOWNLOAD_AUTH", "key")]);
        let plan = plan(
            &apps,
            &ask(
                "GET",
                "https://w/cgi-bin/media/get?access_token=k1&media_id=ABC",
            ),
            0,
        )
        .unwrap();
        let shown = format!("{plan:?}");
        assert!(!shown.contains("k1"), "{shown}");
        assert!(!plan.key().contains("k1"));
    }
}
