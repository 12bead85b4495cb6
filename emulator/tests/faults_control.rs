//! Fault injection, the control API, the request log and CORS.

mod common;

use std::time::{Duration, Instant};

use common::{assert_wx_suffix, parse_raw, raw_exchange, samples, Emu, APPID, WX_JSON};
use serde_json::{json, Value};
use wxmedia_emulator::Config;

const GET: &str = "/cgi-bin/media/get";

/// An emulator with a token and one uploaded JPEG.
fn with_media() -> (Emu, String, String) {
    let emu = Emu::start();
    let token = emu.token();
    let id = emu.upload_ok(&token, "image", "a.jpg", &samples::jpeg());
    (emu, token, id)
}

#[test]
fn errcode_faults_in_fifo_order_with_counts() {
    let (emu, token, id) = with_media();
    emu.fault(json!({"path": GET, "errcode": -1, "count": 2}));
    emu.fault(json!({"path": GET, "errcode": 45011}));
    emu.fault(json!({"path": GET, "errcode": 46001}));
    // Faults for another path do not interfere.
    emu.fault(json!({"path": "/cgi-bin/token", "errcode": 40001}));
    let pending = emu.get("/_emulator/faults").json();
    assert_eq!(pending.as_array().unwrap().len(), 4);
    assert_eq!(pending[0], json!({"path": GET, "count": 2, "errcode": -1}));

    let expected = [
        (-1, "system error"),
        (-1, "system error"),
        (
            45011,
            "api minute-quota reach limit, must slower, retry next minute",
        ),
        (46001, "media data no exist"),
    ];
    for (code, msg) in expected {
        let resp = emu.media_get(&token, &id);
        assert_eq!(resp.header("content-type"), Some(WX_JSON));
        assert_eq!(resp.errcode(), code);
        let errmsg = resp.json()["errmsg"].as_str().unwrap().to_owned();
        assert!(errmsg.starts_with(msg), "{errmsg}");
        assert_wx_suffix(&errmsg);
    }
    // Then the call behaves normally again.
    assert_eq!(emu.media_get(&token, &id).body, samples::jpeg());
    assert_eq!(
        emu.get("/_emulator/faults").json(),
        json!([{"path": "/cgi-bin/token", "count": 1, "errcode": 40001}])
    );
    assert_eq!(
        emu.delete("/_emulator/faults").json(),
        json!({"cleared": 1})
    );
    assert_eq!(emu.get("/_emulator/faults").json(), json!([]));
}

#[test]
fn errcode_fault_on_upload_stores_nothing() {
    let emu = Emu::start();
    let token = emu.token();
    emu.fault(json!({"path": "/cgi-bin/media/upload", "errcode": -1}));
    assert_eq!(
        emu.upload(&token, "image", "a.jpg", &samples::jpeg())
            .errcode(),
        -1
    );
    assert_eq!(emu.get("/_emulator/media").json()["media"], json!([]));
}

#[test]
fn status_fault_is_a_plain_http_error() {
    let (emu, token, id) = with_media();
    emu.fault(json!({"path": GET, "status": 502}));
    let resp = emu.media_get(&token, &id);
    assert_eq!(resp.status, 502);
    assert!(resp
        .header("content-type")
        .unwrap()
        .starts_with("text/plain"));
    assert!(serde_json::from_slice::<Value>(&resp.body).is_err());
    assert_eq!(emu.media_get(&token, &id).status, 200);
}

#[test]
fn delay_fault_then_normal_answer() {
    let (emu, token, id) = with_media();
    emu.fault(json!({"path": GET, "delay_ms": 300}));
    let started = Instant::now();
    let resp = emu.media_get(&token, &id);
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert_eq!(resp.body, samples::jpeg());
}

#[test]
fn truncate_faults_send_fewer_bytes_than_announced() {
    let (emu, token, id) = with_media();
    let path = format!("{GET}?access_token={token}&media_id={id}");
    let full = samples::jpeg();

    emu.fault(json!({"path": GET, "truncate": true}));
    // Keep-alive is asked for, but the server must close after the short body.
    let req = format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n");
    let raw = parse_raw(&raw_exchange(emu.addr(), req.as_bytes()));
    assert_eq!(raw.content_length(), full.len());
    assert!(raw.body.len() < full.len(), "{} bytes", raw.body.len());
    assert_eq!(raw.body, full[..raw.body.len()]);
    assert!(raw.has_line("Content-Type: image/jpeg"));

    emu.fault(json!({"path": GET, "truncate_at": 10}));
    let raw = parse_raw(&raw_exchange(emu.addr(), req.as_bytes()));
    assert_eq!(raw.content_length(), full.len());
    assert_eq!(raw.body, full[..10]);

    // A real client sees an error rather than a short body.
    emu.fault(json!({"path": GET, "truncate_at": 5}));
    let agent: ureq::Agent = ureq::Agent::config_builder().build().into();
    let result = agent
        .get(&emu.url(&path))
        .call()
        .and_then(|mut r| r.body_mut().read_to_vec());
    assert!(result.is_err(), "{result:?}");
}

#[test]
fn quirk_text_plain() {
    let (emu, token, id) = with_media();
    emu.fault(json!({"path": GET, "quirk": "text_plain"}));
    let raw = emu.raw_get(&format!("{GET}?access_token={token}&media_id={id}"));
    assert!(
        raw.has_line("Content-Type: text/plain"),
        "{:?}",
        raw.header_lines
    );
    assert!(raw.header("content-disposition").is_none());
    assert_eq!(raw.body, samples::jpeg());
}

#[test]
fn quirk_filename_star() {
    let (emu, token, id) = with_media();
    emu.fault(json!({"path": GET, "quirk": "filename_star"}));
    let raw = emu.raw_get(&format!("{GET}?access_token={token}&media_id={id}"));
    let expected = "Content-disposition: attachment; filename*=utf-8''%E6%B5%8B%E8%AF%95.jpg; filename=\"测试.jpg\"";
    // Raw UTF-8 bytes on the wire.
    assert!(
        raw.header_bytes.iter().any(|l| l == expected.as_bytes()),
        "{:?}",
        raw.header_lines
    );
    assert_eq!(raw.body, samples::jpeg());
}

#[test]
fn quirk_video_raw() {
    let emu = Emu::start();
    let token = emu.token();
    let id = emu.upload_ok(&token, "video", "v.mp4", &samples::mp4());
    emu.fault(json!({"path": GET, "quirk": "video_raw"}));
    let raw = emu.raw_get(&format!("{GET}?access_token={token}&media_id={id}"));
    assert!(raw.has_line("Content-Type: video/mp4"));
    assert!(raw.has_line(&format!(
        "Content-disposition: attachment; filename=\"{id}.mp4\""
    )));
    assert_eq!(raw.body, samples::mp4());
    // Next time: JSON again.
    assert!(emu.media_get(&token, &id).json()["video_url"].is_string());
}

#[test]
fn quirk_ok_errcode() {
    let emu = Emu::start();
    let token = emu.token();
    emu.fault(json!({"path": "/cgi-bin/media/upload", "quirk": "ok_errcode"}));
    let v = emu
        .upload(&token, "image", "a.jpg", &samples::jpeg())
        .json();
    assert_eq!(v["errcode"], 0);
    assert_eq!(v["errmsg"], "ok");
    assert_eq!(v["type"], "image");
    assert!(v["media_id"].is_string());
    assert!(v["created_at"].is_u64());
}

#[test]
fn quirk_text_plain_error() {
    let (emu, token, _) = with_media();
    emu.fault(json!({"path": GET, "quirk": "text_plain_error"}));
    let resp = emu.media_get(&token, "missing");
    assert_eq!(resp.header("content-type"), Some("text/plain"));
    assert_eq!(resp.errcode(), 40007);
}

#[test]
fn bad_control_input_is_400() {
    let emu = Emu::start();
    let bad_faults = [
        json!({"errcode": 1}),
        json!({"path": GET}),
        json!({"path": GET, "errcode": 1, "status": 500}),
        json!({"path": GET, "quirk": "sideways"}),
        json!({"path": GET, "count": 0, "errcode": 1}),
        json!({"path": GET, "truncate": "yes"}),
        json!("not an object"),
    ];
    for body in bad_faults {
        let resp = emu.post_json("/_emulator/faults", &body);
        assert_eq!(resp.status, 400, "{body}");
        assert!(resp.json()["error"].is_string());
    }
    let resp = emu.post("/_emulator/faults", "application/json", b"{oops");
    assert_eq!(resp.status, 400);
    for body in [
        json!({}),
        json!({"advance_secs": -5}),
        json!({"advance_secs": "10"}),
    ] {
        assert_eq!(
            emu.post_json("/_emulator/clock", &body).status,
            400,
            "{body}"
        );
    }
    assert_eq!(emu.get("/_emulator/nope").status, 404);
    assert_eq!(emu.get("/_emulator/reset").status, 405);
    assert_eq!(emu.get("/_emulator/faults").json(), json!([]));
}

#[test]
fn clock_advances_emulated_time() {
    let emu = Emu::start();
    let before = emu.now();
    let after = emu.advance(3600);
    assert!((before + 3600..=before + 3602).contains(&after));
    let token = emu.token();
    let v = emu
        .upload(&token, "image", "a.jpg", &samples::jpeg())
        .json();
    assert!(v["created_at"].as_u64().unwrap() >= after);
}

#[test]
fn request_log_shape_and_filter() {
    let (emu, token, id) = with_media();
    emu.media_get(&token, &id);
    emu.media_get(&token, "missing");
    emu.get("/_emulator/faults"); // control calls are not logged
    let all = emu.requests(None);
    let paths: Vec<&str> = all.iter().map(|e| e["path"].as_str().unwrap()).collect();
    assert_eq!(paths, ["/cgi-bin/token", "/cgi-bin/media/upload", GET, GET]);
    let gets = emu.requests(Some(GET));
    assert_eq!(gets.len(), 2);
    assert_eq!(
        gets[0],
        json!({
            "method": "GET",
            "path": GET,
            "query": {"access_token": token, "media_id": id},
            "status": 200,
            "errcode": null,
            "appid": APPID,
            "host": emu.base.trim_start_matches("http://"),
        })
    );
    assert_eq!(gets[1]["errcode"], 40007);
    assert_eq!(all[0]["errcode"], 0, "success JSON logs errcode 0");
    emu.control("/_emulator/reset", json!({}));
    assert_eq!(emu.requests(None), Vec::<Value>::new());
}

#[test]
fn reset_clears_everything() {
    let (emu, token, id) = with_media();
    emu.advance(100);
    emu.fault(json!({"path": GET, "errcode": -1}));
    emu.control("/_emulator/reset", json!({}));
    let clock = emu.get("/_emulator/clock").json();
    assert_eq!(clock["offset_secs"], 0);
    assert_eq!(emu.get("/_emulator/faults").json(), json!([]));
    assert_eq!(
        emu.media_get(&token, &id).errcode(),
        40001,
        "tokens are forgotten"
    );
    let token = emu.token();
    assert_eq!(
        emu.media_get(&token, &id).errcode(),
        40007,
        "media are gone"
    );
}

#[test]
fn cors_preflight_and_headers() {
    let emu = Emu::with(Config {
        cors: true,
        ..Config::default()
    });
    let req = format!(
        "OPTIONS {GET}?access_token=x&media_id=y HTTP/1.1\r\nHost: x\r\nOrigin: http://localhost:8000\r\n\
         Access-Control-Request-Method: GET\r\nAccess-Control-Request-Headers: x-custom\r\nConnection: close\r\n\r\n"
    );
    let raw = parse_raw(&raw_exchange(emu.addr(), req.as_bytes()));
    assert_eq!(raw.status_line, "HTTP/1.1 204 No Content");
    assert_eq!(
        raw.header("access-control-allow-origin").as_deref(),
        Some("*")
    );
    assert!(raw
        .header("access-control-allow-methods")
        .unwrap()
        .contains("POST"));
    assert_eq!(
        raw.header("access-control-allow-headers").as_deref(),
        Some("x-custom")
    );
    assert!(raw.body.is_empty());
    // Preflights are not API calls.
    assert!(emu.requests(None).is_empty());

    let token = emu.token();
    let id = emu.upload_ok(&token, "image", "a.jpg", &samples::jpeg());
    let raw = emu.raw_get(&format!("{GET}?access_token={token}&media_id={id}"));
    assert!(raw.has_line("Access-Control-Allow-Origin: *"));
    let exposed = raw.header("access-control-expose-headers").unwrap();
    for h in ["Content-disposition", "Content-Length", "Content-Type"] {
        assert!(exposed.contains(h), "{exposed}");
    }

    // Without --cors: no CORS headers and no preflight.
    let plain = Emu::start();
    let raw = plain.raw_get("/cgi-bin/token");
    assert!(raw.header("access-control-allow-origin").is_none());
    let raw = parse_raw(&raw_exchange(plain.addr(), req.as_bytes()));
    assert_eq!(raw.status_line, "HTTP/1.1 405 Method Not Allowed");
}

#[test]
fn a_call_in_flight_across_a_reset_is_not_logged_into_the_new_run() {
    let emu = Emu::start();
    let token = emu.token();
    emu.fault(json!({"path": GET, "delay_ms": 800}));
    let url = emu.url(&format!("{GET}?access_token={token}&media_id=slow"));
    let slow = std::thread::spawn(move || ureq::get(&url).call().map(|r| r.status().as_u16()));
    std::thread::sleep(std::time::Duration::from_millis(200));
    emu.control("/_emulator/reset", json!({}));
    assert_eq!(slow.join().unwrap().unwrap(), 200);
    assert_eq!(
        emu.requests(None),
        Vec::<Value>::new(),
        "the log belongs to the new run"
    );
}
