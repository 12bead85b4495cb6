//! One piece of work per key, shared: the first asker **leads** (does the work), the others
//! **wait** and take its outcome, and a leader that stalls is **taken over**. Pure: time is an
//! argument, the driver owns the timers and the work.
//!
//! Used where concurrent requests would otherwise repeat the same expensive step: the Worker's
//! cache fills (one upstream fetch per media id) and voice renditions (one decode per rendition).
//!
//! A driver's loop, for one asker that started at `since`:
//!
//! ```text
//! loop {
//!     match leads.ask(key, since, now(), &times) {
//!         Turn::Lead(ticket) => { let out = work().await; leads.finish(key, ticket, out.clone(), now()); return out }
//!         Turn::Wait(at)     => sleep_until(at).await,
//!         Turn::Take(out)    => return out,
//!         Turn::GiveUp       => return timeout_error,
//!     }
//! }
//! ```
//!
//! A leader that is dropped before it finishes calls [`Leads::abandon`] (from a guard's `Drop`),
//! so a waiter leads next instead of waiting out the stall.

/// How long work may take and how waiters look again, in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LeadTimes {
    /// A leader running longer than this is stalled: the next asker takes over.
    pub stall_ms: u64,
    /// A waiter gives up after waiting this long in all.
    pub give_up_ms: u64,
    /// How often a waiter looks again.
    pub poll_ms: u64,
}

/// What an asker does next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Turn<T> {
    /// Do the work, then [`Leads::finish`] with this ticket.
    Lead(Ticket),
    /// Someone else is working: look again at this time (ms).
    Wait(u64),
    /// The outcome of work that finished after this asker started.
    Take(T),
    /// Waited [`LeadTimes::give_up_ms`] without an outcome.
    GiveUp,
}

/// Proof of leading one run of the work for a key: a leader that was taken over finishes
/// without effect on the run that replaced it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ticket(u64);

#[derive(Debug, Clone)]
enum Entry<T> {
    Running { ticket: Ticket, since_ms: u64 },
    Done { outcome: T, at_ms: u64 },
}

/// The work in flight (and just finished), by key.
#[derive(Debug, Clone)]
pub struct Leads<T> {
    /// How long a finished outcome is kept for waiters that have not looked yet (askers that
    /// started after it finished lead anew).
    keep_ms: u64,
    /// A list searched by key (the keys in flight, and those finished within `keep_ms`: tens
    /// in a busy isolate, one for a client's token): no hasher in the wasm.
    entries: Vec<(String, Entry<T>)>,
    next_ticket: u64,
}

impl<T: Clone> Leads<T> {
    /// No work in flight; outcomes kept `keep_ms` for their waiters.
    pub fn new(keep_ms: u64) -> Self {
        Leads {
            keep_ms,
            entries: Vec::new(),
            next_ticket: 0,
        }
    }

    /// What an asker that started at `since_ms` does at `now_ms` about `key`, with times `t`.
    pub fn ask(&mut self, key: &str, since_ms: u64, now_ms: u64, t: &LeadTimes) -> Turn<T> {
        match self.get(key) {
            Some(Entry::Done { outcome, at_ms }) if *at_ms >= since_ms => {
                return Turn::Take(outcome.clone())
            }
            Some(Entry::Running {
                since_ms: started, ..
            }) if now_ms.saturating_sub(*started) <= t.stall_ms => {
                if now_ms.saturating_sub(since_ms) >= t.give_up_ms {
                    return Turn::GiveUp;
                }
                let at = (now_ms + t.poll_ms).min(since_ms + t.give_up_ms);
                return Turn::Wait(at);
            }
            // Nobody is working, a stalled leader, or an outcome older than this asker.
            _ => {}
        }
        self.next_ticket += 1;
        let ticket = Ticket(self.next_ticket);
        self.set(
            key,
            Entry::Running {
                ticket,
                since_ms: now_ms,
            },
        );
        Turn::Lead(ticket)
    }

    /// Records the outcome of the run `ticket` leads, for its waiters, and forgets outcomes older
    /// than the `keep_ms` given to [`Leads::new`]. A run that was taken over records nothing.
    pub fn finish(&mut self, key: &str, ticket: Ticket, outcome: T, now_ms: u64) {
        let keep = self.keep_ms;
        self.entries.retain(|(_, e)| match e {
            Entry::Done { at_ms, .. } => now_ms.saturating_sub(*at_ms) < keep,
            Entry::Running { .. } => true,
        });
        if self.leads(key, ticket) {
            self.set(
                key,
                Entry::Done {
                    outcome,
                    at_ms: now_ms,
                },
            );
        }
    }

    /// The leader of run `ticket` went away without an outcome: the next asker leads.
    pub fn abandon(&mut self, key: &str, ticket: Ticket) {
        if self.leads(key, ticket) {
            self.entries.retain(|(k, _)| k != key);
        }
    }

    /// How many keys have work running or an outcome kept.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether nothing is running or kept.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    fn leads(&self, key: &str, ticket: Ticket) -> bool {
        matches!(self.get(key), Some(Entry::Running { ticket: t, .. }) if *t == ticket)
    }

    fn get(&self, key: &str) -> Option<&Entry<T>> {
        self.entries.iter().find(|(k, _)| k == key).map(|(_, e)| e)
    }

    fn set(&mut self, key: &str, entry: Entry<T>) {
        match self.entries.iter_mut().find(|(k, _)| k == key) {
            Some((_, e)) => *e = entry,
            None => self.entries.push((key.to_owned(), entry)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TIMES: LeadTimes = LeadTimes {
        stall_ms: 1_000,
        give_up_ms: 1_500,
        poll_ms: 100,
    };
    const KEEP_MS: u64 = 60_000;

    /// One step of a table: who asks (the time they started), when, and what they are told.
    enum Op {
        Ask(&'static str, u64, u64, Turn<&'static str>),
        Finish(&'static str, u64, &'static str, u64),
        Abandon(&'static str, u64),
    }
    use Op::*;

    fn run(ops: &[Op]) {
        let mut leads = Leads::new(KEEP_MS);
        for (i, op) in ops.iter().enumerate() {
            match op {
                Ask(key, since, now, want) => {
                    assert_eq!(leads.ask(key, *since, *now, &TIMES), *want, "step {i}")
                }
                Finish(key, ticket, out, now) => leads.finish(key, Ticket(*ticket), out, *now),
                Abandon(key, ticket) => leads.abandon(key, Ticket(*ticket)),
            }
        }
    }

    #[test]
    fn the_first_leads_and_the_others_take_its_outcome() {
        run(&[
            Ask("a", 0, 0, Turn::Lead(Ticket(1))),
            Ask("a", 10, 10, Turn::Wait(110)),
            Ask("a", 20, 20, Turn::Wait(120)),
            // Another key is work of its own.
            Ask("b", 20, 20, Turn::Lead(Ticket(2))),
            Finish("a", 1, "bytes", 300),
            Ask("a", 10, 310, Turn::Take("bytes")),
            Ask("a", 20, 320, Turn::Take("bytes")),
            // An asker that started after the outcome leads anew (the cache may have changed).
            Ask("a", 400, 400, Turn::Lead(Ticket(3))),
        ]);
    }

    #[test]
    fn failures_are_shared_too() {
        run(&[
            Ask("a", 0, 0, Turn::Lead(Ticket(1))),
            Ask("a", 5, 5, Turn::Wait(105)),
            Finish("a", 1, "422", 50),
            Ask("a", 5, 105, Turn::Take("422")),
        ]);
    }

    #[test]
    fn a_stalled_leader_is_taken_over_and_its_late_outcome_ignored() {
        run(&[
            Ask("a", 0, 0, Turn::Lead(Ticket(1))),
            Ask("a", 900, 1_000, Turn::Wait(1_100)),
            // Past stall_ms: the waiter leads.
            Ask("a", 900, 1_100, Turn::Lead(Ticket(2))),
            Ask("a", 1_150, 1_150, Turn::Wait(1_250)),
            // The first leader finishes late: it no longer leads, nothing is recorded.
            Finish("a", 1, "stale", 1_200),
            Ask("a", 1_150, 1_250, Turn::Wait(1_350)),
            Finish("a", 2, "fresh", 1_300),
            Ask("a", 1_150, 1_350, Turn::Take("fresh")),
        ]);
    }

    #[test]
    fn an_abandoned_run_lets_the_next_asker_lead_at_once() {
        run(&[
            Ask("a", 0, 0, Turn::Lead(Ticket(1))),
            Ask("a", 10, 10, Turn::Wait(110)),
            Abandon("a", 1),
            Ask("a", 10, 110, Turn::Lead(Ticket(2))),
            // Abandoning a run that was replaced changes nothing.
            Abandon("a", 1),
            Ask("a", 120, 120, Turn::Wait(220)),
        ]);
    }

    #[test]
    fn waiters_give_up_at_their_own_deadline() {
        // A leader not stalled yet (stall_ms is long), a waiter whose own deadline comes first:
        // its last wait ends exactly at give_up_ms after it started.
        let times = LeadTimes {
            stall_ms: 10_000,
            ..TIMES
        };
        let mut leads: Leads<&str> = Leads::new(KEEP_MS);
        assert_eq!(leads.ask("a", 0, 0, &times), Turn::Lead(Ticket(1)));
        assert_eq!(leads.ask("a", 0, 1_000, &times), Turn::Wait(1_100));
        assert_eq!(leads.ask("a", 0, 1_450, &times), Turn::Wait(1_500));
        assert_eq!(leads.ask("a", 0, 1_500, &times), Turn::GiveUp);
        // A later asker still waits.
        assert_eq!(leads.ask("a", 1_400, 1_500, &times), Turn::Wait(1_600));
    }

    #[test]
    fn old_outcomes_are_forgotten() {
        let mut leads = Leads::new(KEEP_MS);
        let Turn::Lead(t) = leads.ask("a", 0, 0, &TIMES) else {
            panic!()
        };
        leads.finish("a", t, "x", 0);
        let Turn::Lead(t) = leads.ask("b", 70_000, 70_000, &TIMES) else {
            panic!()
        };
        leads.finish("b", t, "y", 70_001);
        assert_eq!(leads.len(), 1, "a's outcome was dropped");
        assert!(!leads.is_empty());
    }
}
