//! Safe mode's envelope: AES-256-CBC with the 32-byte key decoded from the EncodingAESKey, the IV
//! its first 16 bytes, over `random(16) ‖ length(4, big-endian) ‖ message ‖ appid`, padded
//! PKCS#7-style to a multiple of 32 bytes (not AES's 16: why WebCrypto's AES-CBC refuses it), then
//! base64.

use aes::cipher::{block_padding::NoPadding, BlockDecryptMut, BlockEncryptMut, KeyIvInit};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;

use crate::PushError;

type Encryptor = cbc::Encryptor<aes::Aes256>;
type Decryptor = cbc::Decryptor<aes::Aes256>;

/// WeChat pads to this block size.
const PAD_BLOCK: usize = 32;

/// The AES key of an EncodingAESKey.
#[derive(Clone, PartialEq, Eq)]
pub struct AesKey([u8; 32]);

impl std::fmt::Debug for AesKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AesKey([redacted])")
    }
}

impl AesKey {
    /// The key of a 43-character EncodingAESKey (base64 of 32 bytes, its `=` left off).
    pub fn from_encoding(encoding: &str) -> Result<AesKey, PushError> {
        let encoding = encoding.trim();
        if encoding.len() != 43
            || !encoding
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/')
        {
            return Err(PushError::BadKey);
        }
        // The last character carries 2 bits of padding: decoded leniently like WeChat's own SDKs.
        let bytes = base64::engine::GeneralPurpose::new(
            &base64::alphabet::STANDARD,
            base64::engine::GeneralPurposeConfig::new()
                .with_decode_allow_trailing_bits(true)
                .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent),
        )
        .decode(encoding)
        .map_err(|_| PushError::BadKey)?;
        let key: [u8; 32] = bytes.try_into().map_err(|_| PushError::BadKey)?;
        Ok(AesKey(key))
    }

    fn iv(&self) -> [u8; 16] {
        let mut iv = [0; 16];
        iv.copy_from_slice(&self.0[..16]);
        iv
    }
}

/// `message` for `appid`, encrypted and base64-encoded (`random`: the 16 bytes that lead the
/// plaintext; fresh ones for each reply).
pub fn encrypt(key: &AesKey, random: &[u8; 16], message: &str, appid: &str) -> String {
    let mut plain = Vec::with_capacity(20 + message.len() + appid.len() + PAD_BLOCK);
    plain.extend_from_slice(random);
    plain.extend_from_slice(&(message.len() as u32).to_be_bytes());
    plain.extend_from_slice(message.as_bytes());
    plain.extend_from_slice(appid.as_bytes());
    let pad = PAD_BLOCK - plain.len() % PAD_BLOCK;
    plain.resize(plain.len() + pad, pad as u8);
    let len = plain.len();
    let cipher = Encryptor::new(&key.0.into(), &key.iv().into());
    let out = cipher
        .encrypt_padded_mut::<NoPadding>(&mut plain, len)
        .map(<[u8]>::to_vec)
        .unwrap_or_default();
    STANDARD.encode(out)
}

/// The message inside `encrypt`, which must name `appid`.
pub fn decrypt(key: &AesKey, encrypt: &str, appid: &str) -> Result<String, PushError> {
    let mut bytes = STANDARD
        .decode(encrypt.trim())
        .map_err(|_| PushError::BadBase64)?;
    if bytes.is_empty() || bytes.len() % 16 != 0 {
        return Err(PushError::BadBase64);
    }
    let cipher = Decryptor::new(&key.0.into(), &key.iv().into());
    let plain = cipher
        .decrypt_padded_mut::<NoPadding>(&mut bytes)
        .map_err(|_| PushError::BadPadding)?;
    let pad = usize::from(*plain.last().ok_or(PushError::BadPadding)?);
    if pad == 0 || pad > PAD_BLOCK || pad > plain.len() || plain.len() % 16 != 0 {
        return Err(PushError::BadPadding);
    }
    if !plain[plain.len() - pad..]
        .iter()
        .all(|&b| usize::from(b) == pad)
    {
        return Err(PushError::BadPadding);
    }
    let content = &plain[..plain.len() - pad];
    if content.len() < 20 {
        return Err(PushError::BadPadding);
    }
    let len = u32::from_be_bytes([content[16], content[17], content[18], content[19]]) as usize;
    let rest = &content[20..];
    if len > rest.len() {
        return Err(PushError::BadPadding);
    }
    let (message, from_appid) = rest.split_at(len);
    if from_appid != appid.as_bytes() {
        return Err(PushError::WrongAppId);
    }
    String::from_utf8(message.to_vec())
        .map_err(|_| PushError::Malformed("the message is not UTF-8".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    // WeChat's published vectors (the official samples' WXBizMsgCryptTest).
    const KEY: &str = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG";
    const APPID: &str = "wxb11529c136998cb6";
    const RANDOM: &[u8; 16] = b"aaaabbbbccccdddd";
    const REPLY: &str = "我是中文abcd123";
    const SEALED: &str =
        "jn1L23DB+6ELqJ+6bruv21Y6MD7KeIfP82D6gU39rmkgczbWwt5+3bnyg5K55bgVtVzd832WzZGMhkP72vVOfg==";
    const REPLY2: &str = "<xml><ToUserName><![CDATA[oia2Tj我是中文jewbmiOUlr6X-1crbLOvLw]]></ToUserName><FromUserName><![CDATA[gh_7f083739789a]]></FromUserName><CreateTime>1407743423</CreateTime><MsgType><![CDATA[video]]></MsgType><Video><MediaId><![CDATA[eYJ1MbwPRJtOvIEabaxHs7TX2D-HV71s79GUxqdUkjm6Gs2Ed1KF3ulAOA9H1xG0]]></MediaId><Title><![CDATA[testCallBackReplyVideo]]></Title><Description><![CDATA[testCallBackReplyVideo]]></Description></Video></xml>";
    const SEALED2: &str = "jn1L23DB+6ELqJ+6bruv23M2GmYfkv0xBh2h+XTBOKVKcgDFHle6gqcZ1cZrk3e1qjPQ1F4RsLWzQRG9udbKWesxlkupqcEcW7ZQweImX9+wLMa0GaUzpkycA8+IamDBxn5loLgZpnS7fVAbExOkK5DYHBmv5tptA9tklE/fTIILHR8HLXa5nQvFb3tYPKAlHF3rtTeayNf0QuM+UW/wM9enGIDIJHF7CLHiDNAYxr+r+OrJCmPQyTy8cVWlu9iSvOHPT/77bZqJucQHQ04sq7KZI27OcqpQNSto2OdHCoTccjggX5Z9Mma0nMJBU+jLKJ38YB1fBIz+vBzsYjrTmFQ44YfeEuZ+xRTQwr92vhA9OxchWVINGC50qE/6lmkwWTwGX9wtQpsJKhP+oS7rvTY8+VdzETdfakjkwQ5/Xka042OlUb1/slTwo4RscuQ+RdxSGvDahxAJ6+EAjLt9d8igHngxIbf6YyqqROxuxqIeIch3CssH/LqRs+iAcILvApYZckqmA7FNERspKA5f8GoJ9sv8xmGvZ9Yrf57cExWtnX8aCMMaBropU/1k+hKP5LVdzbWCG0hGwx/dQudYR/eXp3P0XxjlFiy+9DMlaFExWUZQDajPkdPrEeOwofJb";

    fn key() -> AesKey {
        AesKey::from_encoding(KEY).unwrap()
    }

    #[test]
    fn ours_equals_wechats_and_theirs_opens() {
        assert_eq!(encrypt(&key(), RANDOM, REPLY, APPID), SEALED);
        assert_eq!(decrypt(&key(), SEALED, APPID).unwrap(), REPLY);
        assert_eq!(encrypt(&key(), RANDOM, REPLY2, APPID), SEALED2);
        assert_eq!(decrypt(&key(), SEALED2, APPID).unwrap(), REPLY2);
    }

    #[test]
    fn another_app_is_refused() {
        assert_eq!(
            decrypt(&key(), SEALED, "wx0000000000000000"),
            Err(PushError::WrongAppId)
        );
    }

    #[test]
    fn keys_are_43_characters_of_base64() {
        assert!(AesKey::from_encoding(&KEY[..42]).is_err());
        assert!(AesKey::from_encoding(&format!("{KEY}=")).is_err());
        assert!(AesKey::from_encoding("abcdefghijklmnopqrstuvwxyz0123456789ABCDE-G").is_err());
        assert!(format!("{:?}", key()).contains("redacted"));
    }

    /// A small deterministic generator, for property tests without a dependency.
    struct Lcg(u64);
    impl Lcg {
        fn next(&mut self) -> u64 {
            self.0 = self
                .0
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            self.0 >> 33
        }
    }

    #[test]
    fn seal_then_open_is_the_identity_and_any_flipped_byte_is_refused() {
        let mut rng = Lcg(7);
        let key = key();
        for round in 0..300 {
            let len = (rng.next() % 200) as usize;
            let text: String = (0..len)
                .map(|_| char::from_u32(0x20 + (rng.next() % 0x2000) as u32).unwrap_or('x'))
                .collect();
            let mut random = [0u8; 16];
            random.iter_mut().for_each(|b| *b = rng.next() as u8);
            let sealed = encrypt(&key, &random, &text, APPID);
            assert_eq!(
                decrypt(&key, &sealed, APPID).unwrap(),
                text,
                "round {round}"
            );
            // Any flipped bit of the ciphertext: refused, or (CBC) a different plaintext — never
            // the same message accepted for this app.
            let mut raw = STANDARD.decode(&sealed).unwrap();
            let at = (rng.next() as usize) % raw.len();
            raw[at] ^= 1 << (rng.next() % 8);
            match decrypt(&key, &STANDARD.encode(&raw), APPID) {
                Err(_) => {}
                Ok(other) => {
                    assert_ne!(other, text, "round {round}: a flipped byte went unnoticed")
                }
            }
        }
    }

    #[test]
    fn broken_envelopes_are_refused() {
        assert_eq!(
            decrypt(&key(), "not base64!", APPID),
            Err(PushError::BadBase64)
        );
        assert_eq!(decrypt(&key(), "", APPID), Err(PushError::BadBase64));
        assert_eq!(decrypt(&key(), "AAAA", APPID), Err(PushError::BadBase64));
        // Whole blocks of zeros decrypt to garbage: a padding that does not check.
        let zeros = STANDARD.encode([0u8; 64]);
        assert!(decrypt(&key(), &zeros, APPID).is_err());
    }
}
