//! Several WeChat apps in one emulator (one Worker for many apps): tokens, media, quotas,
//! revocation and stable tokens are per app; the control API says which app each call was for.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use common::{samples, Emu, APPID, SECRET};
use serde_json::{json, Value};
use wxmedia_emulator::{AppCredentials, Config};

const B: (&str, &str) = ("wx00000000000000b2", "secret-b");
const C: (&str, &str) = ("wx00000000000000c3", "secret-c");

fn emu_with(apps: &[(&str, &str)]) -> Emu {
    Emu::with(Config {
        apps: apps
            .iter()
            .map(|(id, s)| AppCredentials::new(*id, *s))
            .collect(),
        ..Config::default()
    })
}

fn token_of(emu: &Emu, appid: &str, secret: &str) -> String {
    let v = emu
        .token_resp(&format!(
            "grant_type=client_credential&appid={appid}&secret={secret}"
        ))
        .json();
    v["access_token"]
        .as_str()
        .unwrap_or_else(|| panic!("no token for {appid}: {v}"))
        .to_owned()
}

fn stable_of(emu: &Emu, appid: &str, secret: &str, force: bool) -> Value {
    emu.post_json(
        "/cgi-bin/stable_token",
        &json!({"grant_type":"client_credential","appid":appid,"secret":secret,"force_refresh":force}),
    )
    .json()
}

fn get_code(emu: &Emu, token: &str, id: &str) -> i64 {
    let resp = emu.media_get(token, id);
    if resp.header("content-disposition").is_some() {
        0
    } else {
        resp.errcode()
    }
}

#[test]
fn two_apps_tokens_and_media_are_scoped() {
    let emu = emu_with(&[B]);
    let a = token_of(&emu, APPID, SECRET);
    let b = token_of(&emu, B.0, B.1);
    // Credentials are checked per app.
    let code = |q: String| emu.token_resp(&q).errcode();
    assert_eq!(
        code(format!(
            "grant_type=client_credential&appid={APPID}&secret={}",
            B.1
        )),
        40125
    );
    assert_eq!(
        code(format!(
            "grant_type=client_credential&appid={}&secret={SECRET}",
            B.0
        )),
        40125
    );
    assert_eq!(
        code(format!(
            "grant_type=client_credential&appid={}&secret={}",
            C.0, C.1
        )),
        40013
    );

    let jpeg = samples::jpeg();
    let id_a = emu.upload_ok(&a, "image", "a.jpg", &jpeg);
    let id_b = emu.upload_ok(&b, "image", "b.jpg", &jpeg);
    assert_eq!(get_code(&emu, &a, &id_a), 0);
    assert_eq!(get_code(&emu, &b, &id_b), 0);
    // Media ids are per account: another app's token does not see them.
    assert_eq!(get_code(&emu, &b, &id_a), 40007);
    assert_eq!(get_code(&emu, &a, &id_b), 40007);
    assert_eq!(emu.media_get(&a, &id_a).body, jpeg);
    // HD voice too.
    let voice = emu.upload_ok(&a, "voice", "v.amr", &samples::amr());
    let jssdk = |t: &str| {
        emu.get(&format!(
            "/cgi-bin/media/get/jssdk?access_token={t}&media_id={voice}"
        ))
    };
    assert_eq!(jssdk(&b).errcode(), 40007);
    assert_eq!(jssdk(&a).body.len(), 120);

    // The control API says whose media and calls they are.
    let media = emu.get(&format!("/_emulator/media?appid={}", B.0)).json();
    let listed: Vec<&str> = media["media"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["media_id"].as_str().unwrap())
        .collect();
    assert_eq!(listed, [id_b.as_str()]);
    assert_eq!(media["media"][0]["appid"], B.0);
    let log = emu
        .get(&format!("/_emulator/requests?appid={}", B.0))
        .json();
    let calls: Vec<(&str, Value)> = log
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["path"].as_str().unwrap(), e["errcode"].clone()))
        .collect();
    assert_eq!(
        calls,
        [
            ("/cgi-bin/token", json!(0)),
            ("/cgi-bin/token", json!(40125)), // B's appid with A's secret
            ("/cgi-bin/media/upload", json!(0)),
            ("/cgi-bin/media/get", Value::Null),
            ("/cgi-bin/media/get", json!(40007)), // B's token, A's media
            ("/cgi-bin/media/get/jssdk", json!(40007)),
        ]
    );
    let all = emu.requests(None);
    assert_eq!(all[2]["appid"], APPID, "A's appid with B's secret");
    assert_eq!(all[4]["appid"], Value::Null, "an appid no app has");
    let unknown = emu.get("/_emulator/media?appid=wxnobody");
    assert_eq!(unknown.status, 400);
}

#[test]
fn three_apps_rotation_quota_and_revocation_are_per_app() {
    let emu = emu_with(&[B, C]);
    let a = token_of(&emu, APPID, SECRET);
    let c = token_of(&emu, C.0, C.1);
    // B rotating its classic token does not supersede A's or C's.
    let b1 = token_of(&emu, B.0, B.1);
    let b2 = token_of(&emu, B.0, B.1);
    emu.advance(301);
    let id = "missing";
    assert_eq!(get_code(&emu, &a, id), 40007, "A's token still works");
    assert_eq!(get_code(&emu, &c, id), 40007, "C's token still works");
    assert_eq!(get_code(&emu, &b1, id), 40001, "B's superseded token");
    assert_eq!(get_code(&emu, &b2, id), 40007);

    // Quotas are per app: B uses up its 2000 classic calls for the day, A and C are unaffected.
    let q = format!("grant_type=client_credential&appid={}&secret={}", B.0, B.1);
    let mut last = 0;
    for _ in 2..2001 {
        last = emu.token_resp(&q).json()["errcode"].as_i64().unwrap_or(0);
    }
    assert_eq!(last, 45009);
    assert_eq!(emu.token_resp(&q).errcode(), 45009);
    let a2 = token_of(&emu, APPID, SECRET);
    let c2 = token_of(&emu, C.0, C.1);
    let b_live = emu.get(&format!("/_emulator/tokens?appid={}", B.0)).json()["tokens"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["valid"] == true)
        .unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned();

    // Revoking B's tokens leaves A's and C's working.
    let r = emu.control("/_emulator/tokens/revoke", json!({ "appid": B.0 }));
    // b2 and the 1998 tokens after it are all within their 300 s of overlap: 1999 live.
    assert_eq!(r, json!({ "revoked": 1999, "appids": [B.0] }));
    assert_eq!(get_code(&emu, &b_live, id), 40001);
    assert_eq!(get_code(&emu, &a2, id), 40007);
    assert_eq!(get_code(&emu, &c2, id), 40007);
    let apps = emu.get("/_emulator/apps").json();
    let summary: Vec<(String, bool, u64)> = apps["apps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["appid"].as_str().unwrap().to_owned(),
                a["default"].as_bool().unwrap(),
                a["valid_tokens"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            // The first token of A and of C is superseded but within its overlap.
            (APPID.to_owned(), true, 2),
            (B.0.to_owned(), false, 0),
            (C.0.to_owned(), false, 2),
        ]
    );
    // Without an appid, every app's tokens are revoked (as before).
    let r = emu.control("/_emulator/tokens/revoke", json!({}));
    assert_eq!(r["revoked"], 4);
    assert_eq!(get_code(&emu, &a2, id), 40001);
    assert_eq!(get_code(&emu, &c2, id), 40001);
    let bad = emu.post_json("/_emulator/tokens/revoke", &json!({ "appid": "wxnobody" }));
    assert_eq!(bad.status, 400);
    let bad = emu.post_json("/_emulator/tokens/revoke", &json!({ "appid": 7 }));
    assert_eq!(bad.status, 400);
}

#[test]
fn stable_tokens_are_per_app() {
    let emu = emu_with(&[B]);
    let a = stable_of(&emu, APPID, SECRET, false);
    let b = stable_of(&emu, B.0, B.1, false);
    let (ta, tb) = (
        a["access_token"].as_str().unwrap(),
        b["access_token"].as_str().unwrap(),
    );
    assert_ne!(ta, tb);
    emu.advance(100);
    // Idempotent per app, counting down.
    let a_again = stable_of(&emu, APPID, SECRET, false);
    assert_eq!(a_again["access_token"], ta);
    assert_eq!(a_again["expires_in"], 7100);
    // A force refresh of B rotates B only.
    let b2 = stable_of(&emu, B.0, B.1, true);
    assert_ne!(b2["access_token"], tb);
    assert_eq!(stable_of(&emu, APPID, SECRET, false)["access_token"], ta);
    // Each token sees only its app's media.
    let id = emu.upload_ok(ta, "image", "a.jpg", &samples::jpeg());
    assert_eq!(get_code(&emu, ta, &id), 0);
    assert_eq!(
        get_code(&emu, b2["access_token"].as_str().unwrap(), &id),
        40007
    );
    // B's previous stable token keeps its 300 s of overlap, for B only.
    assert_eq!(get_code(&emu, tb, &id), 40007);
    emu.advance(300);
    assert_eq!(get_code(&emu, tb, &id), 40001);
    // The token listing names the app and kind of each.
    let listed = emu.get("/_emulator/tokens").json();
    let kinds: Vec<(&str, &str, bool)> = listed["tokens"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["appid"].as_str().unwrap(),
                t["kind"].as_str().unwrap(),
                t["valid"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        kinds,
        [
            (APPID, "stable", true),
            (B.0, "stable", false),
            (B.0, "stable", true)
        ]
    );
}

#[cfg(unix)]
#[test]
fn cli_serves_every_app_flag() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_wxmedia-emulator"))
        .args(["--quiet", "--app", "wxcliA:sa", "--app", "wxcliB:s:b"])
        .stdout(Stdio::piped())
        .spawn()
        .expect("start the binary");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let base = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap()
        .to_owned();
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let token = |appid: &str, secret: &str| -> Value {
        let body = agent
            .get(&format!(
                "{base}/cgi-bin/token?grant_type=client_credential&appid={appid}&secret={secret}"
            ))
            .call()
            .unwrap()
            .body_mut()
            .read_to_string()
            .unwrap();
        serde_json::from_str(&body).unwrap()
    };
    assert!(token("wxcliA", "sa")["access_token"].is_string());
    assert!(token("wxcliB", "s:b")["access_token"].is_string());
    // The built-in default account is not served when only --app flags are given.
    assert_eq!(token(APPID, SECRET)["errcode"], 40013);
    let _ = child.kill();
    let _ = child.wait();
}
