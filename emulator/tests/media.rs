//! Upload, download, video, HD voice (jssdk), expiry and the store cap.

mod common;

use common::{assert_wx_suffix, form, media_form, samples, Emu, WX_JSON};
use serde_json::json;
use wxmedia_emulator::Config;

#[test]
fn upload_every_type_and_format_then_download_same_bytes() {
    let emu = Emu::start();
    let token = emu.token();
    let cases: Vec<(&str, &str, Vec<u8>, &str, &str)> = vec![
        ("image", "photo.jpg", samples::jpeg(), "image/jpeg", "jpg"),
        ("image", "photo.JPEG", samples::jpeg(), "image/jpeg", "jpg"),
        ("image", "pic.png", samples::png(), "image/png", "png"),
        ("image", "anim.gif", samples::gif89a(), "image/gif", "gif"),
        ("image", "old.gif", samples::gif87a(), "image/gif", "gif"),
        ("voice", "note.amr", samples::amr(), "audio/amr", "amr"),
        ("voice", "wide.amr", samples::amr_wb(), "audio/amr", "amr"),
        ("voice", "song.mp3", samples::mp3_id3(), "audio/mpeg", "mp3"),
        (
            "voice",
            "bare.mp3",
            samples::mp3_frame(),
            "audio/mpeg",
            "mp3",
        ),
        ("thumb", "t.jpg", samples::jpeg(), "image/jpeg", "jpg"),
        ("thumb", "t.jpeg", samples::jpeg(), "image/jpeg", "jpg"),
    ];
    for (kind, name, data, content_type, ext) in cases {
        let before = emu.now();
        let resp = emu.upload(&token, kind, name, &data);
        assert_eq!(resp.header("content-type"), Some(WX_JSON));
        let v = resp.json();
        assert_eq!(v["type"], kind, "{name}: {v}");
        let created = v["created_at"].as_u64().unwrap();
        assert!((before..=before + 2).contains(&created), "{v}");
        let key = if kind == "thumb" {
            "thumb_media_id"
        } else {
            "media_id"
        };
        if kind == "thumb" {
            assert!(
                v.get("media_id").is_none(),
                "thumb answers thumb_media_id only: {v}"
            );
        }
        let id = v[key].as_str().unwrap().to_owned();
        assert_eq!(id.len(), 64);
        assert!(id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-'));

        // The download on a raw socket: exact header spelling.
        let raw = emu.raw_get(&format!(
            "/cgi-bin/media/get?access_token={token}&media_id={id}"
        ));
        assert_eq!(raw.status_line, "HTTP/1.1 200 OK");
        let expected = [
            format!("Content-Type: {content_type}"),
            format!("Content-disposition: attachment; filename=\"{id}.{ext}\""),
            "Cache-Control: no-cache, must-revalidate".to_owned(),
            format!("Content-Length: {}", data.len()),
        ];
        for line in &expected {
            assert!(
                raw.has_line(line),
                "missing {line:?} in {:?}",
                raw.header_lines
            );
        }
        assert!(raw.header("date").is_some());
        assert_eq!(raw.body, data, "{name}");

        // And through a real client.
        let resp = emu.media_get(&token, &id);
        assert_eq!(resp.body, data);
    }
}

#[test]
fn raw_utf8_filename_is_accepted() {
    let emu = Emu::start();
    let token = emu.token();
    let resp = emu.upload(&token, "image", "测试图片 1.jpg", &samples::jpeg());
    let id = resp.json()["media_id"].as_str().unwrap().to_owned();
    let raw = emu.raw_get(&format!(
        "/cgi-bin/media/get?access_token={token}&media_id={id}"
    ));
    assert!(raw.has_line(&format!(
        "Content-disposition: attachment; filename=\"{id}.jpg\""
    )));
}

#[test]
fn media_data_missing_41005() {
    let emu = Emu::start();
    let token = emu.token();
    let jpeg = samples::jpeg();
    let forms = [
        // No part named media.
        form(&[(
            "name=\"file\"; filename=\"a.jpg\"",
            Some("image/jpeg"),
            &jpeg,
        )]),
        // An empty media part.
        form(&[(
            "name=\"media\"; filename=\"a.jpg\"",
            Some("image/jpeg"),
            b"",
        )]),
        // The filename only in RFC 5987 form.
        form(&[(
            "name=\"media\"; filename*=utf-8''%E6%B5%8B%E8%AF%95.jpg",
            Some("image/jpeg"),
            &jpeg,
        )]),
        // No parts at all.
        form(&[]),
    ];
    for f in &forms {
        let resp = emu.upload_form(&token, "image", f);
        assert_eq!(resp.errcode(), 41005, "{}", String::from_utf8_lossy(&f.1));
        let errmsg = resp.json()["errmsg"].as_str().unwrap().to_owned();
        assert!(errmsg.starts_with("media data missing"));
        assert_wx_suffix(&errmsg);
    }
    // Not multipart, or an empty body (a spent stream).
    let url = format!("/cgi-bin/media/upload?access_token={token}&type=image");
    assert_eq!(emu.post(&url, "image/jpeg", &jpeg).errcode(), 41005);
    assert_eq!(
        emu.post(&url, "multipart/form-data; boundary=abc", b"")
            .errcode(),
        41005
    );
    // filename* together with a plain filename is fine.
    let both = form(&[(
        "name=\"media\"; filename*=utf-8''%E6%B5%8B.jpg; filename=\"a.jpg\"",
        Some("image/jpeg"),
        &jpeg,
    )]);
    assert!(emu.upload_form(&token, "image", &both).json()["media_id"].is_string());
}

#[test]
fn invalid_file_type_40005() {
    let emu = Emu::start();
    let token = emu.token();
    let no_filename = form(&[("name=\"media\"", Some("image/jpeg"), &samples::jpeg())]);
    let resp = emu.upload_form(&token, "image", &no_filename);
    assert_eq!(resp.errcode(), 40005);
    assert!(resp.json()["errmsg"]
        .as_str()
        .unwrap()
        .starts_with("invalid file type"));
    let cases: Vec<(&str, &str, Vec<u8>)> = vec![
        ("image", "a.bmp", samples::jpeg()), // extension not allowed
        ("image", "noext", samples::jpeg()), // no extension
        ("image", "a.mp3", samples::jpeg()), // another type's extension
        ("thumb", "a.png", samples::png()),  // thumb is JPEG only
        ("thumb", "a.jpg", samples::png()),  // right extension, PNG bytes
        ("image", "a.jpg", b"not an image at all".to_vec()), // wrong magic
        ("voice", "a.mp3", samples::jpeg()), // JPEG bytes as voice
        ("voice", "a.amr", samples::mp4()),
        ("video", "a.mp4", samples::amr()),
        ("video", "a.mov", samples::mp4()),
    ];
    for (kind, name, data) in cases {
        assert_eq!(
            emu.upload(&token, kind, name, &data).errcode(),
            40005,
            "{kind} {name}"
        );
    }
}

#[test]
fn invalid_size_40006() {
    let emu = Emu::start();
    let token = emu.token();
    // thumb: 64 KB exactly is fine, one byte more is not.
    assert!(emu
        .upload(&token, "thumb", "t.jpg", &samples::jpeg_of(64 * 1024))
        .json()["thumb_media_id"]
        .is_string());
    let resp = emu.upload(&token, "thumb", "t.jpg", &samples::jpeg_of(64 * 1024 + 1));
    assert_eq!(resp.errcode(), 40006);
    assert!(resp.json()["errmsg"]
        .as_str()
        .unwrap()
        .starts_with("invalid meida size"));
    // voice: 2 MB.
    let mut mp3 = samples::mp3_frame();
    mp3.resize(2 * 1024 * 1024 + 1, 0);
    assert_eq!(emu.upload(&token, "voice", "v.mp3", &mp3).errcode(), 40006);
    // image: 10 MB.
    assert_eq!(
        emu.upload(
            &token,
            "image",
            "big.jpg",
            &samples::jpeg_of(10 * 1024 * 1024 + 1)
        )
        .errcode(),
        40006
    );
}

#[test]
fn oversized_body_is_refused_before_buffering() {
    let emu = Emu::start();
    let token = emu.token();
    // Announce 25 MiB, send none of it: the answer comes anyway and the connection closes.
    let req = format!(
        "POST /cgi-bin/media/upload?access_token={token}&type=video HTTP/1.1\r\nHost: x\r\n\
         Content-Type: multipart/form-data; boundary=abc\r\nContent-Length: {}\r\n\r\n",
        25 * 1024 * 1024
    );
    let raw = common::parse_raw(&common::raw_exchange(emu.addr(), req.as_bytes()));
    assert_eq!(raw.status_line, "HTTP/1.1 200 OK");
    assert!(raw.has_line("Connection: close"));
    let v: serde_json::Value = serde_json::from_slice(&raw.body).unwrap();
    assert_eq!(v["errcode"], 40006);
}

#[test]
fn oversized_body_from_a_real_client_still_gets_its_answer() {
    let emu = Emu::start();
    let token = emu.token();
    let big = samples::jpeg_of(21 * 1024 * 1024);
    let resp = emu.upload(&token, "image", "huge.jpg", &big);
    assert_eq!(resp.errcode(), 40006);
    // The server is still fine afterwards.
    assert_eq!(emu.token().len(), 136);
}

#[test]
fn invalid_media_type_40004_and_method_43002() {
    let emu = Emu::start();
    let token = emu.token();
    let f = media_form("a.jpg", &samples::jpeg());
    for q in ["type=bogus", "type=", "type=IMAGE", ""] {
        let resp = emu.post(
            &format!("/cgi-bin/media/upload?access_token={token}&{q}"),
            &f.0,
            &f.1,
        );
        assert_eq!(resp.errcode(), 40004, "{q}");
        assert!(resp.json()["errmsg"]
            .as_str()
            .unwrap()
            .starts_with("invalid media type"));
    }
    let resp = emu.get(&format!(
        "/cgi-bin/media/upload?access_token={token}&type=image"
    ));
    assert_eq!(resp.errcode(), 43002);
}

#[test]
fn get_errors_41006_40007() {
    let emu = Emu::start();
    let token = emu.token();
    let resp = emu.get(&format!("/cgi-bin/media/get?access_token={token}"));
    assert_eq!(resp.errcode(), 41006);
    assert!(resp.json()["errmsg"]
        .as_str()
        .unwrap()
        .starts_with("media_id missing"));
    let resp = emu.media_get(&token, "doesnotexist");
    assert_eq!(resp.header("content-type"), Some(WX_JSON));
    assert_eq!(resp.errcode(), 40007);
    let errmsg = resp.json()["errmsg"].as_str().unwrap().to_owned();
    assert!(errmsg.starts_with("invalid media_id"));
    assert_wx_suffix(&errmsg);
}

#[test]
fn media_expires_after_three_days() {
    let emu = Emu::start();
    let token = emu.token();
    let id = emu.upload_ok(&token, "image", "a.jpg", &samples::jpeg());
    emu.advance(259_200 - 5);
    let token = emu.token();
    assert_eq!(emu.media_get(&token, &id).body, samples::jpeg());
    emu.advance(6);
    assert_eq!(emu.media_get(&token, &id).errcode(), 40007);
    // It was purged from the store.
    let listing = emu.get("/_emulator/media").json();
    assert_eq!(listing["media"], json!([]));
    assert_eq!(listing["total_bytes"], 0);
}

#[test]
fn video_answers_a_field_shaped_url_on_the_cdn_listener() {
    let emu = Emu::start();
    let token = emu.token();
    let mp4 = samples::mp4();
    let id = emu.upload_ok(&token, "video", "clip.mp4", &mp4);
    let resp = emu.media_get(&token, &id);
    assert_eq!(resp.header("content-type"), Some(WX_JSON));
    assert!(resp.header("content-disposition").is_none());
    let v = resp.json();
    let url = v["video_url"].as_str().unwrap().to_owned();
    assert_eq!(v.as_object().unwrap().len(), 1);
    // The field's shape: the CDN by address (not the API's host and port), WeChat's CDN domain as
    // the first path segment, a 32-hex file name, a vkey.
    let cdn = emu.cdn();
    assert_ne!(cdn, emu.base);
    let rest = url
        .strip_prefix(&format!("{cdn}/vweixinp.tc.qq.com/1007_"))
        .unwrap_or_else(|| panic!("{url}"));
    let (file, query) = rest.split_once(".f10.mp4?vkey=").unwrap();
    assert!(
        file.len() == 32 && file.bytes().all(|b| b.is_ascii_hexdigit()),
        "{url}"
    );
    let (vkey, tail) = query.split_once('&').unwrap();
    assert!(
        vkey.len() >= 32 && vkey.bytes().all(|b| b.is_ascii_hexdigit()),
        "{url}"
    );
    assert_eq!(tail, "sha=0&save=1");
    // The same video answers the same URL again.
    assert_eq!(emu.media_get(&token, &id).json()["video_url"], json!(url));
    // No token needed for the URL; the vkey is.
    let video = emu.get_url(&url);
    assert_eq!(video.status, 200);
    assert_eq!(video.header("content-type"), Some("video/mp4"));
    assert_eq!(video.body, mp4);
    assert_eq!(emu.get_url(&url.replace(vkey, "00")).status, 403);
    assert_eq!(emu.get_url(&url.replace(file, &"0".repeat(32))).status, 404);
    // The API's own port serves no video, and the CDN serves no API.
    assert_eq!(emu.get(&url[cdn.len()..]).status, 404);
    let on_cdn = format!("{cdn}/cgi-bin/media/get?access_token={token}&media_id={id}");
    assert_eq!(emu.get_url(&on_cdn).status, 404);
    // Gone with the media after three days.
    emu.advance(3 * 86_400 + 1);
    assert_eq!(emu.get_url(&url).status, 404);
}

#[test]
fn video_host_names_the_cdn_by_another_address() {
    let emu = Emu::with(Config {
        video_host: Some("203.205.137.89".into()),
        ..Default::default()
    });
    let token = emu.token();
    let id = emu.upload_ok(&token, "video", "clip.mp4", &samples::mp4());
    let url = emu.media_get(&token, &id).json()["video_url"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        url.starts_with("http://203.205.137.89/vweixinp.tc.qq.com/1007_"),
        "{url}"
    );
    // The CDN listener still serves it, whatever the URL names.
    let path = &url["http://203.205.137.89".len()..];
    assert_eq!(
        emu.get_url(&format!("{}{path}", emu.cdn())).body,
        samples::mp4()
    );
}

#[test]
fn jssdk_speex() {
    let emu = Emu::start();
    let token = emu.token();
    let voice = emu.upload_ok(&token, "voice", "v.amr", &samples::amr());
    let path = format!("/cgi-bin/media/get/jssdk?access_token={token}&media_id={voice}");
    let raw = emu.raw_get(&path);
    assert_eq!(raw.status_line, "HTTP/1.1 200 OK");
    assert!(
        raw.has_line("Content-Type: voice/speex"),
        "{:?}",
        raw.header_lines
    );
    assert!(raw.has_line(&format!(
        "Content-disposition: attachment; filename=\"{voice}.speex\""
    )));
    assert_eq!(raw.content_length(), raw.body.len());
    // Two AMR frames: two 60-byte Speex wideband frames (tests/hd_voice.rs checks the audio).
    assert_eq!(raw.body.len(), 120);
    assert_ne!(raw.body, samples::amr());
    // Deterministic.
    assert_eq!(emu.raw_get(&path).body, raw.body);

    let image = emu.upload_ok(&token, "image", "a.jpg", &samples::jpeg());
    let resp = emu.get(&format!(
        "/cgi-bin/media/get/jssdk?access_token={token}&media_id={image}"
    ));
    assert_eq!(resp.errcode(), 40007);
    assert_eq!(
        emu.get(&format!("/cgi-bin/media/get/jssdk?access_token={token}"))
            .errcode(),
        41006
    );
    assert_eq!(
        emu.get("/cgi-bin/media/get/jssdk?access_token=bad!&media_id=x")
            .errcode(),
        40014
    );
}

#[test]
fn jssdk_unverified_48001() {
    let emu = Emu::with(Config {
        verified: false,
        ..Config::default()
    });
    let token = emu.token();
    let voice = emu.upload_ok(&token, "voice", "v.mp3", &samples::mp3_id3());
    let resp = emu.get(&format!(
        "/cgi-bin/media/get/jssdk?access_token={token}&media_id={voice}"
    ));
    assert_eq!(resp.errcode(), 48001);
    assert!(resp.json()["errmsg"]
        .as_str()
        .unwrap()
        .starts_with("api unauthorized"));
    // The plain download still works.
    assert_eq!(emu.media_get(&token, &voice).body, samples::mp3_id3());
}

#[test]
fn store_cap_507_then_reset() {
    let emu = Emu::with(Config {
        max_store_bytes: 1000,
        ..Config::default()
    });
    let token = emu.token();
    emu.upload_ok(&token, "image", "a.jpg", &samples::jpeg_of(600));
    let resp = emu.upload(&token, "image", "b.jpg", &samples::jpeg_of(600));
    assert_eq!(resp.status, 507);
    assert_eq!(
        resp.json(),
        json!({"errcode":-1,"errmsg":"emulator: media store full (cap 1000 bytes); POST /_emulator/reset"})
    );
    // Smaller files still fit.
    emu.upload_ok(&token, "image", "c.jpg", &samples::jpeg_of(400));
    // Expired media are purged first.
    emu.advance(259_200);
    let token = emu.token();
    emu.upload_ok(&token, "image", "d.jpg", &samples::jpeg_of(600));
    // And a reset empties the store.
    emu.control("/_emulator/reset", json!({}));
    let token = emu.token();
    emu.upload_ok(&token, "image", "e.jpg", &samples::jpeg_of(900));
    assert_eq!(emu.get("/_emulator/media").json()["total_bytes"], 900);
}

#[test]
fn head_on_download_sends_headers_only() {
    let emu = Emu::start();
    let token = emu.token();
    let id = emu.upload_ok(&token, "image", "a.png", &samples::png());
    let req = format!(
        "HEAD /cgi-bin/media/get?access_token={token}&media_id={id} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    );
    let raw = common::parse_raw(&common::raw_exchange(emu.addr(), req.as_bytes()));
    assert!(raw.has_line(&format!("Content-Length: {}", samples::png().len())));
    assert!(raw.has_line("Content-Type: image/png"));
    assert!(raw.body.is_empty());
}
