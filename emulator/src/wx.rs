//! WeChat's error vocabulary: errcodes, their messages, and the `hint`/`rid` suffixes the real
//! service appends.

use bytes::Bytes;
use serde_json::Value;

use crate::http::Response;

/// The JSON content type WeChat labels its answers with (non-standard parameter included).
pub(crate) const JSON_TYPE: &str = "application/json; encoding=utf-8";

/// The pointer the real service appends to 40001.
const STABLE_POINTER: &str =
    ", could get access_token by getStableAccessToken, more details at https://mmbizurl.cn/s/JtxxFh33r";

/// The message for an errcode (upstream-api.md §5). Unknown codes get a generic one.
pub(crate) fn errmsg(code: i64) -> &'static str {
    match code {
        -1 => "system error",
        0 => "ok",
        40001 => "invalid credential, access_token is invalid or not latest",
        40002 => "invalid grant_type",
        40004 => "invalid media type",
        40005 => "invalid file type",
        40006 => "invalid meida size",
        40007 => "invalid media_id",
        40013 => "invalid appid",
        40014 => "invalid access_token",
        40125 => "invalid appsecret",
        40164 => "invalid ip, not in whitelist",
        41001 => "access_token missing",
        41002 => "appid missing",
        41004 => "appsecret missing",
        41005 => "media data missing",
        41006 => "media_id missing",
        42001 => "access_token expired",
        43002 => "require POST method",
        45009 => "reach max api daily quota limit",
        45011 => "api minute-quota reach limit, must slower, retry next minute",
        46001 => "media data no exist",
        47001 => "data format error",
        48001 => "api unauthorized",
        _ => "emulated error",
    }
}

/// A random ` hint: [...] rid: ...` suffix in the real service's shapes.
pub(crate) fn suffix() -> String {
    const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let letters: String = (0..6)
        .map(|_| char::from(ALNUM[fastrand::usize(..ALNUM.len())]))
        .collect();
    let digits: String = (0..8)
        .map(|_| char::from(b'0' + fastrand::u8(..10)))
        .collect();
    format!(
        " hint: [{letters}{digits}] rid: {:08x}-{:08x}-{:08x}",
        fastrand::u32(..),
        fastrand::u32(..),
        fastrand::u32(..)
    )
}

/// The full errmsg for `code`, with suffixes. `detail` replaces the base message when given
/// (used for 40164, which names the caller's IP).
pub(crate) fn full_errmsg(code: i64, detail: Option<&str>) -> String {
    let base = detail.unwrap_or_else(|| errmsg(code));
    let pointer = if code == 40001 { STABLE_POINTER } else { "" };
    format!("{base}{pointer}{}", suffix())
}

/// The JSON body `{"errcode":N,"errmsg":"..."}`.
pub(crate) fn error_body(code: i64, detail: Option<&str>) -> String {
    let mut out = String::from("{\"errcode\":");
    out.push_str(&code.to_string());
    out.push_str(",\"errmsg\":");
    out.push_str(&Value::String(full_errmsg(code, detail)).to_string());
    out.push('}');
    out
}

/// Serializes ordered key/value pairs as a JSON object (serde_json's map would sort the keys).
pub(crate) fn ordered_json(pairs: &[(&str, Value)]) -> String {
    let mut out = String::from("{");
    for (i, (k, v)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&Value::String((*k).to_owned()).to_string());
        out.push(':');
        out.push_str(&v.to_string());
    }
    out.push('}');
    out
}

/// An HTTP 200 JSON response labelled the way WeChat labels it.
pub(crate) fn json_response(body: String) -> Response {
    Response::new(200, Bytes::from(body)).header("Content-Type", JSON_TYPE)
}
