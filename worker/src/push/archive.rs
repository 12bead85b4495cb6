//! Archiving a push's media: each media id fetched through the app's client (its token, the
//! checks of every download: only a positive, checked media answer is kept) and stored in R2
//! under the key `GET /media/{id}` reads, so the download route serves it long after WeChat
//! forgot it. A video's `video_url` (checked by the core) is followed and its bytes stored.
//!
//! The work runs off the answer's path: on the `ARCHIVE_QUEUE` Queue where it is bound (bounded
//! retries with backoff, set in `wrangler.toml`), else in `ctx.waitUntil` with a few retries of
//! its own. A media id WeChat refuses is recorded as failed with its errcode, never stored.

use std::time::Duration;

use worker::{Context, Env, MessageBuilder};
use wxmedia::client::{read_head, read_whole_within, Download};
use wxmedia::protocol::sign::SignedKind;
use wxmedia::protocol::Error;

use super::log;
use super::records::{
    archive_backoff_secs, ArchiveJob, LogAsk, MediaOutcome, MAX_ARCHIVE_ATTEMPTS,
};
use crate::bindings::{self, R2Bucket};
use crate::config::{Apps, Config, BUCKET_BINDING, QUEUE_BINDING};
use crate::error::ApiError;
use crate::media::{self, keys};

/// Attempts per media id when no Queue is bound (the first included).
const WAIT_UNTIL_ATTEMPTS: u32 = 3;

/// The largest video archived (fans' videos are larger than what may be uploaded).
pub const MAX_VIDEO_BYTES: u64 = 200 * 1024 * 1024;

/// What one attempt at a media id came to.
pub enum Attempt {
    /// Archived, or refused for good (recorded either way).
    Settled,
    /// A transient failure: worth another try.
    Retry(String),
}

/// Hands `jobs` to the Queue, or to `ctx.waitUntil` without one.
pub async fn schedule(env: &Env, ctx: &Context, config: &Config, jobs: Vec<ArchiveJob>) {
    if let Ok(queue) = env.queue(QUEUE_BINDING) {
        let mut all_sent = true;
        for job in &jobs {
            if queue.send(job).await.is_err() {
                all_sent = false;
            }
        }
        if all_sent {
            return;
        }
    }
    let env = env.clone();
    let config = config.clone();
    ctx.wait_until(async move {
        for job in jobs {
            for attempt in 1..=WAIT_UNTIL_ATTEMPTS {
                match archive(&env, &config, &job).await {
                    Attempt::Settled => break,
                    Attempt::Retry(reason) if attempt == WAIT_UNTIL_ATTEMPTS => {
                        record_failure(&env, &config, &job, None, &reason).await;
                    }
                    Attempt::Retry(_) => {
                        let backoff = 500u64 << (2 * attempt);
                        worker::Delay::from(Duration::from_millis(backoff)).await;
                    }
                }
            }
        }
    });
}

/// The Queue consumer: each job tried once; a transient failure is sent again with one more
/// attempt counted after [`archive_backoff_secs`], and recorded as failed after
/// [`MAX_ARCHIVE_ATTEMPTS`].
pub async fn consume(env: &Env, mut job: ArchiveJob) {
    let Ok(apps) = Apps::cached(env) else {
        return;
    };
    // An app no longer served: nothing to archive it for.
    let Some(config) = apps.app(&job.appid) else {
        return;
    };
    job.attempts += 1;
    if let Attempt::Retry(reason) = archive(env, config, &job).await {
        let again = job.attempts < MAX_ARCHIVE_ATTEMPTS;
        let sent = again
            && match env.queue(QUEUE_BINDING) {
                Ok(queue) => {
                    let message = MessageBuilder::new(job.clone())
                        .delay_seconds(archive_backoff_secs(job.attempts))
                        .build();
                    queue.send(message).await.is_ok()
                }
                Err(_) => false,
            };
        if !sent {
            record_failure(env, config, &job, None, &reason).await;
        }
    }
}

async fn record(env: &Env, config: &Config, job: &ArchiveJob, outcome: MediaOutcome) {
    let ask = LogAsk::Media {
        media_id: job.media_id.clone(),
        outcome,
        now_ms: js_sys::Date::now() as u64,
    };
    let _ = log::ask(env, &config.appid, &ask).await;
}

async fn record_failure(
    env: &Env,
    config: &Config,
    job: &ArchiveJob,
    errcode: Option<i64>,
    message: &str,
) {
    let outcome = MediaOutcome::Failed {
        errcode,
        message: message.to_string(),
    };
    record(env, config, job, outcome).await;
}

/// One attempt at archiving `job`'s media id.
pub async fn archive(env: &Env, config: &Config, job: &ArchiveJob) -> Attempt {
    let Some(bucket) = bindings::bucket(env, BUCKET_BINDING) else {
        record_failure(env, config, job, None, "MEDIA_BUCKET is not bound").await;
        return Attempt::Settled;
    };
    let key = keys::cache_key(&config.appid, &job.media_id, SignedKind::Media);
    if let Ok(Some((content_type, size))) = bucket.head(&key).await {
        record(
            env,
            config,
            job,
            MediaOutcome::Archived { content_type, size },
        )
        .await;
        return Attempt::Settled;
    }
    let client = match crate::tokens::client(config, env) {
        Ok(client) => client,
        Err(err) => return Attempt::Retry(err.message),
    };
    match client.get(&job.media_id, None).await {
        Ok(Download::Media(body)) => {
            let tag = keys::etag(&job.media_id, SignedKind::Media);
            // A voice's 16 kHz rendition may be Speex, which has no signature to sniff.
            let headerless = job.role == "media16k";
            match media::checked_blob(&body, &job.media_id, SignedKind::Media, tag, headerless)
                .await
            {
                Ok((blob, size, described)) => {
                    store(env, config, job, &bucket, &key, &blob, size, &described).await
                }
                Err(err) => settle_or_retry(env, config, job, &err).await,
            }
        }
        Ok(Download::Video { video_url }) => {
            match video_bytes(&video_url, config.upstream_timeout_ms).await {
                Ok(blob) => {
                    let size = blob.size() as u64;
                    let described = media::Described {
                        content_type: "video/mp4".to_string(),
                        disposition: keys::content_disposition(
                            &format!("{}.mp4", job.media_id),
                            &format!("{}.mp4", job.media_id),
                        ),
                        etag: keys::etag(&job.media_id, SignedKind::Media),
                    };
                    store(env, config, job, &bucket, &key, &blob, size, &described).await
                }
                Err(Fate::Refused(message)) => {
                    record_failure(env, config, job, None, &message).await;
                    Attempt::Settled
                }
                Err(Fate::Transient(message)) => Attempt::Retry(message),
            }
        }
        Err(Error::WeChat(e)) if !is_transient_errcode(e.errcode) => {
            record_failure(env, config, job, Some(e.errcode), &e.errmsg).await;
            Attempt::Settled
        }
        Err(err) => Attempt::Retry(err.to_string()),
    }
}

fn is_transient_errcode(errcode: i64) -> bool {
    use wxmedia::protocol::{action_for, ErrorAction};
    matches!(
        action_for(errcode),
        ErrorAction::RetryWithBackoff | ErrorAction::WaitNextMinute | ErrorAction::Unknown
    )
}

async fn settle_or_retry(env: &Env, config: &Config, job: &ArchiveJob, err: &ApiError) -> Attempt {
    use crate::error::ErrorCode;
    match err.code {
        // Worth another try: a body cut short, a timeout, the Worker's own trouble.
        ErrorCode::UpstreamTruncated
        | ErrorCode::UpstreamTimeout
        | ErrorCode::Internal
        | ErrorCode::Config => Attempt::Retry(err.message.clone()),
        // A checked answer that is not media (empty, HTML, JSON labelled as media…): for good.
        _ => {
            record_failure(env, config, job, err.errcode, &err.message).await;
            Attempt::Settled
        }
    }
}

#[allow(clippy::too_many_arguments)]
async fn store(
    env: &Env,
    config: &Config,
    job: &ArchiveJob,
    bucket: &R2Bucket,
    key: &str,
    blob: &web_sys::Blob,
    size: u64,
    described: &media::Described,
) -> Attempt {
    match bucket
        .put_value(key, blob, &described.content_type, &described.disposition)
        .await
    {
        Ok(()) => {
            let outcome = MediaOutcome::Archived {
                content_type: described.content_type.clone(),
                size,
            };
            record(env, config, job, outcome).await;
            Attempt::Settled
        }
        Err(e) => Attempt::Retry(wxmedia::client::js_message(&e, "R2 refused the write")),
    }
}

/// Why a video's bytes could not be had.
enum Fate {
    /// For good (not a video, too large, refused by the CDN).
    Refused(String),
    /// Worth another try.
    Transient(String),
}

/// The bytes behind a video URL the core checked: `GET` without following redirects, within
/// `timeout_ms`, at most [`MAX_VIDEO_BYTES`], and an MP4 by its first bytes.
async fn video_bytes(url: &str, timeout_ms: u64) -> Result<web_sys::Blob, Fate> {
    use futures_util::future::{select, Either};
    let controller = worker::AbortController::default();
    let signal = controller.signal();
    let work = async {
        let mut init = worker::RequestInit::new();
        init.with_redirect(worker::RequestRedirect::Manual);
        let request = worker::Request::new_with_init(url, &init)
            .map_err(|e| Fate::Refused(format!("the video URL: {e}")))?;
        let response = worker::Fetch::Request(request)
            .send_with_signal(&signal)
            .await
            .map_err(|e| Fate::Transient(format!("the video CDN: {e}")))?;
        let status = response.status_code();
        if status >= 500 {
            return Err(Fate::Transient(format!("the video CDN answered {status}")));
        }
        if status != 200 {
            return Err(Fate::Refused(format!("the video CDN answered {status}")));
        }
        let raw: web_sys::Response = response.into();
        let stream = raw
            .body()
            .ok_or_else(|| Fate::Refused("the video CDN sent no body".into()))?;
        let blob = read_whole_within(&stream, MAX_VIDEO_BYTES)
            .await
            .map_err(|e| {
                Fate::Transient(wxmedia::client::js_message(&e, "the video was cut short"))
            })?
            .ok_or_else(|| {
                Fate::Refused(format!("the video is larger than {MAX_VIDEO_BYTES} bytes"))
            })?;
        let head = read_head(&blob)
            .await
            .map_err(|e| Fate::Transient(e.to_string()))?;
        if wxmedia::protocol::sniff(&head) != Some(wxmedia::protocol::Format::Mp4) {
            return Err(Fate::Refused("the video URL did not answer an MP4".into()));
        }
        Ok(blob)
    };
    let timer = worker::Delay::from(Duration::from_millis(timeout_ms));
    let work = std::pin::pin!(work);
    let outcome = match select(work, timer).await {
        Either::Left((result, _)) => result,
        Either::Right(_) => {
            controller.abort();
            Err(Fate::Transient(format!(
                "the video did not arrive within {timeout_ms} ms"
            )))
        }
    };
    outcome
}
