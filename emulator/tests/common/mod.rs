//! Shared test helpers: an in-process emulator, a real HTTP client (ureq), a raw-socket client
//! for exact header spelling and truncation, a multipart builder and tiny sample files.

#![allow(
    dead_code,
    reason = "each test binary uses a different subset of these helpers"
)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use serde_json::{json, Value};
use wxmedia_emulator::{spawn_thread, Config, Running};

/// The default account's credentials.
pub const APPID: &str = "wx0000000000000001";
pub const SECRET: &str = "emulator-secret";
/// The exact JSON content type WeChat sends.
pub const WX_JSON: &str = "application/json; encoding=utf-8";

/// An emulator running on a background thread, plus a keep-alive client.
pub struct Emu {
    pub running: Running,
    pub base: String,
    agent: ureq::Agent,
}

/// A response read by ureq.
#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", String::from_utf8_lossy(&self.body)))
    }

    /// The errcode of a WeChat error answer, after checking it is shaped like one.
    pub fn errcode(&self) -> i64 {
        assert_eq!(self.status, 200, "WeChat answers errors with HTTP 200");
        let v = self.json();
        v["errcode"]
            .as_i64()
            .unwrap_or_else(|| panic!("no errcode in {v}"))
    }
}

/// A response read from a raw socket: the head exactly as sent.
#[derive(Debug)]
pub struct Raw {
    pub status_line: String,
    /// Header lines exactly as sent (raw bytes, UTF-8 lossy).
    pub header_lines: Vec<String>,
    pub header_bytes: Vec<Vec<u8>>,
    pub body: Vec<u8>,
}

impl Raw {
    /// Value of a header matched case-insensitively.
    pub fn header(&self, name: &str) -> Option<String> {
        self.header_lines.iter().find_map(|l| {
            let (n, v) = l.split_once(": ")?;
            n.eq_ignore_ascii_case(name).then(|| v.to_owned())
        })
    }

    pub fn has_line(&self, line: &str) -> bool {
        self.header_lines.iter().any(|l| l == line)
    }

    pub fn content_length(&self) -> usize {
        self.header("content-length")
            .expect("Content-Length")
            .parse()
            .expect("numeric Content-Length")
    }
}

/// Parses one response from `bytes` (the whole connection's output).
pub fn parse_raw(bytes: &[u8]) -> Raw {
    let end = bytes
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("no end of head in {:?}", String::from_utf8_lossy(bytes)));
    let head = &bytes[..end];
    let mut lines = head
        .split(|b| *b == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l));
    let status_line = String::from_utf8_lossy(lines.next().unwrap()).into_owned();
    let header_bytes: Vec<Vec<u8>> = lines.map(<[u8]>::to_vec).collect();
    let header_lines = header_bytes
        .iter()
        .map(|l| String::from_utf8_lossy(l).into_owned())
        .collect();
    Raw {
        status_line,
        header_lines,
        header_bytes,
        body: bytes[end + 4..].to_vec(),
    }
}

/// Writes `request` on a new connection and reads until the server closes it.
pub fn raw_exchange(addr: SocketAddr, request: &[u8]) -> Vec<u8> {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    stream.write_all(request).expect("write");
    let mut out = Vec::new();
    stream.read_to_end(&mut out).expect("read to end");
    out
}

impl Emu {
    pub fn start() -> Self {
        Self::with(Config::default())
    }

    pub fn with(config: Config) -> Self {
        let running = spawn_thread("127.0.0.1:0".parse().unwrap(), config).expect("spawn");
        let base = running.base_url();
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(20)))
            .build()
            .into();
        Emu {
            running,
            base,
            agent,
        }
    }

    pub fn addr(&self) -> SocketAddr {
        self.running.addr()
    }

    /// The video CDN listener's base URL.
    pub fn cdn(&self) -> String {
        self.running.cdn_url()
    }

    /// GET of an absolute URL (the video CDN's, say).
    pub fn get_url(&self, url: &str) -> Resp {
        Self::finish(self.agent.get(url).call().expect("GET"))
    }

    pub fn url(&self, path_and_query: &str) -> String {
        format!("{}{path_and_query}", self.base)
    }

    fn finish(mut resp: ureq::http::Response<ureq::Body>) -> Resp {
        let status = resp.status().as_u16();
        let headers = resp
            .headers()
            .iter()
            .map(|(n, v)| {
                (
                    n.as_str().to_owned(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        let body = resp
            .body_mut()
            .with_config()
            .limit(64 * 1024 * 1024)
            .read_to_vec()
            .expect("read body");
        Resp {
            status,
            headers,
            body,
        }
    }

    pub fn get(&self, path_and_query: &str) -> Resp {
        Self::finish(
            self.agent
                .get(&self.url(path_and_query))
                .call()
                .expect("GET"),
        )
    }

    pub fn post(&self, path_and_query: &str, content_type: &str, body: &[u8]) -> Resp {
        Self::finish(
            self.agent
                .post(&self.url(path_and_query))
                .header("Content-Type", content_type)
                .send(body)
                .expect("POST"),
        )
    }

    pub fn post_json(&self, path_and_query: &str, body: &Value) -> Resp {
        self.post(
            path_and_query,
            "application/json",
            body.to_string().as_bytes(),
        )
    }

    pub fn delete(&self, path_and_query: &str) -> Resp {
        Self::finish(
            self.agent
                .delete(&self.url(path_and_query))
                .call()
                .expect("DELETE"),
        )
    }

    /// A control call that must succeed; returns its JSON.
    pub fn control(&self, path: &str, body: Value) -> Value {
        let resp = self.post_json(path, &body);
        assert_eq!(
            resp.status,
            200,
            "{path}: {}",
            String::from_utf8_lossy(&resp.body)
        );
        resp.json()
    }

    /// Advances the emulated clock; returns the new emulated time.
    pub fn advance(&self, secs: u64) -> u64 {
        self.control("/_emulator/clock", json!({ "advance_secs": secs }))["now"]
            .as_u64()
            .unwrap()
    }

    /// The emulated time.
    pub fn now(&self) -> u64 {
        self.get("/_emulator/clock").json()["now"].as_u64().unwrap()
    }

    pub fn fault(&self, fault: Value) {
        self.control("/_emulator/faults", fault);
    }

    pub fn token_resp(&self, query: &str) -> Resp {
        self.get(&format!("/cgi-bin/token?{query}"))
    }

    /// A fresh classic token.
    pub fn token(&self) -> String {
        let resp = self.token_resp(&format!(
            "grant_type=client_credential&appid={APPID}&secret={SECRET}"
        ));
        let v = resp.json();
        v["access_token"]
            .as_str()
            .unwrap_or_else(|| panic!("no token: {v}"))
            .to_owned()
    }

    /// `POST /cgi-bin/stable_token` with the right credentials.
    pub fn stable(&self, force: bool) -> Value {
        self.post_json(
            "/cgi-bin/stable_token",
            &json!({"grant_type":"client_credential","appid":APPID,"secret":SECRET,"force_refresh":force}),
        )
        .json()
    }

    /// Uploads a prepared multipart body.
    pub fn upload_form(&self, token: &str, kind: &str, form: &(String, Vec<u8>)) -> Resp {
        self.post(
            &format!("/cgi-bin/media/upload?access_token={token}&type={kind}"),
            &form.0,
            &form.1,
        )
    }

    /// Uploads one file as the `media` part.
    pub fn upload(&self, token: &str, kind: &str, filename: &str, data: &[u8]) -> Resp {
        self.upload_form(token, kind, &media_form(filename, data))
    }

    /// Uploads and returns the media id (`media_id` or `thumb_media_id`).
    pub fn upload_ok(&self, token: &str, kind: &str, filename: &str, data: &[u8]) -> String {
        let v = self.upload(token, kind, filename, data).json();
        let key = if kind == "thumb" {
            "thumb_media_id"
        } else {
            "media_id"
        };
        v[key]
            .as_str()
            .unwrap_or_else(|| panic!("upload failed: {v}"))
            .to_owned()
    }

    pub fn media_get(&self, token: &str, media_id: &str) -> Resp {
        self.get(&format!(
            "/cgi-bin/media/get?access_token={token}&media_id={media_id}"
        ))
    }

    /// A GET on a raw socket (Connection: close), parsed.
    pub fn raw_get(&self, path_and_query: &str) -> Raw {
        let req = format!(
            "GET {path_and_query} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
            self.addr()
        );
        parse_raw(&raw_exchange(self.addr(), req.as_bytes()))
    }

    /// The request log, optionally filtered by path.
    pub fn requests(&self, path: Option<&str>) -> Vec<Value> {
        let q = path.map(|p| format!("?path={p}")).unwrap_or_default();
        self.get(&format!("/_emulator/requests{q}"))
            .json()
            .as_array()
            .unwrap()
            .clone()
    }
}

/// A multipart/form-data body from raw parts: (Content-Disposition parameters after
/// `form-data; `, optional Content-Type, data). Returns (Content-Type header, body).
pub fn form(parts: &[(&str, Option<&str>, &[u8])]) -> (String, Vec<u8>) {
    let boundary = "----wxmediaTestBoundary7MA4YWxkTrZu0gW";
    let mut body = Vec::new();
    for (disposition, content_type, data) in parts {
        body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
        body.extend_from_slice(
            format!("Content-Disposition: form-data; {disposition}\r\n").as_bytes(),
        );
        if let Some(ct) = content_type {
            body.extend_from_slice(format!("Content-Type: {ct}\r\n").as_bytes());
        }
        body.extend_from_slice(b"\r\n");
        body.extend_from_slice(data);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

/// A form with one `media` part named `filename` (raw UTF-8 in the quoted string).
pub fn media_form(filename: &str, data: &[u8]) -> (String, Vec<u8>) {
    let disposition = format!("name=\"media\"; filename=\"{filename}\"");
    form(&[(&disposition, Some("application/octet-stream"), data)])
}

/// Asserts an errmsg carries the real service's suffixes.
pub fn assert_wx_suffix(errmsg: &str) {
    let hint = errmsg
        .find(" hint: [")
        .unwrap_or_else(|| panic!("no hint in {errmsg:?}"));
    let rid = errmsg
        .find("] rid: ")
        .unwrap_or_else(|| panic!("no rid in {errmsg:?}"));
    assert!(hint < rid, "{errmsg:?}");
    let rid = &errmsg[rid + 7..];
    let groups: Vec<&str> = rid.split('-').collect();
    assert_eq!(groups.len(), 3, "{errmsg:?}");
    assert!(groups
        .iter()
        .all(|g| g.len() == 8 && g.bytes().all(|b| b.is_ascii_hexdigit())));
}

/// Tiny sample files with the right magic bytes.
pub mod samples {
    fn crc32(data: &[u8]) -> u32 {
        let mut crc = 0xFFFF_FFFFu32;
        for b in data {
            crc ^= u32::from(*b);
            for _ in 0..8 {
                crc = if crc & 1 != 0 {
                    (crc >> 1) ^ 0xEDB8_8320
                } else {
                    crc >> 1
                };
            }
        }
        !crc
    }

    fn png_chunk(out: &mut Vec<u8>, kind: &[u8], data: &[u8]) {
        out.extend_from_slice(&(data.len() as u32).to_be_bytes());
        let mut crc_input = kind.to_vec();
        crc_input.extend_from_slice(data);
        out.extend_from_slice(&crc_input);
        out.extend_from_slice(&crc32(&crc_input).to_be_bytes());
    }

    /// A JPEG: SOI, a JFIF APP0 segment, EOI.
    pub fn jpeg() -> Vec<u8> {
        let mut v = vec![0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10];
        v.extend_from_slice(b"JFIF\0\x01\x01\0\0\x01\0\x01\0\0");
        v.extend_from_slice(&[0xFF, 0xD9]);
        v
    }

    /// A JPEG padded to `len` bytes.
    pub fn jpeg_of(len: usize) -> Vec<u8> {
        let mut v = jpeg();
        v.resize(len, 0x42);
        v
    }

    /// A 1x1 grey PNG with correct CRCs.
    pub fn png() -> Vec<u8> {
        let mut v = vec![0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];
        png_chunk(&mut v, b"IHDR", &[0, 0, 0, 1, 0, 0, 0, 1, 8, 0, 0, 0, 0]);
        // zlib stream of one scanline: filter byte 0, pixel 0x80.
        png_chunk(
            &mut v,
            b"IDAT",
            &[0x78, 0x01, 0x63, 0x68, 0x00, 0x00, 0x00, 0x82, 0x00, 0x81],
        );
        png_chunk(&mut v, b"IEND", &[]);
        v
    }

    /// The classic 1x1 transparent GIF89a.
    pub fn gif89a() -> Vec<u8> {
        b"GIF89a\x01\x00\x01\x00\x80\x00\x00\xff\xff\xff\x00\x00\x00!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;".to_vec()
    }

    /// The same picture with a GIF87a signature.
    pub fn gif87a() -> Vec<u8> {
        let mut v = gif89a();
        v[4] = b'7';
        v
    }

    /// AMR-NB: magic plus two 12.2 kbit/s frames.
    pub fn amr() -> Vec<u8> {
        let mut v = b"#!AMR\n".to_vec();
        for _ in 0..2 {
            v.push(0x3C);
            v.extend_from_slice(&[0x55; 31]);
        }
        v
    }

    /// AMR-WB: magic plus one frame.
    pub fn amr_wb() -> Vec<u8> {
        let mut v = b"#!AMR-WB\n".to_vec();
        v.push(0x44);
        v.extend_from_slice(&[0x66; 60]);
        v
    }

    /// One MPEG-1 layer III frame header plus padding.
    pub fn mp3_frame() -> Vec<u8> {
        let mut v = vec![0xFF, 0xFB, 0x90, 0x64];
        v.resize(417, 0);
        v
    }

    /// An ID3v2 tag followed by a frame.
    pub fn mp3_id3() -> Vec<u8> {
        let mut v = b"ID3\x04\x00\x00\x00\x00\x00\x00".to_vec();
        v.extend_from_slice(&mp3_frame());
        v
    }

    /// An `ftyp` box and a small `mdat` box.
    pub fn mp4() -> Vec<u8> {
        let mut v = Vec::new();
        v.extend_from_slice(&24u32.to_be_bytes());
        v.extend_from_slice(b"ftypisom\x00\x00\x02\x00isomiso2");
        v.extend_from_slice(&16u32.to_be_bytes());
        v.extend_from_slice(b"mdat");
        v.extend_from_slice(&[1, 2, 3, 4, 5, 6, 7, 8]);
        v
    }
}
