//! What the Worker's JS entry (`worker/shell.mjs`) calls: [`HitShell::plan`], one synchronous
//! call over plain values that decides whether a request is a plain cache hit and how to answer
//! it ([`crate::routes::hit`]), and [`HitShell::keep`], which hands a cache answer to the memory
//! tier. The entry does the IO (the memory tier's bytes, `caches.default.match`, the Response)
//! and nothing else: no route, credential or header rule lives in JS.
//!
//! A plan is an array `[key, flags, timeoutMs, ops, app, heldHeaders, heldBlob]`, kept small because it
//! is made for every request: `flags` has bit 1 set when the memory tier may answer (and keep
//! what the cache answers), 2 for a `HEAD`, 4 when the lookup carries the request's `Range`, 8
//! when it carries its `If-None-Match` (each as the request sent it); `ops` is a flat array of
//! `[op, name, value]` triples (`"s"` set, `"a"` append, `"d"` delete, value `""`) applied in
//! order to the cached response's headers, the same array for every request with the same
//! operations; `app` the app's place in the configuration (for [`HitShell::keep`]);
//! `heldHeaders` and `heldBlob` are what the memory tier holds, when it does.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;

use js_sys::Array;
use wasm_bindgen::prelude::*;
use worker::Env;

use crate::config::Apps;
use crate::media;
use crate::routes::hit::{self, Asked, HeaderOp};

/// The JS entry's way into the Worker's rules (a class of static functions, so it is exported
/// beside the Durable Objects, not as an RPC method of the entrypoint).
#[wasm_bindgen]
pub struct HitShell;

/// Bits of a plan's flags.
const MEMORY: u32 = 1;
const HEAD: u32 = 2;
const CARRY_RANGE: u32 = 4;
const CARRY_IF_NONE_MATCH: u32 = 8;

thread_local! {
    /// The JS arrays of header operations made so far, by their operations: a handful per
    /// isolate (one per app, route family and CORS answer), so a plan hands out an existing array.
    static OPS: RefCell<HashMap<Vec<HeaderOp>, Array>> = RefCell::new(HashMap::new());
}

/// Bounds the memo: an `Origin` echoed back makes one entry per allowed origin.
const MAX_OPS_ENTRIES: usize = 64;

fn ops_array(ops: Vec<HeaderOp>) -> Array {
    OPS.with(|memo| {
        let mut memo = memo.borrow_mut();
        if let Some(array) = memo.get(&ops) {
            return array.clone();
        }
        let array = Array::new();
        for op in &ops {
            let (code, name, value) = match op {
                HeaderOp::Set(name, value) => ("s", *name, value.as_str()),
                HeaderOp::Append(name, value) => ("a", *name, value.as_str()),
                HeaderOp::Delete(name) => ("d", *name, ""),
            };
            array.push(&JsValue::from_str(code));
            array.push(&JsValue::from_str(name));
            array.push(&JsValue::from_str(value));
        }
        if memo.len() >= MAX_OPS_ENTRIES {
            memo.clear();
        }
        memo.insert(ops, array.clone());
        array
    })
}

#[wasm_bindgen]
impl HitShell {
    /// The plan for a request (see the module docs), or `undefined`: the full handler answers.
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
    ) -> JsValue {
        let Ok(apps) = Apps::cached(&env) else {
            return JsValue::UNDEFINED;
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
            return JsValue::UNDEFINED;
        };
        // The app's place in the configuration, for `keep` (`apps.app` is the same lookup).
        let app = apps.apps.iter().position(|c| c.appid == plan.appid);
        let config = app.map_or(&apps.default, |i| &apps.apps[i]);
        let held = if plan.memory {
            media::memory::held(&plan.key, config)
        } else {
            None
        };
        // A zone whose cache stores nothing: only the full handler's fill can answer.
        if held.is_none() && media::CACHE_IS_NOOP.with(Cell::get) {
            return JsValue::UNDEFINED;
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
        let out = Array::new_with_length(if held.is_some() { 7 } else { 5 });
        out.set(0, JsValue::from_str(&plan.key));
        out.set(1, JsValue::from(flags));
        out.set(2, JsValue::from_f64(plan.timeout_ms as f64));
        out.set(3, ops_array(plan.ops).into());
        out.set(4, JsValue::from_f64(app.unwrap_or(usize::MAX) as f64));
        if let Some((headers, blob)) = held {
            out.set(5, headers.into());
            out.set(6, blob.into());
        }
        out.into()
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
