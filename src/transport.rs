//! The Fetch API edge: the global `fetch`, timers, the clock, stream helpers, and every
//! conversion between the protocol core's values (`http::Request`, `http::HeaderMap`, bytes) and
//! the web platform's (`Request`, `Headers`, `Blob`, `FormData`, `ReadableStream`).
//!
//! It binds the *global* `fetch` and `setTimeout`, never `window`, so the same code runs in
//! Node, browsers and Cloudflare Workers.

use js_sys::{Array, Promise, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{
    AbortController, AbortSignal, Blob, BlobPropertyBag, FormData, ReadableStream,
    ReadableStreamDefaultReader, RequestInit, RequestRedirect,
};

use crate::protocol::request::UPLOAD_FIELD;
use crate::protocol::response::MAX_JSON_LEN;
use crate::protocol::{Error, SNIFF_LEN};

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_name = fetch)]
    fn global_fetch(url: &str, init: &RequestInit) -> Promise;
    #[wasm_bindgen(js_name = setTimeout)]
    fn set_timeout(handler: &js_sys::Function, ms: f64) -> JsValue;
    #[wasm_bindgen(js_name = clearTimeout)]
    fn clear_timeout(id: &JsValue);
    #[cfg(feature = "js")]
    #[wasm_bindgen(js_name = queueMicrotask)]
    fn queue_microtask(f: &js_sys::Function);
}

#[wasm_bindgen]
extern "C" {
    /// [`SETTLE`]'s closure, seen as the function it is (for `bind`).
    type SettleFn;
    #[wasm_bindgen(method, js_name = bind)]
    fn bind_settle(this: &SettleFn, context: &JsValue, id: f64, ok: bool) -> js_sys::Function;
    /// A promise, for `then` with both callbacks as plain functions.
    type Thenable;
    #[wasm_bindgen(method, js_name = then)]
    fn then_both(
        this: &Thenable,
        fulfilled: &js_sys::Function,
        rejected: &js_sys::Function,
    ) -> Promise;
}

/// Entries by id: a handful at a time, so a list searched from the end (the newest first) beats
/// a map, and keeps the wasm small.
struct Slab<T> {
    next_id: u64,
    entries: Vec<(u64, T)>,
}

impl<T> Slab<T> {
    const fn new() -> Self {
        Slab {
            next_id: 0,
            entries: Vec::new(),
        }
    }

    fn insert(&mut self, value: T) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        self.entries.push((id, value));
        id
    }

    /// Puts back an entry taken out with [`Slab::remove`], under the same id.
    fn put(&mut self, id: u64, value: T) {
        self.entries.push((id, value));
    }

    fn get_mut(&mut self, id: u64) -> Option<&mut T> {
        self.entries
            .iter_mut()
            .rev()
            .find(|(key, _)| *key == id)
            .map(|(_, value)| value)
    }

    fn remove(&mut self, id: u64) -> Option<T> {
        let at = self.entries.iter().rposition(|(key, _)| *key == id)?;
        Some(self.entries.swap_remove(at).1)
    }
}

/// A promise not settled yet, by what waits for it.
enum Pending {
    /// A [`Settled`] future: what the promise settled with, and the task to wake.
    Future {
        result: Option<Result<JsValue, JsValue>>,
        waker: Option<std::task::Waker>,
    },
    /// A [`then_map`] callback.
    Map(OnSettled),
}

/// What [`then_map`] does with a promise's outcome.
type OnSettled = Box<dyn FnOnce(Result<JsValue, JsValue>) -> Result<JsValue, JsValue>>;

thread_local! {
    /// The promises [`Settled`] and [`then_map`] wait for.
    static PENDING: std::cell::RefCell<Slab<Pending>> =
        const { std::cell::RefCell::new(Slab::new()) };
    /// The one closure every such promise calls back, bound to its id and outcome: it stores the
    /// outcome for a future (and wakes its task), or returns what a `then_map` callback makes of
    /// it (the `then` promise's outcome).
    static SETTLE: SettleFn =
        Closure::<dyn FnMut(f64, bool, JsValue) -> Result<JsValue, JsValue>>::new(settle)
            .into_js_value()
            .unchecked_into();
}

/// [`SETTLE`]'s body.
fn settle(id: f64, ok: bool, value: JsValue) -> Result<JsValue, JsValue> {
    let id = id as u64;
    let outcome = if ok { Ok(value) } else { Err(value) };
    match PENDING.with(|p| p.borrow_mut().remove(id)) {
        // A `then_map`: its callback decides.
        Some(Pending::Map(f)) => f(outcome),
        Some(Pending::Future { waker, .. }) => {
            // Back with its outcome, for the future's next poll.
            let done = Pending::Future {
                result: Some(outcome),
                waker: None,
            };
            PENDING.with(|p| p.borrow_mut().put(id, done));
            if let Some(waker) = waker {
                // Nothing is held here: a task of the npm API's that this wakes goes on now
                // (queued only, as if during a poll, so no microtask is queued to poll it too).
                #[cfg(feature = "js")]
                let polling = POLLING.with(|p| p.replace(true));
                waker.wake();
                #[cfg(feature = "js")]
                {
                    POLLING.with(|p| p.set(polling));
                    run_ready_now();
                }
            }
            Ok(JsValue::UNDEFINED)
        }
        // Its future was dropped: nobody waits.
        None => Ok(JsValue::UNDEFINED),
    }
}

/// Has `promise` call [`SETTLE`] with `id` when it settles; the `then` promise.
fn on_settled(promise: &Promise, id: u64) -> Promise {
    SETTLE.with(|settle| {
        // (Ids stay exact as JS numbers: 2^53 promises are never reached.)
        let fulfilled = settle.bind_settle(&JsValue::NULL, id as f64, true);
        let rejected = settle.bind_settle(&JsValue::NULL, id as f64, false);
        promise
            .unchecked_ref::<Thenable>()
            .then_both(&fulfilled, &rejected)
    })
}

/// A promise as a future: what it fulfils with, or what it rejects with.
///
/// Like `wasm_bindgen_futures::JsFuture`, but the promise calls back one closure made once per
/// thread, bound to this future's id, instead of two closures made (and registered for
/// finalization) for every promise: that was the largest cost of a call in Node.
pub struct Settled {
    id: u64,
    done: bool,
}

impl Settled {
    /// Waits for `promise`.
    pub fn new(promise: &Promise) -> Self {
        let id = PENDING.with(|p| {
            p.borrow_mut().insert(Pending::Future {
                result: None,
                waker: None,
            })
        });
        let _ = on_settled(promise, id);
        Settled { id, done: false }
    }
}

impl std::future::Future for Settled {
    type Output = Result<JsValue, JsValue>;

    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Self::Output> {
        let id = self.id;
        let ready = PENDING.with(|p| {
            let mut p = p.borrow_mut();
            let Some(Pending::Future { result, waker }) = p.get_mut(id) else {
                return None;
            };
            match result.take() {
                Some(result) => {
                    p.remove(id);
                    Some(result)
                }
                None => {
                    *waker = Some(cx.waker().clone());
                    None
                }
            }
        });
        match ready {
            Some(result) => {
                self.done = true;
                std::task::Poll::Ready(result)
            }
            None => std::task::Poll::Pending,
        }
    }
}

/// `promise.then(…)` with `f` deciding what the new promise fulfils (`Ok`) or rejects (`Err`)
/// with, given what `promise` settled with. Like [`Settled`], it makes no closure per promise: for
/// a step that needs no task of its own (a body read that only maps its error).
pub fn then_map(
    promise: &Promise,
    f: impl FnOnce(Result<JsValue, JsValue>) -> Result<JsValue, JsValue> + 'static,
) -> Promise {
    let id = PENDING.with(|p| p.borrow_mut().insert(Pending::Map(Box::new(f))));
    on_settled(promise, id)
}

/// How many promises [`Settled`] futures and [`then_map`] callbacks are waiting for (none once
/// every one has settled or been dropped): for tests and diagnostics.
pub fn waiting_promises() -> usize {
    PENDING.with(|p| p.borrow().entries.len())
}

impl Drop for Settled {
    fn drop(&mut self) {
        if !self.done {
            // A promise that settles after nobody waits for it finds no entry.
            PENDING.with(|p| p.borrow_mut().remove(self.id));
        }
    }
}

#[cfg(feature = "js")]
/// A task of [`spawn_promise`]: its future, taken out while it is being polled.
type TaskFuture = std::pin::Pin<Box<dyn std::future::Future<Output = ()>>>;

#[cfg(feature = "js")]
thread_local! {
    /// The tasks not finished yet.
    static TASKS: std::cell::RefCell<Slab<Option<TaskFuture>>> =
        const { std::cell::RefCell::new(Slab::new()) };
    /// The tasks woken and not polled since, in order.
    static READY: std::cell::RefCell<std::collections::VecDeque<u64>> =
        const { std::cell::RefCell::new(std::collections::VecDeque::new()) };
    /// Set while tasks are being polled: a wake then only queues its task.
    static POLLING: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    /// Set while a microtask to poll the queue is pending.
    static DRAIN_QUEUED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    /// The microtask that polls the queue.
    static DRAIN: js_sys::Function = Closure::<dyn FnMut()>::new(|| {
        DRAIN_QUEUED.with(|q| q.set(false));
        run_ready_now();
    })
    .into_js_value()
    .unchecked_into();
}

#[cfg(feature = "js")]
/// Wakes a task of [`spawn_promise`] by its id.
struct TaskWaker(u64);

#[cfg(feature = "js")]
impl std::task::Wake for TaskWaker {
    fn wake(self: std::sync::Arc<Self>) {
        wake_task(self.0);
    }

    fn wake_by_ref(self: &std::sync::Arc<Self>) {
        wake_task(self.0);
    }
}

#[cfg(feature = "js")]
/// Queues task `id`. A waker may be called from anywhere (even with a lock of the waking
/// future held), so it only queues, and a microtask polls the queue if nothing else does first.
fn wake_task(id: u64) {
    READY.with(|r| r.borrow_mut().push_back(id));
    if !POLLING.with(|p| p.get()) && !DRAIN_QUEUED.with(|q| q.replace(true)) {
        DRAIN.with(queue_microtask);
    }
}

#[cfg(feature = "js")]
/// Polls the queued tasks now, unless they are being polled already. Called where nothing is
/// held: the start of a call ([`spawn_promise`]) and a settled promise's callback ([`Settled`]),
/// so a task woken by a promise goes on in that promise's callback, not a microtask later.
pub(crate) fn run_ready_now() {
    if !POLLING.with(|p| p.get()) {
        run_ready();
    }
}

#[cfg(feature = "js")]
/// Polls the queued tasks until none is left.
fn run_ready() {
    POLLING.with(|p| p.set(true));
    while let Some(id) = READY.with(|r| r.borrow_mut().pop_front()) {
        // The future leaves the slab while it is polled, which may spawn or wake tasks.
        let Some(mut future) = TASKS.with(|t| t.borrow_mut().get_mut(id).and_then(Option::take))
        else {
            continue; // finished, or already being polled
        };
        let waker = std::task::Waker::from(std::sync::Arc::new(TaskWaker(id)));
        let mut cx = std::task::Context::from_waker(&waker);
        match future.as_mut().poll(&mut cx) {
            std::task::Poll::Ready(()) => {
                TASKS.with(|t| t.borrow_mut().remove(id));
            }
            std::task::Poll::Pending => {
                TASKS.with(|t| {
                    if let Some(slot) = t.borrow_mut().get_mut(id) {
                        *slot = Some(future);
                    }
                });
            }
        }
    }
    POLLING.with(|p| p.set(false));
}

#[cfg(feature = "js")]
/// Runs `future` as a task and returns a promise of its outcome, as
/// `wasm_bindgen_futures::future_to_promise` does, but the task's first poll happens now (the
/// request of a call goes out before this returns) and a task woken by a settled promise goes
/// on in that promise's callback: two microtask hops fewer per call. It is the npm API's
/// executor; the Worker's requests run on workers-rs's.
pub fn spawn_promise(
    future: impl std::future::Future<Output = Result<JsValue, JsValue>> + 'static,
) -> Promise {
    let mut settle = None;
    let promise = Promise::new(&mut |resolve, reject| settle = Some((resolve, reject)));
    let Some((resolve, reject)) = settle else {
        return promise;
    };
    let task: TaskFuture = Box::pin(async move {
        let _ = match future.await {
            Ok(value) => resolve.call1(&JsValue::UNDEFINED, &value),
            Err(err) => reject.call1(&JsValue::UNDEFINED, &err),
        };
    });
    let id = TASKS.with(|t| t.borrow_mut().insert(Some(task)));
    READY.with(|r| r.borrow_mut().push_back(id));
    run_ready_now();
    promise
}

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

/// A stream with no bytes, for answers without a body.
pub fn empty_stream() -> Result<ReadableStream, Error> {
    web_sys::Response::new_with_opt_u8_array(Some(&mut []))
        .map_err(|e| network_error(&e))?
        .body()
        .ok_or_else(|| Error::network("an empty Response has no body stream"))
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
    fn hand_to_transport(&self, init: &RequestInit) -> Result<(), Error> {
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

/// The transport a client sends with: the global `fetch`, or the caller's `fetch(url, init)`
/// function, with what it says it takes besides the Fetch API's shapes (read once).
#[derive(Clone, Debug)]
pub struct Transport {
    function: js_sys::Function,
    form_parts: bool,
    timeouts: bool,
}

impl Transport {
    /// The caller's `fetch(url, init)` (it must resolve to a `Response`), and whether it takes
    /// forms as parts ([`FORM_PARTS_KEY`]) and timeouts ([`TIMEOUT_KEY`]).
    pub fn new(function: js_sys::Function) -> Self {
        let marked = |key: &str| {
            Reflect::get(&function, &js_sys::Symbol::for_(key))
                .is_ok_and(|v| v.as_bool() == Some(true))
        };
        Transport {
            form_parts: marked(FORM_PARTS_KEY),
            timeouts: marked(TIMEOUT_KEY),
            function,
        }
    }

    /// Whether it takes a form as parts (see [`FORM_PARTS_KEY`]).
    pub fn takes_form_parts(&self) -> bool {
        self.form_parts
    }

    /// Whether it bounds requests itself (see [`TIMEOUT_KEY`]).
    pub fn takes_timeouts(&self) -> bool {
        self.timeouts
    }
}

/// A request ready for `fetch(url, init)`.
pub struct Outgoing {
    url: String,
    init: RequestInit,
}

/// Sends `request` with the global `fetch`, or with the caller's transport when one is
/// configured (it must resolve to a `Response`), bounded by `guard`: through its signal, or, for
/// a transport that takes timeouts, the time left and the caller's signal. An end of the guard
/// becomes [`Error::Timeout`] or [`Error::Cancelled`]; anything else that rejects becomes
/// [`Error::Network`] (whose message never includes the URL: it carries the access token).
pub async fn fetch(
    request: &Outgoing,
    guard: &AbortGuard,
    what: &'static str,
    custom: Option<&Transport>,
) -> Result<web_sys::Response, Error> {
    let init = &request.init;
    let promise = match custom {
        None => {
            init.set_signal(Some(&guard.signal()?));
            global_fetch(&request.url, init)
        }
        Some(transport) => {
            if transport.timeouts {
                guard.hand_to_transport(init)?;
            } else {
                init.set_signal(Some(&guard.signal()?));
            }
            match transport.function.call2(
                &JsValue::UNDEFINED,
                &JsValue::from_str(&request.url),
                init,
            ) {
                Ok(value) => Promise::resolve(&value),
                Err(err) => Promise::reject(&err),
            }
        }
    };
    let answer = Settled::new(&promise)
        .await
        .map_err(|err| guard.failure(what, &err))?;
    answer
        .dyn_into::<web_sys::Response>()
        .map_err(|_| Error::network("the fetch option did not resolve to a Response"))
}

/// A network failure, described without any URL.
pub fn network_error(err: &JsValue) -> Error {
    Error::network(js_message(err, "fetch failed"))
}

/// The `message` of a thrown JS value (plus its `cause`'s, which Node puts the real reason in).
pub fn js_message(err: &JsValue, fallback: &str) -> String {
    let text = |v: &JsValue| {
        Reflect::get(v, &JsValue::from_str("message"))
            .ok()
            .and_then(|m| m.as_string())
    };
    let mut message = text(err)
        .or_else(|| err.as_string())
        .unwrap_or_else(|| fallback.to_string());
    if let Ok(cause) = Reflect::get(err, &JsValue::from_str("cause")) {
        if let Some(c) = text(&cause) {
            message = format!("{message}: {c}");
        }
    }
    message
}

/// Splits a stream into two branches that each see every chunk.
pub fn tee(stream: &ReadableStream) -> (ReadableStream, ReadableStream) {
    let branches: Array = stream.tee();
    (
        branches.get(0).unchecked_into(),
        branches.get(1).unchecked_into(),
    )
}

/// A reader over a stream's chunks.
pub struct ChunkReader {
    reader: ReadableStreamDefaultReader,
}

impl ChunkReader {
    /// Locks `stream` for reading.
    pub fn new(stream: &ReadableStream) -> Self {
        Self {
            reader: stream.get_reader().unchecked_into(),
        }
    }

    /// The next chunk, still in JS memory, or `None` at the end of the stream.
    pub async fn next_js(&self) -> Result<Option<Uint8Array>, JsValue> {
        let result = Settled::new(&self.reader.read()).await?;
        let done = Reflect::get(&result, &JsValue::from_str("done"))?
            .as_bool()
            .unwrap_or(true);
        if done {
            return Ok(None);
        }
        let value = Reflect::get(&result, &JsValue::from_str("value"))?;
        Ok(Some(Uint8Array::new(&value)))
    }

    /// Appends the rest of the stream to `bytes` as long as the whole stays within `max` bytes.
    /// `Ok(false)` once the next chunk would pass it: the stream is then left where it stopped.
    pub async fn read_rest(&self, bytes: &mut Vec<u8>, max: usize) -> Result<bool, JsValue> {
        while let Some(chunk) = self.next_js().await? {
            let at = bytes.len();
            let len = chunk.length() as usize;
            if at + len > max {
                return Ok(false);
            }
            bytes.resize(at + len, 0);
            chunk.copy_to(&mut bytes[at..]);
        }
        Ok(true)
    }

    /// Cancels the stream: the rest of its bytes are not wanted.
    pub fn cancel(&self) {
        let _ = self.reader.cancel();
    }
}

/// Cancels a stream nobody will read, so its source can stop.
pub fn discard(stream: &ReadableStream) {
    let _ = stream.cancel();
}

/// At most `max` bytes of a chunk, copied into wasm memory (the rest stays in JS memory).
pub fn prefix(chunk: &Uint8Array, max: usize) -> Vec<u8> {
    let len = chunk.length().min(u32::try_from(max).unwrap_or(u32::MAX));
    chunk.subarray(0, len).to_vec()
}

/// An unexpected exception from a web API, as a network error (redacted).
pub fn js_error(err: &JsValue) -> Error {
    network_error(err)
}

/// The init every request of the client's starts from: `method`, and an upstream redirect handed back as an upstream error (3xx), never followed to another host.
fn request_init(method: &str) -> RequestInit {
    let init = RequestInit::new();
    if method != "GET" {
        // (GET is fetch's default: a download's init has no method to convert.)
        init.set_method(method);
    }
    init.set_redirect(RequestRedirect::Manual);
    init
}

/// A `GET` of `url` (a download: no headers, no body).
pub fn get_request(url: String) -> Outgoing {
    Outgoing {
        url,
        init: request_init("GET"),
    }
}

/// A `fetch` request for a request built by the protocol core.
pub fn to_web_request(request: &http::Request<Vec<u8>>) -> Result<Outgoing, Error> {
    let init = request_init(request.method().as_str());
    // A plain record (fetch takes one): cheaper to make than `Headers`, and none at all for the
    // downloads, which send no header.
    if !request.headers().is_empty() {
        let headers = js_sys::Object::new();
        for (name, value) in request.headers() {
            if let Ok(value) = value.to_str() {
                Reflect::set(&headers, &JsValue::from_str(name.as_str()), &value.into())
                    .map_err(|e| js_error(&e))?;
            }
        }
        init.set_headers(&headers);
    }
    if !request.body().is_empty() {
        init.set_body(&Uint8Array::from(request.body().as_slice()));
    }
    Ok(Outgoing {
        url: request.uri().to_string(),
        init,
    })
}

/// The media an upload sends: a `Blob` (a file, or bytes already wrapped) or bytes as the caller
/// holds them. Neither is copied into wasm memory; only the first [`SNIFF_LEN`] bytes are read to
/// sniff the format.
#[derive(Clone)]
pub enum UploadMedia {
    /// A Blob (or File), sent as it is.
    Blob(Blob),
    /// Bytes: handed to a transport that takes form parts as bytes (see
    /// [`takes_form_parts`]) as they are, else wrapped in a Blob once per call.
    Bytes(Uint8Array),
}

impl UploadMedia {
    /// The size in bytes.
    pub fn size(&self) -> u64 {
        match self {
            UploadMedia::Blob(blob) => blob.size() as u64,
            UploadMedia::Bytes(bytes) => u64::from(bytes.length()),
        }
    }

    /// The first [`SNIFF_LEN`] bytes, for format detection (read from a Blob, copied from bytes).
    pub async fn head(&self) -> Result<Vec<u8>, Error> {
        match self {
            UploadMedia::Blob(blob) => read_head(blob).await,
            UploadMedia::Bytes(bytes) => Ok(prefix(bytes, SNIFF_LEN)),
        }
    }

    /// What each attempt's form carries, with `content_type` as the part's type: bytes stay bytes
    /// for a transport that takes them (`parts`), anything else becomes a Blob of that type (its
    /// bytes are not copied again from one attempt to the next).
    pub fn form_body(&self, content_type: &str, parts: bool) -> Result<FormBody, Error> {
        Ok(match self {
            UploadMedia::Bytes(bytes) if parts => FormBody::Bytes {
                bytes: bytes.clone(),
                content_type: content_type.to_string(),
            },
            UploadMedia::Bytes(bytes) => FormBody::Blob(blob_of(bytes, content_type)?),
            UploadMedia::Blob(blob) => FormBody::Blob(typed_blob(blob, content_type)?),
        })
    }
}

/// The media part of an upload's form, as each attempt sends it.
#[derive(Clone)]
pub enum FormBody {
    /// A `FormData` holding this Blob.
    Blob(Blob),
    /// The bytes as a form part of the given type, for a transport that [`takes_form_parts`].
    Bytes {
        /// The media.
        bytes: Uint8Array,
        /// The part's Content-Type.
        content_type: String,
    },
}

/// The key a transport function sets (to `true`) to say that it takes, besides `FormData`, a
/// form given as an array of `[name, { name: filename, type, data }]` entries (the shape a
/// `FormData` iterates in, with the bytes in `data`). The npm package's Node transport does, so
/// bytes a caller holds go out without being copied into a Blob and read back.
pub const FORM_PARTS_KEY: &str = "wxmedia.formParts";

/// An upload request: `POST url` with a fresh form whose `media` part is `body` named `filename`.
/// Built anew for every attempt (a spent body is never re-sent); the media's bytes are not
/// copied.
pub fn upload_request(url: &str, body: &FormBody, filename: &str) -> Result<Outgoing, Error> {
    let init = request_init("POST");
    match body {
        FormBody::Blob(blob) => {
            let form = FormData::new().map_err(|e| js_error(&e))?;
            form.append_with_blob_and_filename(UPLOAD_FIELD, blob, filename)
                .map_err(|e| js_error(&e))?;
            init.set_body(&form);
        }
        FormBody::Bytes {
            bytes,
            content_type,
        } => {
            let part = js_sys::Object::new();
            for (key, value) in [
                ("name", JsValue::from_str(filename)),
                ("type", JsValue::from_str(content_type)),
                ("data", bytes.into()),
            ] {
                Reflect::set(&part, &JsValue::from_str(key), &value).map_err(|e| js_error(&e))?;
            }
            let entry = Array::of2(&JsValue::from_str(UPLOAD_FIELD), &part);
            init.set_body(&Array::of1(&entry));
        }
    }
    Ok(Outgoing {
        url: url.to_string(),
        init,
    })
}

#[wasm_bindgen]
extern "C" {
    /// A `Headers`, for `get(name)` with the name as a JS string made once (web-sys's `get`
    /// decodes the name from wasm memory on every call).
    type HeadersByName;
    #[wasm_bindgen(method, catch, js_name = get)]
    fn get_named(this: &HeadersByName, name: &JsValue) -> Result<Option<String>, JsValue>;
}

/// The headers [`header_map`] reads.
const READ_HEADERS: [http::HeaderName; 3] = [
    http::header::CONTENT_TYPE,
    http::header::CONTENT_DISPOSITION,
    http::header::CONTENT_LENGTH,
];

thread_local! {
    /// [`READ_HEADERS`]' names as JS strings.
    static READ_HEADER_NAMES: [JsValue; 3] =
        READ_HEADERS.each_ref().map(|name| JsValue::from_str(name.as_str()));
}

/// The headers the classifier reads, as an `http::HeaderMap`. Fetch exposes header values as
/// byte strings (one char per byte): they are turned back into the bytes that were sent, so a raw
/// UTF-8 filename survives.
pub fn header_map(response: &web_sys::Response) -> http::HeaderMap {
    let mut map = http::HeaderMap::new();
    let headers = response.headers();
    let headers: &HeadersByName = headers.unchecked_ref();
    READ_HEADER_NAMES.with(|names| {
        for (name, js_name) in READ_HEADERS.into_iter().zip(names) {
            let Ok(Some(value)) = headers.get_named(js_name) else {
                continue;
            };
            let bytes: Vec<u8> = if value.is_ascii() {
                value.into_bytes()
            } else if value.chars().all(|c| (c as u32) < 256) {
                value.chars().map(|c| c as u8).collect()
            } else {
                value.into_bytes()
            };
            if let Ok(value) = http::HeaderValue::from_bytes(&bytes) {
                map.insert(name, value);
            }
        }
    });
    map
}

/// The body of an answer that must be JSON (a token, an upload's result): a non-2xx status is an
/// [`Error::Http`] (its body discarded), else the body read by [`read_small_body`].
pub async fn read_json_answer(
    response: &web_sys::Response,
    guard: &AbortGuard,
    what: &'static str,
) -> Result<Vec<u8>, Error> {
    if !(200..300).contains(&response.status()) {
        if let Some(body) = response.body() {
            discard(&body);
        }
        return Err(Error::Http {
            status: response.status(),
        });
    }
    read_small_body(response, guard, what).await
}

/// Reads a small answer (token or upload JSON) whole, refusing one larger than [`MAX_JSON_LEN`]:
/// by its Content-Length before reading, or, without one (chunked), as soon as more arrives.
pub async fn read_small_body(
    response: &web_sys::Response,
    guard: &AbortGuard,
    what: &'static str,
) -> Result<Vec<u8>, Error> {
    let declared = response
        .headers()
        .get("content-length")
        .ok()
        .flatten()
        .and_then(|v| v.trim().parse::<usize>().ok());
    let too_large = |size: &str| Error::Parse {
        message: format!("answer of {size} bytes where JSON was expected"),
        raw: Vec::new(),
    };
    match declared {
        Some(declared) if declared > MAX_JSON_LEN => {
            if let Some(body) = response.body() {
                discard(&body);
            }
            Err(too_large(&declared.to_string()))
        }
        Some(_) => {
            let promise = response.array_buffer().map_err(|e| js_error(&e))?;
            let buffer = Settled::new(&promise)
                .await
                .map_err(|e| guard.failure(what, &e))?;
            Ok(Uint8Array::new(&buffer).to_vec())
        }
        None => {
            let Some(body) = response.body() else {
                return Ok(Vec::new());
            };
            let reader = ChunkReader::new(&body);
            let mut bytes = Vec::new();
            let whole = reader
                .read_rest(&mut bytes, MAX_JSON_LEN)
                .await
                .map_err(|e| guard.failure(what, &e))?;
            if !whole {
                reader.cancel();
                return Err(too_large(&format!("more than {MAX_JSON_LEN}")));
            }
            Ok(bytes)
        }
    }
}

/// The first [`SNIFF_LEN`] bytes of a blob, for format detection.
pub async fn read_head(blob: &Blob) -> Result<Vec<u8>, Error> {
    let head = blob
        .slice_with_f64_and_f64(0.0, SNIFF_LEN as f64)
        .map_err(|e| js_error(&e))?;
    let buffer = Settled::new(&head.array_buffer())
        .await
        .map_err(|e| js_error(&e))?;
    Ok(Uint8Array::new(&buffer).to_vec())
}

/// A blob with the same bytes as `blob` and the given type (the bytes are not copied).
pub fn typed_blob(blob: &Blob, content_type: &str) -> Result<Blob, Error> {
    if blob.type_() == content_type {
        return Ok(blob.clone());
    }
    blob_of(blob, content_type)
}

/// `new Blob([part], { type })`: a Blob part is not copied, bytes are (once, in JS).
fn blob_of(part: &JsValue, content_type: &str) -> Result<Blob, Error> {
    let options = BlobPropertyBag::new();
    options.set_type(content_type);
    Blob::new_with_blob_sequence_and_options(&Array::of1(part), &options).map_err(|e| js_error(&e))
}

/// A promise of a stream's bytes read whole into one Blob (runtime memory, never wasm memory).
pub fn read_whole(stream: &ReadableStream) -> Result<Promise, JsValue> {
    web_sys::Response::new_with_opt_readable_stream(Some(stream))?.blob()
}

/// A stream's bytes read whole into one Blob, chunk by chunk (counted, never copied into wasm
/// memory), as long as they stay within `max` bytes: `Ok(None)` past it, the stream cancelled.
pub async fn read_whole_within(stream: &ReadableStream, max: u64) -> Result<Option<Blob>, JsValue> {
    let reader = ChunkReader::new(stream);
    let parts = js_sys::Array::new();
    let mut total = 0u64;
    while let Some(chunk) = reader.next_js().await? {
        total += u64::from(chunk.length());
        if total > max {
            reader.cancel();
            return Ok(None);
        }
        parts.push(&chunk);
    }
    Blob::new_with_u8_array_sequence(&parts).map(Some)
}
