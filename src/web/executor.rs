//! A small executor for futures over JS promises: [`Settled`] awaits a promise with one shared
//! settle callback (no closure per promise), [`spawn_promise`] runs a future as a JS promise, and
//! tasks are polled from one microtask queue.

use js_sys::Promise;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

#[cfg(feature = "js")]
use super::queue_microtask;

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

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test;

    fn never() -> Promise {
        Promise::new(&mut |_, _| {})
    }

    #[wasm_bindgen_test]
    async fn settled_gives_what_the_promise_settles_with() {
        let ok = Settled::new(&Promise::resolve(&JsValue::from(7))).await;
        assert_eq!(ok.unwrap().as_f64(), Some(7.0));
        let err = Settled::new(&Promise::reject(&JsValue::from("no"))).await;
        assert_eq!(err.unwrap_err().as_string().as_deref(), Some("no"));
    }

    #[wasm_bindgen_test]
    async fn a_wait_nobody_awaits_leaves_nothing_behind() {
        let before = waiting_promises();
        let waits: Vec<Settled> = (0..5).map(|_| Settled::new(&never())).collect();
        assert_eq!(waiting_promises(), before + 5);
        drop(waits);
        assert_eq!(waiting_promises(), before);
        // A settled promise whose future is gone finds no entry (and nothing breaks).
        let settles = Promise::resolve(&JsValue::from(1));
        drop(Settled::new(&settles));
        Settled::new(&Promise::resolve(&JsValue::from(2)))
            .await
            .unwrap();
        assert_eq!(waiting_promises(), before);
    }

    #[wasm_bindgen_test]
    async fn then_map_decides_the_outcome() {
        let mapped = then_map(&Promise::resolve(&JsValue::from(3)), |r| {
            r.map(|v| JsValue::from(v.as_f64().unwrap() * 2.0))
        });
        assert_eq!(Settled::new(&mapped).await.unwrap().as_f64(), Some(6.0));
        let refused = then_map(&Promise::resolve(&JsValue::from(3)), |_| Err("bad".into()));
        assert!(Settled::new(&refused).await.is_err());
    }

    #[cfg(feature = "js")]
    #[wasm_bindgen_test]
    async fn spawn_promise_polls_at_once_and_settles() {
        use std::cell::Cell;
        use std::rc::Rc;
        let started = Rc::new(Cell::new(false));
        let seen = started.clone();
        let promise = spawn_promise(async move {
            seen.set(true);
            let v = Settled::new(&Promise::resolve(&JsValue::from(20))).await?;
            Ok(JsValue::from(v.as_f64().unwrap() + 1.0))
        });
        // The first poll happened before spawn_promise returned.
        assert!(started.get());
        assert_eq!(Settled::new(&promise).await.unwrap().as_f64(), Some(21.0));
        let failed = spawn_promise(async { Err(JsValue::from_str("failed")) });
        assert_eq!(
            Settled::new(&failed)
                .await
                .unwrap_err()
                .as_string()
                .as_deref(),
            Some("failed")
        );
    }
}
