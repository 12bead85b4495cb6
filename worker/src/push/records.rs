//! What the callback route, the archiver and the app's `PushLog` Durable Object say to each
//! other, typed both ways (JSON on the wire), and the archive index's items. Pure: tested
//! natively.

use serde::{Deserialize, Serialize};

/// A media id of a message, as the log keeps it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoggedMedia {
    /// The media id.
    pub media_id: String,
    /// `media`, `thumb` or `media16k`.
    pub role: String,
}

/// What is asked of the log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "ask", rename_all = "snake_case")]
pub enum LogAsk {
    /// A verified push arrived: record it (and its media as pending) unless it is a redelivery.
    Begin {
        /// The redelivery key ([`wxmedia_push::Message::dedupe_key`]).
        key: String,
        /// `MsgId`, as text.
        msg_id: Option<String>,
        /// `MsgType`.
        msg_type: String,
        /// The fan's openid.
        from_user: String,
        /// `CreateTime` (seconds).
        create_time: u64,
        /// A voice message's `Format`.
        format: Option<String>,
        /// The media ids it carries.
        media: Vec<LoggedMedia>,
        /// The answer, when it is known before anything is done (no handler to forward to):
        /// recorded at once, so the push needs no second call to the log.
        #[serde(default)]
        reply: Option<String>,
        /// The clock (ms).
        now_ms: u64,
    },
    /// The first delivery's answer to WeChat (plaintext), for redeliveries.
    Finish {
        /// The redelivery key.
        key: String,
        /// The reply.
        reply: String,
    },
    /// Where a push stands (a redelivery waiting for the first one's answer).
    Peek {
        /// The redelivery key.
        key: String,
    },
    /// What became of one media id.
    Media {
        /// The media id.
        media_id: String,
        /// The outcome.
        outcome: MediaOutcome,
        /// The clock (ms).
        now_ms: u64,
    },
    /// A page of the index, newest first.
    List {
        /// At most this many items (1 to [`MAX_PAGE`]).
        limit: u32,
        /// Where the previous page ended.
        cursor: Option<String>,
        /// Only this `MsgType`.
        msg_type: Option<String>,
        /// Only this fan.
        from_user: Option<String>,
    },
}

/// What became of an archived media id.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum MediaOutcome {
    /// Stored in R2.
    Archived {
        /// Its Content-Type.
        content_type: String,
        /// Its size in bytes.
        size: u64,
    },
    /// WeChat (or the video CDN) refused it: never stored, not tried again.
    Failed {
        /// WeChat's errcode, when it gave one.
        errcode: Option<i64>,
        /// What went wrong, in words (no secret).
        message: String,
    },
}

/// Where a push stands.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum PushState {
    /// First seen now: this delivery handles it.
    New,
    /// Another delivery is handling it and has not answered yet.
    InFlight {
        /// When that delivery began (ms).
        since_ms: u64,
    },
    /// Answered: redeliveries get the same reply.
    Done {
        /// The reply (plaintext).
        reply: String,
    },
}

/// What the log answers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "answer", rename_all = "snake_case")]
pub enum LogAnswer {
    /// For `Begin` and `Peek`.
    State(PushState),
    /// For `Finish` and `Media`.
    Recorded,
    /// For `List`.
    Page {
        /// The items, newest first.
        items: Vec<IndexItem>,
        /// Where the next page starts, when there is one.
        cursor: Option<String>,
    },
    /// The ask could not be handled.
    Failed {
        /// Why.
        message: String,
    },
}

/// The most items one index page holds.
pub const MAX_PAGE: u32 = 100;

/// One archived message's media, as `GET /archive` lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IndexItem {
    /// `MsgId` as text (MsgIds exceed 2^53); empty for events.
    pub msg_id: String,
    /// `MsgType`.
    pub msg_type: String,
    /// The fan's openid.
    pub from_user: String,
    /// `CreateTime` (seconds).
    pub create_time: u64,
    /// The media id.
    pub media_id: String,
    /// A video's thumbnail id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub thumb_media_id: Option<String>,
    /// A voice message's 16 kHz rendition's id.
    #[serde(rename = "mediaId16K", skip_serializing_if = "Option::is_none")]
    pub media_id_16k: Option<String>,
    /// A voice message's `Format`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
    /// Its Content-Type, once archived.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    /// Its size in bytes, once archived.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    /// `archived`, `pending` or `failed`.
    pub status: String,
    /// WeChat's errcode, for a failed one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errcode: Option<i64>,
    /// When it was archived (ms since the epoch).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub archived_at: Option<u64>,
    /// Its download path under the Worker (filled in by the route, which knows the app's scope).
    #[serde(default)]
    pub url: String,
    /// For voice the Worker's decoders can play (`Format` `amr` or `speex`): the WAV's path
    /// (`?format=wav`). Absent for other voice (16 kHz AMR is AMR-WB, not decoded yet).
    #[serde(rename = "wavUrl", skip_serializing_if = "Option::is_none", default)]
    pub wav_url: Option<String>,
}

impl IndexItem {
    /// Whether the Worker's voice decoders can make a WAV of this item.
    pub fn decodable_voice(&self) -> bool {
        self.msg_type == "voice" && matches!(self.format.as_deref(), Some("amr" | "speex"))
    }
}

/// One media id for the archiver (a Queue message, or a `waitUntil` task).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArchiveJob {
    /// The app.
    pub appid: String,
    /// The media id.
    pub media_id: String,
    /// `media`, `thumb` or `media16k`.
    pub role: String,
    /// The message's `MsgType` (a video's `media` is followed to its bytes).
    pub msg_type: String,
    /// Attempts made so far (a job the Queue hands back is sent again with this one more, after
    /// a backoff, up to [`MAX_ARCHIVE_ATTEMPTS`]).
    #[serde(default)]
    pub attempts: u32,
}

/// The most attempts at one media id; the last failure is recorded as the outcome.
pub const MAX_ARCHIVE_ATTEMPTS: u32 = 5;

/// The wait before attempt `n + 1` (seconds): 10, 40, 160, 640 — an hour in all, well within
/// the three days WeChat keeps media.
pub fn archive_backoff_secs(attempts: u32) -> u32 {
    10u32.saturating_mul(4u32.saturating_pow(attempts.saturating_sub(1)))
}

/// An index cursor: where a page ended (`create_time`, then the row's sequence number).
pub fn cursor_of(create_time: u64, seq: u64) -> String {
    format!("{create_time}.{seq}")
}

/// The position a cursor names, if it is one.
pub fn parse_cursor(cursor: &str) -> Option<(u64, u64)> {
    let (time, seq) = cursor.split_once('.')?;
    Some((time.parse().ok()?, seq.parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn asks_and_answers_keep_their_shape() {
        let ask = LogAsk::Media {
            media_id: "m".into(),
            outcome: MediaOutcome::Failed {
                errcode: Some(40007),
                message: "invalid media_id".into(),
            },
            now_ms: 5,
        };
        let json = serde_json::to_string(&ask).unwrap();
        assert_eq!(
            json,
            r#"{"ask":"media","media_id":"m","outcome":{"status":"failed","errcode":40007,"message":"invalid media_id"},"now_ms":5}"#
        );
        assert_eq!(serde_json::from_str::<LogAsk>(&json).unwrap(), ask);
        let answer = LogAnswer::State(PushState::Done {
            reply: "success".into(),
        });
        let json = serde_json::to_string(&answer).unwrap();
        assert_eq!(serde_json::from_str::<LogAnswer>(&json).unwrap(), answer);
    }

    #[test]
    fn index_items_are_camel_case_with_string_msg_ids() {
        let item = IndexItem {
            msg_id: "23456789012345678901".into(),
            msg_type: "voice".into(),
            from_user: "o1".into(),
            create_time: 1,
            media_id: "m1".into(),
            thumb_media_id: None,
            media_id_16k: Some("m2".into()),
            format: Some("amr".into()),
            content_type: Some("audio/amr".into()),
            size: Some(10),
            status: "archived".into(),
            errcode: None,
            archived_at: Some(2),
            url: "/media/m1".into(),
            wav_url: None,
        };
        assert!(item.decodable_voice());
        let json = serde_json::to_value(&item).unwrap();
        assert_eq!(json["msgId"], "23456789012345678901");
        assert_eq!(json["mediaId16K"], "m2");
        assert_eq!(json["archivedAt"], 2);
        assert!(json.get("thumbMediaId").is_none());
    }

    #[test]
    fn archive_retries_back_off_and_stop() {
        let waits: Vec<u32> = (1..MAX_ARCHIVE_ATTEMPTS)
            .map(archive_backoff_secs)
            .collect();
        assert_eq!(waits, vec![10, 40, 160, 640]);
        let job: ArchiveJob = serde_json::from_str(
            r#"{"appid":"a","media_id":"m","role":"media","msg_type":"image"}"#,
        )
        .unwrap();
        assert_eq!(job.attempts, 0);
    }

    #[test]
    fn cursors() {
        assert_eq!(
            parse_cursor(&cursor_of(1700000000, 42)),
            Some((1700000000, 42))
        );
        assert_eq!(parse_cursor("x.1"), None);
        assert_eq!(parse_cursor("17"), None);
    }
}
