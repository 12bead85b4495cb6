//! The one driver of a [`Call`]: tokens from the shared cache (when the call uses them), each
//! attempt sent by the caller's closure, the waits on the call's own timers. Every call — an
//! upload, a download, a token fetch — is driven here; what to do next is always the `Call`'s
//! decision, and so is scrubbing what it sent from its errors ([`Call::redacting`]).

use std::future::Future;
use std::rc::Rc;

use super::tokens::Tokens;
use crate::protocol::{AccessToken, Call, Error, Step};
use crate::web::{self, AbortGuard};

/// Drives `call`, started at `started_ms`, to its end within `guard` (the call's deadline and
/// the caller's signal). `tokens`: where a call that uses tokens gets them (`None` for a token
/// fetch, which uses none: its `Call` never asks). `first`: an attempt already sent with that
/// token at that time, whose answer `attempt` holds for its first send. `what` names the call in
/// a timeout ("media", "token").
pub(crate) async fn drive<T, F, Fut>(
    mut call: Call,
    started_ms: u64,
    guard: &AbortGuard,
    what: &'static str,
    tokens: Option<&Rc<Tokens>>,
    mut first: Option<(AccessToken, u64)>,
    mut attempt: F,
) -> Result<T, Error>
where
    F: FnMut(Option<AccessToken>, AbortGuard) -> Fut,
    Fut: Future<Output = Result<T, Error>>,
{
    let no_source = || Err(Error::network(format!("a {what} call has no token source")));
    let mut step = call.start(started_ms);
    loop {
        step = match step {
            Step::GetToken => match (first.take(), tokens) {
                // The first attempt went out with this token at the start.
                (Some((token, at)), _) => call.token(Ok(token), at),
                (None, Some(tokens)) => {
                    let token = tokens.get(guard, what).await;
                    call.token(token, web::now_ms())
                }
                (None, None) => call.token(no_source(), web::now_ms()),
            },
            Step::RefreshToken(failed) => match tokens {
                Some(tokens) => {
                    tokens.invalidate(&failed);
                    let token = tokens.get(guard, what).await;
                    call.token(token, web::now_ms())
                }
                None => call.token(no_source(), web::now_ms()),
            },
            Step::Send(token) => {
                let result = attempt(token, guard.clone()).await;
                call.answered(result, web::now_ms())
            }
            Step::SleepUntil(at) => {
                guard.sleep_until(at, what).await?;
                call.woke(web::now_ms())
            }
            Step::Done(value) => return Ok(value),
            Step::Fail(err) => return Err(err),
        }
    }
}
