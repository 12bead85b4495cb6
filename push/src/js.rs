//! The npm package's push functions (feature `js`): `verifySignature`, `openMessage` and
//! `sealReply` over this crate's pure code, for pushes handled in Node, Deno, Bun, a JS Worker
//! or a browser. A push that cannot be handled throws an `Error` named `PushError` with the
//! [`PushError::code`] to branch on.

use js_sys::{Array, Object, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;

use crate::{open, seal_reply, verify_signature, AesKey, PushError, PushQuery, PushSettings};

fn push_error(err: &PushError) -> JsValue {
    let e = js_sys::Error::new(&err.to_string());
    e.set_name("PushError");
    let _ = Reflect::set(&e, &"code".into(), &err.code().into());
    e.into()
}

fn type_error(message: &str) -> JsValue {
    js_sys::TypeError::new(message).into()
}

fn get(obj: &JsValue, key: &str) -> Option<JsValue> {
    Reflect::get(obj, &key.into())
        .ok()
        .filter(|v| !v.is_undefined() && !v.is_null())
}

fn string(obj: &JsValue, key: &str) -> Result<Option<String>, JsValue> {
    match get(obj, key) {
        None => Ok(None),
        Some(v) => v
            .as_string()
            .map(Some)
            .ok_or_else(|| type_error(&format!("option {key} must be a string"))),
    }
}

fn required(obj: &JsValue, key: &str) -> Result<String, JsValue> {
    string(obj, key)?.ok_or_else(|| type_error(&format!("option {key} is required")))
}

fn key_of(obj: &JsValue) -> Result<Option<AesKey>, JsValue> {
    string(obj, "aesKey")?
        .map(|k| AesKey::from_encoding(&k).map_err(|e| push_error(&e)))
        .transpose()
}

/// Whether `signature` is WeChat's signature of the Token, timestamp and nonce (and, for
/// `msg_signature`, the `Encrypt` value), compared in constant time.
#[wasm_bindgen(js_name = verifySignature)]
pub fn verify_signature_js(
    signature: &str,
    token: &str,
    timestamp: &str,
    nonce: &str,
    encrypt: Option<String>,
) -> bool {
    match encrypt {
        Some(e) => verify_signature(signature, &[token, timestamp, nonce, &e]),
        None => verify_signature(signature, &[token, timestamp, nonce]),
    }
}

/// Verifies and reads a push: `{query, body, token, aesKey?, appId, now?}` (query: the URL's
/// query as an object or `URLSearchParams`; body: the POST body as a string or bytes; now: the
/// clock in seconds). Returns `{xml, mode, fields, msgType, msgId, fromUser, createTime, media,
/// dedupeKey}`.
#[wasm_bindgen(js_name = openMessage)]
pub fn open_message(options: JsValue) -> Result<JsValue, JsValue> {
    if !options.is_object() {
        return Err(type_error("openMessage options must be an object"));
    }
    let query = get(&options, "query").ok_or_else(|| type_error("option query is required"))?;
    let pairs = query_pairs(&query)?;
    let query = PushQuery::from_pairs(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    let body = get(&options, "body").ok_or_else(|| type_error("option body is required"))?;
    let body: Vec<u8> = match body.as_string() {
        Some(text) => text.into_bytes(),
        None if body.is_instance_of::<Uint8Array>() => Uint8Array::new(&body).to_vec(),
        None => return Err(type_error("option body must be a string or a Uint8Array")),
    };
    let token = required(&options, "token")?;
    let appid = required(&options, "appId")?;
    let key = key_of(&options)?;
    let now = match get(&options, "now") {
        None => (js_sys::Date::now() / 1000.0) as u64,
        Some(v) => match v.as_f64() {
            Some(n) if n.is_finite() && n >= 0.0 => n as u64,
            _ => return Err(type_error("option now must be a number of seconds")),
        },
    };
    let settings = PushSettings {
        token: &token,
        aes_key: key.as_ref(),
        appid: &appid,
    };
    let opened = open(&query, &body, settings, now).map_err(|e| push_error(&e))?;
    let out = Object::new();
    let set = |k: &str, v: JsValue| Reflect::set(&out, &k.into(), &v).map(|_| ());
    let fields = Object::new();
    for (name, value) in opened.message.fields() {
        if !Reflect::has(&fields, &name.into())? {
            Reflect::set(&fields, &name.into(), &value.into())?;
        }
    }
    let media = Array::new();
    for m in opened.message.media() {
        let item = Object::new();
        Reflect::set(&item, &"mediaId".into(), &m.media_id.into())?;
        Reflect::set(&item, &"role".into(), &m.role.as_str().into())?;
        media.push(&item);
    }
    let opt = |v: Option<&str>| v.map_or(JsValue::NULL, JsValue::from);
    set("xml", opened.xml.clone().into())?;
    set("mode", opened.mode.as_str().into())?;
    set("fields", fields.into())?;
    set("msgType", opt(opened.message.msg_type()))?;
    set("msgId", opt(opened.message.msg_id()))?;
    set("fromUser", opt(opened.message.from_user()))?;
    set(
        "createTime",
        opened
            .message
            .create_time()
            .map_or(JsValue::NULL, |t| JsValue::from(t as f64)),
    )?;
    set("media", media.into())?;
    set("dedupeKey", opened.message.dedupe_key().into())?;
    Ok(out.into())
}

/// The query as name/value pairs: an object of strings, or anything iterable as `[name, value]`
/// pairs (`URLSearchParams`).
fn query_pairs(query: &JsValue) -> Result<Vec<(String, String)>, JsValue> {
    let mut out = Vec::new();
    if let Some(iter) = js_sys::try_iter(query)? {
        for entry in iter {
            let entry: Array = entry?.into();
            if let (Some(k), Some(v)) = (entry.get(0).as_string(), entry.get(1).as_string()) {
                out.push((k, v));
            }
        }
        return Ok(out);
    }
    if !query.is_object() {
        return Err(type_error(
            "option query must be an object or URLSearchParams",
        ));
    }
    for entry in Object::entries(&Object::from(query.clone())).iter() {
        let entry: Array = entry.into();
        if let (Some(k), Some(v)) = (entry.get(0).as_string(), entry.get(1).as_string()) {
            out.push((k, v));
        }
    }
    Ok(out)
}

/// A reply sealed in WeChat's envelope for safe mode: `sealReply(xml, {token, aesKey, appId,
/// timestamp?, nonce?})`. The 16 random bytes that lead the plaintext come from
/// `crypto.getRandomValues`.
#[wasm_bindgen(js_name = sealReply)]
pub fn seal_reply_js(xml: &str, options: JsValue) -> Result<String, JsValue> {
    if !options.is_object() {
        return Err(type_error("sealReply options must be an object"));
    }
    let token = required(&options, "token")?;
    let appid = required(&options, "appId")?;
    let key = key_of(&options)?.ok_or_else(|| type_error("option aesKey is required"))?;
    let timestamp = match string(&options, "timestamp")? {
        Some(t) => t,
        None => ((js_sys::Date::now() / 1000.0) as u64).to_string(),
    };
    let random = random16()?;
    let nonce = match string(&options, "nonce")? {
        Some(n) => n,
        None => random.iter().map(|b| char::from(b'a' + b % 26)).collect(),
    };
    Ok(seal_reply(
        xml, &key, &token, &appid, &timestamp, &nonce, &random,
    ))
}

fn random16() -> Result<[u8; 16], JsValue> {
    let bytes = Uint8Array::new_with_length(16);
    let crypto = Reflect::get(&js_sys::global(), &"crypto".into())?;
    let get: js_sys::Function = Reflect::get(&crypto, &"getRandomValues".into())?.dyn_into()?;
    get.call1(&crypto, &bytes)?;
    let mut out = [0u8; 16];
    bytes.copy_to(&mut out);
    Ok(out)
}
