//! What the Worker's JS entry (`worker/shell.mjs`) calls: [`HitShell::plan`], one synchronous
//! call over plain values that decides whether a request is a plain cache hit and how to answer
//! it ([`crate::routes::hit`]), and [`HitShell::keep`], which hands a cache answer to the memory
//! tier. The entry does the IO (the memory tier's bytes, `caches.default.match`, the Response)
//! and nothing else: no route, credential or header rule lives in JS.
//!
//! A plan crosses as one number, so that a hit allocates nothing in the crossing: `-1` when the
//! full handler answers, else `(shape * 2 + held) * 2^32 + start * 2^16 + end`.
//! - `shape` names a shape array ([`HitShell::shape`]): the rest of the decision, the same array
//!   for every request decided alike (a handful per isolate). It is `[flags, timeoutMs, ops,
//!   app, keyPrefix, keySuffix]`. `flags` has bit 1 set when the memory tier may answer (and
//!   keep what the cache answers), 2 for a `HEAD`, 4 when the lookup carries the request's
//!   `Range`, 8 when it carries its `If-None-Match` (each as the request sent it). `ops` is a
//!   flat array of `[op, name, value]` triples (`"s"` set, `"a"` append, `"d"` delete, value
//!   `""`) applied in order to the cached response's headers. `app` is the app's place in the
//!   configuration (for [`HitShell::keep`]).
//! - The cache key is `keyPrefix + url.slice(start, end) + keySuffix`: the media id is that
//!   piece of the URL the entry passed (a plan whose media id is not a piece of it, such as one
//!   decoded from `%`-escapes, is left to the full handler).
//! - `held` is 1 when the memory tier holds the media: [`HitShell::held`] then gives
//!   `[headers, blob]`, once: the client's headers (the shape's operations already applied,
//!   kept with the media) and the bytes.

use std::cell::{Cell, RefCell};

use js_sys::Array;
use wasm_bindgen::prelude::*;
use worker::Env;
use wxmedia::protocol::sign::SignedKind;

use crate::config::Apps;
use crate::media;
use crate::media::keys;
use crate::routes::hit::{self, Asked, CacheControl, Cors, HeaderOp};
use crate::routes::pipeline::apply_ops;
use crate::routes::url::slice_of;

/// The JS entry's way into the Worker's rules (a class of static functions, so it is exported
/// beside the Durable Objects, not as an RPC method of the entrypoint).
#[wasm_bindgen]
pub struct HitShell;

/// Bits of a plan's flags.
const MEMORY: u32 = 1;
const HEAD: u32 = 2;
const CARRY_RANGE: u32 = 4;
const CARRY_IF_NONE_MATCH: u32 = 8;

/// What makes two plans' shapes the same array: everything in it.
struct ShapeKey {
    flags: u32,
    timeout_ms: u64,
    app: usize,
    kind: SignedKind,
    cache_control: CacheControl,
    cors: KeptCors,
}

/// A shape's [`Cors`], owned.
enum KeptCors {
    None,
    Any,
    Origin(String),
}

impl KeptCors {
    fn new(cors: Cors<'_>) -> Self {
        match cors {
            Cors::None => KeptCors::None,
            Cors::Any => KeptCors::Any,
            Cors::Origin(origin) => KeptCors::Origin(origin.to_string()),
        }
    }

    fn is(&self, cors: Cors<'_>) -> bool {
        match (self, cors) {
            (KeptCors::None, Cors::None) | (KeptCors::Any, Cors::Any) => true,
            (KeptCors::Origin(kept), Cors::Origin(origin)) => kept == origin,
            _ => false,
        }
    }
}

impl ShapeKey {
    fn new(plan: &hit::HitPlan<'_>, flags: u32, app: usize) -> Self {
        ShapeKey {
            flags,
            timeout_ms: plan.timeout_ms,
            app,
            kind: plan.kind,
            cache_control: plan.answer.cache_control,
            cors: KeptCors::new(plan.answer.cors),
        }
    }

    /// Whether `plan` with these `flags` and `app` has this shape (without making its key).
    fn matches(&self, plan: &hit::HitPlan<'_>, flags: u32, app: usize) -> bool {
        self.flags == flags
            && self.timeout_ms == plan.timeout_ms
            && self.app == app
            && self.kind == plan.kind
            && self.cache_control == plan.answer.cache_control
            && self.cors.is(plan.answer.cors)
    }
}

thread_local! {
    /// The shapes made so far, each at its number: a handful per isolate (per app, route
    /// family, flags and CORS answer), looked through in order. Numbers are never reused.
    static SHAPES: RefCell<Vec<(ShapeKey, JsValue)>> = const { RefCell::new(Vec::new()) };
    /// What the memory tier held for the last plan, until [`HitShell::held`] takes it.
    static HELD: RefCell<Option<JsValue>> = const { RefCell::new(None) };
}

/// Bounds the shapes. Only the configuration makes new ones (apps, route families, download
/// kinds, the 16 flag combinations, and an `Origin` echoed back one per allowed origin), so the
/// bound is met only by a configuration with many allowed origins; past it, requests of a new
/// shape are the full handler's to answer, alike but slower.
const MAX_SHAPES: usize = 256;

/// The number of a plan's shape (see the module docs), made the first time; `None` when there
/// are [`MAX_SHAPES`] already.
fn shape_number(plan: &hit::HitPlan<'_>, flags: u32, app: usize) -> Option<usize> {
    SHAPES.with(|shapes| {
        let mut shapes = shapes.borrow_mut();
        if let Some(n) = shapes
            .iter()
            .position(|(key, _)| key.matches(plan, flags, app))
        {
            return Some(n);
        }
        if shapes.len() >= MAX_SHAPES {
            return None;
        }
        let ops = Array::new();
        for op in plan.answer.ops() {
            let (code, name, value) = match &op {
                HeaderOp::Set(name, value) => ("s", *name, value.as_str()),
                HeaderOp::Append(name, value) => ("a", *name, value.as_str()),
                HeaderOp::Delete(name) => ("d", *name, ""),
            };
            ops.push(&JsValue::from_str(code));
            ops.push(&JsValue::from_str(name));
            ops.push(&JsValue::from_str(value));
        }
        let (prefix, suffix) = keys::cache_key_parts(plan.appid, plan.kind);
        let shape = Array::of3(
            &JsValue::from(flags),
            &JsValue::from_f64(plan.timeout_ms as f64),
            &ops,
        );
        shape.push(&JsValue::from_f64(app as f64));
        shape.push(&JsValue::from_str(&prefix));
        shape.push(&JsValue::from_str(suffix));
        let key = ShapeKey::new(plan, flags, app);
        shapes.push((key, shape.into()));
        Some(shapes.len() - 1)
    })
}

/// A plan that crosses as `-1`: the full handler answers.
const NO_PLAN: f64 = -1.0;

#[wasm_bindgen]
impl HitShell {
    /// The plan for a request, as a number (see the module docs), or `-1`: the full handler
    /// answers.
    #[allow(
        clippy::too_many_arguments,
        reason = "plain values from the JS entry, one call per request"
    )]
    pub fn plan(
        env: Env,
        method: &str,
        url: &str,
        range: Option<String>,
        if_none_match: Option<String>,
        authorization: Option<String>,
        origin: Option<String>,
    ) -> f64 {
        let Ok(apps) = Apps::cached(&env) else {
            return NO_PLAN;
        };
        let asked = Asked {
            method,
            url,
            range: range.as_deref(),
            if_none_match: if_none_match.as_deref(),
            authorization: authorization.as_deref(),
            origin: origin.as_deref(),
        };
        let Some(plan) = hit::plan(&apps, &asked, media::now_secs()) else {
            return NO_PLAN;
        };
        // Where the media id is in the URL the entry holds.
        let Some((start, id)) = slice_of(url, &plan.media_id) else {
            return NO_PLAN;
        };
        let end = start + id.len();
        if end > 0xffff {
            return NO_PLAN;
        }
        let mut flags = 0;
        for (on, bit) in [
            (plan.memory, MEMORY),
            (plan.head, HEAD),
            (plan.range.is_some(), CARRY_RANGE),
            (plan.if_none_match.is_some(), CARRY_IF_NONE_MATCH),
        ] {
            if on {
                flags |= bit;
            }
        }
        // The app's place in the configuration, for `keep` (`apps.app` is the same lookup).
        let app = apps.apps.iter().position(|c| c.appid == plan.appid);
        let Some(shape) = shape_number(&plan, flags, app.unwrap_or(usize::MAX)) else {
            return NO_PLAN;
        };
        let config = app.map_or(&apps.default, |i| &apps.apps[i]);
        let held = if plan.memory {
            // The shape's header operations on the held headers, once per media and shape.
            media::memory::held_answer(&plan.key(), config, shape, |cached| {
                let headers = web_sys::Headers::new_with_headers(cached).ok()?;
                apply_ops(&headers, &plan.answer.ops()).ok()?;
                Some(headers)
            })
        } else {
            None
        };
        // A zone whose cache stores nothing: only the full handler's fill can answer.
        if held.is_none() && media::CACHE_IS_NOOP.with(Cell::get) {
            return NO_PLAN;
        }
        let is_held = held.is_some();
        HELD.with(|h| {
            *h.borrow_mut() = held.map(|(headers, blob)| Array::of2(&headers, &blob).into());
        });
        ((shape * 2 + usize::from(is_held)) as f64) * 4_294_967_296.0 + ((start << 16) | end) as f64
    }

    /// Shape number `n` of a plan (see the module docs).
    pub fn shape(n: usize) -> JsValue {
        SHAPES.with(|shapes| {
            shapes
                .borrow()
                .get(n)
                .map_or(JsValue::UNDEFINED, |(_, shape)| shape.clone())
        })
    }

    /// What the memory tier held for the last plan that said so: `[headers, blob]`, once.
    pub fn held() -> JsValue {
        HELD.with(|h| h.borrow_mut().take())
            .unwrap_or(JsValue::UNDEFINED)
    }

    /// Passes the cache's answer to a plan's lookup on, keeping a copy in the memory tier when it
    /// is a whole 200 that fits (the same rule as the full handler's). `app` and `key` are the
    /// plan's.
    pub async fn keep(
        env: Env,
        app: usize,
        key: String,
        response: web_sys::Response,
    ) -> Result<web_sys::Response, JsValue> {
        let apps = Apps::cached(&env).map_err(|e| JsValue::from_str(&e.message))?;
        let config = apps.apps.get(app).unwrap_or(&apps.default);
        media::memory::keep_plain(&key, response, config)
            .await
            .map_err(|e| JsValue::from_str(&e.message))
    }
}
