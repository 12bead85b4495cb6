//! What a download answered: media as an unread stream, a video's URL, or an error. The headers
//! decide when they can; otherwise at most [`PEEK_LEN`] bytes are copied into wasm to look, and
//! only an answer that looks like JSON is read (up to [`MAX_JSON_LEN`]).

use web_sys::ReadableStream;

use crate::protocol::response::{MAX_JSON_LEN, PEEK_LEN};
use crate::protocol::{
    check_answer_size, check_video_url, classify_head, classify_json, looks_like_json,
    max_answer_bytes, Error, Head, Limits, MediaMeta, Outcome, VideoHost,
};
use crate::web::{self, AbortGuard, ChunkReader};

/// What a download answered.
pub enum Download {
    /// Media bytes, as a stream that has not been read.
    Media(MediaBody),
    /// A video, which WeChat answers with a URL to fetch it from.
    Video {
        /// Where the video is (no token in it).
        video_url: String,
    },
}

/// Media bytes and what the headers said about them.
pub struct MediaBody {
    /// Content type, filename and length as announced.
    pub meta: MediaMeta,
    /// The answer as fetched, when its own body is the media, unread: reading through it
    /// (`arrayBuffer()`, `blob()`) keeps the runtime's native path, and no stream is made
    /// unless [`MediaBody::body`] asks for one.
    pub fetched: Option<web_sys::Response>,
    /// The bytes when they are not `fetched`'s body (a tee'd copy after a look, or nothing).
    stream: Option<ReadableStream>,
    /// The call's deadline and the caller's signal, which keep applying while the body is read:
    /// a body that stalls is aborted when the call's time is up. Held for as long as this is
    /// (the npm API moves it to its `MediaFile`, which drops it once the body is read).
    #[cfg_attr(not(feature = "js"), allow(dead_code))]
    pub(crate) deadline: Option<AbortGuard>,
    /// The most bytes a whole read of a body of unknown length takes before it fails
    /// ([`max_answer_bytes`]); a declared length was checked against it already.
    pub max_bytes: u64,
}

impl MediaBody {
    /// The bytes as a stream. Reading may still fail (a connection cut short of its
    /// Content-Length).
    pub fn body(&self) -> Result<ReadableStream, Error> {
        if let Some(stream) = &self.stream {
            return Ok(stream.clone());
        }
        match self.fetched.as_ref().and_then(|r| r.body()) {
            Some(stream) => Ok(stream),
            None => web::empty_stream(),
        }
    }

    /// Why reading the body failed with `err`, when the call's deadline or signal cut it off
    /// (a timeout, a cancel); `None` for a failure of the body itself.
    pub fn cut_by(&self, err: &wasm_bindgen::JsValue) -> Option<Error> {
        self.deadline.as_ref()?.cut("media", err)
    }

    /// Cancels the body: nobody will read it.
    pub fn discard(&self) {
        if let Some(stream) = &self.stream {
            web::discard(stream);
        } else if let Some(body) = self.fetched.as_ref().and_then(web_sys::Response::body) {
            web::discard(&body);
        }
    }

    /// Reads the whole body into a Blob (runtime memory, never wasm memory).
    pub fn read_blob(&self) -> Result<js_sys::Promise, Error> {
        match (&self.stream, &self.fetched) {
            (None, Some(fetched)) => fetched.blob(),
            _ => web::read_whole(&self.body()?),
        }
        .map_err(|e| web::js_error(&e))
    }

    /// An answer whose own body is the media, read within `deadline`.
    pub(crate) fn fetched(
        meta: MediaMeta,
        answer: web_sys::Response,
        deadline: AbortGuard,
        max_bytes: u64,
    ) -> Self {
        MediaBody {
            meta,
            fetched: Some(answer),
            stream: None,
            deadline: Some(deadline),
            max_bytes,
        }
    }

    /// A body in `stream`; its deadline and cap are set by [`classify`].
    fn streamed(meta: MediaMeta, stream: ReadableStream) -> Self {
        MediaBody {
            meta,
            fetched: None,
            stream: Some(stream),
            deadline: None,
            max_bytes: u64::MAX,
        }
    }
}

/// Sorts a download's answer into media, video URL or error, reading the body only when the
/// headers leave it open, and then only as much as it takes.
///
/// A video's URL must pass [`check_video_url`] against `base` (the upstream's own host and port
/// are trusted for their video URLs) and the hosts the caller trusts as well (`also`).
pub(crate) async fn classify(
    response: web_sys::Response,
    guard: &AbortGuard,
    base: &str,
    also: &[VideoHost],
    limits: &Limits,
) -> Result<Download, Error> {
    Ok(match classify_answer(response, guard, base, also).await? {
        Download::Media(media) => {
            // Larger than any media WeChat serves of its type: refused unread.
            if let Err(err) = check_answer_size(&media.meta, None, limits) {
                media.discard();
                return Err(err);
            }
            // The body is read after the call returns: its deadline and signal go with it.
            Download::Media(MediaBody {
                deadline: Some(guard.clone()),
                max_bytes: max_answer_bytes(&media.meta, limits),
                ..media
            })
        }
        video => video,
    })
}

/// The media's metadata when the head alone says the answer is media (as [`classify`] finds it),
/// else `None`.
pub(crate) fn media_at_once(response: &web_sys::Response, limits: &Limits) -> Option<MediaMeta> {
    match classify_head(response.status(), &web::header_map(response)) {
        // Too large is for `classify` to refuse.
        Head::Media(meta) if check_answer_size(&meta, None, limits).is_ok() => Some(meta),
        Head::Media(_) => None,
        Head::HttpError(_) | Head::Inspect => None,
    }
}

/// The classification itself (see [`classify`]).
async fn classify_answer(
    response: web_sys::Response,
    guard: &AbortGuard,
    base: &str,
    also: &[VideoHost],
) -> Result<Download, Error> {
    let headers = web::header_map(&response);
    match classify_head(response.status(), &headers) {
        Head::HttpError(status) => {
            if let Some(body) = response.body() {
                web::discard(&body);
            }
            Err(Error::Http { status })
        }
        // The body stays in the answer, unread and not even asked for: a caller that reads it
        // whole (arrayBuffer(), blob()) never makes a stream.
        Head::Media(meta) => Ok(Download::Media(MediaBody {
            meta,
            fetched: Some(response),
            stream: None,
            deadline: None,
            max_bytes: u64::MAX,
        })),
        Head::Inspect => {
            let meta = crate::protocol::media_meta(&headers);
            let Some(body) = response.body() else {
                return Ok(Download::Media(MediaBody::streamed(
                    meta,
                    web::empty_stream()?,
                )));
            };
            match inspect(meta, &body, guard).await? {
                Download::Video { video_url } => {
                    check_video_url(&video_url, base, also)?;
                    Ok(Download::Video { video_url })
                }
                media => Ok(media),
            }
        }
    }
}

/// Looks at the start of an unlabelled body: at most [`PEEK_LEN`] bytes of its first chunk come
/// into wasm. JSON (error, video URL) is read whole, up to [`MAX_JSON_LEN`]; anything else is
/// handed back as an untouched stream.
async fn inspect(
    meta: MediaMeta,
    body: &ReadableStream,
    guard: &AbortGuard,
) -> Result<Download, Error> {
    let (peek, keep) = web::tee(body);
    let reader = ChunkReader::new(&peek);
    let read_failed = |e: wasm_bindgen::JsValue| guard.failure("media", &e);
    // The first non-empty chunk decides; it stays in JS memory but for its first bytes.
    let mut first = None;
    while first.is_none() {
        match reader.next_js().await.map_err(read_failed)? {
            Some(chunk) if chunk.length() > 0 => first = Some(chunk),
            Some(_) => {}
            None => break,
        }
    }
    let media = |reader: &ChunkReader| {
        reader.cancel();
        Ok(Download::Media(MediaBody::streamed(
            meta.clone(),
            keep.clone(),
        )))
    };
    let Some(first) = first else {
        return media(&reader);
    };
    if !looks_like_json(meta.content_type.as_deref(), &web::prefix(&first, PEEK_LEN)) {
        return media(&reader);
    }
    if first.length() as usize > MAX_JSON_LEN {
        return media(&reader);
    }
    let mut bytes = first.to_vec();
    if !reader
        .read_rest(&mut bytes, MAX_JSON_LEN)
        .await
        .map_err(read_failed)?
    {
        return media(&reader);
    }
    match classify_json(&bytes) {
        Outcome::NotJson => Ok(Download::Media(MediaBody::streamed(meta, keep))),
        outcome => {
            web::discard(&keep);
            match outcome {
                Outcome::Video { video_url } => Ok(Download::Video { video_url }),
                Outcome::Error(e) => Err(Error::WeChat(e)),
                Outcome::Malformed => Err(Error::Parse {
                    message: "WeChat's JSON answer was cut short or malformed".to_string(),
                    raw: bytes,
                }),
                _ => Err(Error::Parse {
                    message: "unexpected JSON in place of media".to_string(),
                    raw: bytes,
                }),
            }
        }
    }
}
