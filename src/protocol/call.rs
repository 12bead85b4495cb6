//! The call loop as a pure state machine (quinn-proto style): given what the last step produced
//! and the time, it says what to do next.
//!
//! A transport drives it: [`Call::start`], then for each [`Step`] it does what the step says and
//! feeds the result back ([`Call::token`], [`Call::answered`], [`Call::woke`]) until the step is
//! [`Step::Done`] or [`Step::Fail`]. The machine owns every decision: how many attempts, when a
//! token is refreshed (at most once per call, and only when the credentials can be refreshed), how
//! long to back off, when the deadline has passed. The transport owns only the doing: fetching,
//! timers, the token cache.
//!
//! ```
//! use wxmedia::protocol::call::{Call, Step, TokenUse};
//! use wxmedia::protocol::{AccessToken, Error, RetryPolicy, WeChatError};
//!
//! let mut call = Call::new(RetryPolicy::default(), TokenUse::Refreshable, "media", 0, 60_000);
//! assert_eq!(call.start::<()>(0), Step::GetToken);
//! let token = AccessToken::new("T1");
//! assert_eq!(call.token::<()>(Ok(token.clone()), 1), Step::Send(Some(token.clone())));
//! // The token had expired: drop it (only if it is still the cached one) and get another.
//! let expired = Error::WeChat(WeChatError::parse_errmsg(42001, "access_token expired"));
//! assert_eq!(call.answered::<()>(Err(expired), 2), Step::RefreshToken(token));
//! ```

use super::error::Error;
use super::retry::{Decision, RetryPolicy};
use super::secret::AccessToken;

/// What the call needs of tokens.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenUse {
    /// Each attempt carries a token that can be dropped and fetched again (app secret, provider).
    Refreshable,
    /// Each attempt carries a fixed token: a token error ends the call.
    Fixed,
    /// The attempts carry no token (fetching a token itself).
    None,
}

/// What the driver does next.
#[derive(Debug, PartialEq, Eq)]
pub enum Step<T> {
    /// Get a token (the cached one, or the one fetch in flight), then call [`Call::token`].
    GetToken,
    /// Drop this token from the cache *if it is still the cached one* (it just failed), get a
    /// fresh one, then call [`Call::token`].
    RefreshToken(AccessToken),
    /// Send one attempt (with this token, unless the call uses none), then call
    /// [`Call::answered`]. Build the request afresh: a spent body is never re-sent.
    Send(Option<AccessToken>),
    /// Wait until this time (the same clock as `now_ms`), or until the call is aborted, then call
    /// [`Call::woke`].
    SleepUntil(u64),
    /// The call succeeded.
    Done(T),
    /// The call is over with this error.
    Fail(Error),
}

/// Where the machine is.
#[derive(Debug, Clone, PartialEq, Eq)]
enum State {
    Idle,
    WaitingForToken,
    Sending(Option<AccessToken>),
    Sleeping,
    Over,
}

/// One call (an upload, a download, a token fetch): its attempts, refreshes and deadline.
#[derive(Debug, Clone)]
pub struct Call {
    policy: RetryPolicy,
    token_use: TokenUse,
    what: &'static str,
    timeout_ms: u64,
    deadline_ms: u64,
    attempts: u32,
    refreshed: bool,
    state: State,
    /// What an attempt's error must not carry besides the token it was sent with (the app
    /// secret): scrubbed in [`Call::answered`].
    secrets: Vec<String>,
}

impl Call {
    /// A call started at `now_ms` that must end within `timeout_ms`. `what` names it in a
    /// timeout error ("media", "token").
    pub fn new(
        policy: RetryPolicy,
        token_use: TokenUse,
        what: &'static str,
        now_ms: u64,
        timeout_ms: u64,
    ) -> Self {
        Call {
            policy,
            token_use,
            what,
            timeout_ms,
            deadline_ms: now_ms.saturating_add(timeout_ms),
            attempts: 0,
            refreshed: false,
            state: State::Idle,
            secrets: Vec::new(),
        }
    }

    /// The same call, scrubbing `secrets` (an app secret), as well as the token each attempt was
    /// sent with, from every attempt's error: upstream text may echo what it was sent, and
    /// nothing the call sent is passed on.
    pub fn redacting(mut self, secrets: &[&str]) -> Self {
        self.secrets = secrets
            .iter()
            .filter(|s| !s.is_empty())
            .map(|s| s.to_string())
            .collect();
        self
    }

    /// When the call must be over.
    pub fn deadline_ms(&self) -> u64 {
        self.deadline_ms
    }

    /// Attempts sent so far.
    pub fn attempts(&self) -> u32 {
        self.attempts
    }

    /// The timeout error of this call.
    pub fn timeout_error(&self) -> Error {
        Error::Timeout {
            what: self.what,
            after_ms: self.timeout_ms,
        }
    }

    fn fail<T>(&mut self, err: Error) -> Step<T> {
        self.state = State::Over;
        Step::Fail(err)
    }

    fn send<T>(&mut self, token: Option<AccessToken>, now_ms: u64) -> Step<T> {
        if now_ms >= self.deadline_ms {
            let err = self.timeout_error();
            return self.fail(err);
        }
        self.attempts += 1;
        self.state = State::Sending(token.clone());
        Step::Send(token)
    }

    fn get_token<T>(&mut self, now_ms: u64) -> Step<T> {
        if self.token_use == TokenUse::None {
            return self.send(None, now_ms);
        }
        self.state = State::WaitingForToken;
        Step::GetToken
    }

    /// The first step.
    pub fn start<T>(&mut self, now_ms: u64) -> Step<T> {
        debug_assert_eq!(self.state, State::Idle, "start called twice");
        self.get_token(now_ms)
    }

    /// The token asked for by [`Step::GetToken`] or [`Step::RefreshToken`], or why there is none.
    /// A token that could not be had ends the call with that error.
    pub fn token<T>(&mut self, token: Result<AccessToken, Error>, now_ms: u64) -> Step<T> {
        debug_assert_eq!(self.state, State::WaitingForToken);
        match token {
            Ok(token) => self.send(Some(token), now_ms),
            Err(err) => self.fail(err),
        }
    }

    /// The result of the attempt asked for by [`Step::Send`].
    pub fn answered<T>(&mut self, result: Result<T, Error>, now_ms: u64) -> Step<T> {
        let State::Sending(token) = std::mem::replace(&mut self.state, State::Over) else {
            debug_assert!(false, "answered without a Send");
            return Step::Fail(Error::Cancelled);
        };
        let mut err = match result {
            Ok(value) => return Step::Done(value),
            Err(err) => err,
        };
        let mut secrets: Vec<&str> = self.secrets.iter().map(String::as_str).collect();
        if let Some(token) = &token {
            secrets.push(token.expose());
        }
        err.redact(&secrets);
        let refreshed = self.refreshed || self.token_use != TokenUse::Refreshable;
        match self
            .policy
            .decide(self.attempts, &err, refreshed, now_ms, self.deadline_ms)
        {
            Decision::GiveUp => self.fail(err),
            Decision::RefreshTokenAndRetry => match token {
                Some(token) => {
                    self.refreshed = true;
                    self.state = State::WaitingForToken;
                    Step::RefreshToken(token)
                }
                None => self.fail(err),
            },
            Decision::RetryAfter(ms) => {
                self.state = State::Sleeping;
                Step::SleepUntil(now_ms.saturating_add(ms))
            }
        }
    }

    /// The wait asked for by [`Step::SleepUntil`] is over (or was cut short: the driver checks
    /// its abort signal first).
    pub fn woke<T>(&mut self, now_ms: u64) -> Step<T> {
        debug_assert_eq!(self.state, State::Sleeping);
        self.get_token(now_ms)
    }
}

#[cfg(test)]
mod tests {
    //! The loop under a fake transport and a fake clock: every retry and token path, table-driven.

    use super::*;
    use crate::protocol::error::{ValidationCode, ValidationError, WeChatError};
    use crate::protocol::retry::NEXT_MINUTE_SLACK_MS;
    use crate::protocol::token::TokenCache;
    use crate::protocol::TokenGrant;

    /// What the fake transport answers to one attempt.
    #[derive(Clone, Debug)]
    enum Answer {
        Fine,
        Wx(i64),
        Net,
        Http(u16),
        Parse,
        Timeout,
        Cancelled,
        Invalid,
    }

    impl Answer {
        fn result(&self, call: &Call) -> Result<&'static str, Error> {
            match self {
                Answer::Fine => Ok("media"),
                Answer::Wx(code) => Err(Error::WeChat(WeChatError::parse_errmsg(*code, "x"))),
                Answer::Net => Err(Error::network("connection reset")),
                Answer::Http(status) => Err(Error::Http { status: *status }),
                Answer::Parse => Err(Error::Parse {
                    message: "truncated JSON".into(),
                    raw: b"{\"errcode\":".to_vec(),
                }),
                Answer::Timeout => Err(call.timeout_error()),
                Answer::Cancelled => Err(Error::Cancelled),
                Answer::Invalid => Err(Error::Validation(ValidationError::new(
                    ValidationCode::TooLarge,
                    "too big",
                ))),
            }
        }
    }

    /// What the fake token source does when asked for a fresh token.
    #[derive(Clone, Copy, Debug)]
    enum Source {
        Issues,
        FailsWith(i64),
    }

    /// What one call did, for the table to compare.
    #[derive(Debug, PartialEq, Eq)]
    struct Trace {
        /// The tokens each attempt carried ("-" for none).
        sent: Vec<String>,
        /// Token fetches from the source.
        fetches: u32,
        /// Waits, in milliseconds.
        sleeps: Vec<u64>,
        /// Dropped tokens (refreshes that found the failed token still cached).
        dropped: Vec<String>,
        /// How the call ended: "ok" or the error's code plus errcode.
        outcome: String,
    }

    struct Fake {
        now: u64,
        cache: TokenCache,
        issued: u32,
        source: Source,
        answers: std::collections::VecDeque<Answer>,
    }

    impl Fake {
        fn new(now: u64, source: Source, answers: &[Answer]) -> Self {
            Fake {
                now,
                cache: TokenCache::default(),
                issued: 0,
                source,
                answers: answers.iter().cloned().collect(),
            }
        }

        fn token(&mut self, trace: &mut Trace) -> Result<AccessToken, Error> {
            if let Some(token) = self.cache.current(self.now) {
                return Ok(token);
            }
            trace.fetches += 1;
            match self.source {
                Source::FailsWith(code) => Err(Error::WeChat(WeChatError::parse_errmsg(code, "x"))),
                Source::Issues => {
                    self.issued += 1;
                    let grant = TokenGrant {
                        token: AccessToken::new(format!("T{}", self.issued)),
                        expires_in: 7200,
                    };
                    self.cache.store(&grant, self.now);
                    Ok(grant.token)
                }
            }
        }

        /// Drives `call` to its end, each attempt taking `latency` ms.
        fn run(&mut self, mut call: Call, latency: u64) -> Trace {
            let mut trace = Trace {
                sent: vec![],
                fetches: 0,
                sleeps: vec![],
                dropped: vec![],
                outcome: String::new(),
            };
            let mut step = call.start(self.now);
            for _ in 0..100 {
                step = match step {
                    Step::GetToken => {
                        let token = self.token(&mut trace);
                        call.token(token, self.now)
                    }
                    Step::RefreshToken(failed) => {
                        if self.cache.invalidate_if(&failed) {
                            trace.dropped.push(failed.expose().to_string());
                        }
                        let token = self.token(&mut trace);
                        call.token(token, self.now)
                    }
                    Step::Send(token) => {
                        trace
                            .sent
                            .push(token.map_or("-".into(), |t| t.expose().to_string()));
                        self.now += latency;
                        let answer = self
                            .answers
                            .pop_front()
                            .expect("more attempts than answers");
                        let result = answer.result(&call);
                        call.answered(result, self.now)
                    }
                    Step::SleepUntil(at) => {
                        assert!(at > self.now, "a sleep into the past");
                        assert!(at < call.deadline_ms(), "a sleep past the deadline");
                        trace.sleeps.push(at - self.now);
                        self.now = at;
                        call.woke(self.now)
                    }
                    Step::Done(value) => {
                        trace.outcome = format!("ok:{value}");
                        break;
                    }
                    Step::Fail(err) => {
                        trace.outcome = match err.errcode() {
                            Some(code) => format!("{}:{code}", err.code()),
                            None => err.code().to_string(),
                        };
                        break;
                    }
                };
            }
            assert!(!trace.outcome.is_empty(), "the call never ended");
            assert!(self.answers.is_empty(), "fewer attempts than scripted");
            trace
        }
    }

    /// 20 s into a minute (1_700_000_000_000 % 60_000 == 20_000).
    const NOW: u64 = 1_700_000_000_000;

    struct Case {
        name: &'static str,
        token_use: TokenUse,
        source: Source,
        timeout_ms: u64,
        latency: u64,
        answers: &'static [Answer],
        sent: &'static [&'static str],
        fetches: u32,
        sleeps: &'static [u64],
        dropped: &'static [&'static str],
        outcome: &'static str,
    }

    const R: TokenUse = TokenUse::Refreshable;
    const MIN: u64 = 40_000 + NEXT_MINUTE_SLACK_MS;

    use Answer::{Cancelled, Http, Invalid, Net, Parse, Timeout, Wx};
    const OK: Answer = Answer::Fine;

    const CASES: &[Case] = &[
        Case {
            name: "first attempt succeeds",
            token_use: R,
            source: Source::Issues,
            timeout_ms: 60_000,
            latency: 10,
            answers: &[OK],
            sent: &["T1"],
            fetches: 1,
            sleeps: &[],
            dropped: &[],
            outcome: "ok:media",
        },
        Case {
            name: "system error backs off twice, then succeeds",
            token_use: R,
            source: Source::Issues,
            timeout_ms: 60_000,
            latency: 10,
            answers: &[Wx(-1), Wx(-1), OK],
            sent: &["T1", "T1", "T1"],
            fetches: 1,
            sleeps: &[200, 400],
            dropped: &[],
            outcome: "ok:media",
        },
        Case {
            name: "transient errors stop at max_attempts",
            token_use: R,
            source: Source::Issues,
            timeout_ms: 60_000,
            latency: 10,
            answers: &[Net, Http(502), Http(503)],
            sent: &["T1", "T1", "T1"],
            fetches: 1,
            sleeps: &[200, 400],
            dropped: &[],
            outcome: "HTTP",
        },
        Case {
            name: "a backoff that would pass the deadline gives up",
            token_use: R,
            source: Source::Issues,
            timeout_ms: 300,
            latency: 150,
            answers: &[Wx(-1)],
            sent: &["T1"],
            fetches: 1,
            sleeps: &[],
            dropped: &[],
            outcome: "WECHAT:-1",
        },
        Case {
            name: "expired token: dropped, refreshed once, retried",
            token_use: R,
            source: Source::Issues,
            timeout_ms: 60_000,
            latency: 10,
            answers: &[Wx(42001), OK],
            sent: &["T1", "T2"],
            fetches: 2,
            sleeps: &[],
            dropped: &["T1"],
            outcome: "ok:media",
        },
        Case {
            name: "a second token error after the refresh gives up",
            token_use: R,
            source: Source::Issues,
            timeout_ms: 60_000,
            latency: 10,
            answers: &[Wx(40001), Wx(40014)],
            sent: &["T1", "T2"],
            fetches: 2,
            sleeps: &[],
            dropped: &["T1"],
            outcome: "WECHAT:40014",
        },
        Case {
            name: "the attempt after a token refresh counts against max_attempts",
            token_use: R,
            source: Source::Issues,
            timeout_ms: 60_000,
            latency: 10,
            answers: &[Wx(-1), Wx(40001), Wx(-1)],
            sent: &["T1", "T1", "T2"],
            fetches: 2,
            sleeps: &[200],
            dropped: &["T1"],
            outcome: "WECHAT:-1",
        },
        Case {
            name: "a fixed token is never refreshed",
            token_use: TokenUse::Fixed,
            source: Source::Issues,
            timeout_ms: 60_000,
            latency: 10,
            answers: &[Wx(40001)],
            sent: &["T1"],
            fetches: 1,
            sleeps: &[],
            dropped: &[],
            outcome: "WECHAT:40001",
        },
        Case {
            name: "the token source fails: no attempt is sent",
            token_use: R,
            source: Source::FailsWith(40125),
            timeout_ms: 60_000,
            latency: 10,
            answers: &[],
            sent: &[],
            fetches: 1,
            sleeps: &[],
            dropped: &[],
            outcome: "WECHAT:40125",
        },
        Case {
            name: "45011 waits for the next minute within the deadline",
            token_use: R,
            source: Source::Issues,
            timeout_ms: 120_000,
            latency: 0,
            answers: &[Wx(45011), OK],
            sent: &["T1", "T1"],
            fetches: 1,
            sleeps: &[MIN],
            dropped: &[],
            outcome: "ok:media",
        },
        Case {
            name: "45011 gives up when the next minute is past the deadline",
            token_use: R,
            source: Source::Issues,
            timeout_ms: 30_000,
            latency: 0,
            answers: &[Wx(45011)],
            sent: &["T1"],
            fetches: 1,
            sleeps: &[],
            dropped: &[],
            outcome: "WECHAT:45011",
        },
        Case {
            name: "not found, quota, configuration, caller errors: no retry",
            token_use: R,
            source: Source::Issues,
            timeout_ms: 60_000,
            latency: 10,
            answers: &[Wx(40007)],
            sent: &["T1"],
            fetches: 1,
            sleeps: &[],
            dropped: &[],
            outcome: "WECHAT:40007",
        },
        Case {
            name: "daily quota: no retry",
            token_use: R,
            source: Source::Issues,
            timeout_ms: 60_000,
            latency: 10,
            answers: &[Wx(45009)],
            sent: &["T1"],
            fetches: 1,
            sleeps: &[],
            dropped: &[],
            outcome: "WECHAT:45009",
        },
        Case {
            name: "a parse error (truncated JSON) is not retried",
            token_use: R,
            source: Source::Issues,
            timeout_ms: 60_000,
            latency: 10,
            answers: &[Parse],
            sent: &["T1"],
            fetches: 1,
            sleeps: &[],
            dropped: &[],
            outcome: "PARSE",
        },
        Case {
            name: "a timeout or a cancellation ends the call",
            token_use: R,
            source: Source::Issues,
            timeout_ms: 60_000,
            latency: 10,
            answers: &[Wx(-1), Timeout],
            sent: &["T1", "T1"],
            fetches: 1,
            sleeps: &[200],
            dropped: &[],
            outcome: "TIMEOUT",
        },
        Case {
            name: "cancelled",
            token_use: R,
            source: Source::Issues,
            timeout_ms: 60_000,
            latency: 10,
            answers: &[Cancelled],
            sent: &["T1"],
            fetches: 1,
            sleeps: &[],
            dropped: &[],
            outcome: "CANCELLED",
        },
        Case {
            name: "validation errors are final",
            token_use: R,
            source: Source::Issues,
            timeout_ms: 60_000,
            latency: 10,
            answers: &[Invalid],
            sent: &["T1"],
            fetches: 1,
            sleeps: &[],
            dropped: &[],
            outcome: "TOO_LARGE",
        },
        Case {
            name: "a token fetch carries no token and retries transient errors",
            token_use: TokenUse::None,
            source: Source::Issues,
            timeout_ms: 10_000,
            latency: 10,
            answers: &[Http(500), Wx(-1), OK],
            sent: &["-", "-", "-"],
            fetches: 0,
            sleeps: &[200, 400],
            dropped: &[],
            outcome: "ok:media",
        },
        Case {
            name: "a token fetch never refreshes a token",
            token_use: TokenUse::None,
            source: Source::Issues,
            timeout_ms: 10_000,
            latency: 10,
            answers: &[Wx(40001)],
            sent: &["-"],
            fetches: 0,
            sleeps: &[],
            dropped: &[],
            outcome: "WECHAT:40001",
        },
        Case {
            name: "an attempt that ends after the deadline is not followed by another",
            token_use: R,
            source: Source::Issues,
            timeout_ms: 1_000,
            latency: 1_000,
            answers: &[Wx(42001)],
            sent: &["T1"],
            fetches: 1,
            sleeps: &[],
            dropped: &[],
            outcome: "WECHAT:42001",
        },
    ];

    #[test]
    fn every_retry_and_token_path() {
        for case in CASES {
            let mut fake = Fake::new(NOW, case.source, case.answers);
            let call = Call::new(
                RetryPolicy::default(),
                case.token_use,
                "media",
                fake.now,
                case.timeout_ms,
            );
            let trace = fake.run(call, case.latency);
            let expected = Trace {
                sent: case.sent.iter().map(|s| s.to_string()).collect(),
                fetches: case.fetches,
                sleeps: case.sleeps.to_vec(),
                dropped: case.dropped.iter().map(|s| s.to_string()).collect(),
                outcome: case.outcome.to_string(),
            };
            assert_eq!(trace, expected, "case: {}", case.name);
        }
    }

    #[test]
    fn a_refresh_that_fails_ends_the_call_with_its_error() {
        // The first token works until it expires; the source then refuses to issue another.
        let mut fake = Fake::new(NOW, Source::Issues, &[Answer::Wx(42001)]);
        let mut call = Call::new(RetryPolicy::default(), R, "media", NOW, 60_000);
        assert_eq!(call.start::<()>(NOW), Step::GetToken);
        let mut trace = Trace {
            sent: vec![],
            fetches: 0,
            sleeps: vec![],
            dropped: vec![],
            outcome: String::new(),
        };
        let t1 = fake.token(&mut trace).unwrap();
        assert_eq!(
            call.token::<()>(Ok(t1.clone()), NOW),
            Step::Send(Some(t1.clone()))
        );
        let expired = Error::WeChat(WeChatError::parse_errmsg(42001, "expired"));
        assert_eq!(
            call.answered::<()>(Err(expired), NOW + 5),
            Step::RefreshToken(t1)
        );
        let refused = Error::WeChat(WeChatError::parse_errmsg(40164, "invalid ip"));
        match call.token::<()>(Err(refused), NOW + 6) {
            Step::Fail(err) => assert_eq!(err.errcode(), Some(40164)),
            other => panic!("expected the refresh's error, got {other:?}"),
        }
        assert_eq!(call.attempts(), 1);
    }

    #[test]
    fn no_attempt_starts_at_or_after_the_deadline() {
        let mut call = Call::new(RetryPolicy::default(), R, "media", NOW, 5_000);
        assert_eq!(call.start::<()>(NOW), Step::GetToken);
        // The token arrived too late: a timeout naming the call, not an attempt.
        match call.token::<()>(Ok(AccessToken::new("T")), NOW + 5_000) {
            Step::Fail(Error::Timeout { what, after_ms }) => {
                assert_eq!((what, after_ms), ("media", 5_000));
            }
            other => panic!("expected a timeout, got {other:?}"),
        }
        let mut call = Call::new(RetryPolicy::default(), TokenUse::None, "token", NOW, 0);
        match call.start::<()>(NOW) {
            Step::Fail(Error::Timeout { what, .. }) => assert_eq!(what, "token"),
            other => panic!("expected a timeout, got {other:?}"),
        }
    }

    #[test]
    fn the_deadline_saturates() {
        let call = Call::new(RetryPolicy::default(), R, "media", u64::MAX - 1, 60_000);
        assert_eq!(call.deadline_ms(), u64::MAX);
    }

    #[test]
    fn the_call_scrubs_what_it_sent_from_every_error() {
        let token = AccessToken::new("TOKEN-0123456789");
        let secret = "SECRET-abcdefghij";
        let echo = format!("invalid credential {} for {secret}", token.expose());
        let cases: Vec<(&str, Error)> = vec![
            (
                "a WeChat errmsg",
                Error::WeChat(WeChatError::parse_errmsg(40125, &echo)),
            ),
            ("a network message", Error::network(&echo)),
            (
                "a body that could not be read",
                Error::Parse {
                    message: echo.clone(),
                    raw: echo.clone().into_bytes(),
                },
            ),
        ];
        for (name, err) in cases {
            let mut call =
                Call::new(RetryPolicy::default(), R, "media", 0, 60_000).redacting(&[secret]);
            let mut step = call.start::<()>(0);
            let mut now = 0;
            let shown = loop {
                step = match step {
                    Step::GetToken | Step::RefreshToken(_) => call.token(Ok(token.clone()), now),
                    Step::Send(sent) => {
                        assert_eq!(sent.as_ref(), Some(&token), "{name}");
                        call.answered(Err(err.clone()), now)
                    }
                    Step::SleepUntil(at) => {
                        now = at;
                        call.woke(now)
                    }
                    Step::Fail(err) => break format!("{err:?} {err}"),
                    Step::Done(()) => panic!("{name}: done"),
                };
            };
            assert!(shown.contains("invalid credential"), "{name}: {shown}");
            assert!(!shown.contains(token.expose()), "{name}: {shown}");
            assert!(!shown.contains(secret), "{name}: {shown}");
        }
    }
}
