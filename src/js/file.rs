//! `MediaFile`: downloaded media whose body is read once, within the call's deadline and signal.

use super::*;

/// Downloaded media: its metadata and its bytes, readable once (as a stream, an ArrayBuffer or a
/// Blob), like a `Response` body.
#[wasm_bindgen]
pub struct MediaFile {
    content_type: String,
    filename: Option<String>,
    content_length: Option<f64>,
    /// The answer, until its body is read whole: then it is let go (with the runtime's own
    /// state of the answer), so it does not live on until this object is finalized.
    response: std::cell::RefCell<Option<web_sys::Response>>,
    /// The call's deadline and signal, which bound reading the body too; dropped once it is read.
    deadline: std::cell::RefCell<Option<crate::web::AbortGuard>>,
    /// For a body of unknown length, the most bytes a read takes before it fails (WeChat's limit
    /// for the media's type plus a margin): such a body is counted as it is read whole.
    cap: Option<u64>,
}

#[wasm_bindgen]
impl MediaFile {
    /// Always `"media"` (a video link has kind `"video"`).
    #[wasm_bindgen(getter, unchecked_return_type = "'media'")]
    pub fn kind(&self) -> String {
        "media".to_string()
    }

    /// The media's Content-Type (`application/octet-stream` when WeChat gave none).
    #[wasm_bindgen(getter, js_name = contentType)]
    pub fn content_type(&self) -> String {
        self.content_type.clone()
    }

    /// The filename from Content-Disposition (`filename*` preferred), or null.
    #[wasm_bindgen(getter)]
    pub fn filename(&self) -> Option<String> {
        self.filename.clone()
    }

    /// The announced length in bytes, or null.
    #[wasm_bindgen(getter, js_name = contentLength)]
    pub fn content_length(&self) -> Option<f64> {
        self.content_length
    }

    /// The bytes as a stream. Reading fails if the connection ends short of its length.
    #[wasm_bindgen(getter, unchecked_return_type = "ReadableStream<Uint8Array>")]
    pub fn body(&self) -> Option<ReadableStream> {
        self.response.borrow().as_ref().and_then(|r| r.body())
    }

    /// Whether the body has been read.
    #[wasm_bindgen(getter, js_name = bodyUsed)]
    pub fn body_used(&self) -> bool {
        self.response
            .borrow()
            .as_ref()
            .is_none_or(|r| r.body_used())
    }

    /// Reads the whole body, within the call's timeout and signal.
    #[wasm_bindgen(js_name = arrayBuffer, unchecked_return_type = "Promise<ArrayBuffer>")]
    pub fn array_buffer(&self) -> Promise {
        match self.cap {
            None => self.read(|response| response.array_buffer()),
            Some(cap) => self.read(move |response| {
                let blob = counted_blob(response, cap, None);
                Ok(spawn_promise(async move {
                    let blob: Blob = crate::web::Settled::new(&blob).await?.unchecked_into();
                    crate::web::Settled::new(&blob.array_buffer()).await
                }))
            }),
        }
    }

    /// Reads the whole body as a Blob of the media's type, within the call's timeout and signal.
    #[wasm_bindgen(unchecked_return_type = "Promise<Blob>")]
    pub fn blob(&self) -> Promise {
        match self.cap {
            None => self.read(|response| response.blob()),
            Some(cap) => {
                let content_type = self.content_type.clone();
                self.read(move |response| Ok(counted_blob(response, cap, Some(content_type))))
            }
        }
    }
}

#[wasm_bindgen]
extern "C" {
    /// [`CUT`]'s closure, seen as the function it is (for `bind`).
    type CutFn;
    #[wasm_bindgen(method, js_name = bind)]
    fn bind_cut(
        this: &CutFn,
        context: &JsValue,
        started_ms: f64,
        timeout_ms: f64,
        parent: &JsValue,
    ) -> Function;
    /// A promise, for `catch` with a plain function.
    type Catchable;
    #[wasm_bindgen(method, js_name = catch)]
    fn catch_with(this: &Catchable, rejected: &Function) -> Promise;
}

thread_local! {
    /// What a body read rejects with, given the call's start, timeout and signal (bound) and the
    /// read's failure: made once, so a read whose guard has no controller needs no Rust state.
    static CUT: CutFn = Closure::<dyn FnMut(f64, f64, JsValue, JsValue) -> Result<JsValue, JsValue>>::new(
        |started_ms: f64, timeout_ms: f64, parent: JsValue, err: JsValue| {
            let guard = crate::web::AbortGuard::started_at(
                started_ms,
                timeout_ms as u64,
                parent.dyn_ref::<AbortSignal>(),
            );
            Err(read_error(Some(guard), err))
        },
    )
    .into_js_value()
    .unchecked_into();
}

/// What a body read that failed with `err` rejects with: the client's `TimeoutError` or
/// `AbortError` when the call's deadline or signal cut it off, else a `NetworkError`.
pub(super) fn read_error(deadline: Option<crate::web::AbortGuard>, err: JsValue) -> JsValue {
    match deadline.and_then(|d| d.cut("media", &err)) {
        Some(cut) => to_js_error(cut),
        None => body_error(err),
    }
}

impl MediaFile {
    /// A read of the body: a read cut off by the call's deadline or signal rejects with the
    /// client's `TimeoutError` or `AbortError`. The deadline stops applying once it settles.
    /// (A promise mapped, not a Rust task: the read's success costs no more than the runtime's.
    /// When the guard has no controller, as with the Node transport, which bounds the read
    /// itself, only a failure calls back into the wasm.)
    fn read(&self, start: impl FnOnce(&web_sys::Response) -> Result<Promise, JsValue>) -> Promise {
        let deadline = self.deadline.borrow_mut().take();
        let Some(response) = self.response.borrow_mut().take() else {
            let used = js_sys::TypeError::new("Body is unusable: Body has already been read");
            return Promise::reject(&body_error(used.into()));
        };
        let promise = match start(&response) {
            Ok(promise) => promise,
            Err(err) => return Promise::reject(&body_error(err)),
        };
        if let Some((started, timeout, parent)) = deadline.as_ref().and_then(|d| d.unarmed()) {
            let parent = parent.map_or(JsValue::UNDEFINED, JsValue::from);
            let rejected =
                CUT.with(|cut| cut.bind_cut(&JsValue::NULL, started, timeout as f64, &parent));
            return promise.unchecked_ref::<Catchable>().catch_with(&rejected);
        }
        crate::web::then_map(&promise, move |result| {
            result.map_err(|err| read_error(deadline, err))
        })
    }
}

pub(super) fn body_error(err: JsValue) -> JsValue {
    // The caller's abort, and the client's own refusals (a body past its cap), as they are.
    let coded = Reflect::get(&err, &"code".into()).is_ok_and(|c| c.is_string());
    if is_error_named(&err, "AbortError") || (coded && is_error_named(&err, "NetworkError")) {
        return err;
    }
    to_js_error(Error::network(crate::web::js_message(
        &err,
        "reading the body failed",
    )))
}

/// A body of unknown length read whole into a Blob (of `content_type`, when given), counted as
/// it comes: past `cap` bytes the read stops and rejects with the client's `NetworkError`
/// (`PARSE`), as an answer that declared such a length is refused.
pub(super) fn counted_blob(
    response: &web_sys::Response,
    cap: u64,
    content_type: Option<String>,
) -> Promise {
    let body = response.body();
    spawn_promise(async move {
        let Some(body) = body else {
            return Ok(Blob::new()?.into());
        };
        match crate::web::read_whole_within(&body, cap).await? {
            Some(blob) => match content_type {
                Some(t) => crate::web::typed_blob(&blob, &t)
                    .map(JsValue::from)
                    .map_err(to_js_error),
                None => Ok(blob.into()),
            },
            None => Err(to_js_error(Error::Parse {
                message: format!(
                    "the answer is more than {cap} bytes, more than any media WeChat serves of its type"
                ),
                raw: Vec::new(),
            })),
        }
    })
}

impl MediaFile {
    pub(super) fn new(media: MediaBody) -> Result<MediaFile, JsValue> {
        let cap = media
            .meta
            .content_length
            .is_none()
            .then_some(media.max_bytes);
        let content_type = media
            .meta
            .content_type
            .clone()
            .unwrap_or_else(|| "application/octet-stream".to_string());
        let response = match &media.fetched {
            Some(fetched) => Clone::clone(fetched),
            None => {
                let init = web_sys::ResponseInit::new();
                let headers = web_sys::Headers::new()?;
                headers.set("content-type", &content_type)?;
                init.set_headers(&headers);
                let body = media.body().map_err(to_js_error)?;
                web_sys::Response::new_with_opt_readable_stream_and_init(Some(&body), &init)?
            }
        };
        Ok(MediaFile {
            content_type,
            filename: media.meta.filename,
            content_length: media.meta.content_length.map(|n| n as f64),
            response: std::cell::RefCell::new(Some(response)),
            deadline: std::cell::RefCell::new(media.deadline),
            cap,
        })
    }
}
