//! Tests shared by the Node and the browser suites: the real client, compiled to wasm, against the
//! emulator over real HTTP. Each test starts with `POST /_emulator/reset` (wasm-bindgen-test runs
//! one test at a time) and reads the emulator's request log to see what went upstream.

use std::cell::RefCell;
use std::rc::Rc;

use futures_util::future::join_all;
use js_sys::{Array, Promise, Reflect, Uint8Array};
use serde_json::{json, Value};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::wasm_bindgen_test;
use web_sys::{Blob, ReadableStream, RequestInit};

use wxmedia::client::{
    then_map, waiting_promises, Client, ClientConfig, Credentials, Download, Settled, TokenMode,
    TokenWait, UploadMedia, UploadOptions,
};
use wxmedia::protocol::{
    AccessToken, AppSecret, Error, Limits, MediaType, RetryPolicy, TokenGrant, VideoHost,
};

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_name = fetch)]
    fn global_fetch(input: &web_sys::Request) -> Promise;
}

const APPID: &str = "wx0000000000000001";
const SECRET: &str = "emulator-secret";

fn emulator() -> &'static str {
    match option_env!("WXMEDIA_EMULATOR_URL") {
        Some(url) => url,
        None => {
            panic!("WXMEDIA_EMULATOR_URL must name a running emulator when the tests are built")
        }
    }
}

/// The emulator's video CDN listener (a host and port other than its API's).
fn emulator_cdn() -> &'static str {
    match option_env!("WXMEDIA_EMULATOR_CDN_URL") {
        Some(url) => url,
        None => panic!(
            "WXMEDIA_EMULATOR_CDN_URL must name the emulator's video CDN when the tests are built"
        ),
    }
}

async fn control(method: &str, path: &str, body: Option<Value>) -> Value {
    let init = RequestInit::new();
    init.set_method(method);
    if let Some(body) = body {
        init.set_body(&JsValue::from_str(&body.to_string()));
    }
    let url = format!("{}/_emulator/{path}", emulator());
    let request = web_sys::Request::new_with_str_and_init(&url, &init).unwrap();
    let response: web_sys::Response = JsFuture::from(global_fetch(&request))
        .await
        .unwrap()
        .unchecked_into();
    assert!(response.ok(), "{method} {path}: HTTP {}", response.status());
    let text = JsFuture::from(response.text().unwrap())
        .await
        .unwrap()
        .as_string()
        .unwrap();
    if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap()
    }
}

async fn reset() {
    control("POST", "reset", Some(json!({}))).await;
}

async fn fault(fault: Value) {
    control("POST", "faults", Some(fault)).await;
}

/// The emulator's log of upstream calls to `path`.
async fn calls(path: &str) -> Vec<Value> {
    let log = control("GET", "requests", None).await;
    log.as_array()
        .unwrap()
        .iter()
        .filter(|entry| entry["path"] == path)
        .cloned()
        .collect()
}

fn token_paths() -> [&'static str; 2] {
    ["/cgi-bin/stable_token", "/cgi-bin/token"]
}

async fn token_calls() -> usize {
    let mut n = 0;
    for path in token_paths() {
        n += calls(path).await.len();
    }
    n
}

fn config() -> ClientConfig {
    let mut config = ClientConfig::new(Credentials::AppSecret {
        appid: APPID.to_string(),
        secret: AppSecret::new(SECRET),
        mode: TokenMode::Stable,
    });
    config.base_url = emulator().to_string();
    config.retry = RetryPolicy {
        base_delay_ms: 10,
        max_delay_ms: 40,
        ..RetryPolicy::default()
    };
    config
}

fn client() -> Client {
    Client::new(config())
}

/// Media in a Blob.
fn blob(bytes: &[u8]) -> UploadMedia {
    UploadMedia::Blob(
        Blob::new_with_u8_array_sequence(&Array::of1(&Uint8Array::from(bytes))).unwrap(),
    )
}

/// Media as bytes (over the global fetch, which takes no form parts: sent in a Blob made once).
fn bytes_media(bytes: &[u8]) -> UploadMedia {
    UploadMedia::Bytes(Uint8Array::from(bytes))
}

// Tiny but well-formed samples of each format (what the magic-byte checks look at).
fn jpeg(len: usize) -> Vec<u8> {
    let mut b = vec![
        0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, b'J', b'F', b'I', b'F', 0x00, 0x01,
    ];
    b.extend((0..len.saturating_sub(14)).map(|i| (i % 251) as u8));
    b.extend([0xFF, 0xD9]);
    b
}
fn png() -> Vec<u8> {
    let mut b = vec![
        0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13, b'I', b'H', b'D', b'R',
    ];
    b.extend([
        0, 0, 0, 1, 0, 0, 0, 1, 8, 2, 0, 0, 0, 0x90, 0x77, 0x53, 0xDE,
    ]);
    b
}
fn amr() -> Vec<u8> {
    let mut b = b"#!AMR\n".to_vec();
    b.extend([0x3C; 64]);
    b
}
fn mp4() -> Vec<u8> {
    let mut b = vec![
        0, 0, 0, 0x18, b'f', b't', b'y', b'p', b'i', b's', b'o', b'm',
    ];
    b.extend([0, 0, 2, 0, b'i', b's', b'o', b'm', b'm', b'p', b'4', b'1']);
    b.extend([0u8; 256]);
    b
}

async fn read_stream(stream: &ReadableStream) -> Result<Vec<u8>, JsValue> {
    let response = web_sys::Response::new_with_opt_readable_stream(Some(stream))?;
    let buffer = JsFuture::from(response.array_buffer()?).await?;
    Ok(Uint8Array::new(&buffer).to_vec())
}

async fn upload(client: &Client, media_type: MediaType, bytes: &[u8], name: &str) -> String {
    let options = UploadOptions {
        filename: Some(name.to_string()),
        ..Default::default()
    };
    client
        .upload(media_type, &bytes_media(bytes), &options)
        .await
        .unwrap()
        .media_id
}

fn errcode(result: Result<impl Sized, Error>) -> i64 {
    match result {
        Err(Error::WeChat(e)) => e.errcode,
        Err(other) => panic!("expected a WeChat error, got {other}"),
        Ok(_) => panic!("expected a WeChat error, got success"),
    }
}

#[wasm_bindgen_test]
async fn uploads_each_type_and_downloads_the_same_bytes() {
    reset().await;
    let client = client();
    for (media_type, bytes, name, content_type) in [
        (MediaType::Image, jpeg(2000), "photo.jpg", "image/jpeg"),
        (MediaType::Image, png(), "图片.png", "image/png"),
        (MediaType::Voice, amr(), "hello.amr", "audio/amr"),
        (MediaType::Thumb, jpeg(500), "t.jpg", "image/jpeg"),
    ] {
        let uploaded = client
            .upload(
                media_type,
                &blob(&bytes),
                &UploadOptions {
                    filename: Some(name.to_string()),
                    ..Default::default()
                },
            )
            .await
            .unwrap_or_else(|e| panic!("upload {name}: {e}"));
        assert_eq!(uploaded.media_type, media_type);
        assert!(uploaded.created_at > 1_600_000_000);
        let Download::Media(media) = client.get(&uploaded.media_id, None).await.unwrap() else {
            panic!("{name}: expected bytes");
        };
        assert_eq!(media.meta.content_type.as_deref(), Some(content_type));
        assert_eq!(media.meta.content_length, Some(bytes.len() as u64));
        assert!(media
            .meta
            .filename
            .as_deref()
            .unwrap()
            .starts_with(&uploaded.media_id));
        assert_eq!(
            read_stream(&media.body().unwrap()).await.unwrap(),
            bytes,
            "{name}"
        );
    }
    // One token fetch served all of it.
    assert_eq!(token_calls().await, 1);
}

#[wasm_bindgen_test]
async fn a_mislabelled_file_is_sent_with_an_extension_that_fits() {
    reset().await;
    let client = client();
    // JPEG bytes under a .png name: WeChat would answer 40005; the client renames it.
    let id = upload(&client, MediaType::Image, &jpeg(300), "really-a-jpeg.png").await;
    assert!(!id.is_empty());
}

#[wasm_bindgen_test]
async fn video_answers_with_a_url() {
    reset().await;
    let id = upload(&client(), MediaType::Video, &mp4(), "clip.mp4").await;
    // The emulator names its CDN by address, as WeChat does, on a port of its own: a loopback
    // address is no public one, and the upstream's own host on another port is not the
    // upstream, so a client that trusts nothing more refuses the URL.
    match client().get(&id, None).await {
        Err(Error::Parse { message, .. }) => {
            assert!(message.contains("not public"), "{message}")
        }
        other => panic!(
            "a loopback CDN URL was not refused: {:?}",
            other.map(|_| ())
        ),
    }
    // Trusted as the caller's own CDN stand-in, it is answered as it came.
    let cdn = emulator_cdn();
    let mut config = config();
    config.video_hosts = vec![VideoHost::parse(&cdn["http://".len()..]).unwrap()];
    let client = Client::new(config);
    let Download::Video { video_url } = client.get(&id, None).await.unwrap() else {
        panic!("video came back as bytes")
    };
    let prefix = format!("{cdn}/vweixinp.tc.qq.com/1007_");
    assert!(video_url.starts_with(&prefix), "{video_url}");
    assert!(video_url.contains(".f10.mp4?vkey="), "{video_url}");
    let request = web_sys::Request::new_with_str(&video_url).unwrap();
    let response: web_sys::Response = JsFuture::from(global_fetch(&request))
        .await
        .unwrap()
        .unchecked_into();
    assert_eq!(response.status(), 200);
    assert_eq!(read_stream(&response.body().unwrap()).await.unwrap(), mp4());
}

#[wasm_bindgen_test]
async fn hd_voice_is_speex() {
    reset().await;
    let client = client();
    let id = upload(&client, MediaType::Voice, &amr(), "v.amr").await;
    let media = client.hd_voice(&id, None).await.unwrap();
    assert_eq!(media.meta.content_type.as_deref(), Some("voice/speex"));
    assert_eq!(media.meta.filename, Some(format!("{id}.speex")));
    assert!(!read_stream(&media.body().unwrap())
        .await
        .unwrap()
        .is_empty());
    assert_eq!(calls("/cgi-bin/media/get/jssdk").await.len(), 1);
}

#[wasm_bindgen_test]
async fn unknown_media_is_a_typed_error_and_not_retried() {
    reset().await;
    let client = client();
    assert_eq!(errcode(client.get("no-such-media-id", None).await), 40007);
    assert_eq!(calls("/cgi-bin/media/get").await.len(), 1);
}

#[wasm_bindgen_test]
async fn bad_input_is_refused_before_any_upstream_call() {
    reset().await;
    let client = client();
    let too_big = jpeg(70_000);
    let err = client
        .upload(MediaType::Thumb, &blob(&too_big), &UploadOptions::default())
        .await
        .unwrap_err();
    assert_eq!(err.code(), "TOO_LARGE", "{err}");
    let err = client
        .upload(MediaType::Voice, &blob(&png()), &UploadOptions::default())
        .await
        .unwrap_err();
    assert_eq!(err.code(), "BAD_FORMAT", "{err}");
    let err = client
        .upload(MediaType::Image, &blob(&[]), &UploadOptions::default())
        .await;
    assert_eq!(err.unwrap_err().code(), "EMPTY");
    assert_eq!(
        client.get("", None).await.err().unwrap().code(),
        "BAD_MEDIA_ID"
    );
    let log = control("GET", "requests", None).await;
    assert_eq!(
        log.as_array().unwrap().len(),
        0,
        "nothing may reach upstream: {log}"
    );
}

#[wasm_bindgen_test]
async fn configured_limits_apply() {
    reset().await;
    let mut config = config();
    config.limits = Limits {
        image: 1000,
        ..Limits::default()
    };
    let client = Client::new(config);
    let err = client
        .upload(
            MediaType::Image,
            &blob(&jpeg(1500)),
            &UploadOptions::default(),
        )
        .await
        .unwrap_err();
    assert_eq!(err.code(), "TOO_LARGE");
    assert!(err.to_string().contains("1000"), "{err}");
}

#[wasm_bindgen_test]
async fn a_revoked_token_is_refreshed_once_and_the_call_retried_once() {
    reset().await;
    let client = client();
    let id = upload(&client, MediaType::Image, &jpeg(100), "a.jpg").await;
    control("POST", "tokens/revoke", Some(json!({}))).await;
    let before_tokens = token_calls().await;
    let before_gets = calls("/cgi-bin/media/get").await.len();
    assert!(matches!(
        client.get(&id, None).await.unwrap(),
        Download::Media(_)
    ));
    assert_eq!(
        token_calls().await - before_tokens,
        1,
        "exactly one token refresh"
    );
    let gets = calls("/cgi-bin/media/get").await;
    assert_eq!(gets.len() - before_gets, 2, "the failed call and one retry");
    assert_eq!(gets[before_gets]["errcode"], 40001);
}

#[wasm_bindgen_test]
async fn a_token_that_keeps_failing_is_not_retried_forever() {
    reset().await;
    let client = client();
    let id = upload(&client, MediaType::Image, &jpeg(100), "a.jpg").await;
    fault(json!({"path": "/cgi-bin/media/get", "count": 10, "errcode": 40001})).await;
    assert_eq!(errcode(client.get(&id, None).await), 40001);
    assert_eq!(calls("/cgi-bin/media/get").await.len(), 2);
}

#[wasm_bindgen_test]
async fn an_upload_retried_after_40001_sends_the_whole_body_again() {
    reset().await;
    let client = client();
    client.access_token().await.unwrap();
    fault(json!({"path": "/cgi-bin/media/upload", "count": 1, "errcode": 40001})).await;
    let bytes = jpeg(50_000);
    let id = upload(&client, MediaType::Image, &bytes, "big.jpg").await;
    let uploads = calls("/cgi-bin/media/upload").await;
    assert_eq!(uploads.len(), 2);
    assert!(
        matches!(uploads[1]["errcode"].as_i64(), None | Some(0)),
        "{}",
        uploads[1]
    );
    let Download::Media(media) = client.get(&id, None).await.unwrap() else {
        panic!()
    };
    assert_eq!(read_stream(&media.body().unwrap()).await.unwrap(), bytes);
}

#[wasm_bindgen_test]
async fn system_errors_are_retried_a_bounded_number_of_times() {
    reset().await;
    let client = client();
    let id = upload(&client, MediaType::Image, &jpeg(100), "a.jpg").await;
    fault(json!({"path": "/cgi-bin/media/get", "count": 10, "errcode": -1})).await;
    assert_eq!(errcode(client.get(&id, None).await), -1);
    assert_eq!(
        calls("/cgi-bin/media/get").await.len(),
        3,
        "three attempts, no more"
    );

    // Two failures then success: the third attempt answers.
    reset().await;
    let id = upload(&client, MediaType::Image, &jpeg(100), "a.jpg").await;
    fault(json!({"path": "/cgi-bin/media/get", "count": 2, "errcode": -1})).await;
    assert!(matches!(
        client.get(&id, None).await.unwrap(),
        Download::Media(_)
    ));
}

#[wasm_bindgen_test]
async fn quota_errors_are_not_retried() {
    reset().await;
    let client = client();
    client.access_token().await.unwrap();
    fault(json!({"path": "/cgi-bin/media/get", "count": 5, "errcode": 45009})).await;
    assert_eq!(errcode(client.get("some-media-id", None).await), 45009);
    assert_eq!(calls("/cgi-bin/media/get").await.len(), 1);
}

#[wasm_bindgen_test]
async fn minute_quota_waits_only_within_the_deadline() {
    reset().await;
    let mut config = config();
    config.media_timeout_ms = 300; // the next minute is (almost always) further away
    let client = Client::new(config);
    client.access_token().await.unwrap();
    fault(json!({"path": "/cgi-bin/media/get", "count": 1, "errcode": 45011})).await;
    let result = client.get("some-media-id", None).await;
    let attempts = calls("/cgi-bin/media/get").await.len();
    if attempts == 1 {
        assert_eq!(errcode(result), 45011, "no wait past the deadline");
    } else {
        // The rare run that starts within 300 ms of a minute boundary waits and retries once.
        assert_eq!(attempts, 2);
        assert_eq!(errcode(result), 40007);
    }
}

#[wasm_bindgen_test]
async fn http_502_is_retried_then_reported() {
    reset().await;
    let client = client();
    client.access_token().await.unwrap();
    fault(json!({"path": "/cgi-bin/media/get", "count": 5, "status": 502})).await;
    match client.get("some-media-id", None).await {
        Err(Error::Http { status }) => assert_eq!(status, 502),
        other => panic!(
            "expected HTTP 502, got {:?}",
            other.err().map(|e| e.to_string())
        ),
    }
    assert_eq!(calls("/cgi-bin/media/get").await.len(), 3);
}

#[wasm_bindgen_test]
async fn a_slow_upstream_times_out() {
    reset().await;
    let mut config = config();
    config.media_timeout_ms = 400;
    let client = Client::new(config);
    client.access_token().await.unwrap();
    fault(json!({"path": "/cgi-bin/media/get", "count": 1, "delay_ms": 3000})).await;
    match client.get("some-media-id", None).await {
        Err(Error::Timeout { what, after_ms }) => {
            assert_eq!(what, "media");
            assert_eq!(after_ms, 400);
        }
        other => panic!(
            "expected a timeout, got {:?}",
            other.err().map(|e| e.to_string())
        ),
    }
}

#[wasm_bindgen_test]
async fn a_caller_can_cancel() {
    reset().await;
    let client = client();
    client.access_token().await.unwrap();
    fault(json!({"path": "/cgi-bin/media/get", "count": 1, "delay_ms": 3000})).await;
    let controller = web_sys::AbortController::new().unwrap();
    let signal = controller.signal();
    let call = client.get("some-media-id", Some(&signal));
    let abort = async {
        JsFuture::from(Promise::resolve(&JsValue::NULL))
            .await
            .unwrap();
        controller.abort();
    };
    let (result, ()) = futures_util::future::join(call, abort).await;
    assert!(
        matches!(result, Err(Error::Cancelled)),
        "{:?}",
        result.err().map(|e| e.to_string())
    );
}

#[wasm_bindgen_test]
async fn fifty_concurrent_calls_on_a_cold_client_fetch_one_token() {
    reset().await;
    let client = client();
    let calls_made = join_all((0..50).map(|_| client.get("missing-media", None))).await;
    for result in calls_made {
        assert_eq!(errcode(result), 40007);
    }
    assert_eq!(token_calls().await, 1);
}

#[wasm_bindgen_test]
async fn polling_waiters_share_one_token_fetch_too() {
    // The Worker's mode: waiters poll on timers of their own instead of awaiting a shared future.
    reset().await;
    let mut config = config();
    config.token_wait = TokenWait::Poll { interval_ms: 5 };
    let client = Client::new(config);
    let results = join_all((0..50).map(|_| client.get("missing-media", None))).await;
    for result in results {
        assert_eq!(errcode(result), 40007);
    }
    assert_eq!(token_calls().await, 1);

    // A failed fetch fails its waiters too, and the next call tries again.
    reset().await;
    let mut config = self::config();
    config.credentials = Credentials::AppSecret {
        appid: APPID.to_string(),
        secret: AppSecret::new("wrong"),
        mode: TokenMode::Stable,
    };
    config.token_wait = TokenWait::Poll { interval_ms: 5 };
    let client = Client::new(config);
    let results = join_all((0..10).map(|_| client.get("missing-media", None))).await;
    for result in results {
        assert_eq!(errcode(result), 40125);
    }
    assert_eq!(token_calls().await, 1);
    assert_eq!(errcode(client.get("missing-media", None).await), 40125);
    assert_eq!(token_calls().await, 2);
}

#[wasm_bindgen_test]
async fn classic_tokens_work_too() {
    reset().await;
    let mut config = config();
    config.credentials = Credentials::AppSecret {
        appid: APPID.to_string(),
        secret: AppSecret::new(SECRET),
        mode: TokenMode::Classic,
    };
    let client = Client::new(config);
    upload(&client, MediaType::Image, &jpeg(100), "a.jpg").await;
    assert_eq!(calls("/cgi-bin/token").await.len(), 1);
    assert_eq!(calls("/cgi-bin/stable_token").await.len(), 0);
}

#[wasm_bindgen_test]
async fn bad_credentials_are_reported_and_not_retried() {
    reset().await;
    let mut config = config();
    config.credentials = Credentials::AppSecret {
        appid: APPID.to_string(),
        secret: AppSecret::new("wrong"),
        mode: TokenMode::Stable,
    };
    let client = Client::new(config);
    assert_eq!(errcode(client.get("x", None).await), 40125);
    assert_eq!(token_calls().await, 1);
}

#[wasm_bindgen_test]
async fn a_fixed_token_is_used_as_given_and_a_provider_is_asked_again_after_a_token_error() {
    reset().await;
    let token = client().access_token().await.unwrap();
    let mut config = config();
    config.credentials = Credentials::AccessToken(token.clone());
    let fixed = Client::new(config.clone());
    let id = upload(&fixed, MediaType::Image, &jpeg(100), "a.jpg").await;
    assert_eq!(token_calls().await, 1, "a fixed token needs no token call");

    let asked = Rc::new(std::cell::Cell::new(0));
    let provider_asked = asked.clone();
    let real = token.clone();
    let failures = Rc::new(RefCell::new(Vec::new()));
    let seen_failures = failures.clone();
    config.credentials = Credentials::Provider(Rc::new(move |failed: Option<AccessToken>| {
        seen_failures.borrow_mut().push(failed);
        provider_asked.set(provider_asked.get() + 1);
        // First a stale token, then the real one.
        let token = if provider_asked.get() == 1 {
            AccessToken::new("stale-token-stale-token-stale-token")
        } else {
            real.clone()
        };
        Box::pin(async move {
            Ok(TokenGrant {
                token,
                expires_in: 7200,
            })
        })
    }));
    let provided = Client::new(config);
    assert!(matches!(
        provided.get(&id, None).await.unwrap(),
        Download::Media(_)
    ));
    assert_eq!(asked.get(), 2);
    // The second call was told which token failed.
    let failures = failures.borrow();
    assert_eq!(failures[0], None);
    assert_eq!(
        failures[1].as_ref().map(AccessToken::expose),
        Some("stale-token-stale-token-stale-token")
    );
}

#[wasm_bindgen_test]
async fn odd_answers_are_classified() {
    reset().await;
    let client = client();
    let bytes = jpeg(400);
    let id = upload(&client, MediaType::Image, &bytes, "a.jpg").await;

    // Bytes labelled text/plain without Content-disposition are still bytes.
    fault(json!({"path": "/cgi-bin/media/get", "quirk": "text_plain"})).await;
    let Download::Media(media) = client.get(&id, None).await.unwrap() else {
        panic!()
    };
    assert_eq!(media.meta.filename, None);
    assert_eq!(read_stream(&media.body().unwrap()).await.unwrap(), bytes);

    // A UTF-8 filename, as filename* and as raw bytes.
    fault(json!({"path": "/cgi-bin/media/get", "quirk": "filename_star"})).await;
    let Download::Media(media) = client.get(&id, None).await.unwrap() else {
        panic!()
    };
    assert_eq!(media.meta.filename.as_deref(), Some("测试.jpg"));
    assert_eq!(read_stream(&media.body().unwrap()).await.unwrap(), bytes);

    // Error JSON labelled text/plain is still an error.
    fault(json!({"path": "/cgi-bin/media/get", "quirk": "text_plain_error"})).await;
    assert_eq!(errcode(client.get("missing", None).await), 40007);

    // A video answered as raw bytes.
    let video = mp4();
    let vid = upload(&client, MediaType::Video, &video, "v.mp4").await;
    fault(json!({"path": "/cgi-bin/media/get", "quirk": "video_raw"})).await;
    let Download::Media(media) = client.get(&vid, None).await.unwrap() else {
        panic!()
    };
    assert_eq!(read_stream(&media.body().unwrap()).await.unwrap(), video);

    // An upload answer that also carries errcode 0.
    fault(json!({"path": "/cgi-bin/media/upload", "quirk": "ok_errcode"})).await;
    assert!(!upload(&client, MediaType::Image, &bytes, "b.jpg")
        .await
        .is_empty());
}

#[wasm_bindgen_test]
async fn a_body_cut_short_fails_when_read() {
    reset().await;
    let client = client();
    let id = upload(&client, MediaType::Image, &jpeg(20_000), "a.jpg").await;
    fault(json!({"path": "/cgi-bin/media/get", "truncate_at": 1000})).await;
    let Download::Media(media) = client.get(&id, None).await.unwrap() else {
        panic!()
    };
    assert_eq!(media.meta.content_length, Some(20_000));
    assert!(
        read_stream(&media.body().unwrap()).await.is_err(),
        "a truncated body must not read as complete"
    );
}

#[wasm_bindgen_test]
fn errors_never_carry_the_token() {
    let token = AccessToken::new("SECRET_TOKEN_VALUE_123");
    let err = Error::network(format!(
        "request to https://api.weixin.qq.com/cgi-bin/media/get?access_token={} failed",
        token.expose()
    ));
    assert!(!err.to_string().contains("SECRET_TOKEN_VALUE_123"), "{err}");
    assert!(!format!("{token:?}").contains("SECRET"));
}

#[cfg(feature = "js")]
mod js_api {
    use super::*;
    use wxmedia::js::MediaClient;

    fn options(extra: &[(&str, JsValue)]) -> JsValue {
        let obj = js_sys::Object::new();
        let set = |k: &str, v: &JsValue| {
            Reflect::set(&obj, &k.into(), v).unwrap();
        };
        set("appId", &APPID.into());
        set("appSecret", &SECRET.into());
        set("baseUrl", &emulator().into());
        for (k, v) in extra {
            set(k, v);
        }
        obj.into()
    }

    fn prop(v: &JsValue, key: &str) -> JsValue {
        Reflect::get(v, &key.into()).unwrap()
    }

    #[wasm_bindgen_test]
    async fn the_fetch_option_carries_every_request() {
        reset().await;
        let counting = js_sys::Function::new_with_args(
            "url, init",
            "globalThis.__wxmediaFetches = (globalThis.__wxmediaFetches || []); \
             globalThis.__wxmediaFetches.push(new URL(url).pathname); return fetch(url, init);",
        );
        let client = MediaClient::new(options(&[("fetch", counting.into())])).unwrap();
        let err = client
            .get("missing-media".into(), JsValue::UNDEFINED)
            .await
            .unwrap_err();
        assert_eq!(prop(&err, "errcode"), 40007);
        let seen = Reflect::get(&js_sys::global(), &"__wxmediaFetches".into()).unwrap();
        let seen: Vec<String> = js_sys::Array::from(&seen)
            .iter()
            .map(|v| v.as_string().unwrap())
            .collect();
        assert_eq!(seen, ["/cgi-bin/stable_token", "/cgi-bin/media/get"]);

        // Not a function: refused at construction. Not a Response: a NetworkError.
        let err = MediaClient::new(options(&[("fetch", "nope".into())]))
            .err()
            .unwrap();
        assert!(err.is_instance_of::<js_sys::TypeError>());
        let liar = js_sys::Function::new_with_args(
            "url, init",
            "return Promise.resolve({ status: 200 });",
        );
        let client = MediaClient::new(options(&[("fetch", liar.into())])).unwrap();
        let err = client.access_token().await.unwrap_err();
        assert_eq!(prop(&err, "name"), "NetworkError");
    }

    #[wasm_bindgen_test]
    async fn errors_are_error_instances_with_names_and_codes() {
        reset().await;
        let client = MediaClient::new(options(&[])).unwrap();
        let err = client
            .get("missing-media".into(), JsValue::UNDEFINED)
            .await
            .unwrap_err();
        assert!(err.is_instance_of::<js_sys::Error>());
        assert_eq!(prop(&err, "name"), "WeChatError");
        assert_eq!(prop(&err, "errcode"), 40007);
        assert_eq!(prop(&err, "errmsg"), "invalid media_id");
        assert_eq!(prop(&err, "action"), "NOT_FOUND");
        assert!(prop(&err, "rid").is_string() || prop(&err, "hint").is_string());

        let bytes = Uint8Array::from(&png()[..]);
        let err = client
            .upload("thumb".into(), bytes.into(), JsValue::UNDEFINED)
            .await
            .unwrap_err();
        assert_eq!(prop(&err, "name"), "MediaValidationError");
        assert_eq!(prop(&err, "code"), "BAD_FORMAT");

        let err = client
            .upload(
                "sticker".into(),
                Uint8Array::from(&png()[..]).into(),
                JsValue::UNDEFINED,
            )
            .await
            .unwrap_err();
        assert_eq!(prop(&err, "code"), "BAD_TYPE");

        let err = MediaClient::new(JsValue::from(js_sys::Object::new()))
            .err()
            .unwrap();
        assert!(err.is_instance_of::<js_sys::TypeError>());

        // Arguments of the wrong type are refused at the boundary, not inside wasm.
        let err = client
            .get(JsValue::from(123), JsValue::UNDEFINED)
            .await
            .unwrap_err();
        assert!(err.is_instance_of::<js_sys::TypeError>());
        assert_eq!(prop(&err, "message"), "mediaId must be a string");
        let opts = |json: &str| js_sys::JSON::parse(json).unwrap();
        for bad in [
            r#"{"accessToken":"t","timeoutMs":0}"#,
            r#"{"accessToken":"t","timeoutMs":-5}"#,
            r#"{"accessToken":"t","timeoutMs":2147483648}"#,
            r#"{"accessToken":"t","tokenTimeoutMs":0.5}"#,
            r#"{"accessToken":""}"#,
            r#"{"accessToken":"t","limits":"big"}"#,
            r#"{"accessToken":"t","maxAttempts":0}"#,
            r#"{"accessToken":"t","maxAttempts":11}"#,
            r#"{"accessToken":"t","maxAttempts":2.5}"#,
            r#"{"accessToken":"t","maxAttempts":2,"maxRetries":3}"#,
        ] {
            let err = MediaClient::new(opts(bad)).err().unwrap();
            assert!(err.is_instance_of::<js_sys::TypeError>(), "{bad}");
        }
        assert!(MediaClient::new(opts(r#"{"accessToken":"t","timeoutMs":2147483647}"#)).is_ok());
    }

    #[wasm_bindgen_test]
    async fn max_attempts_counts_attempts_the_first_included() {
        for (option, attempts) in [("maxAttempts", 1u32), ("maxAttempts", 2), ("maxRetries", 2)] {
            reset().await;
            let client = MediaClient::new(options(&[(option, attempts.into())])).unwrap();
            let up = client
                .upload(
                    "image".into(),
                    Uint8Array::from(&jpeg(100)[..]).into(),
                    JsValue::UNDEFINED,
                )
                .await
                .unwrap();
            let id = prop(&up, "mediaId").as_string().unwrap();
            fault(json!({"path": "/cgi-bin/media/get", "count": 10, "errcode": -1})).await;
            let err = client.get(id.into(), JsValue::UNDEFINED).await.unwrap_err();
            assert_eq!(prop(&err, "errcode"), JsValue::from(-1), "{option}");
            assert_eq!(
                calls("/cgi-bin/media/get").await.len(),
                attempts as usize,
                "{option}: {attempts}"
            );
        }
    }

    #[wasm_bindgen_test]
    async fn upload_and_get_through_the_js_api() {
        reset().await;
        let client = MediaClient::new(options(&[])).unwrap();
        let bytes = jpeg(3000);
        let up = client
            .upload(
                "image".into(),
                Uint8Array::from(&bytes[..]).into(),
                JsValue::UNDEFINED,
            )
            .await
            .unwrap();
        assert_eq!(prop(&up, "type"), "image");
        let id = prop(&up, "mediaId").as_string().unwrap();
        let file = client
            .get(id.clone().into(), JsValue::UNDEFINED)
            .await
            .unwrap();
        assert_eq!(prop(&file, "kind"), "media");
        assert_eq!(prop(&file, "contentType"), "image/jpeg");
        assert_eq!(prop(&file, "contentLength"), bytes.len() as f64);
        assert_eq!(prop(&file, "filename"), format!("{id}.jpg").as_str());
        let array_buffer: js_sys::Function = prop(&file, "arrayBuffer").unchecked_into();
        let buffer = JsFuture::from(Promise::from(array_buffer.call0(&file).unwrap())).await;
        assert_eq!(Uint8Array::new(&buffer.unwrap()).to_vec(), bytes);

        let thumb = client
            .upload(
                "thumb".into(),
                Uint8Array::from(&jpeg(100)[..]).into(),
                JsValue::UNDEFINED,
            )
            .await
            .unwrap();
        assert_eq!(prop(&thumb, "type"), "thumb");
        assert!(prop(&thumb, "mediaId").is_string());
    }
}

#[cfg(feature = "js")]
mod js_helpers {
    use super::*;
    use wxmedia::js::{infer_media_type, sign_media_url, validate_media};

    fn prop(v: &JsValue, key: &str) -> JsValue {
        Reflect::get(v, &key.into()).unwrap()
    }

    #[wasm_bindgen_test]
    async fn validate_media_says_what_would_be_sent_or_why_not() {
        let ok = validate_media(
            "image".into(),
            Uint8Array::from(&png()[..]).into(),
            JsValue::UNDEFINED,
        )
        .await
        .unwrap();
        assert_eq!(prop(&ok, "format"), "png");
        assert_eq!(prop(&ok, "filename"), "media.png");
        assert_eq!(prop(&ok, "contentType"), "image/png");
        let opts = js_sys::Object::new();
        let limits = js_sys::Object::new();
        Reflect::set(&limits, &"image".into(), &10.into()).unwrap();
        Reflect::set(&opts, &"limits".into(), &limits).unwrap();
        let err = validate_media(
            "image".into(),
            Uint8Array::from(&png()[..]).into(),
            opts.into(),
        )
        .await
        .unwrap_err();
        assert_eq!(prop(&err, "name"), "MediaValidationError");
        assert_eq!(prop(&err, "code"), "TOO_LARGE");
    }

    #[wasm_bindgen_test]
    async fn infer_media_type_follows_the_format() {
        let infer = |bytes: Vec<u8>| infer_media_type(Uint8Array::from(&bytes[..]).into());
        assert_eq!(infer(jpeg(100)).await.unwrap(), "image");
        assert_eq!(infer(amr()).await.unwrap(), "voice");
        assert_eq!(infer(mp4()).await.unwrap(), "video");
        assert!(infer(b"hello world, plain text".to_vec())
            .await
            .unwrap()
            .is_null());
    }

    #[wasm_bindgen_test]
    fn sign_media_url_matches_the_documented_scheme() {
        let opts = js_sys::Object::new();
        for (k, v) in [
            ("baseUrl", JsValue::from("https://media.example.com/")),
            ("mediaId", "abc".into()),
            ("signingKey", "test-signing-key".into()),
            ("expiresIn", 400.into()),
            ("now", 600.into()),
        ] {
            Reflect::set(&opts, &k.into(), &v).unwrap();
        }
        let url = sign_media_url(opts.into()).unwrap();
        assert_eq!(
            url,
            "https://media.example.com/media/abc?exp=1000&sig=5eK_XYOJuZ0ywcCfPhkzkvdzqQFuKKzAiWvuM7RMHqQ"
        );
    }

    #[wasm_bindgen_test]
    fn sign_media_url_scopes_a_url_to_an_app() {
        use wxmedia::protocol::sign::{signature, signature_in, SignedKind};
        let opts = js_sys::Object::new();
        for (k, v) in [
            ("baseUrl", JsValue::from("https://m.example.com")),
            ("mediaId", "abc".into()),
            ("signingKey", "k".into()),
            ("expiresIn", 400.into()),
            ("now", 600.into()),
            ("appId", "wxB".into()),
        ] {
            Reflect::set(&opts, &k.into(), &v).unwrap();
        }
        let url = sign_media_url(opts.into()).unwrap();
        let scoped = signature_in(b"k", Some("wxB"), SignedKind::Media, "abc", 1000);
        assert_eq!(
            url,
            format!("https://m.example.com/apps/wxB/media/abc?exp=1000&sig={scoped}")
        );
        assert_ne!(scoped, signature(b"k", SignedKind::Media, "abc", 1000));
    }

    #[wasm_bindgen_test]
    fn sign_media_url_refuses_what_the_worker_would_refuse() {
        let sign = |base: &str, id: &str, expires_in: f64| {
            let opts = js_sys::Object::new();
            for (k, v) in [
                ("baseUrl", JsValue::from(base)),
                ("mediaId", id.into()),
                ("signingKey", "k".into()),
                ("expiresIn", expires_in.into()),
            ] {
                Reflect::set(&opts, &k.into(), &v).unwrap();
            }
            sign_media_url(opts.into())
        };
        assert!(sign("https://m.example.com", "abc", 604_800.0).is_ok());
        // Not http(s); an id the Worker refuses; longer than the 7-day cap.
        assert!(sign("javascript:alert(1)//", "abc", 60.0).is_err());
        assert!(sign("ftp://m.example.com", "abc", 60.0).is_err());
        assert!(sign("https://m.example.com", "a.b", 60.0).is_err());
        assert!(sign("https://m.example.com", "a b", 60.0).is_err());
        assert!(sign("https://m.example.com", "abc", 604_801.0).is_err());
        assert!(sign("https://m.example.com", "abc", 0.0).is_err());
        assert!(sign_media_url(JsValue::from(5)).is_err());
    }
}

#[wasm_bindgen_test]
async fn settled_futures_and_then_map_give_what_promises_settle_with() {
    let before = waiting_promises();
    assert_eq!(
        Settled::new(&Promise::resolve(&JsValue::from(7))).await,
        Ok(JsValue::from(7))
    );
    assert_eq!(
        Settled::new(&Promise::reject(&JsValue::from("no"))).await,
        Err(JsValue::from("no"))
    );
    // Many at once, settling in the opposite order of their making.
    let mut resolvers = Vec::new();
    let promises: Vec<Promise> = (0..50)
        .map(|_| Promise::new(&mut |resolve, _| resolvers.push(resolve)))
        .collect();
    let waits = join_all(promises.iter().map(Settled::new));
    for (i, resolve) in resolvers.iter().enumerate().rev() {
        resolve
            .call1(&JsValue::NULL, &JsValue::from(i as u32))
            .unwrap();
    }
    let got: Vec<JsValue> = waits.await.into_iter().map(Result::unwrap).collect();
    let want: Vec<JsValue> = (0..50u32).map(JsValue::from).collect();
    assert_eq!(got, want);
    // A future dropped before its promise settles: the settling finds nobody, and nothing stays.
    let mut resolver = None;
    let late = Promise::new(&mut |resolve, _| resolver = Some(resolve));
    drop(Settled::new(&late));
    assert_eq!(waiting_promises(), before);
    resolver
        .unwrap()
        .call1(&JsValue::NULL, &JsValue::from(1))
        .unwrap();
    assert_eq!(
        Settled::new(&Promise::resolve(&JsValue::from(2))).await,
        Ok(JsValue::from(2))
    );
    assert_eq!(waiting_promises(), before);
    // then_map: the outcome, mapped either way.
    let double = |r: Result<JsValue, JsValue>| match r {
        Ok(v) => Ok(JsValue::from(v.as_f64().unwrap() * 2.0)),
        Err(e) => Err(JsValue::from(format!("mapped {}", e.as_string().unwrap()))),
    };
    let mapped = then_map(&Promise::resolve(&JsValue::from(21)), double);
    assert_eq!(Settled::new(&mapped).await, Ok(JsValue::from(42)));
    let mapped = then_map(&Promise::reject(&JsValue::from("no")), double);
    assert_eq!(Settled::new(&mapped).await, Err(JsValue::from("mapped no")));
    let mapped = then_map(&Promise::reject(&JsValue::from("no")), |_| {
        Ok(JsValue::TRUE)
    });
    assert_eq!(Settled::new(&mapped).await, Ok(JsValue::TRUE));
}
