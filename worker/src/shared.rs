//! Work shared among an isolate's concurrent requests: the core's lead/wait machine
//! ([`Leads`]) driven with the Worker's clock and timers. Used by cache fills ([`crate::media`])
//! and voice renditions ([`crate::voice`]).
//!
//! Waiting is a timer of the waiting request's own: Workers cancel a request that waits on a
//! promise another request settles.

use std::cell::RefCell;
use std::future::Future;
use std::thread::LocalKey;
use std::time::Duration;

use wxmedia::protocol::lead::{LeadTimes, Leads, Ticket, Turn};

/// The isolate's clock, in whole milliseconds.
pub fn now_ms() -> u64 {
    js_sys::Date::now() as u64
}

/// Releases a lead whose request went away before finishing, so a waiter leads next.
struct Abandon<T: Clone + 'static> {
    leads: &'static LocalKey<RefCell<Leads<T>>>,
    key: String,
    ticket: Option<Ticket>,
}

impl<T: Clone + 'static> Drop for Abandon<T> {
    fn drop(&mut self) {
        if let Some(ticket) = self.ticket.take() {
            let key = &self.key;
            // `try_with`: the isolate may be tearing down its thread-locals.
            let _ = self.leads.try_with(|l| {
                if let Ok(mut l) = l.try_borrow_mut() {
                    l.abandon(key, ticket);
                }
            });
        }
    }
}

/// Runs `work` for `key` unless another request of this isolate is running it: then waits for
/// that run's outcome (as `share` made it for waiters), takes over a run stalled past
/// `times.stall_ms`, and answers `gave_up()` after waiting `times.give_up_ms`.
pub async fn lead_or_wait<T, F>(
    leads: &'static LocalKey<RefCell<Leads<T>>>,
    key: &str,
    times: &LeadTimes,
    work: F,
    share: impl FnOnce(&T) -> T,
    gave_up: impl FnOnce() -> T,
) -> T
where
    T: Clone + 'static,
    F: Future<Output = T>,
{
    let since = now_ms();
    loop {
        let turn = leads.with(|l| l.borrow_mut().ask(key, since, now_ms(), times));
        match turn {
            Turn::Lead(ticket) => {
                let mut lead = Abandon {
                    leads,
                    key: key.to_owned(),
                    ticket: Some(ticket),
                };
                let outcome = work.await;
                lead.ticket = None;
                let shared = share(&outcome);
                leads.with(|l| l.borrow_mut().finish(key, ticket, shared, now_ms()));
                return outcome;
            }
            Turn::Wait(at) => {
                let ms = at.saturating_sub(now_ms()).max(1);
                worker::Delay::from(Duration::from_millis(ms)).await;
            }
            Turn::Take(outcome) => return outcome,
            Turn::GiveUp => return gave_up(),
        }
    }
}
