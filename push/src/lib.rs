//! WeChat's message push, as pure functions: no IO, no clock (time is an argument).
//!
//! An official account's server configuration (服务器配置) names a URL, a Token and, for safe
//! mode, an EncodingAESKey. WeChat then
//! - checks the URL with a `GET` carrying `signature`, `timestamp`, `nonce` and `echostr`
//!   ([`verify_url`]);
//! - pushes each message a fan sends (and each event) as a `POST` of XML, signed in the query
//!   ([`open`]): in plaintext mode the XML as it is; in safe mode (`encrypt_type=aes`) an envelope
//!   whose `Encrypt` is AES-256-CBC of the message ([`crypt`]), signed by `msg_signature`; in
//!   compatible mode both;
//! - takes the answer to the `POST` as the reply to the fan (a passive reply, or `success`),
//!   sealed back into the envelope in safe mode ([`seal_reply`]).
//!
//! Everything a push can be refused for is a [`PushError`]: nothing is expanded (no entity, no
//! DOCTYPE), nothing is trusted before its signature checks, and a message's media ids are read
//! only from a verified message ([`Message::media`]).

pub mod crypt;
#[cfg(feature = "js")]
pub mod js;
pub mod message;
pub mod signature;
pub mod xml;

use std::fmt;

pub use crypt::AesKey;
pub use message::{MediaRef, MediaRole, Message};
pub use signature::{signature, verify_signature};

/// The largest push body read (WeChat's messages are a few KiB; a larger body is refused as such).
pub const MAX_PUSH_BYTES: usize = 1024 * 1024;

/// How far a push's `timestamp` may be from the clock, either way (seconds).
pub const MAX_SKEW_SECS: u64 = 300;

/// Why a push, a URL check or a reply could not be handled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PushError {
    /// A signature is missing or does not match.
    BadSignature,
    /// The timestamp is more than [`MAX_SKEW_SECS`] from the clock, or not a number.
    Stale,
    /// The body is larger than [`MAX_PUSH_BYTES`].
    TooLarge,
    /// The XML declares a DOCTYPE or refers to an entity: refused, never expanded.
    Entity,
    /// The XML is not a WeChat message (broken, too deep, no `<xml>` root, a field missing).
    Malformed(String),
    /// `Encrypt` is not valid base64, or not a whole number of AES blocks.
    BadBase64,
    /// The decrypted message's padding or length is wrong (a wrong key, or a forged envelope).
    BadPadding,
    /// The decrypted message names another app id.
    WrongAppId,
    /// The EncodingAESKey is not 43 characters of base64.
    BadKey,
    /// A safe-mode push arrived where no EncodingAESKey is configured.
    NoKey,
}

impl PushError {
    /// A stable code to branch on (the npm package's `err.code`).
    pub fn code(&self) -> &'static str {
        match self {
            PushError::BadSignature => "BAD_SIGNATURE",
            PushError::Stale => "STALE",
            PushError::TooLarge => "TOO_LARGE",
            PushError::Entity => "ENTITY",
            PushError::Malformed(_) => "MALFORMED",
            PushError::BadBase64 => "BAD_BASE64",
            PushError::BadPadding => "BAD_PADDING",
            PushError::WrongAppId => "WRONG_APPID",
            PushError::BadKey => "BAD_KEY",
            PushError::NoKey => "NO_KEY",
        }
    }

    /// Whether the push is refused as unauthenticated (403) rather than malformed (400/413).
    pub fn is_forbidden(&self) -> bool {
        matches!(self, PushError::BadSignature | PushError::Stale)
    }
}

impl fmt::Display for PushError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PushError::BadSignature => f.write_str("the signature does not match"),
            PushError::Stale => write!(
                f,
                "the timestamp is missing or more than {MAX_SKEW_SECS} s from the clock"
            ),
            PushError::TooLarge => write!(f, "the push is larger than {MAX_PUSH_BYTES} bytes"),
            PushError::Entity => f.write_str("the XML declares a DOCTYPE or uses an entity"),
            PushError::Malformed(what) => write!(f, "not a WeChat message: {what}"),
            PushError::BadBase64 => f.write_str("Encrypt is not base64 of whole AES blocks"),
            PushError::BadPadding => {
                f.write_str("the decrypted message has a wrong padding or length")
            }
            PushError::WrongAppId => f.write_str("the message is for another app id"),
            PushError::BadKey => f.write_str("the EncodingAESKey must be 43 characters of base64"),
            PushError::NoKey => f.write_str("a safe-mode push, and no EncodingAESKey is set"),
        }
    }
}

impl std::error::Error for PushError {}

/// The query of a push or URL check, as WeChat sends it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PushQuery {
    /// `signature`: of the Token, timestamp and nonce.
    pub signature: Option<String>,
    /// `timestamp` (seconds, as text).
    pub timestamp: Option<String>,
    /// `nonce`.
    pub nonce: Option<String>,
    /// `echostr`, on a URL check.
    pub echostr: Option<String>,
    /// `encrypt_type`: `aes` in safe and compatible mode.
    pub encrypt_type: Option<String>,
    /// `msg_signature`: of the Token, timestamp, nonce and `Encrypt`, in safe and compatible mode.
    pub msg_signature: Option<String>,
    /// `openid` of the fan (pushes only).
    pub openid: Option<String>,
}

impl PushQuery {
    /// The query read from `name=value` pairs (already percent-decoded).
    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        let mut query = PushQuery::default();
        for (name, value) in pairs {
            let slot = match name {
                "signature" => &mut query.signature,
                "timestamp" => &mut query.timestamp,
                "nonce" => &mut query.nonce,
                "echostr" => &mut query.echostr,
                "encrypt_type" => &mut query.encrypt_type,
                "msg_signature" => &mut query.msg_signature,
                "openid" => &mut query.openid,
                _ => continue,
            };
            if slot.is_none() {
                *slot = Some(value.to_string());
            }
        }
        query
    }
}

/// What is configured for an app's pushes.
#[derive(Clone, Copy)]
pub struct PushSettings<'a> {
    /// The Token of the server configuration.
    pub token: &'a str,
    /// The EncodingAESKey, when safe or compatible mode may be used.
    pub aes_key: Option<&'a AesKey>,
    /// The app id the decrypted messages must name.
    pub appid: &'a str,
}

impl fmt::Debug for PushSettings<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PushSettings")
            .field("token", &"[redacted]")
            .field("aes_key", &self.aes_key.map(|_| "[redacted]"))
            .field("appid", &self.appid)
            .finish()
    }
}

/// How a push arrived.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Plaintext XML.
    Plain,
    /// Only the envelope (`ToUserName`, `Encrypt`).
    Safe,
    /// The plaintext fields and the envelope.
    Compat,
}

impl Mode {
    /// `plain`, `safe` or `compat`.
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Plain => "plain",
            Mode::Safe => "safe",
            Mode::Compat => "compat",
        }
    }

    /// Whether replies go back sealed in the envelope.
    pub fn encrypted(self) -> bool {
        self != Mode::Plain
    }
}

/// A verified push: the message in plaintext XML, its fields, and how it came.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Opened {
    /// The message's XML in plaintext (decrypted in safe and compatible mode).
    pub xml: String,
    /// Its fields.
    pub message: Message,
    /// How it came.
    pub mode: Mode,
}

/// Checks the timestamp against `now_secs`.
fn check_fresh(timestamp: Option<&str>, now_secs: u64) -> Result<(), PushError> {
    let at: u64 = timestamp
        .and_then(|t| t.trim().parse().ok())
        .ok_or(PushError::Stale)?;
    if at.abs_diff(now_secs) > MAX_SKEW_SECS {
        return Err(PushError::Stale);
    }
    Ok(())
}

/// WeChat's URL check: the `echostr` to answer when `signature` matches the Token, timestamp and
/// nonce.
pub fn verify_url<'q>(query: &'q PushQuery, token: &str) -> Result<&'q str, PushError> {
    let (Some(sig), Some(ts), Some(nonce), Some(echo)) = (
        &query.signature,
        &query.timestamp,
        &query.nonce,
        &query.echostr,
    ) else {
        return Err(PushError::BadSignature);
    };
    if !verify_signature(sig, &[token, ts, nonce]) {
        return Err(PushError::BadSignature);
    }
    Ok(echo)
}

/// Verifies a push and reads its message: the signature first (nothing else is looked at in a
/// push that does not verify, beyond finding `Encrypt` to check `msg_signature` over), then the
/// timestamp, then the XML, decrypted in safe and compatible mode with the app id checked.
pub fn open(
    query: &PushQuery,
    body: &[u8],
    settings: PushSettings<'_>,
    now_secs: u64,
) -> Result<Opened, PushError> {
    if body.len() > MAX_PUSH_BYTES {
        return Err(PushError::TooLarge);
    }
    let (Some(ts), Some(nonce)) = (&query.timestamp, &query.nonce) else {
        return Err(PushError::BadSignature);
    };
    let aes = query.encrypt_type.as_deref() == Some("aes");
    if !aes {
        let sig = query.signature.as_deref().ok_or(PushError::BadSignature)?;
        if !verify_signature(sig, &[settings.token, ts, nonce]) {
            return Err(PushError::BadSignature);
        }
        check_fresh(Some(ts), now_secs)?;
        let xml = std::str::from_utf8(body)
            .map_err(|_| PushError::Malformed("the body is not UTF-8".into()))?;
        let message = Message::parse(xml)?;
        return Ok(Opened {
            xml: xml.to_string(),
            message,
            mode: Mode::Plain,
        });
    }
    let msg_sig = query
        .msg_signature
        .as_deref()
        .ok_or(PushError::BadSignature)?;
    let outer = std::str::from_utf8(body)
        .map_err(|_| PushError::Malformed("the body is not UTF-8".into()))?;
    // The envelope is parsed as safely as any message (no entity, no DOCTYPE) to find `Encrypt`;
    // nothing of it is used until `msg_signature` verifies over it.
    let envelope = Message::parse(outer)?;
    let encrypt = envelope
        .get("Encrypt")
        .ok_or_else(|| PushError::Malformed("an encrypted push without Encrypt".into()))?;
    if !verify_signature(msg_sig, &[settings.token, ts, nonce, encrypt]) {
        return Err(PushError::BadSignature);
    }
    check_fresh(Some(ts), now_secs)?;
    let key = settings.aes_key.ok_or(PushError::NoKey)?;
    let xml = crypt::decrypt(key, encrypt, settings.appid)?;
    let message = Message::parse(&xml)?;
    let compat = envelope.fields().iter().any(|(name, _)| name == "MsgType");
    Ok(Opened {
        xml,
        message,
        mode: if compat { Mode::Compat } else { Mode::Safe },
    })
}

/// A reply sealed in WeChat's envelope: `<xml><Encrypt/><MsgSignature/><TimeStamp/><Nonce/></xml>`
/// with `reply` encrypted for `appid` (`random`: the 16 bytes that lead the plaintext).
pub fn seal_reply(
    reply: &str,
    key: &AesKey,
    token: &str,
    appid: &str,
    timestamp: &str,
    nonce: &str,
    random: &[u8; 16],
) -> String {
    let encrypt = crypt::encrypt(key, random, reply, appid);
    let sig = signature(&[token, timestamp, nonce, &encrypt]);
    format!(
        "<xml><Encrypt><![CDATA[{encrypt}]]></Encrypt><MsgSignature><![CDATA[{sig}]]></MsgSignature><TimeStamp>{}</TimeStamp><Nonce><![CDATA[{}]]></Nonce></xml>",
        xml::escape_text(timestamp),
        xml::cdata_safe(nonce),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG";

    /// A push published with WeChat's crypto samples: token `spamtest`, a text message encrypted
    /// for `wx2c2769f8efd9abc2`, with its `msg_signature`.
    const SAMPLE_ENCRYPT: &str = "hyzAe4OzmOMbd6TvGdIOO6uBmdJoD0Fk53REIHvxYtJlE2B655HuD0m8KUePWB3+LrPXo87wzQ1QLvbeUgmBM4x6F8PGHQHFVAFmOD2LdJF9FrXpbUAh0B5GIItb52sn896wVsMSHGuPE328HnRGBcrS7C41IzDWyWNlZkyyXwon8T332jisa+h6tEDYsVticbSnyU8dKOIbgU6ux5VTjg3yt+WGzjlpKn6NPhRjpA912xMezR4kw6KWwMrCVKSVCZciVGCgavjIQ6X8tCOp3yZbGpy0VxpAe+77TszTfRd5RJSVO/HTnifJpXgCSUdUue1v6h0EIBYYI1BD1DlD+C0CR8e6OewpusjZ4uBl9FyJvnhvQl+q5rv1ixrcpCumEPo5MJSgM9ehVsNPfUM669WuMyVWQLCzpu9GhglF2PE=";

    fn sample_query() -> PushQuery {
        PushQuery {
            timestamp: Some("1409735669".into()),
            nonce: Some("1320562132".into()),
            encrypt_type: Some("aes".into()),
            msg_signature: Some("5d197aaffba7e9b25a30732f161a50dee96bd5fa".into()),
            ..PushQuery::default()
        }
    }

    fn sample_body() -> String {
        format!(
            "<xml><ToUserName><![CDATA[gh_10f6c3c3ac5a]]></ToUserName><FromUserName><![CDATA[oyORnuP8q7ou2gfYjqLzSIWZf0rs]]></FromUserName><CreateTime>1409735668</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[abcdteT]]></Content><MsgId>6054768590064713728</MsgId><Encrypt><![CDATA[{SAMPLE_ENCRYPT}]]></Encrypt></xml>"
        )
    }

    #[test]
    fn wechats_published_push_opens() {
        let key = AesKey::from_encoding(KEY).unwrap();
        let settings = PushSettings {
            token: "spamtest",
            aes_key: Some(&key),
            appid: "wx2c2769f8efd9abc2",
        };
        let opened = open(
            &sample_query(),
            sample_body().as_bytes(),
            settings,
            1409735669,
        )
        .unwrap();
        assert_eq!(opened.mode, Mode::Compat);
        assert!(opened.xml.starts_with("<xml>"), "{}", opened.xml);
        assert!(opened.message.msg_type().is_some());
        // The same push, another app id in the settings: refused.
        let other = PushSettings {
            appid: "wxb11529c136998cb6",
            ..settings
        };
        assert_eq!(
            open(&sample_query(), sample_body().as_bytes(), other, 1409735669),
            Err(PushError::WrongAppId)
        );
        // Five minutes and one second later: stale.
        assert_eq!(
            open(
                &sample_query(),
                sample_body().as_bytes(),
                settings,
                1409735669 + 301
            ),
            Err(PushError::Stale)
        );
        // Without a key: the push verifies but cannot be read.
        let no_key = PushSettings {
            aes_key: None,
            ..settings
        };
        assert_eq!(
            open(
                &sample_query(),
                sample_body().as_bytes(),
                no_key,
                1409735669
            ),
            Err(PushError::NoKey)
        );
    }

    fn plain_query(token: &str, ts: &str, nonce: &str) -> PushQuery {
        PushQuery {
            signature: Some(signature(&[token, ts, nonce])),
            timestamp: Some(ts.into()),
            nonce: Some(nonce.into()),
            openid: Some("o1".into()),
            ..PushQuery::default()
        }
    }

    const IMAGE: &str = "<xml><ToUserName><![CDATA[gh_1]]></ToUserName><FromUserName><![CDATA[o1]]></FromUserName><CreateTime>1700000000</CreateTime><MsgType><![CDATA[image]]></MsgType><PicUrl><![CDATA[http://mmbiz/x]]></PicUrl><MediaId><![CDATA[MEDIA_1]]></MediaId><MsgId>23456789012345678901</MsgId></xml>";

    #[test]
    fn plain_pushes_verify_by_signature() {
        let settings = PushSettings {
            token: "tok",
            aes_key: None,
            appid: "wx1",
        };
        let q = plain_query("tok", "1700000000", "n1");
        let opened = open(&q, IMAGE.as_bytes(), settings, 1700000010).unwrap();
        assert_eq!(opened.mode, Mode::Plain);
        assert_eq!(opened.message.media()[0].media_id, "MEDIA_1");
        assert_eq!(opened.message.msg_id(), Some("23456789012345678901"));
        let forged = plain_query("other", "1700000000", "n1");
        assert_eq!(
            open(&forged, IMAGE.as_bytes(), settings, 1700000010),
            Err(PushError::BadSignature)
        );
        let unsigned = PushQuery {
            signature: None,
            ..q.clone()
        };
        assert_eq!(
            open(&unsigned, IMAGE.as_bytes(), settings, 1700000010),
            Err(PushError::BadSignature)
        );
        let big = vec![b' '; MAX_PUSH_BYTES + 1];
        assert_eq!(
            open(&q, &big, settings, 1700000010),
            Err(PushError::TooLarge)
        );
        // A forged signature is refused before the body is looked at.
        let entity = b"<!DOCTYPE x [<!ENTITY a \"b\">]><xml>&a;</xml>";
        assert_eq!(
            open(&forged, entity, settings, 1700000010),
            Err(PushError::BadSignature)
        );
        assert_eq!(
            open(&q, entity, settings, 1700000010),
            Err(PushError::Entity)
        );
    }

    #[test]
    fn url_checks() {
        let mut q = plain_query("tok", "1700000000", "n1");
        q.echostr = Some("echo-123".into());
        assert_eq!(verify_url(&q, "tok"), Ok("echo-123"));
        assert_eq!(verify_url(&q, "nope"), Err(PushError::BadSignature));
        q.echostr = None;
        assert_eq!(verify_url(&q, "tok"), Err(PushError::BadSignature));
    }

    /// Seals `xml` as WeChat would push it in safe mode.
    fn safe_push(xml: &str, key: &AesKey, random: &[u8; 16]) -> (PushQuery, String) {
        let encrypt = crypt::encrypt(key, random, xml, "wxA");
        let body = format!(
            "<xml><ToUserName><![CDATA[gh_1]]></ToUserName><Encrypt><![CDATA[{encrypt}]]></Encrypt></xml>"
        );
        let query = PushQuery {
            timestamp: Some("1700000000".into()),
            nonce: Some("n2".into()),
            encrypt_type: Some("aes".into()),
            msg_signature: Some(signature(&["tok", "1700000000", "n2", &encrypt])),
            signature: Some(signature(&["tok", "1700000000", "n2"])),
            ..PushQuery::default()
        };
        (query, body)
    }

    #[test]
    fn safe_mode_round_trip_and_replies() {
        let key = AesKey::from_encoding(KEY).unwrap();
        let settings = PushSettings {
            token: "tok",
            aes_key: Some(&key),
            appid: "wxA",
        };
        let (query, body) = safe_push(IMAGE, &key, &[9; 16]);
        let opened = open(&query, body.as_bytes(), settings, 1700000000).unwrap();
        assert_eq!(opened.mode, Mode::Safe);
        assert_eq!(opened.xml, IMAGE);
        let reply =
            "<xml><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[hi]]></Content></xml>";
        let sealed = seal_reply(reply, &key, "tok", "wxA", "1700000001", "n3", &[1; 16]);
        let envelope = Message::parse(&sealed).unwrap();
        let encrypt = envelope.get("Encrypt").unwrap();
        assert!(verify_signature(
            envelope.get("MsgSignature").unwrap(),
            &["tok", "1700000001", "n3", encrypt]
        ));
        assert_eq!(envelope.get("TimeStamp"), Some("1700000001"));
        assert_eq!(crypt::decrypt(&key, encrypt, "wxA").unwrap(), reply);
    }

    #[test]
    fn any_flipped_byte_of_a_push_is_refused() {
        let key = AesKey::from_encoding(KEY).unwrap();
        let settings = PushSettings {
            token: "tok",
            aes_key: Some(&key),
            appid: "wxA",
        };
        let (query, body) = safe_push(IMAGE, &key, &[3; 16]);
        let start = body.find("<![CDATA[").unwrap() + 9;
        let encrypt_at = body[start..].find("<![CDATA[").unwrap() + start + 9;
        let encrypt_len = body[encrypt_at..].find("]]>").unwrap();
        for i in encrypt_at..encrypt_at + encrypt_len {
            let mut bytes = body.clone().into_bytes();
            // Another base64 character (or a broken one): the signature no longer matches.
            bytes[i] = if bytes[i] == b'A' { b'B' } else { b'A' };
            assert!(
                open(&query, &bytes, settings, 1700000000).is_err(),
                "byte {i} flipped and accepted"
            );
        }
    }
}
