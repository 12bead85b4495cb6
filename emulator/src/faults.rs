//! Injected faults: queued per request path, consumed in FIFO order, one kind per fault.

use serde_json::{json, Map, Value};

/// Most faults that may be pending at once.
const MAX_PENDING: usize = 1000;

/// A quirk of the real service that a fault can switch on for one response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Quirk {
    /// Bytes labelled `text/plain`, no Content-disposition.
    TextPlain,
    /// Content-disposition with `filename*=utf-8''...` and a raw UTF-8 `filename`.
    FilenameStar,
    /// Video answered as raw bytes with a Content-disposition instead of JSON.
    VideoRaw,
    /// Success JSON also carries `"errcode":0,"errmsg":"ok"`.
    OkErrcode,
    /// Error JSON labelled `text/plain`.
    TextPlainError,
}

impl Quirk {
    fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "text_plain" => Quirk::TextPlain,
            "filename_star" => Quirk::FilenameStar,
            "video_raw" => Quirk::VideoRaw,
            "ok_errcode" => Quirk::OkErrcode,
            "text_plain_error" => Quirk::TextPlainError,
            _ => return None,
        })
    }

    fn name(self) -> &'static str {
        match self {
            Quirk::TextPlain => "text_plain",
            Quirk::FilenameStar => "filename_star",
            Quirk::VideoRaw => "video_raw",
            Quirk::OkErrcode => "ok_errcode",
            Quirk::TextPlainError => "text_plain_error",
        }
    }
}

/// What a fault does to one call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FaultKind {
    /// Answer this errcode (HTTP 200 JSON) instead of handling the call.
    Errcode(i64),
    /// Answer this HTTP status with a plain body instead of handling the call.
    Status(u16),
    /// Wait, then handle the call normally.
    DelayMs(u64),
    /// Handle normally, announce the full Content-Length, send only part of the body and close.
    /// `None`: half of the body.
    Truncate(Option<usize>),
    /// Handle normally with a quirk.
    Quirk(Quirk),
}

#[derive(Debug, Clone)]
struct Fault {
    path: String,
    remaining: u32,
    kind: FaultKind,
}

impl Fault {
    fn to_json(&self) -> Value {
        let mut obj = Map::new();
        obj.insert("path".into(), json!(self.path));
        obj.insert("count".into(), json!(self.remaining));
        let (k, v) = match self.kind {
            FaultKind::Errcode(c) => ("errcode", json!(c)),
            FaultKind::Status(s) => ("status", json!(s)),
            FaultKind::DelayMs(ms) => ("delay_ms", json!(ms)),
            FaultKind::Truncate(None) => ("truncate", json!(true)),
            FaultKind::Truncate(Some(n)) => ("truncate_at", json!(n)),
            FaultKind::Quirk(q) => ("quirk", json!(q.name())),
        };
        obj.insert(k.into(), v);
        Value::Object(obj)
    }
}

/// Pending faults in the order they were queued.
#[derive(Debug, Default)]
pub(crate) struct FaultQueue {
    pending: Vec<Fault>,
}

impl FaultQueue {
    /// Validates and queues a fault described by a control-API body; returns its JSON form.
    pub fn push(&mut self, body: &Value) -> Result<Value, String> {
        let obj = body.as_object().ok_or("body must be a JSON object")?;
        let path = obj
            .get("path")
            .and_then(Value::as_str)
            .filter(|p| p.starts_with('/'))
            .ok_or("\"path\" must be a string starting with /")?
            .to_owned();
        let count = match obj.get("count") {
            None => 1,
            Some(v) => {
                v.as_u64()
                    .filter(|c| (1..=100_000).contains(c))
                    .ok_or("\"count\" must be an integer from 1 to 100000")? as u32
            }
        };
        const KINDS: [&str; 6] = [
            "errcode",
            "status",
            "delay_ms",
            "truncate",
            "truncate_at",
            "quirk",
        ];
        for key in obj.keys() {
            if key != "path" && key != "count" && !KINDS.contains(&key.as_str()) {
                return Err(format!("unknown field {key:?}"));
            }
        }
        let given: Vec<&str> = KINDS
            .iter()
            .copied()
            .filter(|k| obj.contains_key(*k))
            .collect();
        if given.len() != 1 {
            return Err(format!(
                "exactly one of {} is required (got {})",
                KINDS.join(", "),
                given.len()
            ));
        }
        let value = &obj[given[0]];
        let kind = match given[0] {
            "errcode" => FaultKind::Errcode(value.as_i64().ok_or("\"errcode\" must be an integer")?),
            "status" => FaultKind::Status(
                value
                    .as_u64()
                    .filter(|s| (200..=599).contains(s))
                    .ok_or("\"status\" must be an HTTP status from 200 to 599")? as u16,
            ),
            "delay_ms" => FaultKind::DelayMs(
                value
                    .as_u64()
                    .filter(|ms| *ms <= 600_000)
                    .ok_or("\"delay_ms\" must be an integer from 0 to 600000")?,
            ),
            "truncate" => {
                if value.as_bool() != Some(true) {
                    return Err("\"truncate\" must be true".into());
                }
                FaultKind::Truncate(None)
            }
            "truncate_at" => FaultKind::Truncate(Some(
                value
                    .as_u64()
                    .ok_or("\"truncate_at\" must be a non-negative integer")? as usize,
            )),
            _ => FaultKind::Quirk(
                value
                    .as_str()
                    .and_then(Quirk::parse)
                    .ok_or("\"quirk\" must be one of text_plain, filename_star, video_raw, ok_errcode, text_plain_error")?,
            ),
        };
        if self.pending.len() >= MAX_PENDING {
            return Err(format!("too many pending faults (max {MAX_PENDING})"));
        }
        let fault = Fault {
            path,
            remaining: count,
            kind,
        };
        let out = fault.to_json();
        self.pending.push(fault);
        Ok(out)
    }

    /// Consumes one use of the oldest fault queued for `path`.
    pub fn take(&mut self, path: &str) -> Option<FaultKind> {
        let i = self.pending.iter().position(|f| f.path == path)?;
        let fault = &mut self.pending[i];
        let kind = fault.kind;
        fault.remaining -= 1;
        if fault.remaining == 0 {
            self.pending.remove(i);
        }
        Some(kind)
    }

    /// Pending faults as JSON, oldest first.
    pub fn to_json(&self) -> Value {
        Value::Array(self.pending.iter().map(Fault::to_json).collect())
    }

    /// Drops every pending fault; returns how many there were.
    pub fn clear(&mut self) -> usize {
        std::mem::take(&mut self.pending).len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fifo_per_path_with_counts() {
        let mut q = FaultQueue::default();
        q.push(&json!({"path":"/a","count":2,"errcode":-1}))
            .unwrap();
        q.push(&json!({"path":"/b","status":502})).unwrap();
        q.push(&json!({"path":"/a","quirk":"text_plain"})).unwrap();
        assert_eq!(q.take("/a"), Some(FaultKind::Errcode(-1)));
        assert_eq!(q.to_json()[0]["count"], 1);
        assert_eq!(q.take("/a"), Some(FaultKind::Errcode(-1)));
        assert_eq!(q.take("/a"), Some(FaultKind::Quirk(Quirk::TextPlain)));
        assert_eq!(q.take("/a"), None);
        assert_eq!(q.take("/b"), Some(FaultKind::Status(502)));
    }

    #[test]
    fn rejects_bad_input() {
        let mut q = FaultQueue::default();
        for bad in [
            json!([]),
            json!({"errcode":1}),
            json!({"path":"x","errcode":1}),
            json!({"path":"/a"}),
            json!({"path":"/a","errcode":1,"status":500}),
            json!({"path":"/a","count":0,"errcode":1}),
            json!({"path":"/a","quirk":"nope"}),
            json!({"path":"/a","truncate":false}),
            json!({"path":"/a","status":99}),
            json!({"path":"/a","errcode":1,"extra":1}),
        ] {
            assert!(q.push(&bad).is_err(), "{bad}");
        }
        assert_eq!(q.to_json(), json!([]));
    }
}
