//! `PushLog`: one Durable Object per app (named by app id), its SQLite storage the strongly
//! consistent record every isolate shares — which pushes were seen and what they were answered
//! (so a redelivery is answered once and handled once), and the archive's index.

use serde::Deserialize;
use worker::{durable_object, DurableObject, Env, Request, Response, State};
use worker::{SqlStorage, SqlStorageValue};

use super::records::{
    cursor_of, parse_cursor, IndexItem, LogAnswer, LogAsk, MediaOutcome, PushState, MAX_PAGE,
};
use crate::config::PUSHES_BINDING;

/// A delivery that began this long ago and never answered is taken to be gone (its isolate
/// ended): a redelivery then answers `success` at once instead of waiting.
pub const IN_FLIGHT_STALE_MS: u64 = 30_000;

/// Asks the app's log, over Workers RPC (the object's `ask` method: a JSON string each way, no
/// Request or Response to build, convert and read on either side).
pub async fn ask(env: &Env, appid: &str, ask: &LogAsk) -> Result<LogAnswer, String> {
    use wasm_bindgen::{JsCast, JsValue};
    let stub = env
        .durable_object(PUSHES_BINDING)
        .and_then(|ns| ns.id_from_name(appid)?.get_stub())
        .map_err(|e| format!("push log: {e}"))?;
    let stub: JsValue = stub.into_rpc();
    let js = |e: JsValue| format!("push log: {}", wxmedia::client::js_message(&e, "unknown"));
    // An RPC method of a stub is callable but no `Function` instance: checked by `typeof`.
    let method = js_sys::Reflect::get(&stub, &JsValue::from_str("ask")).map_err(js)?;
    if !method.is_function() {
        return Err("push log: the object has no ask method".to_string());
    }
    let method: js_sys::Function = method.unchecked_into();
    let json = serde_json::to_string(ask).map_err(|e| format!("push log: {e}"))?;
    // `Reflect.apply`, not `method.call(…)`: any property of an RPC stub, `call` included, is
    // another remote method.
    let args = js_sys::Array::of1(&JsValue::from_str(&json));
    let promise = js_sys::Reflect::apply(&method, &stub, &args).map_err(js)?;
    let answer = wxmedia::client::Settled::new(&promise.unchecked_into())
        .await
        .map_err(js)?;
    let text = answer
        .as_string()
        .ok_or_else(|| "push log: an answer that is not text".to_string())?;
    match serde_json::from_str::<LogAnswer>(&text) {
        Ok(LogAnswer::Failed { message }) => Err(format!("push log: {message}")),
        Ok(answer) => Ok(answer),
        Err(e) => Err(format!("push log: {e}")),
    }
}

/// The Durable Object. `#[durable_object]` generates JS glue without docs, hence the allow.
#[allow(
    missing_docs,
    reason = "the durable_object macro generates undocumented glue"
)]
mod object {
    use super::*;

    /// One app's push log (`PUSHES`, named by app id), in SQLite.
    #[durable_object]
    pub struct PushLog {
        sql: SqlStorage,
    }

    impl DurableObject for PushLog {
        fn new(state: State, _env: Env) -> Self {
            let sql = state.storage().sql();
            for statement in SCHEMA {
                // Idempotent (IF NOT EXISTS): run on every start of the object.
                let _ = sql.exec(statement, None);
            }
            Self { sql }
        }

        /// The log is asked over RPC ([`PushLog::rpc_ask`]); `fetch` is only the trait's due.
        async fn fetch(&self, _req: Request) -> worker::Result<Response> {
            Response::error("the push log is asked over RPC (ask)", 405)
        }
    }

    #[wasm_bindgen::prelude::wasm_bindgen]
    impl PushLog {
        /// The log's RPC method (what [`super::ask`] calls): a JSON `LogAsk` in, a JSON
        /// `LogAnswer` out (`Failed` for an ask it cannot read or carry out).
        #[wasm_bindgen(js_name = ask)]
        pub fn rpc_ask(&self, ask: &str) -> String {
            self.answer(ask)
        }
    }

    impl PushLog {
        fn answer(&self, ask: &str) -> String {
            let answer = match serde_json::from_str::<LogAsk>(ask) {
                Ok(ask) => self.handle(ask).unwrap_or_else(|e| LogAnswer::Failed {
                    message: e.to_string(),
                }),
                Err(e) => LogAnswer::Failed {
                    message: format!("an ask the log cannot read: {e}"),
                },
            };
            serde_json::to_string(&answer).unwrap_or_default()
        }

        fn handle(&self, ask: LogAsk) -> worker::Result<LogAnswer> {
            Ok(match ask {
                LogAsk::Begin {
                    key,
                    msg_id,
                    msg_type,
                    from_user,
                    create_time,
                    format,
                    media,
                    reply,
                    now_ms,
                } => {
                    // One statement for the common case, a push seen for the first time; a
                    // redelivery writes nothing and is looked up.
                    let inserted = self.sql.exec(
                        "INSERT OR IGNORE INTO pushes (key, msg_id, msg_type, from_user, create_time, received_at, reply) VALUES (?, ?, ?, ?, ?, ?, ?)",
                        vec![
                            key.clone().into(),
                            text_or_null(msg_id.clone()),
                            msg_type.clone().into(),
                            from_user.clone().into(),
                            int(create_time),
                            int(now_ms),
                            text_or_null(reply),
                        ],
                    )?;
                    if inserted.rows_written() == 0 {
                        let state = self.state_of(&key, now_ms)?.unwrap_or(PushState::New);
                        return Ok(LogAnswer::State(state));
                    }
                    let of = |role: &str| {
                        media
                            .iter()
                            .find(|m| m.role == role)
                            .map(|m| m.media_id.clone())
                    };
                    for m in &media {
                        let main = m.role == "media";
                        self.sql.exec(
                            "INSERT OR IGNORE INTO media (media_id, push_key, role, msg_id, msg_type, from_user, create_time, thumb_media_id, media_id_16k, format, status) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending')",
                            vec![
                                m.media_id.clone().into(),
                                key.clone().into(),
                                m.role.clone().into(),
                                text_or_null(msg_id.clone()),
                                msg_type.clone().into(),
                                from_user.clone().into(),
                                int(create_time),
                                text_or_null(if main { of("thumb") } else { None }),
                                text_or_null(if main { of("media16k") } else { None }),
                                text_or_null(format.clone()),
                            ],
                        )?;
                    }
                    LogAnswer::State(PushState::New)
                }
                LogAsk::Finish { key, reply } => {
                    self.sql.exec(
                        "UPDATE pushes SET reply = ? WHERE key = ? AND reply IS NULL",
                        vec![reply.into(), key.into()],
                    )?;
                    LogAnswer::Recorded
                }
                LogAsk::Peek { key } => {
                    LogAnswer::State(self.state_of(&key, u64::MAX)?.unwrap_or(PushState::New))
                }
                LogAsk::Media {
                    media_id,
                    outcome,
                    now_ms,
                } => {
                    match outcome {
                        MediaOutcome::Archived { content_type, size } => self.sql.exec(
                            "UPDATE media SET status = 'archived', content_type = ?, size = ?, errcode = NULL, archived_at = ? WHERE media_id = ?",
                            vec![content_type.into(), int(size), int(now_ms), media_id.into()],
                        )?,
                        MediaOutcome::Failed { errcode, .. } => self.sql.exec(
                            "UPDATE media SET status = 'failed', errcode = ? WHERE media_id = ? AND status != 'archived'",
                            vec![
                                errcode.map_or(SqlStorageValue::Null, SqlStorageValue::Integer),
                                media_id.into(),
                            ],
                        )?,
                    };
                    LogAnswer::Recorded
                }
                LogAsk::List {
                    limit,
                    cursor,
                    msg_type,
                    from_user,
                } => self.page(limit, cursor.as_deref(), msg_type, from_user)?,
            })
        }

        /// Where the push `key` stands, if it was seen. A delivery in flight longer than
        /// [`IN_FLIGHT_STALE_MS`] (by `now_ms`) is answered as done with `success`.
        fn state_of(&self, key: &str, now_ms: u64) -> worker::Result<Option<PushState>> {
            #[derive(Deserialize)]
            struct Row {
                reply: Option<String>,
                received_at: f64,
            }
            let rows: Vec<Row> = self
                .sql
                .exec(
                    "SELECT reply, received_at FROM pushes WHERE key = ?",
                    vec![key.to_string().into()],
                )?
                .to_array()?;
            Ok(rows.into_iter().next().map(|row| match row.reply {
                Some(reply) => PushState::Done { reply },
                None => {
                    let since_ms = row.received_at as u64;
                    if now_ms != u64::MAX && now_ms.saturating_sub(since_ms) > IN_FLIGHT_STALE_MS {
                        PushState::Done {
                            reply: "success".into(),
                        }
                    } else {
                        PushState::InFlight { since_ms }
                    }
                }
            }))
        }

        fn page(
            &self,
            limit: u32,
            cursor: Option<&str>,
            msg_type: Option<String>,
            from_user: Option<String>,
        ) -> worker::Result<LogAnswer> {
            #[derive(Deserialize)]
            struct Row {
                seq: f64,
                msg_id: Option<String>,
                msg_type: String,
                from_user: String,
                create_time: f64,
                media_id: String,
                thumb_media_id: Option<String>,
                media_id_16k: Option<String>,
                format: Option<String>,
                content_type: Option<String>,
                size: Option<f64>,
                status: String,
                errcode: Option<f64>,
                archived_at: Option<f64>,
                parts_pending: f64,
            }
            let limit = limit.clamp(1, MAX_PAGE);
            let (before_time, before_seq) = match cursor {
                Some(c) => parse_cursor(c).ok_or_else(|| {
                    worker::Error::RustError("a cursor this index did not give".into())
                })?,
                None => (u64::MAX >> 11, u64::MAX >> 11),
            };
            let mut sql = String::from(
                "SELECT rowid AS seq, msg_id, msg_type, from_user, create_time, media_id, thumb_media_id, media_id_16k, format, content_type, size, status, errcode, archived_at, (SELECT COUNT(*) FROM media AS part WHERE part.push_key = media.push_key AND part.status = 'pending') AS parts_pending FROM media WHERE role = 'media' AND (create_time < ? OR (create_time = ? AND rowid < ?))",
            );
            let mut bindings = vec![int(before_time), int(before_time), int(before_seq)];
            if let Some(t) = msg_type {
                sql.push_str(" AND msg_type = ?");
                bindings.push(t.into());
            }
            if let Some(f) = from_user {
                sql.push_str(" AND from_user = ?");
                bindings.push(f.into());
            }
            sql.push_str(" ORDER BY create_time DESC, rowid DESC LIMIT ?");
            bindings.push(int(u64::from(limit) + 1));
            let mut rows: Vec<Row> = self.sql.exec(&sql, bindings)?.to_array()?;
            let more = rows.len() > limit as usize;
            rows.truncate(limit as usize);
            let cursor = more
                .then(|| {
                    rows.last()
                        .map(|r| cursor_of(r.create_time as u64, r.seq as u64))
                })
                .flatten();
            let items = rows
                .into_iter()
                .map(|r| IndexItem {
                    msg_id: r.msg_id.unwrap_or_default(),
                    msg_type: r.msg_type,
                    from_user: r.from_user,
                    create_time: r.create_time as u64,
                    media_id: r.media_id,
                    thumb_media_id: r.thumb_media_id,
                    media_id_16k: r.media_id_16k,
                    format: r.format,
                    content_type: r.content_type,
                    size: r.size.map(|s| s as u64),
                    // Archived once every media of the message (thumbnail, 16 kHz voice) is.
                    status: if r.status == "archived" && r.parts_pending > 0.0 {
                        "pending".to_string()
                    } else {
                        r.status
                    },
                    errcode: r.errcode.map(|e| e as i64),
                    archived_at: r.archived_at.map(|a| a as u64),
                    url: String::new(),
                    wav_url: None,
                })
                .collect();
            Ok(LogAnswer::Page { items, cursor })
        }
    }
}

pub use object::PushLog;

const SCHEMA: [&str; 3] = [
    "CREATE TABLE IF NOT EXISTS pushes (key TEXT PRIMARY KEY, msg_id TEXT, msg_type TEXT NOT NULL, from_user TEXT NOT NULL, create_time INTEGER NOT NULL, received_at INTEGER NOT NULL, reply TEXT)",
    "CREATE TABLE IF NOT EXISTS media (media_id TEXT PRIMARY KEY, push_key TEXT NOT NULL, role TEXT NOT NULL, msg_id TEXT, msg_type TEXT NOT NULL, from_user TEXT NOT NULL, create_time INTEGER NOT NULL, thumb_media_id TEXT, media_id_16k TEXT, format TEXT, status TEXT NOT NULL, errcode INTEGER, content_type TEXT, size INTEGER, archived_at INTEGER)",
    "CREATE INDEX IF NOT EXISTS media_newest ON media (create_time DESC)",
];

/// A whole number for SQLite (JS numbers hold up to 2^53 exactly; times and sizes stay below).
fn int(n: u64) -> SqlStorageValue {
    SqlStorageValue::Integer(i64::try_from(n.min(1 << 53)).unwrap_or(i64::MAX))
}

fn text_or_null(value: Option<String>) -> SqlStorageValue {
    value.map_or(SqlStorageValue::Null, SqlStorageValue::String)
}
