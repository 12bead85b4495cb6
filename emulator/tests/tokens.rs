//! Access tokens: credential errors, classic overlap, stable idempotence and rotation, expiry,
//! revocation, quotas, the IP whitelist.

mod common;

use common::{assert_wx_suffix, samples, Emu, APPID, SECRET, WX_JSON};
use serde_json::json;
use wxmedia_emulator::Config;

fn good_query() -> String {
    format!("grant_type=client_credential&appid={APPID}&secret={SECRET}")
}

/// The errcode a media download answers with this token for this media id.
fn get_code(emu: &Emu, token: &str, media_id: &str) -> i64 {
    let resp = emu.media_get(token, media_id);
    if resp.header("content-disposition").is_some() {
        0
    } else {
        resp.errcode()
    }
}

#[test]
fn classic_token_shape() {
    let emu = Emu::start();
    let resp = emu.token_resp(&good_query());
    assert_eq!(resp.status, 200);
    assert_eq!(resp.header("content-type"), Some(WX_JSON));
    let v = resp.json();
    assert_eq!(v["expires_in"], 7200);
    let token = v["access_token"].as_str().unwrap();
    assert_eq!(token.len(), 136);
    assert!(token
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-'));
    assert_eq!(v.as_object().unwrap().len(), 2, "{v}");
    // Each call issues a new token.
    assert_ne!(emu.token(), token);
}

#[test]
fn classic_credential_errors() {
    let emu = Emu::start();
    let cases = [
        (
            format!("appid={APPID}&secret={SECRET}"),
            40002,
            "invalid grant_type",
        ),
        (
            format!("grant_type=password&appid={APPID}&secret={SECRET}"),
            40002,
            "invalid grant_type",
        ),
        (
            format!("grant_type=client_credential&secret={SECRET}"),
            41002,
            "appid missing",
        ),
        (
            format!("grant_type=client_credential&appid={APPID}"),
            41004,
            "appsecret missing",
        ),
        (
            format!("grant_type=client_credential&appid={APPID}&secret="),
            41004,
            "appsecret missing",
        ),
        (
            format!("grant_type=client_credential&appid=wxnope&secret={SECRET}"),
            40013,
            "invalid appid",
        ),
        (
            format!("grant_type=client_credential&appid={APPID}&secret=nope"),
            40125,
            "invalid appsecret",
        ),
    ];
    for (query, code, msg) in cases {
        let resp = emu.token_resp(&query);
        assert_eq!(resp.header("content-type"), Some(WX_JSON), "{query}");
        assert_eq!(resp.errcode(), code, "{query}");
        let errmsg = resp.json()["errmsg"].as_str().unwrap().to_owned();
        assert!(errmsg.starts_with(msg), "{errmsg:?}");
        assert_wx_suffix(&errmsg);
    }
    // The hint and rid differ each time.
    let a = emu.token_resp("appid=x").json()["errmsg"].clone();
    let b = emu.token_resp("appid=x").json()["errmsg"].clone();
    assert_ne!(a, b);
}

#[test]
fn ip_whitelist() {
    let blocked = Emu::with(Config {
        ip_whitelist: Some(vec!["10.1.2.3".parse().unwrap()]),
        ..Config::default()
    });
    let resp = blocked.token_resp(&good_query());
    assert_eq!(resp.errcode(), 40164);
    let errmsg = resp.json()["errmsg"].as_str().unwrap().to_owned();
    assert!(
        errmsg.starts_with("invalid ip 127.0.0.1 ipv6 ::ffff:127.0.0.1, not in whitelist"),
        "{errmsg}"
    );
    assert_wx_suffix(&errmsg);
    let stable = blocked.post_json(
        "/cgi-bin/stable_token",
        &json!({"grant_type":"client_credential","appid":APPID,"secret":SECRET}),
    );
    assert_eq!(stable.errcode(), 40164);
    // Credentials are checked before the whitelist.
    assert_eq!(
        blocked
            .token_resp("grant_type=client_credential&appid=wxnope&secret=x")
            .errcode(),
        40013
    );

    let allowed = Emu::with(Config {
        ip_whitelist: Some(vec![
            "10.1.2.3".parse().unwrap(),
            "127.0.0.1".parse().unwrap(),
        ]),
        ..Config::default()
    });
    assert_eq!(allowed.token().len(), 136);
}

#[test]
fn token_presence_and_shape_checks() {
    let emu = Emu::start();
    assert_eq!(emu.get("/cgi-bin/media/get?media_id=x").errcode(), 41001);
    assert_eq!(
        emu.get("/cgi-bin/media/get?access_token=&media_id=x")
            .errcode(),
        41001
    );
    let malformed = emu.media_get("not-a-token!", "x");
    assert_eq!(malformed.errcode(), 40014);
    assert!(malformed.json()["errmsg"]
        .as_str()
        .unwrap()
        .starts_with("invalid access_token"));
    assert_eq!(emu.media_get("abc", "x").errcode(), 40014, "too short");
    let unknown = emu.media_get(&"A".repeat(136), "x");
    assert_eq!(unknown.errcode(), 40001);
    let errmsg = unknown.json()["errmsg"].as_str().unwrap().to_owned();
    assert!(errmsg.starts_with(
        "invalid credential, access_token is invalid or not latest, could get access_token by getStableAccessToken"
    ));
    assert_wx_suffix(&errmsg);
    // Token checks come before everything else on upload too.
    let form = common::media_form("a.jpg", &samples::jpeg());
    let resp = emu.post("/cgi-bin/media/upload?type=bogus", &form.0, &form.1);
    assert_eq!(resp.errcode(), 41001);
}

#[test]
fn classic_overlap_then_40001() {
    let emu = Emu::start();
    let first = emu.token();
    let media = emu.upload_ok(&first, "image", "a.jpg", &samples::jpeg());
    let second = emu.token();
    assert_eq!(
        get_code(&emu, &first, &media),
        0,
        "old token works during the overlap"
    );
    emu.advance(298);
    assert_eq!(get_code(&emu, &first, &media), 0, "still inside 300 s");
    emu.advance(3);
    assert_eq!(
        get_code(&emu, &first, &media),
        40001,
        "300 s after the new token"
    );
    assert_eq!(
        get_code(&emu, &second, &media),
        0,
        "the latest token is unaffected"
    );

    // A third token: the second gets its own 300 s.
    let _third = emu.token();
    emu.advance(298);
    assert_eq!(get_code(&emu, &second, &media), 0);
    emu.advance(3);
    assert_eq!(get_code(&emu, &second, &media), 40001);
}

#[test]
fn expiry_after_7200s_is_42001() {
    let emu = Emu::start();
    let token = emu.token();
    let media = emu.upload_ok(&token, "image", "a.png", &samples::png());
    emu.advance(7198);
    assert_eq!(get_code(&emu, &token, &media), 0);
    emu.advance(3);
    let resp = emu.media_get(&token, &media);
    assert_eq!(resp.errcode(), 42001);
    let errmsg = resp.json()["errmsg"].as_str().unwrap().to_owned();
    assert!(errmsg.starts_with("access_token expired"), "{errmsg}");
    assert_wx_suffix(&errmsg);
}

#[test]
fn revoke_makes_every_token_40001() {
    let emu = Emu::start();
    let classic = emu.token();
    let stable = emu.stable(false)["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let media = emu.upload_ok(&classic, "image", "a.gif", &samples::gif89a());
    let v = emu.control("/_emulator/tokens/revoke", json!({}));
    assert_eq!(v["revoked"], 2);
    assert_eq!(get_code(&emu, &classic, &media), 40001);
    assert_eq!(get_code(&emu, &stable, &media), 40001);
    // New tokens work; the stable endpoint issues a new one instead of the revoked one.
    let fresh_stable = emu.stable(false);
    assert_ne!(fresh_stable["access_token"], stable.as_str());
    assert_eq!(fresh_stable["expires_in"], 7200);
    assert_eq!(get_code(&emu, &emu.token(), &media), 0);
}

#[test]
fn classic_daily_quota_45009() {
    let emu = Emu::start();
    // Start just after an emulated midnight so every call falls on one day.
    let now = emu.now();
    emu.advance(86_400 - now % 86_400 + 1);
    for i in 0..2000 {
        let resp = emu.token_resp(&good_query());
        assert!(resp.json()["access_token"].is_string(), "call {i}");
    }
    let resp = emu.token_resp(&good_query());
    assert_eq!(resp.errcode(), 45009);
    assert!(resp.json()["errmsg"]
        .as_str()
        .unwrap()
        .starts_with("reach max api daily quota limit"));
    // Stable tokens have their own quota.
    assert!(emu.stable(false)["access_token"].is_string());
    emu.advance(86_400);
    assert_eq!(emu.token().len(), 136);
}

#[test]
fn stable_token_errors() {
    let emu = Emu::start();
    let get = emu.get("/cgi-bin/stable_token");
    assert_eq!(get.errcode(), 43002);
    assert!(get.json()["errmsg"]
        .as_str()
        .unwrap()
        .starts_with("require POST method"));
    assert_eq!(
        emu.post("/cgi-bin/stable_token", "application/json", b"{not json")
            .errcode(),
        47001
    );
    let cases = [
        (json!({"appid":APPID,"secret":SECRET}), 40002),
        (
            json!({"grant_type":"x","appid":APPID,"secret":SECRET}),
            40002,
        ),
        (
            json!({"grant_type":"client_credential","secret":SECRET}),
            41002,
        ),
        (
            json!({"grant_type":"client_credential","appid":APPID}),
            41004,
        ),
        (
            json!({"grant_type":"client_credential","appid":"wxnope","secret":SECRET}),
            40013,
        ),
        (
            json!({"grant_type":"client_credential","appid":APPID,"secret":"nope"}),
            40125,
        ),
    ];
    for (body, code) in cases {
        let resp = emu.post_json("/cgi-bin/stable_token", &body);
        assert_eq!(resp.header("content-type"), Some(WX_JSON));
        assert_eq!(resp.errcode(), code, "{body}");
    }
}

#[test]
fn stable_is_idempotent_and_counts_down() {
    let emu = Emu::start();
    let first = emu.stable(false);
    let token = first["access_token"].as_str().unwrap().to_owned();
    assert_eq!(token.len(), 136);
    let expires = first["expires_in"].as_u64().unwrap();
    assert!((7199..=7200).contains(&expires));
    emu.advance(1000);
    let again = emu.stable(false);
    assert_eq!(again["access_token"], token.as_str());
    let left = again["expires_in"].as_u64().unwrap();
    assert!((6198..=6200).contains(&left), "{left}");
    // Classic and stable are independent: a classic call does not supersede the stable one.
    let media = emu.upload_ok(&emu.token(), "image", "a.jpg", &samples::jpeg());
    emu.token();
    emu.advance(400);
    assert_eq!(get_code(&emu, &token, &media), 0);
    assert_eq!(emu.stable(false)["access_token"], token.as_str());
}

#[test]
fn stable_rotates_when_less_than_300s_remain() {
    let emu = Emu::start();
    let first = emu.stable(false)["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let media = emu.upload_ok(&first, "image", "a.jpg", &samples::jpeg());
    emu.advance(6880);
    // 320 s (or 319 s) left: still the same token.
    let v = emu.stable(false);
    assert_eq!(v["access_token"], first.as_str());
    assert!(v["expires_in"].as_u64().unwrap() >= 300);
    emu.advance(30);
    // Under 300 s left: a new token with a full lifetime.
    let v = emu.stable(false);
    assert_ne!(v["access_token"], first.as_str());
    assert_eq!(v["expires_in"], 7200);
    // The old one lives out its natural life, then expires.
    assert_eq!(get_code(&emu, &first, &media), 0);
    emu.advance(300);
    assert_eq!(get_code(&emu, &first, &media), 42001);
}

#[test]
fn stable_force_refresh() {
    let emu = Emu::start();
    let normal = emu.stable(false)["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let media = emu.upload_ok(&normal, "image", "a.jpg", &samples::jpeg());
    let forced = emu.stable(true);
    let forced_token = forced["access_token"].as_str().unwrap().to_owned();
    assert_ne!(forced_token, normal);
    assert_eq!(forced["expires_in"], 7200);
    // Normal mode now returns the forced token.
    assert_eq!(emu.stable(false)["access_token"], forced_token.as_str());
    // The previous stable token keeps working for 300 s, then answers 40001.
    emu.advance(298);
    assert_eq!(get_code(&emu, &normal, &media), 0);
    emu.advance(3);
    assert_eq!(get_code(&emu, &normal, &media), 40001);
    assert_eq!(get_code(&emu, &forced_token, &media), 0);

    // Within 30 s of a force refresh another one does not rotate (documented: 否则不会刷新).
    let a = emu.stable(true)["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    emu.advance(10);
    assert_eq!(emu.stable(true)["access_token"], a.as_str());
    emu.advance(20);
    assert_ne!(emu.stable(true)["access_token"], a.as_str());
}

#[test]
fn stable_force_daily_quota_45009() {
    let emu = Emu::start();
    // Start at a fresh emulated day boundary so all 21 calls share one day.
    let now = emu.now();
    emu.advance(86_400 - now % 86_400 + 1);
    let mut seen = std::collections::HashSet::new();
    for i in 0..20 {
        let v = emu.stable(true);
        assert!(
            seen.insert(v["access_token"].as_str().unwrap().to_owned()),
            "call {i} rotated"
        );
        emu.advance(31);
    }
    let resp = emu.post_json(
        "/cgi-bin/stable_token",
        &json!({"grant_type":"client_credential","appid":APPID,"secret":SECRET,"force_refresh":true}),
    );
    assert_eq!(resp.errcode(), 45009);
    // Normal mode still works.
    assert!(emu.stable(false)["access_token"].is_string());
    emu.advance(86_400);
    assert!(emu.stable(true)["access_token"].is_string());
}
