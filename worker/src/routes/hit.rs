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

use crate::config::{Apps, Config, DownloadAuth};
use crate::media::keys;
use crate::media::memory::{bytes_range, is_plain};
use crate::routes::auth::{self, DownloadCredentials};
use crate::routes::table::{classify, scope, Route};

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

/// The CORS headers for a request from `origin` when `CORS_ORIGINS` (`allowed`) lets it in;
/// none otherwise.
pub fn cors_ops(origin: Option<&str>, allowed: &[String]) -> Vec<HeaderOp> {
    let Some(origin) = origin else {
        return Vec::new();
    };
    let any = allowed.iter().any(|o| o == "*");
    if !any && !allowed.iter().any(|o| o.eq_ignore_ascii_case(origin)) {
        return Vec::new();
    }
    let mut ops = vec![
        HeaderOp::Set(
            "access-control-allow-origin",
            if any { "*" } else { origin }.to_string(),
        ),
        HeaderOp::Set("access-control-expose-headers", EXPOSED_HEADERS.to_string()),
    ];
    if !any {
        ops.push(HeaderOp::Append("vary", "Origin".to_string()));
    }
    ops
}

/// The Cache-Control of a REST download: shared caches may keep public media; anything behind
/// a key or a signature is private.
pub fn download_cache_control(config: &Config) -> String {
    match config.download_auth {
        DownloadAuth::Public => format!("public, max-age={}, immutable", config.cache_ttl_secs),
        _ => format!("private, max-age={}", config.cache_ttl_secs),
    }
}

/// The Cache-Control of a download through the WeChat-shaped routes (always behind a key).
pub fn wechat_cache_control(config: &Config) -> String {
    format!("private, max-age={}", config.cache_ttl_secs)
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
pub struct HitPlan {
    /// The app whose media it is.
    pub appid: String,
    /// The cache key (no token in it).
    pub key: String,
    /// The `Range` the cache lookup carries (bytes ranges only; the cache answers 206 or 416).
    pub range: Option<String>,
    /// The `If-None-Match` the cache lookup carries (the cache answers 304).
    pub if_none_match: Option<String>,
    /// Whether the memory tier may answer, and keep what the cache answers: a plain lookup, with
    /// the tier on.
    pub memory: bool,
    /// A `HEAD`: the answer has no body.
    pub head: bool,
    /// The changes from the cached response's headers to the answer's, in order.
    pub ops: Vec<HeaderOp>,
    /// How long the cache lookup (and keeping a copy in memory) may take: past this, the full
    /// handler answers.
    pub timeout_ms: u64,
}

/// The plan for `asked` if it is a download the cache tiers may answer as it stands — a known
/// route, a valid media id, credentials that pass, no voice rendition — or `None`, and the full
/// handler answers (whatever the reason: a refusal is its to word).
pub fn plan(apps: &Apps, asked: &Asked<'_>, now_secs: u64) -> Option<HitPlan> {
    let head = asked.method == "HEAD";
    let url = worker::Url::parse(asked.url).ok()?;
    let first = |name: &str| {
        url.query_pairs()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    };
    let (config, segments) = scope(apps, url.path()).ok()?;
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
            (config, id.to_string(), kind, download_cache_control(config))
        }
        // WeChat's shapes: `scope` keeps them at the root.
        Route::WeChatDownload { kind } => {
            let config = auth::app_for_key(apps, &first("access_token")?).ok()??;
            let media_id = first("media_id").filter(|id| !id.is_empty())?;
            keys::check_media_id(&media_id).ok()?;
            (config, media_id, kind, wechat_cache_control(config))
        }
        _ => return None,
    };
    let range = asked.range.filter(|r| bytes_range(r));
    let mut ops = answer_ops(&cache_control, true, "cache");
    ops.extend(cors_ops(asked.origin, &apps.default.cors_origins));
    Some(HitPlan {
        appid: config.appid.clone(),
        key: keys::cache_key(&config.appid, &media_id, kind),
        range: range.map(str::to_string),
        if_none_match: asked.if_none_match.map(str::to_string),
        memory: config.memory_cache_bytes != 0 && is_plain(asked.range, asked.if_none_match),
        head,
        ops,
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
        assert_eq!(plan.key, keys::cache_key("wxA", ID, SignedKind::Media));
        assert_eq!(plan.appid, "wxA");
        assert!(plan.memory && !plan.head);
        assert_eq!(
            plan.ops[0],
            HeaderOp::Set("cache-control", "public, max-age=600, immutable".into())
        );
        assert_eq!(
            plan.ops,
            answer_ops("public, max-age=600, immutable", true, "cache")
        );
        let hd = super::plan(
            &apps,
            &ask("HEAD", "https://w.example//media/MEDIA_abc-123/hd-voice"),
            0,
        )
        .unwrap();
        assert_eq!(hd.key, keys::cache_key("wxA", ID, SignedKind::HdVoice));
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
            ok.ops[0],
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
        assert_eq!(plan.key, keys::cache_key("wxB", "ABC", SignedKind::HdVoice));
        assert_eq!(
            plan.ops[0],
            HeaderOp::Set("cache-control", "private, max-age=259200".into())
        );
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
        assert_eq!(ranged.range.as_deref(), Some("bytes=0-9"));
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
        assert_eq!(validated.if_none_match.as_deref(), Some("\"ABC\""));
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
        assert!(!plan.key.contains("k1"));
    }
}
