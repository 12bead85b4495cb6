//! Time and deadlines: the platform clock, sleeps, and [`AbortGuard`], a call's deadline and the
//! caller's signal as one `AbortSignal` (made only when something needs it).

use js_sys::{Array, Promise, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{AbortController, AbortSignal, RequestInit};

use super::*;
use crate::protocol::Error;

/// Milliseconds since the Unix epoch, from the platform clock.
pub fn now_ms() -> u64 {
    js_sys::Date::now() as u64
}

/// Resolves after `ms` milliseconds, or as soon as `signal` aborts.
pub async fn sleep_unless_aborted(ms: u64, signal: &AbortSignal) {
    if signal.aborted() {
        return;
    }
    let promise = Promise::new(&mut |resolve, _reject| {
        set_timeout(&resolve, ms as f64);
        let _ = signal.add_event_listener_with_callback("abort", &resolve);
    });
    let _ = Settled::new(&promise).await;
}

/// Resolves when `signal` aborts (never, if it does not).
pub fn aborted(signal: &AbortSignal) -> Settled {
    let promise = Promise::new(&mut |resolve, _reject| {
        if signal.aborted() {
            let _ = resolve.call0(&JsValue::UNDEFINED);
        } else {
            let _ = signal.add_event_listener_with_callback("abort", &resolve);
        }
    });
    Settled::new(&promise)
}

/// A call's deadline and the caller's signal: what bounds every wait of the call, and the
/// reading of its answer's body after it returns.
///
/// Clones share one guard. The `AbortController` a web `fetch` needs is made only when something
/// asks for [`AbortGuard::signal`]: a transport that takes timeouts itself (see
/// [`TIMEOUT_KEY`]) is handed the time left and the caller's signal instead, and a call that sends
/// through it makes no controller and arms no timer of its own. When the controller is made, its
/// timer and the listener on the caller's signal are its own `abort` bound to it (no Rust
/// closure per call); the timer's passes [`timeout_reason`], which is how a timeout is told from
/// a cancel. When the last clone is dropped, the timer is cleared and the listener removed.
#[derive(Clone)]
pub struct AbortGuard {
    inner: std::rc::Rc<GuardInner>,
}

struct GuardInner {
    timeout_ms: u64,
    /// When the time is up, on the platform clock (ms).
    deadline_ms: f64,
    parent: Option<AbortSignal>,
    armed: std::cell::OnceCell<Armed>,
}

/// The controller of a guard, once one is needed.
struct Armed {
    signal: AbortSignal,
    timer: JsValue,
    /// The listener on the caller's signal, when there is one to remove.
    on_abort: Option<js_sys::Function>,
}

thread_local! {
    /// `AbortController.prototype.abort`, looked up once.
    static ABORT: js_sys::Function = Reflect::get(
        &Reflect::get(&js_sys::global(), &JsValue::from_str("AbortController"))
            .and_then(|c| Reflect::get(&c, &JsValue::from_str("prototype")))
            .unwrap_or(JsValue::UNDEFINED),
        &JsValue::from_str("abort"),
    )
    .ok()
    .and_then(|f| f.dyn_into().ok())
    .unwrap_or_else(|| js_sys::Function::new_no_args(""));
    /// The abort reason of every guard's timer: one error named `TimeoutError` with the
    /// client's code `TIMEOUT`, which a body stream cut by the deadline errors with too.
    static TIMEOUT_REASON: JsValue = {
        let err = js_sys::Error::new("the call timed out");
        err.set_name("TimeoutError");
        let _ = Reflect::set(&err, &JsValue::from_str("code"), &JsValue::from_str("TIMEOUT"));
        err.into()
    };
    static UNREF: JsValue = JsValue::from_str("unref");
}

/// The reason a guard's controller aborts with when its timer fires (and a transport that takes
/// timeouts rejects with).
pub(crate) fn timeout_reason() -> JsValue {
    TIMEOUT_REASON.with(JsValue::clone)
}

impl AbortGuard {
    /// A guard whose time is up after `timeout_ms`, and which aborts earlier when `parent` does.
    pub fn new(timeout_ms: u64, parent: Option<&AbortSignal>) -> Self {
        Self::started_at(js_sys::Date::now(), timeout_ms, parent)
    }

    /// A guard for a call that started at `started_ms` (the platform clock): its time is up
    /// `timeout_ms` after that.
    pub fn started_at(started_ms: f64, timeout_ms: u64, parent: Option<&AbortSignal>) -> Self {
        Self {
            inner: std::rc::Rc::new(GuardInner {
                timeout_ms,
                deadline_ms: started_ms + timeout_ms as f64,
                parent: parent.cloned(),
                armed: std::cell::OnceCell::new(),
            }),
        }
    }

    /// The signal to hand to `fetch` (or to wait on): made on first use, with a timer for the
    /// time left.
    pub fn signal(&self) -> Result<AbortSignal, Error> {
        if let Some(armed) = self.inner.armed.get() {
            return Ok(armed.signal.clone());
        }
        let armed = self.arm()?;
        let signal = armed.signal.clone();
        let _ = self.inner.armed.set(armed);
        Ok(signal)
    }

    fn arm(&self) -> Result<Armed, Error> {
        let inner = &self.inner;
        let controller = AbortController::new()
            .map_err(|e| Error::network(js_message(&e, "AbortController")))?;
        let signal = controller.signal();
        let on_timeout: js_sys::Function = ABORT
            .with(|abort| JsValue::from(abort.bind1(&controller, &timeout_reason())))
            .unchecked_into();
        let left = (inner.deadline_ms - js_sys::Date::now()).max(0.0);
        let timer = set_timeout(&on_timeout, left);
        // In Node the timer must not keep the process alive by itself (a guard may outlive its
        // call while a body is read): `unref` it where timers have that method.
        if let Ok(unref) = UNREF.with(|key| Reflect::get(&timer, key)) {
            if let Some(unref) = unref.dyn_ref::<js_sys::Function>() {
                let _ = unref.call0(&timer);
            }
        }
        let on_abort = match &inner.parent {
            Some(parent) if parent.aborted() => {
                controller.abort();
                None
            }
            Some(parent) => {
                let on_abort = ABORT.with(|abort| abort.bind0(&controller));
                let _ = parent.add_event_listener_with_callback("abort", &on_abort);
                Some(on_abort)
            }
            None => None,
        };
        Ok(Armed {
            signal,
            timer,
            on_abort,
        })
    }

    /// When the call started, its timeout and the caller's signal, if this guard has made no
    /// controller: then it bounds nothing by itself (a transport that takes timeouts does), and
    /// a guard made from these with [`AbortGuard::started_at`] explains a failure as this one would.
    #[cfg(feature = "js")]
    pub fn unarmed(&self) -> Option<(f64, u64, Option<AbortSignal>)> {
        let inner = &self.inner;
        inner.armed.get().is_none().then(|| {
            let started = inner.deadline_ms - inner.timeout_ms as f64;
            (started, inner.timeout_ms, inner.parent.clone())
        })
    }

    /// The time left before the deadline, in milliseconds (0 once it has passed).
    pub fn time_left_ms(&self) -> f64 {
        (self.inner.deadline_ms - js_sys::Date::now()).max(0.0)
    }

    /// Sets what a transport that takes timeouts needs on `init`: the caller's signal as its
    /// `signal`, and `[time left, reason]` under [`TIMEOUT_KEY`]. No controller, no timer here.
    pub(crate) fn hand_to_transport(&self, init: &RequestInit) -> Result<(), Error> {
        if let Some(parent) = &self.inner.parent {
            init.set_signal(Some(parent));
        }
        let timeout = Array::of2(&self.time_left_ms().into(), &timeout_reason());
        TIMEOUT_SYMBOL
            .with(|key| Reflect::set(init, key, &timeout))
            .map_err(|e| js_error(&e))?;
        Ok(())
    }

    /// The error for this guard's end, if it has ended: [`Error::Timeout`] when its time is up
    /// (`what` says what timed out), [`Error::Cancelled`] when the caller's signal aborted.
    pub fn error(&self, what: &'static str) -> Option<Error> {
        let timeout = || Error::Timeout {
            what,
            after_ms: self.inner.timeout_ms,
        };
        if let Some(armed) = self.inner.armed.get() {
            let signal = &armed.signal;
            return if !signal.aborted() {
                None
            } else if signal.reason() == timeout_reason() {
                Some(timeout())
            } else {
                Some(Error::Cancelled)
            };
        }
        if self.inner.parent.as_ref().is_some_and(AbortSignal::aborted) {
            Some(Error::Cancelled)
        } else if js_sys::Date::now() >= self.inner.deadline_ms {
            Some(timeout())
        } else {
            None
        }
    }

    /// Waits until `at_ms` (the platform clock), unless this guard ends first: then its error
    /// for `what`.
    pub async fn sleep_until(&self, at_ms: u64, what: &'static str) -> Result<(), Error> {
        let wait = at_ms.saturating_sub(now_ms());
        sleep_unless_aborted(wait, &self.signal()?).await;
        match self.error(what) {
            Some(err) => Err(err),
            None => Ok(()),
        }
    }

    /// The error for a rejected web API call: a timeout when it rejected with this guard's
    /// timeout reason (a transport that takes timeouts does), else the guard's own error if it
    /// has ended, else a network error.
    pub fn failure(&self, what: &'static str, err: &JsValue) -> Error {
        if *err == timeout_reason() {
            return Error::Timeout {
                what,
                after_ms: self.inner.timeout_ms,
            };
        }
        self.error(what).unwrap_or_else(|| network_error(err))
    }

    /// The error a read of an answer's body failed with, if this guard explains it (see
    /// [`AbortGuard::failure`]); `None` when it is the read's own failure.
    pub fn cut(&self, what: &'static str, err: &JsValue) -> Option<Error> {
        match self.failure(what, err) {
            Error::Network { .. } => None,
            cut => Some(cut),
        }
    }
}

impl Drop for GuardInner {
    fn drop(&mut self) {
        if let Some(armed) = self.armed.take() {
            clear_timeout(&armed.timer);
            if let (Some(parent), Some(on_abort)) = (&self.parent, &armed.on_abort) {
                let _ = parent.remove_event_listener_with_callback("abort", on_abort);
            }
        }
    }
}

/// The key (`Symbol.for(TIMEOUT_KEY)`) a transport function sets (to `true`) to say that it
/// bounds a request itself: instead of an `AbortSignal` of the client's, its `init` then carries
/// the caller's signal (if any) as `signal`, and `[ms, reason]` under `Symbol.for(TIMEOUT_KEY)`:
/// after `ms` milliseconds the request, and the reading of its answer's body, fail with `reason`
/// (the client's timeout reason, how it tells a timeout from other failures). The npm package's
/// Node transport does: a call through it makes no `AbortController` and no timer in the client.
pub const TIMEOUT_KEY: &str = "wxmedia.timeout";

thread_local! {
    static TIMEOUT_SYMBOL: JsValue = js_sys::Symbol::for_(TIMEOUT_KEY).into();
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test;

    #[wasm_bindgen_test]
    async fn a_guard_whose_time_is_up_is_a_timeout() {
        let guard = AbortGuard::new(15, None);
        assert!(guard.error("media").is_none());
        let signal = guard.signal().unwrap();
        aborted(&signal).await.unwrap();
        assert!(matches!(
            guard.error("media"),
            Some(Error::Timeout {
                what: "media",
                after_ms: 15
            })
        ));
        // The reason is the one a timeout is told by, named and coded for JS callers.
        assert_eq!(signal.reason(), timeout_reason());
        let name = Reflect::get(&signal.reason(), &"name".into()).unwrap();
        assert_eq!(name.as_string().as_deref(), Some("TimeoutError"));
    }

    #[wasm_bindgen_test]
    async fn the_callers_abort_is_a_cancel() {
        let caller = AbortController::new().unwrap();
        let guard = AbortGuard::new(60_000, Some(&caller.signal()));
        let signal = guard.signal().unwrap();
        caller.abort();
        aborted(&signal).await.unwrap();
        assert!(matches!(guard.error("token"), Some(Error::Cancelled)));
        // A rejection while the guard has ended is explained by the guard.
        let err = guard.failure("token", &JsValue::from_str("AbortError"));
        assert!(matches!(err, Error::Cancelled));
    }

    #[wasm_bindgen_test]
    fn an_unarmed_guard_judges_by_the_clock() {
        let past = AbortGuard::started_at(js_sys::Date::now() - 1_000.0, 10, None);
        assert_eq!(past.time_left_ms(), 0.0);
        assert!(matches!(past.error("media"), Some(Error::Timeout { .. })));
        let aborted_before = AbortController::new().unwrap();
        aborted_before.abort();
        let guard = AbortGuard::new(60_000, Some(&aborted_before.signal()));
        assert!(matches!(guard.error("media"), Some(Error::Cancelled)));
        // Arming it after the caller aborted aborts its own signal at once.
        assert!(guard.signal().unwrap().aborted());
    }

    #[wasm_bindgen_test]
    fn failures_the_guard_does_not_explain_are_network_errors() {
        let guard = AbortGuard::new(60_000, None);
        let err = js_sys::Error::new("socket hang up");
        assert!(matches!(guard.failure("media", &err), Error::Network(_)));
        assert!(guard.cut("media", &err).is_none());
        // The timeout reason is a timeout whoever rejects with it (a transport that bounds
        // requests itself does).
        assert!(matches!(
            guard.failure("media", &timeout_reason()),
            Error::Timeout { .. }
        ));
    }

    #[wasm_bindgen_test]
    fn a_transport_that_takes_timeouts_gets_the_time_left_and_no_controller() {
        let caller = AbortController::new().unwrap();
        let guard = AbortGuard::new(5_000, Some(&caller.signal()));
        let init = RequestInit::new();
        guard.hand_to_transport(&init).unwrap();
        let key = js_sys::Symbol::for_(TIMEOUT_KEY);
        let timeout: Array = Reflect::get(&init, &key).unwrap().unchecked_into();
        let left = timeout.get(0).as_f64().unwrap();
        assert!(left > 4_000.0 && left <= 5_000.0, "{left}");
        assert_eq!(timeout.get(1), timeout_reason());
        assert_eq!(init.get_signal(), Some(caller.signal()));
        #[cfg(feature = "js")]
        assert!(guard.unarmed().is_some());
    }

    #[wasm_bindgen_test]
    async fn sleeps_end_early_on_abort() {
        let caller = AbortController::new().unwrap();
        caller.abort();
        let start = now_ms();
        sleep_unless_aborted(60_000, &caller.signal()).await;
        assert!(now_ms() - start < 1_000);
        let guard = AbortGuard::new(20, None);
        let slept = guard.sleep_until(now_ms() + 60_000, "token").await;
        assert!(matches!(slept, Err(Error::Timeout { what: "token", .. })));
        let guard = AbortGuard::new(60_000, None);
        assert!(guard.sleep_until(now_ms() + 5, "token").await.is_ok());
    }
}
