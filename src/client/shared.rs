//! Work shared by concurrent callers in one isolate: the core's lead/wait machine
//! ([`Leads`]) driven with the platform's clock and timers. The client's token fetches
//! ([`TokenWait::Poll`](super::TokenWait::Poll)) and the Worker's cache fills and voice
//! renditions run through it.
//!
//! Waiting is a timer of the waiting caller's own, never a promise another caller settles:
//! Workers cancel a request that waits on a promise another request settles.

use std::cell::RefCell;
use std::future::Future;

use crate::protocol::lead::{LeadTimes, Leads, Ticket, Turn};
use crate::web;

/// Releases a lead whose caller went away before finishing, so a waiter leads next.
struct Abandon<'a, T: Clone> {
    leads: &'a RefCell<Leads<T>>,
    key: &'a str,
    ticket: Option<Ticket>,
}

impl<T: Clone> Drop for Abandon<'_, T> {
    fn drop(&mut self) {
        if let Some(ticket) = self.ticket.take() {
            if let Ok(mut leads) = self.leads.try_borrow_mut() {
                leads.abandon(self.key, ticket);
            }
        }
    }
}

/// Runs `work` for `key` unless another caller is running it: then waits for that run's outcome
/// (as `share` made it for waiters), takes over a run stalled past `times.stall_ms`, and answers
/// `gave_up()` after waiting `times.give_up_ms`. Each wait is `wait(ms)`, which sleeps and may
/// end the waiting early with an outcome of its own (the caller's deadline, say).
pub async fn lead_or_wait<T, F, W>(
    leads: &RefCell<Leads<T>>,
    key: &str,
    times: &LeadTimes,
    work: F,
    share: impl FnOnce(&T) -> T,
    gave_up: impl FnOnce() -> T,
    mut wait: impl FnMut(u64) -> W,
) -> T
where
    T: Clone,
    F: Future<Output = T>,
    W: Future<Output = Option<T>>,
{
    let since = web::now_ms();
    loop {
        let turn = leads.borrow_mut().ask(key, since, web::now_ms(), times);
        match turn {
            Turn::Lead(ticket) => {
                let mut lead = Abandon {
                    leads,
                    key,
                    ticket: Some(ticket),
                };
                let outcome = work.await;
                lead.ticket = None;
                let shared = share(&outcome);
                leads
                    .borrow_mut()
                    .finish(key, ticket, shared, web::now_ms());
                return outcome;
            }
            Turn::Wait(at) => {
                if let Some(outcome) = wait(at.saturating_sub(web::now_ms()).max(1)).await {
                    return outcome;
                }
            }
            Turn::Take(outcome) => return outcome,
            Turn::GiveUp => return gave_up(),
        }
    }
}
