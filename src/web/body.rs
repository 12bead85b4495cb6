//! Reading answers: header values back to the bytes sent, bodies read within a size cap (small
//! JSON into wasm memory, media as Blobs that never enter it), and stream helpers.

use js_sys::{Array, Promise, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{Blob, ReadableStream, ReadableStreamDefaultReader};

use super::*;
use crate::protocol::response::MAX_JSON_LEN;
use crate::protocol::{Error, SNIFF_LEN};

/// A stream with no bytes, for answers without a body.
pub fn empty_stream() -> Result<ReadableStream, Error> {
    web_sys::Response::new_with_opt_u8_array(Some(&mut []))
        .map_err(|e| network_error(&e))?
        .body()
        .ok_or_else(|| Error::network("an empty Response has no body stream"))
}

/// Splits a stream into two branches that each see every chunk.
pub fn tee(stream: &ReadableStream) -> (ReadableStream, ReadableStream) {
    let branches: Array = stream.tee();
    (
        branches.get(0).unchecked_into(),
        branches.get(1).unchecked_into(),
    )
}

/// A reader over a stream's chunks.
pub struct ChunkReader {
    reader: ReadableStreamDefaultReader,
}

impl ChunkReader {
    /// Locks `stream` for reading.
    pub fn new(stream: &ReadableStream) -> Self {
        Self {
            reader: stream.get_reader().unchecked_into(),
        }
    }

    /// The next chunk, still in JS memory, or `None` at the end of the stream.
    pub async fn next_js(&self) -> Result<Option<Uint8Array>, JsValue> {
        let result = Settled::new(&self.reader.read()).await?;
        let done = Reflect::get(&result, &JsValue::from_str("done"))?
            .as_bool()
            .unwrap_or(true);
        if done {
            return Ok(None);
        }
        let value = Reflect::get(&result, &JsValue::from_str("value"))?;
        Ok(Some(Uint8Array::new(&value)))
    }

    /// Appends the rest of the stream to `bytes` as long as the whole stays within `max` bytes.
    /// `Ok(false)` once the next chunk would pass it: the stream is then left where it stopped.
    pub async fn read_rest(&self, bytes: &mut Vec<u8>, max: usize) -> Result<bool, JsValue> {
        while let Some(chunk) = self.next_js().await? {
            let at = bytes.len();
            let len = chunk.length() as usize;
            if at + len > max {
                return Ok(false);
            }
            bytes.resize(at + len, 0);
            chunk.copy_to(&mut bytes[at..]);
        }
        Ok(true)
    }

    /// Cancels the stream: the rest of its bytes are not wanted.
    pub fn cancel(&self) {
        let _ = self.reader.cancel();
    }
}

/// Cancels a stream nobody will read, so its source can stop.
pub fn discard(stream: &ReadableStream) {
    let _ = stream.cancel();
}

/// At most `max` bytes of a chunk, copied into wasm memory (the rest stays in JS memory).
pub fn prefix(chunk: &Uint8Array, max: usize) -> Vec<u8> {
    let len = chunk.length().min(u32::try_from(max).unwrap_or(u32::MAX));
    chunk.subarray(0, len).to_vec()
}

#[wasm_bindgen]
extern "C" {
    /// A `Headers`, for `get(name)` with the name as a JS string made once (web-sys's `get`
    /// decodes the name from wasm memory on every call).
    type HeadersByName;
    #[wasm_bindgen(method, catch, js_name = get)]
    fn get_named(this: &HeadersByName, name: &JsValue) -> Result<Option<String>, JsValue>;
}

/// The headers [`header_map`] reads.
const READ_HEADERS: [http::HeaderName; 3] = [
    http::header::CONTENT_TYPE,
    http::header::CONTENT_DISPOSITION,
    http::header::CONTENT_LENGTH,
];

thread_local! {
    /// [`READ_HEADERS`]' names as JS strings.
    static READ_HEADER_NAMES: [JsValue; 3] =
        READ_HEADERS.each_ref().map(|name| JsValue::from_str(name.as_str()));
}

/// The headers the classifier reads, as an `http::HeaderMap`. Fetch exposes header values as
/// byte strings (one char per byte): they are turned back into the bytes that were sent, so a raw
/// UTF-8 filename survives.
pub fn header_map(response: &web_sys::Response) -> http::HeaderMap {
    let mut map = http::HeaderMap::new();
    let headers = response.headers();
    let headers: &HeadersByName = headers.unchecked_ref();
    READ_HEADER_NAMES.with(|names| {
        for (name, js_name) in READ_HEADERS.into_iter().zip(names) {
            let Ok(Some(value)) = headers.get_named(js_name) else {
                continue;
            };
            let bytes: Vec<u8> = if value.is_ascii() {
                value.into_bytes()
            } else if value.chars().all(|c| (c as u32) < 256) {
                value.chars().map(|c| c as u8).collect()
            } else {
                value.into_bytes()
            };
            if let Ok(value) = http::HeaderValue::from_bytes(&bytes) {
                map.insert(name, value);
            }
        }
    });
    map
}

/// The body of an answer that must be JSON (a token, an upload's result): a non-2xx status is an
/// [`Error::Http`] (its body discarded), else the body read by [`read_small_body`].
pub async fn read_json_answer(
    response: &web_sys::Response,
    guard: &AbortGuard,
    what: &'static str,
) -> Result<Vec<u8>, Error> {
    if !(200..300).contains(&response.status()) {
        if let Some(body) = response.body() {
            discard(&body);
        }
        return Err(Error::Http {
            status: response.status(),
        });
    }
    read_small_body(response, guard, what).await
}

/// Reads a small answer (token or upload JSON) whole, refusing one larger than [`MAX_JSON_LEN`]:
/// by its Content-Length before reading, or, without one (chunked), as soon as more arrives.
pub async fn read_small_body(
    response: &web_sys::Response,
    guard: &AbortGuard,
    what: &'static str,
) -> Result<Vec<u8>, Error> {
    let declared = response
        .headers()
        .get("content-length")
        .ok()
        .flatten()
        .and_then(|v| v.trim().parse::<usize>().ok());
    let too_large = |size: &str| Error::Parse {
        message: format!("answer of {size} bytes where JSON was expected"),
        raw: Vec::new(),
    };
    match declared {
        Some(declared) if declared > MAX_JSON_LEN => {
            if let Some(body) = response.body() {
                discard(&body);
            }
            Err(too_large(&declared.to_string()))
        }
        Some(_) => {
            let promise = response.array_buffer().map_err(|e| js_error(&e))?;
            let buffer = Settled::new(&promise)
                .await
                .map_err(|e| guard.failure(what, &e))?;
            Ok(Uint8Array::new(&buffer).to_vec())
        }
        None => {
            let Some(body) = response.body() else {
                return Ok(Vec::new());
            };
            let reader = ChunkReader::new(&body);
            let mut bytes = Vec::new();
            let whole = reader
                .read_rest(&mut bytes, MAX_JSON_LEN)
                .await
                .map_err(|e| guard.failure(what, &e))?;
            if !whole {
                reader.cancel();
                return Err(too_large(&format!("more than {MAX_JSON_LEN}")));
            }
            Ok(bytes)
        }
    }
}

/// The first [`SNIFF_LEN`] bytes of a blob, for format detection.
pub async fn read_head(blob: &Blob) -> Result<Vec<u8>, Error> {
    let head = blob
        .slice_with_f64_and_f64(0.0, SNIFF_LEN as f64)
        .map_err(|e| js_error(&e))?;
    let buffer = Settled::new(&head.array_buffer())
        .await
        .map_err(|e| js_error(&e))?;
    Ok(Uint8Array::new(&buffer).to_vec())
}

/// A promise of a stream's bytes read whole into one Blob (runtime memory, never wasm memory).
pub fn read_whole(stream: &ReadableStream) -> Result<Promise, JsValue> {
    web_sys::Response::new_with_opt_readable_stream(Some(stream))?.blob()
}

/// A stream's bytes read whole into one Blob, chunk by chunk (counted, never copied into wasm
/// memory), as long as they stay within `max` bytes: `Ok(None)` past it, the stream cancelled.
pub async fn read_whole_within(stream: &ReadableStream, max: u64) -> Result<Option<Blob>, JsValue> {
    let reader = ChunkReader::new(stream);
    let parts = js_sys::Array::new();
    let mut total = 0u64;
    while let Some(chunk) = reader.next_js().await? {
        total += u64::from(chunk.length());
        if total > max {
            reader.cancel();
            return Ok(None);
        }
        parts.push(&chunk);
    }
    Blob::new_with_u8_array_sequence(&parts).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::web::{AbortGuard, Settled};
    use wasm_bindgen_test::wasm_bindgen_test;

    /// `new Response(body, { headers })` made in JS, the body a stream of `chunks` when given.
    fn response(body: &str, headers: &str) -> web_sys::Response {
        js_sys::Function::new_no_args(&format!(
            "return new Response({body}, {{ headers: {headers} }});"
        ))
        .call0(&JsValue::UNDEFINED)
        .unwrap()
        .unchecked_into()
    }

    /// A JS expression for a stream of `n` chunks of `len` bytes each.
    fn stream_of(n: usize, len: usize) -> String {
        format!(
            "new ReadableStream({{ start(c) {{ for (let i = 0; i < {n}; i++) c.enqueue(new Uint8Array({len}).fill(97)); c.close(); }} }})"
        )
    }

    #[wasm_bindgen_test]
    fn header_values_come_back_as_the_bytes_sent() {
        // 中.jpg in raw UTF-8, as WeChat sends it: Fetch shows each byte as one char.
        let answer = response(
            "''",
            r#"{ 'content-disposition': 'attachment; filename="\u00e4\u00b8\u00ad.jpg"', 'content-type': 'image/jpeg', 'x-other': '1' }"#,
        );
        let map = header_map(&answer);
        assert_eq!(
            map.get("content-disposition").unwrap().as_bytes(),
            "attachment; filename=\"中.jpg\"".as_bytes()
        );
        assert_eq!(map.get("content-type").unwrap(), "image/jpeg");
        assert!(
            map.get("x-other").is_none(),
            "only the headers the classifier reads"
        );
    }

    #[wasm_bindgen_test]
    async fn small_bodies_are_read_within_the_json_cap() {
        let guard = AbortGuard::new(60_000, None);
        let ok = response("'{\"errcode\":0}'", "{}");
        assert_eq!(
            read_small_body(&ok, &guard, "token").await.unwrap(),
            b"{\"errcode\":0}"
        );
        // Declared too large: refused before reading.
        let declared = response(
            "'{}'",
            &format!("{{ 'content-length': '{}' }}", MAX_JSON_LEN + 1),
        );
        assert!(matches!(
            read_small_body(&declared, &guard, "token").await,
            Err(Error::Parse { .. })
        ));
        // Chunked, no length: refused as soon as more than the cap has arrived.
        let chunked = response(&stream_of(MAX_JSON_LEN / 1000 + 1, 1000), "{}");
        assert!(matches!(
            read_small_body(&chunked, &guard, "token").await,
            Err(Error::Parse { .. })
        ));
        let within = response(&stream_of(3, 10), "{}");
        assert_eq!(
            read_small_body(&within, &guard, "token")
                .await
                .unwrap()
                .len(),
            30
        );
    }

    #[wasm_bindgen_test]
    async fn a_json_answer_must_be_2xx() {
        let guard = AbortGuard::new(60_000, None);
        let answer =
            js_sys::Function::new_no_args("return new Response('<html>', { status: 502 });")
                .call0(&JsValue::UNDEFINED)
                .unwrap()
                .unchecked_into();
        assert!(matches!(
            read_json_answer(&answer, &guard, "media").await,
            Err(Error::Http { status: 502 })
        ));
    }

    #[wasm_bindgen_test]
    async fn whole_bodies_are_counted_and_cut_at_the_cap() {
        let body = || response(&stream_of(3, 10), "{}").body().unwrap();
        let blob = read_whole_within(&body(), 30).await.unwrap().unwrap();
        assert_eq!(blob.size(), 30.0);
        assert!(read_whole_within(&body(), 29).await.unwrap().is_none());
        let blob: Blob = Settled::new(&read_whole(&body()).unwrap())
            .await
            .unwrap()
            .unchecked_into();
        assert_eq!(read_head(&blob).await.unwrap(), vec![97; SNIFF_LEN.min(30)]);
    }

    #[wasm_bindgen_test]
    async fn chunks_are_read_within_a_limit_and_peeked_by_prefix() {
        let stream = response(&stream_of(4, 8), "{}").body().unwrap();
        let reader = ChunkReader::new(&stream);
        let first = reader.next_js().await.unwrap().unwrap();
        assert_eq!(prefix(&first, 3), vec![97; 3]);
        assert_eq!(prefix(&first, 100).len(), 8);
        let mut bytes = Vec::new();
        // 8 + 8 fit in 20, the third chunk does not: the reader stops there.
        assert!(!reader.read_rest(&mut bytes, 20).await.unwrap());
        assert_eq!(bytes.len(), 16);
        reader.cancel();
        let (a, b) = tee(&response(&stream_of(2, 5), "{}").body().unwrap());
        let mut left = Vec::new();
        assert!(ChunkReader::new(&a)
            .read_rest(&mut left, 100)
            .await
            .unwrap());
        let mut right = Vec::new();
        assert!(ChunkReader::new(&b)
            .read_rest(&mut right, 100)
            .await
            .unwrap());
        assert_eq!((left.len(), right.len()), (10, 10));
        let empty = empty_stream().unwrap();
        assert!(ChunkReader::new(&empty).next_js().await.unwrap().is_none());
    }
}
