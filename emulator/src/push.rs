//! Message push, as WeChat does it: `POST /_emulator/push` makes a fan's message (and its media,
//! stored under the app as if the fan had sent it, expiring in 3 days), signs it or seals it in
//! safe mode's envelope, POSTs it to the callback URL with WeChat's 5-second timeout and three
//! tries, and answers what happened: each try's status, time and reply, the reply opened and its
//! signature checked.
//!
//! Written apart from the client's code (the emulator shares none with what it tests): SHA-1
//! signatures over the sorted parts, AES-256-CBC with the IV the key's first 16 bytes, PKCS#7 to
//! 32-byte blocks, the plaintext `random(16) ‖ length(4) ‖ message ‖ appid`.

use std::time::{Duration, Instant};

use aes::cipher::{block_padding::NoPadding, BlockDecryptMut, BlockEncryptMut, KeyIvInit};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use bytes::Bytes;
use serde_json::{json, Value};
use sha1::{Digest, Sha1};

use crate::app::App;
use crate::http::{Body, Request, Response};
use crate::media::{Format, MediaKind};
use crate::store::Media;

/// How long WeChat waits for an answer to a push.
const TRY_TIMEOUT_MS: u64 = 5_000;
/// How many times WeChat sends a push it got no answer for.
const TRIES: u64 = 3;
/// The largest media a push request may carry (fans' videos are larger than uploads may be).
const MAX_FAN_MEDIA: usize = 64 * 1024 * 1024;

fn error(status: u16, message: impl Into<String>) -> Response {
    Response::new(status, json!({ "error": message.into() }).to_string())
        .header("Content-Type", "application/json")
}

/// WeChat's signature: SHA-1 of the parts sorted and joined, in lowercase hex.
pub(crate) fn signature(parts: &[&str]) -> String {
    let mut parts = parts.to_vec();
    parts.sort_unstable();
    let digest = Sha1::digest(parts.concat().as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

fn aes_key(encoding: &str) -> Option<[u8; 32]> {
    let engine = base64::engine::GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        base64::engine::GeneralPurposeConfig::new()
            .with_decode_allow_trailing_bits(true)
            .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent),
    );
    engine.decode(encoding).ok()?.try_into().ok()
}

/// The envelope's `Encrypt` of `message` for `appid`.
pub(crate) fn encrypt(key: &[u8; 32], message: &str, appid: &str) -> String {
    let mut plain: Vec<u8> = (0..16).map(|_| fastrand::alphanumeric() as u8).collect();
    plain.extend_from_slice(&(message.len() as u32).to_be_bytes());
    plain.extend_from_slice(message.as_bytes());
    plain.extend_from_slice(appid.as_bytes());
    let pad = 32 - plain.len() % 32;
    plain.extend(std::iter::repeat_n(pad as u8, pad));
    let len = plain.len();
    let iv: [u8; 16] = key[..16].try_into().unwrap_or([0; 16]);
    let out = cbc::Encryptor::<aes::Aes256>::new(key.into(), &iv.into())
        .encrypt_padded_mut::<NoPadding>(&mut plain, len)
        .map(<[u8]>::to_vec)
        .unwrap_or_default();
    STANDARD.encode(out)
}

/// The message inside an `Encrypt`, and the app id it names.
pub(crate) fn decrypt(key: &[u8; 32], encrypt: &str) -> Option<(String, String)> {
    let mut bytes = STANDARD.decode(encrypt.trim()).ok()?;
    if bytes.is_empty() || bytes.len() % 16 != 0 {
        return None;
    }
    let iv: [u8; 16] = key[..16].try_into().ok()?;
    let plain = cbc::Decryptor::<aes::Aes256>::new(key.into(), &iv.into())
        .decrypt_padded_mut::<NoPadding>(&mut bytes)
        .ok()?;
    let pad = usize::from(*plain.last()?);
    if pad == 0 || pad > 32 || pad > plain.len() {
        return None;
    }
    let content = &plain[..plain.len() - pad];
    let len = u32::from_be_bytes(content.get(16..20)?.try_into().ok()?) as usize;
    let message = content.get(20..20 + len)?;
    let appid = content.get(20 + len..)?;
    Some((
        String::from_utf8(message.to_vec()).ok()?,
        String::from_utf8(appid.to_vec()).ok()?,
    ))
}

/// The text of element `name` in a flat WeChat XML (its CDATA or plain text).
fn field(xml: &str, name: &str) -> Option<String> {
    let open = format!("<{name}>");
    let close = format!("</{name}>");
    let start = xml.find(&open)? + open.len();
    let end = start + xml[start..].find(&close)?;
    let inner = &xml[start..end];
    Some(
        inner
            .strip_prefix("<![CDATA[")
            .and_then(|s| s.strip_suffix("]]>"))
            .unwrap_or(inner)
            .to_string(),
    )
}

fn cdata(name: &str, value: &str) -> String {
    format!("<{name}><![CDATA[{value}]]></{name}>")
}

/// Stores `bytes` as a fan's media of `kind` for app `app`: its format sniffed (not checked
/// against upload limits: what fans send is not an upload).
fn store_fan_media(
    app: &App,
    index: usize,
    kind: MediaKind,
    bytes: Vec<u8>,
) -> Result<String, Response> {
    if bytes.len() > MAX_FAN_MEDIA {
        return Err(error(
            413,
            format!("media larger than {MAX_FAN_MEDIA} bytes"),
        ));
    }
    let format = kind
        .formats()
        .iter()
        .copied()
        .find(|f| f.matches(&bytes))
        .ok_or_else(|| error(400, format!("the bytes are not a {} format", kind.as_str())))?;
    let mut state = app.state();
    let now = state.now();
    let media = Media {
        kind,
        format,
        app: index,
        bytes: Bytes::from(bytes),
        created_at: now,
    };
    state
        .media
        .insert(media, now)
        .map_err(|full| error(507, format!("media store full (cap {} bytes)", full.cap)))
}

fn bytes_of(body: &Value, key: &str) -> Result<Option<Vec<u8>>, Response> {
    match body.get(key).and_then(Value::as_str) {
        None => Ok(None),
        Some(b64) => STANDARD
            .decode(b64)
            .map(Some)
            .map_err(|_| error(400, format!("\"{key}\" is not base64"))),
    }
}

/// `POST /_emulator/push`.
pub(crate) async fn handle(app: &App, req: &Request) -> Response {
    let body: Value = match &req.body {
        Body::TooLarge => return error(413, "body too large"),
        Body::Full(b) => match serde_json::from_slice(b) {
            Ok(v) => v,
            Err(e) => return error(400, format!("invalid JSON body: {e}")),
        },
    };
    match push(app, &body).await {
        Ok(v) => Response::new(200, v.to_string()).header("Content-Type", "application/json"),
        Err(resp) => resp,
    }
}

async fn push(app: &App, body: &Value) -> Result<Value, Response> {
    let url = body
        .get("url")
        .and_then(Value::as_str)
        .filter(|u| u.starts_with("http://") || u.starts_with("https://"))
        .ok_or_else(|| error(400, "\"url\": the callback URL (http or https) is required"))?
        .to_string();
    let appid = body
        .get("appid")
        .and_then(Value::as_str)
        .unwrap_or(&app.config.appid)
        .to_string();
    let index = app
        .account(&appid)
        .ok_or_else(|| error(404, format!("no app {appid} is served")))?;
    let account = &app.accounts[index];
    let token = account
        .callback_token
        .clone()
        .unwrap_or_else(|| app.config.callback_token.clone());
    let key_text = account
        .aes_key
        .clone()
        .unwrap_or_else(|| app.config.aes_key.clone());
    let key = aes_key(&key_text).ok_or_else(|| error(500, "the EncodingAESKey is not base64"))?;
    let mode = body.get("mode").and_then(Value::as_str).unwrap_or("plain");
    if !matches!(mode, "plain" | "safe" | "compat") {
        return Err(error(400, "\"mode\" is plain, safe or compat"));
    }
    let msg_type = body
        .get("msgType")
        .and_then(Value::as_str)
        .unwrap_or("image")
        .to_string();
    let now = app.state().now();
    let from = body
        .get("fromUser")
        .and_then(Value::as_str)
        .unwrap_or("oFanEmulator0000000000000001")
        .to_string();
    let msg_id = body
        .get("msgId")
        .and_then(Value::as_str)
        .map(str::to_string)
        .unwrap_or_else(|| {
            format!(
                "{}",
                24_000_000_000_000_000_000u128 + u128::from(fastrand::u64(..))
            )
        });
    let create_time = body
        .get("createTime")
        .and_then(Value::as_u64)
        .unwrap_or(now);

    // The fan's media, stored as if the fan had sent it.
    let mut ids = json!({});
    let raw_xml = body.get("xml").and_then(Value::as_str);
    let media_kind = match msg_type.as_str() {
        _ if raw_xml.is_some() => None,
        "image" => Some(MediaKind::Image),
        "voice" => Some(MediaKind::Voice),
        "video" | "shortvideo" => Some(MediaKind::Video),
        _ => None,
    };
    let mut fields = vec![
        cdata("ToUserName", "gh_emulator000001"),
        cdata("FromUserName", &from),
        format!("<CreateTime>{create_time}</CreateTime>"),
        cdata("MsgType", &msg_type),
    ];
    if let Some(kind) = media_kind {
        let media_id = match (
            body.get("mediaId").and_then(Value::as_str),
            bytes_of(body, "media")?,
        ) {
            (Some(id), _) => id.to_string(),
            (None, Some(bytes)) => store_fan_media(app, index, kind, bytes)?,
            (None, None) => {
                return Err(error(
                    400,
                    "a media message needs \"media\" (base64) or \"mediaId\"",
                ))
            }
        };
        ids["mediaId"] = json!(media_id);
        match kind {
            MediaKind::Image => {
                fields.push(cdata(
                    "PicUrl",
                    &format!("http://mmbiz.qpic.cn/mmbiz_jpg/{media_id}/0"),
                ));
                fields.push(cdata("MediaId", &media_id));
            }
            MediaKind::Voice => {
                fields.push(cdata("MediaId", &media_id));
                let format = app.state().media.get(&media_id, now).map_or("amr", |m| {
                    if m.format == Format::Amr {
                        "amr"
                    } else {
                        "speex"
                    }
                });
                fields.push(cdata("Format", format));
                if let Some(bytes) = bytes_of(body, "media16k")? {
                    let id16 = store_fan_media(app, index, MediaKind::Voice, bytes)?;
                    fields.push(cdata("MediaId16K", &id16));
                    ids["mediaId16K"] = json!(id16);
                }
            }
            _ => {
                fields.push(cdata("MediaId", &media_id));
                if let Some(bytes) = bytes_of(body, "thumb")? {
                    let thumb = store_fan_media(app, index, MediaKind::Thumb, bytes)?;
                    fields.push(cdata("ThumbMediaId", &thumb));
                    ids["thumbMediaId"] = json!(thumb);
                }
            }
        }
        fields.push(format!("<MsgId>{msg_id}</MsgId>"));
    } else if msg_type == "event" {
        let event = body
            .get("event")
            .and_then(Value::as_str)
            .unwrap_or("subscribe");
        fields.push(cdata("Event", event));
    } else {
        let content = body
            .get("content")
            .and_then(Value::as_str)
            .unwrap_or("hello");
        fields.push(cdata("Content", content));
        fields.push(format!("<MsgId>{msg_id}</MsgId>"));
    }
    let xml = match raw_xml {
        Some(raw) => raw.to_string(),
        None => format!("<xml>{}</xml>", fields.concat()),
    };

    // Signed (and sealed) as WeChat sends it.
    let timestamp = body
        .get("timestamp")
        .and_then(Value::as_u64)
        .unwrap_or(now)
        .to_string();
    let nonce = format!("{}", fastrand::u32(100_000_000..1_000_000_000));
    let sign_token = if body.get("forge").and_then(Value::as_bool) == Some(true) {
        "not-the-token".to_string()
    } else {
        token.clone()
    };
    let mut query = vec![
        ("signature", signature(&[&sign_token, &timestamp, &nonce])),
        ("timestamp", timestamp.clone()),
        ("nonce", nonce.clone()),
        ("openid", from.clone()),
    ];
    let post_body = if mode == "plain" {
        xml.clone()
    } else {
        let encrypt = encrypt(&key, &xml, &appid);
        query.push(("encrypt_type", "aes".to_string()));
        query.push((
            "msg_signature",
            signature(&[&sign_token, &timestamp, &nonce, &encrypt]),
        ));
        let inner = if mode == "compat" {
            xml.trim_start_matches("<xml>")
                .trim_end_matches("</xml>")
                .to_string()
        } else {
            cdata("ToUserName", "gh_emulator000001")
        };
        format!("<xml>{inner}{}</xml>", cdata("Encrypt", &encrypt))
    };
    let query: String = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(query.iter().map(|(k, v)| (*k, v.as_str())))
        .finish();
    let target = format!("{url}{}{query}", if url.contains('?') { '&' } else { '?' });
    let tries_allowed = body
        .get("tries")
        .and_then(Value::as_u64)
        .unwrap_or(TRIES)
        .clamp(1, 10);
    let timeout_ms = body
        .get("timeoutMs")
        .and_then(Value::as_u64)
        .unwrap_or(TRY_TIMEOUT_MS)
        .clamp(100, 60_000);

    let mut tries = Vec::new();
    let mut final_reply: Option<String> = None;
    for _ in 0..tries_allowed {
        let target = target.clone();
        let post_body = post_body.clone();
        let started = Instant::now();
        let outcome = tokio::task::spawn_blocking(move || send(&target, post_body, timeout_ms))
            .await
            .unwrap_or_else(|e| Err(format!("the try panicked: {e}")));
        let ms = started.elapsed().as_millis() as u64;
        match outcome {
            Ok((status, reply)) => {
                tries.push(json!({ "status": status, "ms": ms, "reply": reply }));
                final_reply = Some(reply);
                // WeChat sends again only what it got no answer for.
                break;
            }
            Err(reason) => tries.push(json!({ "error": reason, "ms": ms })),
        }
    }
    let mut out = json!({
        "appid": appid,
        "mode": mode,
        "msgId": if media_kind.is_some() || msg_type != "event" { json!(msg_id) } else { Value::Null },
        "xml": xml,
        "tries": tries,
        "answered": final_reply.is_some(),
    });
    for (k, v) in ids.as_object().into_iter().flatten() {
        out[k] = v.clone();
    }
    if let Some(reply) = final_reply {
        let (opened, signature_ok) = open_reply(&reply, &token, &key, &appid);
        out["reply"] = json!(opened);
        out["replySignatureOk"] = json!(signature_ok);
    }
    Ok(out)
}

/// A reply as WeChat reads it: in its envelope (opened, its signature checked) or plain.
fn open_reply(reply: &str, token: &str, key: &[u8; 32], appid: &str) -> (String, Option<bool>) {
    let Some(encrypt) = field(reply, "Encrypt") else {
        return (reply.to_string(), None);
    };
    let sig = field(reply, "MsgSignature").unwrap_or_default();
    let ts = field(reply, "TimeStamp").unwrap_or_default();
    let nonce = field(reply, "Nonce").unwrap_or_default();
    let ok = signature(&[token, &ts, &nonce, &encrypt]) == sig;
    match decrypt(key, &encrypt) {
        Some((message, for_app)) if for_app == appid => (message, Some(ok)),
        _ => (String::new(), Some(false)),
    }
}

/// One try: `POST` within `timeout_ms`. `Err` when no answer came (WeChat then tries again).
fn send(url: &str, body: String, timeout_ms: u64) -> Result<(u16, String), String> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .timeout_global(Some(Duration::from_millis(timeout_ms)))
        .build()
        .into();
    let mut response = agent
        .post(url)
        .header("Content-Type", "text/xml")
        .header("User-Agent", "Mozilla/4.0")
        .send(body)
        .map_err(|e| e.to_string())?;
    let status = response.status().as_u16();
    let reply = response
        .body_mut()
        .with_config()
        .limit(1024 * 1024)
        .read_to_string()
        .map_err(|e| e.to_string())?;
    Ok((status, reply))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wechats_published_vector_opens() {
        let key = aes_key("abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG").unwrap();
        let sealed =
            "jn1L23DB+6ELqJ+6bruv21Y6MD7KeIfP82D6gU39rmkgczbWwt5+3bnyg5K55bgVtVzd832WzZGMhkP72vVOfg==";
        let (message, appid) = decrypt(&key, sealed).unwrap();
        assert_eq!(message, "我是中文abcd123");
        assert_eq!(appid, "wxb11529c136998cb6");
        let mine = encrypt(&key, "<xml/>", "wxA");
        assert_eq!(
            decrypt(&key, &mine).unwrap(),
            ("<xml/>".into(), "wxA".into())
        );
    }
}
