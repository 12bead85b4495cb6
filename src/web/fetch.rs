//! Sending requests: the global `fetch` or the caller's transport, bounded by an [`AbortGuard`],
//! and requests built by the protocol core turned into `fetch(url, init)` arguments.

use js_sys::{Promise, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{RequestInit, RequestRedirect};

use super::*;
use crate::protocol::Error;

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
    pub(crate) url: String,
    pub(crate) init: RequestInit,
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

/// An unexpected exception from a web API, as a network error (redacted).
pub fn js_error(err: &JsValue) -> Error {
    network_error(err)
}

/// The init every request of the client's starts from: `method`, and an upstream redirect handed back as an upstream error (3xx), never followed to another host.
pub(crate) fn request_init(method: &str) -> RequestInit {
    let init = RequestInit::new();
    if method != "GET" {
        // (GET is fetch's default: a download's init has no method to convert.)
        init.set_method(method);
    }
    init.set_redirect(RequestRedirect::Manual);
    init
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::{media_request, stable_token_request, AccessToken, AppSecret, GET_PATH};
    use wasm_bindgen_test::wasm_bindgen_test;

    fn function(args: &str, body: &str) -> js_sys::Function {
        js_sys::Function::new_with_args(args, body)
    }

    fn get(value: &JsValue, key: &str) -> JsValue {
        Reflect::get(value, &key.into()).unwrap()
    }

    #[wasm_bindgen_test]
    async fn a_custom_transport_gets_the_url_and_an_init_that_follows_no_redirect() {
        let transport = Transport::new(function(
            "url, init",
            "globalThis.__seen = { url, init }; return new Response('ok');",
        ));
        assert!(!transport.takes_form_parts() && !transport.takes_timeouts());
        let request = media_request(
            "http://127.0.0.1:9/wx",
            GET_PATH,
            &AccessToken::new("TOKEN"),
            "id_1",
        );
        let request = to_web_request(&request).unwrap();
        let guard = AbortGuard::new(60_000, None);
        let answer = fetch(&request, &guard, "media", Some(&transport))
            .await
            .unwrap();
        assert_eq!(answer.status(), 200);
        let seen = get(&js_sys::global(), "__seen");
        assert_eq!(
            get(&seen, "url").as_string().as_deref(),
            Some("http://127.0.0.1:9/wx/cgi-bin/media/get?access_token=TOKEN&media_id=id_1")
        );
        let init = get(&seen, "init");
        assert_eq!(
            get(&init, "redirect").as_string().as_deref(),
            Some("manual")
        );
        // A download sends no method (GET is fetch's default), no headers, no body, and is
        // bounded by the guard's signal.
        assert!(get(&init, "method").is_undefined());
        assert!(get(&init, "headers").is_undefined());
        assert!(get(&init, "body").is_undefined());
        assert!(get(&init, "signal").is_instance_of::<web_sys::AbortSignal>());
    }

    #[wasm_bindgen_test]
    fn a_token_request_keeps_method_headers_and_body() {
        let request =
            stable_token_request("http://127.0.0.1:9", "wx1", &AppSecret::new("SECRET"), true);
        let outgoing = to_web_request(&request).unwrap();
        assert_eq!(outgoing.url, "http://127.0.0.1:9/cgi-bin/stable_token");
        let init: &JsValue = outgoing.init.as_ref();
        assert_eq!(get(init, "method").as_string().as_deref(), Some("POST"));
        let headers = get(init, "headers");
        assert_eq!(
            get(&headers, "content-type").as_string().as_deref(),
            Some("application/json")
        );
        let body = Uint8Array::new(&get(init, "body")).to_vec();
        assert_eq!(body, request.body().as_slice());
    }

    #[wasm_bindgen_test]
    async fn what_a_transport_does_wrong_is_a_network_error() {
        let request = to_web_request(&media_request(
            "http://127.0.0.1:9",
            GET_PATH,
            &AccessToken::new("TOKEN"),
            "id",
        ))
        .unwrap();
        let guard = AbortGuard::new(60_000, None);
        for (body, expected) in [
            ("throw new Error('boom')", "boom"),
            ("return Promise.reject(new TypeError('refused'))", "refused"),
            ("return { status: 200 }", "did not resolve to a Response"),
        ] {
            let transport = Transport::new(function("url, init", body));
            let err = fetch(&request, &guard, "media", Some(&transport))
                .await
                .unwrap_err();
            match err {
                Error::Network(message) => {
                    assert!(message.contains(expected), "{message}");
                    assert!(!message.contains("TOKEN"), "{message}");
                }
                other => panic!("{other:?}"),
            }
        }
    }

    #[wasm_bindgen_test]
    async fn a_transport_that_takes_timeouts_is_handed_the_time_left() {
        let f = function(
            "url, init",
            "globalThis.__timeout = init[Symbol.for('wxmedia.timeout')]; \
             globalThis.__signal = init.signal; return new Response('');",
        );
        Reflect::set(&f, &js_sys::Symbol::for_(TIMEOUT_KEY), &true.into()).unwrap();
        let transport = Transport::new(f);
        assert!(transport.takes_timeouts());
        let request = to_web_request(&media_request(
            "http://127.0.0.1:9",
            GET_PATH,
            &AccessToken::new("T"),
            "id",
        ))
        .unwrap();
        let guard = AbortGuard::new(30_000, None);
        fetch(&request, &guard, "media", Some(&transport))
            .await
            .unwrap();
        let timeout = get(&js_sys::global(), "__timeout");
        assert!(Reflect::get(&timeout, &0.into()).unwrap().as_f64().unwrap() > 29_000.0);
        assert!(get(&js_sys::global(), "__signal").is_undefined());
    }

    #[wasm_bindgen_test]
    fn js_messages_carry_their_cause() {
        let err = js_sys::Error::new("fetch failed");
        let cause = js_sys::Error::new("connect ECONNREFUSED 127.0.0.1:9");
        Reflect::set(&err, &"cause".into(), &cause).unwrap();
        assert_eq!(
            js_message(&err, "x"),
            "fetch failed: connect ECONNREFUSED 127.0.0.1:9"
        );
        assert_eq!(js_message(&JsValue::from_str("plain"), "x"), "plain");
        assert_eq!(js_message(&JsValue::NULL, "fallback"), "fallback");
    }
}
