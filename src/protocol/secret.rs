//! Secrets that must never be printed.
//!
//! [`AccessToken`] prints as `AccessToken([redacted])` under both `{}` and `{:?}`, so no log line,
//! error message or panic can show it by accident. The raw value is reachable only through
//! [`AccessToken::expose`], which the request builders call to put it in a URL.
//!
//! [`redact_url`] is the other half: it scrubs `access_token=` and `secret=` query values out of
//! any text (a URL, a transport's error message) before that text is shown to anyone.

use std::fmt;

/// A WeChat `access_token`: an opaque string of up to 512 characters.
///
/// `Debug` and `Display` print `AccessToken([redacted])`.
#[derive(Clone, PartialEq, Eq)]
pub struct AccessToken(String);

impl AccessToken {
    /// Wraps a raw token.
    pub fn new(token: impl Into<String>) -> Self {
        Self(token.into())
    }

    /// The raw token, for building a request URL. Never log or format the result.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AccessToken([redacted])")
    }
}

impl fmt::Display for AccessToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AccessToken([redacted])")
    }
}

/// Defines a secret string type that prints as `Name([redacted])` under `{}` and `{:?}`.
macro_rules! secret_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq)]
        pub struct $name(String);

        impl $name {
            /// Wraps a raw value.
            pub fn new(value: impl Into<String>) -> Self {
                Self(value.into())
            }

            /// The raw value, for the one place that must use it. Never log or format it.
            pub fn expose(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(concat!(stringify!($name), "([redacted])"))
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(concat!(stringify!($name), "([redacted])"))
            }
        }
    };
}

secret_type!(
    /// An app secret (`WECHAT_SECRET`, `appSecret`): only the token request builders expose it.
    AppSecret
);
secret_type!(
    /// An API key that callers of the Worker present: compared, never printed.
    ApiKey
);
secret_type!(
    /// The HMAC key of signed download URLs: used to sign and verify, never printed.
    SigningKey
);
secret_type!(
    /// The key a 中控 (central token server) with its own API wants (`WECHAT_TOKEN_URL_KEY`),
    /// sent as `Authorization: Bearer`. Never printed.
    TokenUrlKey
);
secret_type!(
    /// A token key of the Worker's token hub (`TOKEN_KEYS`): what a consumer presents as
    /// `secret` to get the app's access token. Compared, never printed.
    TokenKey
);
secret_type!(
    /// The Token of an account's server configuration (`WECHAT_CALLBACK_TOKEN`): what WeChat
    /// signs its pushes with. Checked, never printed.
    CallbackToken
);

/// Query parameter names whose values are secrets.
const SECRET_PARAMS: &[&str] = &["access_token", "secret"];

/// Replaces the value of every `access_token=` and `secret=` query parameter in `text` with
/// `[redacted]`.
///
/// Works on any text, not just a well-formed URL (for example a transport's error message that
/// quotes the URL). A parameter name matches only at the start of the text or after `?`, `&`,
/// `;`, whitespace or a quote, so `my_secret=` is left alone; names match case-insensitively. The
/// value runs up to the next `&`, `#`, whitespace, quote or angle bracket.
///
/// ```
/// use wxmedia::protocol::secret::redact_url;
/// assert_eq!(
///     redact_url("https://api.weixin.qq.com/cgi-bin/media/get?access_token=abc&media_id=m"),
///     "https://api.weixin.qq.com/cgi-bin/media/get?access_token=[redacted]&media_id=m",
/// );
/// ```
pub fn redact_url(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    let mut copied = 0;
    while i < bytes.len() {
        let at_boundary = i == 0
            || matches!(
                bytes[i - 1],
                b'?' | b'&' | b';' | b'"' | b'\'' | b' ' | b'\t' | b'\r' | b'\n'
            );
        if at_boundary {
            if let Some(name) = SECRET_PARAMS.iter().find(|name| {
                let end = i + name.len();
                end < bytes.len()
                    && bytes[i..end].eq_ignore_ascii_case(name.as_bytes())
                    && bytes[end] == b'='
            }) {
                let value_start = i + name.len() + 1;
                let mut value_end = value_start;
                while value_end < bytes.len()
                    && !matches!(
                        bytes[value_end],
                        b'&' | b'#' | b' ' | b'\t' | b'\r' | b'\n' | b'"' | b'\'' | b'<' | b'>'
                    )
                {
                    value_end += 1;
                }
                if value_end > value_start {
                    out.push_str(&text[copied..value_start]);
                    out.push_str("[redacted]");
                    copied = value_end;
                }
                i = value_end.max(i + 1);
                continue;
            }
        }
        i += 1;
    }
    out.push_str(&text[copied..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_print_redacted() {
        let shown = format!(
            "{:?} {} {:?} {} {:?} {}",
            AppSecret::new("S1"),
            AppSecret::new("S1"),
            ApiKey::new("K1"),
            ApiKey::new("K1"),
            SigningKey::new("G1"),
            SigningKey::new("G1")
        );
        assert_eq!(
            shown,
            "AppSecret([redacted]) AppSecret([redacted]) ApiKey([redacted]) ApiKey([redacted]) \
             SigningKey([redacted]) SigningKey([redacted])"
        );
        assert_eq!(ApiKey::new("K1").expose(), "K1");
    }

    #[test]
    fn token_never_formats() {
        let token = AccessToken::new("SECRET-TOKEN-VALUE");
        assert_eq!(format!("{token}"), "AccessToken([redacted])");
        assert_eq!(format!("{token:?}"), "AccessToken([redacted])");
        assert_eq!(
            format!("{:?}", Some(token.clone())),
            "Some(AccessToken([redacted]))"
        );
        assert_eq!(token.expose(), "SECRET-TOKEN-VALUE");
        assert_eq!(token, AccessToken::new(String::from("SECRET-TOKEN-VALUE")));
        assert_ne!(token, AccessToken::new("other"));
    }

    #[test]
    fn redacts_urls_and_messages() {
        let cases = [
            (
                "https://h/cgi-bin/token?grant_type=client_credential&appid=wx1&secret=s3cr3t",
                "https://h/cgi-bin/token?grant_type=client_credential&appid=wx1&secret=[redacted]",
            ),
            (
                "error sending request for url (http://h/x?access_token=T0K&type=image): refused",
                "error sending request for url (http://h/x?access_token=[redacted]&type=image): refused",
            ),
            ("access_token=abc", "access_token=[redacted]"),
            ("x?ACCESS_TOKEN=abc#frag", "x?ACCESS_TOKEN=[redacted]#frag"),
            ("\"access_token=abc\"", "\"access_token=[redacted]\""),
            ("my_secret=keep&x=1", "my_secret=keep&x=1"),
            ("no secrets here", "no secrets here"),
            ("access_token=", "access_token="),
            ("测试?access_token=令牌&b=1", "测试?access_token=[redacted]&b=1"),
        ];
        for (input, expected) in cases {
            assert_eq!(redact_url(input), expected, "input: {input}");
        }
    }
}
