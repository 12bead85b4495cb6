//! The one message between an isolate and its app's `TokenHolder`: what is asked
//! ([`TokenAsk`]) and what is answered ([`TokenAnswer`]), typed both ways so that a token error
//! crosses the hop as the error it was (a WeChat refusal with its errcode, a timeout, a transport
//! failure), not as a string to parse again. Internal: never sent to a client.

use serde::{Deserialize, Serialize};
use wxmedia::protocol::{AccessToken, Error, TokenGrant, WeChatError};

/// What an isolate asks the holder.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenAsk {
    /// The app whose token is asked for (the holder is named by it too).
    pub appid: String,
    /// The token that just failed upstream, if that is why it asks: dropped only if it is still
    /// the holder's current one.
    pub failed: Option<String>,
    /// A forced refresh (a token hub's consumer asked for one): rotated at most once per 30 s
    /// and within the day's budget ([`wxmedia::client::TokenKeeper::force_refresh`]).
    #[serde(default)]
    pub force: bool,
}

/// What the holder answers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "answer", rename_all = "snake_case")]
pub enum TokenAnswer {
    /// The token and its remaining lifetime in seconds.
    Token {
        /// The access token.
        access_token: String,
        /// Seconds it has left.
        expires_in: u64,
    },
    /// WeChat refused the token call.
    Wechat {
        /// WeChat's errcode.
        errcode: i64,
        /// The errmsg as WeChat sent it.
        errmsg: String,
    },
    /// The token call took longer than its timeout.
    Timeout {
        /// The timeout, in milliseconds.
        after_ms: u64,
    },
    /// An HTTP status other than 2xx from upstream (a proxy or the edge).
    Http {
        /// The status.
        status: u16,
    },
    /// Anything else: a transport failure, an answer that could not be read, a setting missing.
    Failed {
        /// What went wrong (no secret: the holder's errors are redacted by the core).
        message: String,
    },
}

impl TokenAnswer {
    /// The answer for what the holder's keeper gave.
    pub fn from_result(result: Result<TokenGrant, Error>) -> Self {
        match result {
            Ok(grant) => TokenAnswer::Token {
                access_token: grant.token.expose().to_string(),
                expires_in: grant.expires_in,
            },
            Err(Error::WeChat(e)) => TokenAnswer::Wechat {
                errcode: e.errcode,
                errmsg: e.raw_errmsg,
            },
            Err(Error::Timeout { after_ms, .. }) => TokenAnswer::Timeout { after_ms },
            Err(Error::Http { status }) => TokenAnswer::Http { status },
            Err(other) => TokenAnswer::Failed {
                message: other.to_string(),
            },
        }
    }

    /// What the isolate's client takes from it: the grant (its lifetime cut to `max_secs`, how
    /// long an isolate keeps a copy), or the error it stands for.
    pub fn into_result(self, max_secs: u64) -> Result<TokenGrant, Error> {
        match self {
            TokenAnswer::Token {
                access_token,
                expires_in,
            } => Ok(TokenGrant {
                token: AccessToken::new(access_token),
                expires_in: expires_in.min(max_secs),
            }),
            TokenAnswer::Wechat { errcode, errmsg } => {
                Err(Error::WeChat(WeChatError::parse_errmsg(errcode, &errmsg)))
            }
            TokenAnswer::Timeout { after_ms } => Err(Error::Timeout {
                what: "token",
                after_ms,
            }),
            TokenAnswer::Http { status } => Err(Error::Http { status }),
            TokenAnswer::Failed { message } => {
                Err(Error::network(format!("token holder: {message}")))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(result: Result<TokenGrant, Error>) -> Result<TokenGrant, Error> {
        let json = serde_json::to_string(&TokenAnswer::from_result(result)).unwrap();
        let answer: TokenAnswer = serde_json::from_str(&json).unwrap();
        answer.into_result(300)
    }

    #[test]
    fn every_kind_of_answer_crosses_the_hop_as_itself() {
        let grant = TokenGrant {
            token: AccessToken::new("TOKEN"),
            expires_in: 7000,
        };
        // The isolate keeps a copy for at most max_secs.
        let got = round_trip(Ok(grant)).unwrap();
        assert_eq!(got.token.expose(), "TOKEN");
        assert_eq!(got.expires_in, 300);
        let refused = WeChatError::parse_errmsg(40164, "invalid ip 1.2.3.4 hint: [x] rid: y");
        match round_trip(Err(Error::WeChat(refused.clone()))) {
            Err(Error::WeChat(e)) => {
                assert_eq!(e, refused);
                assert_eq!(e.rid.as_deref(), Some("y"));
            }
            other => panic!("{other:?}"),
        }
        let timeout = Error::Timeout {
            what: "token",
            after_ms: 10_000,
        };
        assert_eq!(round_trip(Err(timeout.clone())), Err(timeout));
        let http = Error::Http { status: 502 };
        assert_eq!(round_trip(Err(http.clone())), Err(http));
        match round_trip(Err(Error::network("connection reset"))) {
            Err(Error::Network(m)) => assert!(m.contains("connection reset"), "{m}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_wire_shape_is_tagged() {
        let ask = TokenAsk {
            appid: "wx1".into(),
            failed: Some("OLD".into()),
            force: false,
        };
        assert_eq!(
            serde_json::to_string(&ask).unwrap(),
            r#"{"appid":"wx1","failed":"OLD","force":false}"#
        );
        let older: TokenAsk = serde_json::from_str(r#"{"appid":"wx1","failed":null}"#).unwrap();
        assert!(!older.force);
        let answer = TokenAnswer::Timeout { after_ms: 5 };
        assert_eq!(
            serde_json::to_string(&answer).unwrap(),
            r#"{"answer":"timeout","after_ms":5}"#
        );
        // Anything else is refused as unreadable, never taken as a token.
        assert!(serde_json::from_str::<TokenAnswer>(r#"{"access_token":"T"}"#).is_err());
    }
}
