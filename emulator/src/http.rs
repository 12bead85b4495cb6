//! A small HTTP/1.1 server layer on top of tokio and `httparse`.
//!
//! Why not hyper: the emulator must write header names with WeChat's exact spelling
//! (`Content-disposition`, lower-case `d`), which hyper 1 lower-cases on HTTP/1 without a public
//! way to keep the case for server responses, and it must be able to send a Content-Length and
//! then deliberately fewer body bytes (the truncation fault). Both are a few lines here.
//!
//! Supported: keep-alive and pipelining, `Content-Length` and `chunked` request bodies,
//! `Expect: 100-continue`, HEAD (headers only). Bodies larger than [`MAX_BODY`] are not read:
//! the handler sees [`Body::TooLarge`] and the connection is closed after the answer.
//!
//! Invariant: this module knows nothing about WeChat; it moves bytes and hands a [`Request`] to
//! [`App::handle`](crate::app::App::handle).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{oneshot, Semaphore};
use tokio::task::JoinSet;

use crate::app::App;

/// Largest request body that is buffered (bigger ones are answered without being read).
pub(crate) const MAX_BODY: u64 = 20 * 1024 * 1024;
/// Largest request head (request line plus headers).
const MAX_HEAD: usize = 64 * 1024;
/// Longest line in a chunked body (size line or trailer).
const MAX_LINE: usize = 4096;
/// How long a kept-alive connection may sit idle before it is closed.
const IDLE_TIMEOUT: Duration = Duration::from_secs(60);
/// How long reading one request body or writing one response may take.
const IO_TIMEOUT: Duration = Duration::from_secs(60);
/// Connections served at once; further ones are closed as soon as they are accepted.
const MAX_CONNECTIONS: usize = 512;
/// Bodies above this size (and chunked ones) count as large.
const LARGE_BODY: u64 = 1024 * 1024;
/// Large bodies buffered at once (others wait), so memory stays bounded under many uploads.
const MAX_LARGE_BODIES: usize = 8;

/// A parsed request with its body buffered.
#[derive(Debug)]
pub(crate) struct Request {
    /// Method as sent (`GET`, `POST`, ...).
    pub method: String,
    /// Path part of the target, not percent-decoded.
    pub path: String,
    /// Query string as sent (without `?`), empty when absent.
    pub raw_query: String,
    /// Decoded query pairs in order.
    pub query: Vec<(String, String)>,
    /// Headers with lower-cased names and raw value bytes.
    pub headers: Vec<(String, Vec<u8>)>,
    /// The body.
    pub body: Body,
    /// The TCP peer.
    pub peer: SocketAddr,
    /// The local address the connection arrived on.
    pub local: SocketAddr,
}

/// A request body.
#[derive(Debug)]
pub(crate) enum Body {
    /// The whole body (possibly empty).
    Full(Bytes),
    /// The declared or received body exceeded [`MAX_BODY`]; it was not buffered.
    TooLarge,
}

impl Request {
    /// First value of a header (name in lower case).
    pub fn header(&self, name: &str) -> Option<&[u8]> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_slice())
    }

    /// First value of a query parameter.
    pub fn query_param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// A response; header names are written exactly as given.
#[derive(Debug, Clone)]
pub(crate) struct Response {
    /// Status code.
    pub status: u16,
    /// Headers in order, names spelled as they must appear on the wire. `Content-Length`,
    /// `Date` and `Connection` are added by the writer.
    pub headers: Vec<(String, Vec<u8>)>,
    /// The body (its full length is always announced in `Content-Length`).
    pub body: Bytes,
    /// Send only this many body bytes, then close (a truncation fault).
    pub truncate_at: Option<usize>,
    /// Close the connection after this response.
    pub close: bool,
}

impl Response {
    /// A response with no headers yet.
    pub fn new(status: u16, body: impl Into<Bytes>) -> Self {
        Response {
            status,
            headers: Vec::new(),
            body: body.into(),
            truncate_at: None,
            close: false,
        }
    }

    /// Appends a header.
    pub fn header(mut self, name: &str, value: impl Into<Vec<u8>>) -> Self {
        self.headers.push((name.to_owned(), value.into()));
        self
    }

    /// A `text/plain` response.
    pub fn text(status: u16, body: impl Into<String>) -> Self {
        Response::new(status, body.into()).header("Content-Type", "text/plain; charset=utf-8")
    }

    /// Whether a header with this name (any case) is present.
    pub fn has_header(&self, name: &str) -> bool {
        self.headers
            .iter()
            .any(|(n, _)| n.eq_ignore_ascii_case(name))
    }
}

/// Accepts connections until `shutdown` fires (or its sender is dropped).
pub(crate) async fn serve(
    listener: TcpListener,
    app: Arc<App>,
    mut shutdown: oneshot::Receiver<()>,
) {
    let local = listener.local_addr().ok();
    let limit = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    let large_bodies = Arc::new(Semaphore::new(MAX_LARGE_BODIES));
    // Dropping the set at the end aborts every connection task.
    let mut conns = JoinSet::new();
    loop {
        tokio::select! {
            _ = &mut shutdown => break,
            Some(_) = conns.join_next(), if !conns.is_empty() => {}
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    let Ok(permit) = Arc::clone(&limit).try_acquire_owned() else {
                        drop(stream);
                        continue;
                    };
                    let _ = stream.set_nodelay(true);
                    let local = stream.local_addr().ok().or(local).unwrap_or(peer);
                    let app = Arc::clone(&app);
                    let large_bodies = Arc::clone(&large_bodies);
                    conns.spawn(async move {
                        let _permit = permit;
                        serve_connection(app, stream, peer, local, large_bodies).await;
                    });
                }
                // Out of file descriptors and the like: back off briefly instead of spinning.
                Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
            },
        }
    }
}

/// Why reading a request stopped.
enum ReadError {
    /// The peer closed or timed out; nothing to answer.
    Gone,
    /// Malformed input; answer with this status and close.
    Bad(u16, &'static str),
}

async fn serve_connection(
    app: Arc<App>,
    mut stream: TcpStream,
    peer: SocketAddr,
    local: SocketAddr,
    large_bodies: Arc<Semaphore>,
) {
    let mut buf: Vec<u8> = Vec::with_capacity(8 * 1024);
    loop {
        let head = match tokio::time::timeout(IDLE_TIMEOUT, read_head(&mut stream, &mut buf)).await
        {
            Ok(Ok(Some(head))) => head,
            Ok(Ok(None)) | Err(_) | Ok(Err(ReadError::Gone)) => return,
            Ok(Err(ReadError::Bad(status, why))) => {
                let mut resp = Response::text(status, format!("{why}\n"));
                resp.close = true;
                if write_response(&mut stream, &resp, false).await.is_ok() {
                    lingering_close(stream).await;
                }
                return;
            }
        };
        let keep_alive = head.keep_alive;
        let is_head = head.method == "HEAD";
        // Held until the answer is written: the body lives that long.
        let _large = if head.large_body() {
            match Arc::clone(&large_bodies).acquire_owned().await {
                Ok(permit) => Some(permit),
                Err(_) => return,
            }
        } else {
            None
        };
        let body =
            match tokio::time::timeout(IO_TIMEOUT, read_body(&mut stream, &mut buf, &head)).await {
                Ok(Ok(body)) => body,
                Ok(Err(ReadError::Gone)) | Err(_) => return,
                Ok(Err(ReadError::Bad(status, why))) => {
                    let mut resp = Response::text(status, format!("{why}\n"));
                    resp.close = true;
                    if write_response(&mut stream, &resp, is_head).await.is_ok() {
                        lingering_close(stream).await;
                    }
                    return;
                }
            };
        let too_large = matches!(body, Body::TooLarge);
        let request = Request {
            method: head.method,
            path: head.path,
            raw_query: head.raw_query,
            query: head.query,
            headers: head.headers,
            body,
            peer,
            local,
        };
        let mut resp = app.handle(request).await;
        // An unread body leaves the stream unusable for another request.
        resp.close |= too_large || !keep_alive;
        let close = resp.close || resp.truncate_at.is_some();
        match tokio::time::timeout(IO_TIMEOUT, write_response(&mut stream, &resp, is_head)).await {
            Ok(Ok(())) if !close => {}
            Ok(Ok(())) if too_large => {
                lingering_close(stream).await;
                return;
            }
            _ => {
                let _ = stream.shutdown().await;
                return;
            }
        }
    }
}

/// Closes after answering a request whose body was not read: stop writing, then read and drop
/// what the client is still sending for a short while. Closing with unread data would make the
/// kernel send a reset, and the client could lose the answer it has not read yet.
async fn lingering_close(mut stream: TcpStream) {
    let _ = stream.shutdown().await;
    let mut sink = vec![0u8; 64 * 1024];
    let drain = async {
        let mut total: u64 = 0;
        while let Ok(n) = stream.read(&mut sink).await {
            total += n as u64;
            if n == 0 || total > 2 * MAX_BODY {
                break;
            }
        }
    };
    let _ = tokio::time::timeout(Duration::from_secs(2), drain).await;
}

/// The parsed head of a request.
struct Head {
    method: String,
    path: String,
    raw_query: String,
    query: Vec<(String, String)>,
    headers: Vec<(String, Vec<u8>)>,
    keep_alive: bool,
    http11: bool,
}

impl Head {
    fn header(&self, name: &str) -> Option<&[u8]> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_slice())
    }

    /// A chunked body, or a declared length above [`LARGE_BODY`] (up to [`MAX_BODY`]: bigger
    /// ones are not read at all).
    fn large_body(&self) -> bool {
        if self.header("transfer-encoding").is_some() {
            return true;
        }
        self.header("content-length")
            .and_then(|v| std::str::from_utf8(v).ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .is_some_and(|n| n > LARGE_BODY && n <= MAX_BODY)
    }
}

/// Reads one request head. `Ok(None)`: the peer closed cleanly between requests.
async fn read_head(stream: &mut TcpStream, buf: &mut Vec<u8>) -> Result<Option<Head>, ReadError> {
    loop {
        // Tolerate stray CRLFs between pipelined requests (RFC 9112 §2.2).
        let skip = buf
            .iter()
            .take_while(|b| **b == b'\r' || **b == b'\n')
            .count();
        if skip > 0 {
            buf.drain(..skip);
        }
        if !buf.is_empty() {
            let mut headers = [httparse::EMPTY_HEADER; 96];
            let mut req = httparse::Request::new(&mut headers);
            match req.parse(buf) {
                Ok(httparse::Status::Complete(n)) => {
                    let head = to_head(&req)?;
                    buf.drain(..n);
                    return Ok(Some(head));
                }
                Ok(httparse::Status::Partial) => {
                    if buf.len() > MAX_HEAD {
                        return Err(ReadError::Bad(431, "request head too large"));
                    }
                }
                Err(httparse::Error::TooManyHeaders) => {
                    return Err(ReadError::Bad(431, "too many headers"))
                }
                Err(_) => return Err(ReadError::Bad(400, "malformed request")),
            }
        }
        let n = stream.read_buf(buf).await.map_err(|_| ReadError::Gone)?;
        if n == 0 {
            return if buf.is_empty() {
                Ok(None)
            } else {
                Err(ReadError::Gone)
            };
        }
    }
}

fn to_head(req: &httparse::Request<'_, '_>) -> Result<Head, ReadError> {
    let method = req.method.unwrap_or("GET").to_owned();
    let mut target = req.path.unwrap_or("/");
    // Absolute form (`http://host/path?q`) as sent to proxies.
    if let Some(rest) = target
        .strip_prefix("http://")
        .or_else(|| target.strip_prefix("https://"))
    {
        target = rest.find('/').map_or("/", |i| &rest[i..]);
    }
    let (path, raw_query) = match target.split_once('?') {
        Some((p, q)) => (p, q),
        None => (target, ""),
    };
    let path = path.to_owned();
    let raw_query = raw_query.split('#').next().unwrap_or("").to_owned();
    let query = form_urlencoded::parse(raw_query.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let headers: Vec<(String, Vec<u8>)> = req
        .headers
        .iter()
        .map(|h| (h.name.to_ascii_lowercase(), h.value.to_vec()))
        .collect();
    let http11 = req.version == Some(1);
    let connection = headers
        .iter()
        .filter(|(n, _)| n == "connection")
        .map(|(_, v)| String::from_utf8_lossy(v).to_ascii_lowercase())
        .collect::<Vec<_>>()
        .join(",");
    let has = |token: &str| connection.split(',').any(|t| t.trim() == token);
    let keep_alive = if http11 {
        !has("close")
    } else {
        has("keep-alive")
    };
    Ok(Head {
        method,
        path,
        raw_query,
        query,
        headers,
        keep_alive,
        http11,
    })
}

/// Reads the body that `head` announces.
async fn read_body(
    stream: &mut TcpStream,
    buf: &mut Vec<u8>,
    head: &Head,
) -> Result<Body, ReadError> {
    let chunked = match head.header("transfer-encoding") {
        Some(te) => {
            let te = String::from_utf8_lossy(te).to_ascii_lowercase();
            if te.rsplit(',').next().map(str::trim) != Some("chunked") {
                return Err(ReadError::Bad(501, "unsupported transfer-encoding"));
            }
            true
        }
        None => false,
    };
    let expects_continue = head.http11
        && head
            .header("expect")
            .is_some_and(|v| v.eq_ignore_ascii_case(b"100-continue"));
    if chunked {
        if expects_continue {
            send_continue(stream).await?;
        }
        return read_chunked(stream, buf).await;
    }
    let mut length: Option<u64> = None;
    for (_, v) in head.headers.iter().filter(|(n, _)| n == "content-length") {
        let text = std::str::from_utf8(v).map_err(|_| ReadError::Bad(400, "bad content-length"))?;
        for part in text.split(',') {
            let n: u64 = part
                .trim()
                .parse()
                .map_err(|_| ReadError::Bad(400, "bad content-length"))?;
            if length.is_some_and(|l| l != n) {
                return Err(ReadError::Bad(400, "conflicting content-length"));
            }
            length = Some(n);
        }
    }
    let length = length.unwrap_or(0);
    if length > MAX_BODY {
        return Ok(Body::TooLarge);
    }
    let length = usize::try_from(length).map_err(|_| ReadError::Bad(400, "bad content-length"))?;
    if length > 0 && expects_continue && buf.len() < length {
        send_continue(stream).await?;
    }
    fill(stream, buf, length).await?;
    // Keep whatever follows (a pipelined request) in `buf`; hand the body over without copying it.
    let rest = buf.split_off(length);
    let body = std::mem::replace(buf, rest);
    Ok(Body::Full(Bytes::from(body)))
}

async fn send_continue(stream: &mut TcpStream) -> Result<(), ReadError> {
    stream
        .write_all(b"HTTP/1.1 100 Continue\r\n\r\n")
        .await
        .map_err(|_| ReadError::Gone)
}

/// Reads until `buf` holds at least `need` bytes.
async fn fill(stream: &mut TcpStream, buf: &mut Vec<u8>, need: usize) -> Result<(), ReadError> {
    if buf.len() < need {
        buf.reserve(need - buf.len());
    }
    while buf.len() < need {
        let n = stream.read_buf(buf).await.map_err(|_| ReadError::Gone)?;
        if n == 0 {
            return Err(ReadError::Gone);
        }
    }
    Ok(())
}

/// Reads one CRLF-terminated line (without the CRLF) from the front of `buf`.
async fn read_line(stream: &mut TcpStream, buf: &mut Vec<u8>) -> Result<Vec<u8>, ReadError> {
    loop {
        if let Some(i) = memchr::memmem::find(buf, b"\r\n") {
            let line = buf[..i].to_vec();
            buf.drain(..i + 2);
            return Ok(line);
        }
        if buf.len() > MAX_LINE {
            return Err(ReadError::Bad(400, "chunk line too long"));
        }
        let n = stream.read_buf(buf).await.map_err(|_| ReadError::Gone)?;
        if n == 0 {
            return Err(ReadError::Gone);
        }
    }
}

async fn read_chunked(stream: &mut TcpStream, buf: &mut Vec<u8>) -> Result<Body, ReadError> {
    let mut body: Vec<u8> = Vec::new();
    loop {
        let line = read_line(stream, buf).await?;
        let line = String::from_utf8_lossy(&line);
        let size_text = line.split(';').next().unwrap_or("").trim();
        let size = u64::from_str_radix(size_text, 16)
            .map_err(|_| ReadError::Bad(400, "bad chunk size"))?;
        if size == 0 {
            // Trailers until an empty line.
            while !read_line(stream, buf).await?.is_empty() {}
            return Ok(Body::Full(Bytes::from(body)));
        }
        if body.len() as u64 + size > MAX_BODY {
            return Ok(Body::TooLarge);
        }
        let size = usize::try_from(size).map_err(|_| ReadError::Bad(400, "bad chunk size"))?;
        fill(stream, buf, size + 2).await?;
        body.extend_from_slice(&buf[..size]);
        if &buf[size..size + 2] != b"\r\n" {
            return Err(ReadError::Bad(400, "bad chunk terminator"));
        }
        buf.drain(..size + 2);
    }
}

pub(crate) fn reason(status: u16) -> &'static str {
    match status {
        100 => "Continue",
        200 => "OK",
        204 => "No Content",
        400 => "Bad Request",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        413 => "Payload Too Large",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        507 => "Insufficient Storage",
        _ => "Status",
    }
}

/// Serializes the head of `resp` (status line, headers, Content-Length, Date, Connection).
pub(crate) fn encode_head(resp: &Response) -> Vec<u8> {
    let mut out = Vec::with_capacity(256);
    out.extend_from_slice(
        format!("HTTP/1.1 {} {}\r\n", resp.status, reason(resp.status)).as_bytes(),
    );
    for (name, value) in &resp.headers {
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value);
        out.extend_from_slice(b"\r\n");
    }
    if resp.status != 204 && resp.status >= 200 && !resp.has_header("content-length") {
        out.extend_from_slice(format!("Content-Length: {}\r\n", resp.body.len()).as_bytes());
    }
    out.extend_from_slice(
        format!(
            "Date: {}\r\n",
            httpdate::fmt_http_date(std::time::SystemTime::now())
        )
        .as_bytes(),
    );
    let close = resp.close || resp.truncate_at.is_some();
    out.extend_from_slice(if close {
        b"Connection: close\r\n"
    } else {
        b"Connection: keep-alive\r\n"
    });
    out.extend_from_slice(b"\r\n");
    out
}

async fn write_response(
    stream: &mut TcpStream,
    resp: &Response,
    head_only: bool,
) -> std::io::Result<()> {
    let mut out = encode_head(resp);
    if !head_only && resp.status != 204 {
        let end = resp
            .truncate_at
            .map_or(resp.body.len(), |n| n.min(resp.body.len()));
        out.extend_from_slice(&resp.body[..end]);
    }
    stream.write_all(&out).await?;
    stream.flush().await
}
