//! The binary's command line, and the HTTP layer (keep-alive, pipelining, chunked bodies,
//! 100-continue, errors), and the async library API.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::Duration;

use common::{media_form, parse_raw, raw_exchange, samples, Emu, APPID, SECRET};
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_wxmedia-emulator");

#[cfg(unix)]
#[test]
fn cli_prints_its_address_serves_and_exits_on_sigterm() {
    let mut child = Command::new(BIN)
        .args([
            "--listen",
            "127.0.0.1:0",
            "--appid",
            "wxcli",
            "--secret",
            "s3cret",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the binary");
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    let line = line.trim_end_matches('\n');
    let port = line
        .strip_prefix("listening on http://127.0.0.1:")
        .unwrap_or_else(|| panic!("first line was {line:?}"));
    let port: u16 = port
        .parse()
        .unwrap_or_else(|_| panic!("first line was {line:?}"));
    assert_ne!(port, 0);

    let base = format!("http://127.0.0.1:{port}");
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let body = agent
        .get(&format!(
            "{base}/cgi-bin/token?grant_type=client_credential&appid=wxcli&secret=s3cret"
        ))
        .call()
        .unwrap()
        .body_mut()
        .read_to_string()
        .unwrap();
    let v: Value = serde_json::from_str(&body).unwrap();
    let token = v["access_token"].as_str().unwrap().to_owned();
    let body = agent
        .get(&format!(
            "{base}/cgi-bin/media/get?access_token={token}&media_id=x"
        ))
        .call()
        .unwrap()
        .body_mut()
        .read_to_string()
        .unwrap();
    assert!(body.contains("40007"), "{body}");

    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let exit = child.wait().unwrap();
    assert!(exit.success(), "{exit:?}");
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert!(
        stderr.contains("/cgi-bin/media/get?access_token=[redacted]&media_id=x"),
        "{stderr}"
    );
    assert!(stderr.contains("secret=[redacted]"), "{stderr}");
    assert!(!stderr.contains(&token), "the token leaked into the log");
    assert!(!stderr.contains("s3cret"), "the secret leaked into the log");
}

#[test]
fn cli_help_and_bad_arguments() {
    let out = Command::new(BIN).arg("--help").output().unwrap();
    assert!(out.status.success());
    let help = String::from_utf8(out.stdout).unwrap();
    for flag in [
        "--listen",
        "--appid",
        "--secret",
        "--cors",
        "--max-store-bytes",
        "--ip-whitelist",
        "--unverified",
    ] {
        assert!(help.contains(flag), "{flag} missing from --help");
    }
    let out = Command::new(BIN).arg("--frobnicate").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--frobnicate"));
    assert!(out.stdout.is_empty());
}

/// Reads one response with a Content-Length body from a kept-alive stream.
fn read_one(stream: &mut TcpStream) -> common::Raw {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        stream.read_exact(&mut byte).unwrap();
        head.push(byte[0]);
    }
    let mut raw = parse_raw(&head);
    let mut body = vec![0; raw.content_length()];
    stream.read_exact(&mut body).unwrap();
    raw.body = body;
    raw
}

#[test]
fn keep_alive_and_pipelining() {
    let emu = Emu::start();
    let mut stream = TcpStream::connect(emu.addr()).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let token_req = format!(
        "GET /cgi-bin/token?grant_type=client_credential&appid={APPID}&secret={SECRET} HTTP/1.1\r\nHost: x\r\n\r\n"
    );
    stream.write_all(token_req.as_bytes()).unwrap();
    let first = read_one(&mut stream);
    assert!(first.has_line("Connection: keep-alive"));
    // Two pipelined requests in one write.
    stream
        .write_all(format!("{token_req}{token_req}").as_bytes())
        .unwrap();
    let second = read_one(&mut stream);
    let third = read_one(&mut stream);
    let tokens: Vec<Value> = [first, second, third]
        .iter()
        .map(|r| serde_json::from_slice::<Value>(&r.body).unwrap()["access_token"].clone())
        .collect();
    assert!(tokens.iter().all(Value::is_string));
    assert_ne!(tokens[1], tokens[2]);
    assert_eq!(emu.requests(Some("/cgi-bin/token")).len(), 3);
}

#[test]
fn chunked_upload_with_expect_continue() {
    let emu = Emu::start();
    let token = emu.token();
    let (content_type, body) = media_form("chunked.png", &samples::png());
    let mut req = format!(
        "POST /cgi-bin/media/upload?access_token={token}&type=image HTTP/1.1\r\nHost: x\r\n\
         Content-Type: {content_type}\r\nTransfer-Encoding: chunked\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n"
    )
    .into_bytes();
    let mut stream = TcpStream::connect(emu.addr()).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    stream.write_all(&req).unwrap();
    let mut interim = [0u8; 25];
    stream.read_exact(&mut interim).unwrap();
    assert_eq!(&interim, b"HTTP/1.1 100 Continue\r\n\r\n");
    req.clear();
    for chunk in body.chunks(37) {
        req.extend_from_slice(format!("{:x};ext=1\r\n", chunk.len()).as_bytes());
        req.extend_from_slice(chunk);
        req.extend_from_slice(b"\r\n");
    }
    req.extend_from_slice(b"0\r\nX-Trailer: y\r\n\r\n");
    stream.write_all(&req).unwrap();
    let mut out = Vec::new();
    stream.read_to_end(&mut out).unwrap();
    let raw = parse_raw(&out);
    let v: Value = serde_json::from_slice(&raw.body).unwrap();
    let id = v["media_id"].as_str().unwrap_or_else(|| panic!("{v}"));
    assert_eq!(emu.media_get(&token, id).body, samples::png());
}

#[test]
fn unknown_paths_and_malformed_requests() {
    let emu = Emu::start();
    let resp = emu.get("/cgi-bin/nothing");
    assert_eq!(resp.status, 404);
    assert!(resp
        .header("content-type")
        .unwrap()
        .starts_with("text/plain"));
    let raw = parse_raw(&raw_exchange(emu.addr(), b"NOT HTTP AT ALL\r\n\r\n"));
    assert!(
        raw.status_line.starts_with("HTTP/1.1 400"),
        "{}",
        raw.status_line
    );
    let raw = parse_raw(&raw_exchange(
        emu.addr(),
        b"POST /cgi-bin/stable_token HTTP/1.1\r\nContent-Length: nope\r\n\r\n",
    ));
    assert!(
        raw.status_line.starts_with("HTTP/1.1 400"),
        "{}",
        raw.status_line
    );
}

#[test]
fn async_api_spawn_and_shutdown() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let emu = wxmedia_emulator::spawn("127.0.0.1:0".parse().unwrap(), Default::default())
            .await
            .unwrap();
        let addr = emu.addr();
        assert_ne!(addr.port(), 0);
        assert_eq!(emu.base_url(), format!("http://127.0.0.1:{}", addr.port()));
        let out = tokio::task::spawn_blocking(move || {
            raw_exchange(
                addr,
                b"GET /_emulator/clock HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
            )
        })
        .await
        .unwrap();
        let raw = parse_raw(&out);
        let v: Value = serde_json::from_slice(&raw.body).unwrap();
        assert!(v["now"].as_u64().unwrap() > 1_600_000_000);
        emu.shutdown().await;
        assert!(
            TcpStream::connect(addr).is_err(),
            "still accepting after shutdown"
        );
    });
}
