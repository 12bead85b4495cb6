//! The control API under `/_emulator/` (JSON in and out), used by tests to inspect and steer the
//! emulator. Control calls are not recorded in the request log and never see faults.

use serde_json::{json, Value};

use crate::app::App;
use crate::http::{Body, Request, Response};

/// Largest accepted clock advance (about 100 years).
const MAX_ADVANCE: u64 = 100 * 365 * 86_400;

fn ok(value: Value) -> Response {
    Response::new(200, value.to_string()).header("Content-Type", "application/json")
}

fn error(status: u16, message: impl Into<String>) -> Response {
    Response::new(status, json!({ "error": message.into() }).to_string())
        .header("Content-Type", "application/json")
}

/// The body as a JSON value; an empty body reads as `{}`.
fn json_body(req: &Request) -> Result<Value, Response> {
    match &req.body {
        Body::TooLarge => Err(error(413, "body too large")),
        Body::Full(b) if b.iter().all(u8::is_ascii_whitespace) => Ok(json!({})),
        Body::Full(b) => {
            serde_json::from_slice(b).map_err(|e| error(400, format!("invalid JSON body: {e}")))
        }
    }
}

/// Handles `/_emulator/...` (except the video URLs, which are upstream-like).
pub(crate) fn handle(app: &App, req: &Request) -> Response {
    let path = req.path.as_str();
    let method = match req.method.as_str() {
        "HEAD" => "GET",
        m => m,
    };
    match (method, path) {
        ("GET", "/_emulator/requests") => requests(app, req),
        ("DELETE", "/_emulator/requests") => {
            app.state().log.clear();
            ok(json!({ "ok": true }))
        }
        ("POST", "/_emulator/reset") => {
            app.state().reset();
            ok(json!({ "ok": true }))
        }
        ("GET", "/_emulator/clock") => {
            let state = app.state();
            ok(json!({ "now": state.now(), "offset_secs": state.offset }))
        }
        ("POST", "/_emulator/clock") => clock(app, req),
        ("POST", "/_emulator/tokens/revoke") => revoke(app, req),
        ("GET", "/_emulator/tokens") => tokens(app, req),
        ("GET", "/_emulator/apps") => apps(app),
        ("GET", "/_emulator/faults") => ok(app.state().faults.to_json()),
        ("POST", "/_emulator/faults") => match json_body(req) {
            Ok(body) => match app.state().faults.push(&body) {
                Ok(fault) => ok(json!({ "queued": fault })),
                Err(e) => error(400, e),
            },
            Err(resp) => resp,
        },
        ("DELETE", "/_emulator/faults") => {
            let cleared = app.state().faults.clear();
            ok(json!({ "cleared": cleared }))
        }
        ("GET", "/_emulator/media") => media(app, req),
        (
            _,
            "/_emulator/requests"
            | "/_emulator/reset"
            | "/_emulator/clock"
            | "/_emulator/tokens/revoke"
            | "/_emulator/tokens"
            | "/_emulator/apps"
            | "/_emulator/faults"
            | "/_emulator/media"
            | "/_emulator/push",
        ) => error(405, format!("method {} not allowed on {path}", req.method)),
        _ => error(404, format!("no control endpoint {path}")),
    }
}

/// `GET /_emulator/requests[?path=P][&method=M]`: the request log, oldest first.
fn requests(app: &App, req: &Request) -> Response {
    let path = req.query_param("path");
    let method = req.query_param("method");
    let appid = req.query_param("appid");
    let state = app.state();
    let entries: Vec<Value> = state
        .log
        .iter()
        .filter(|e| path.is_none_or(|p| e.path == p))
        .filter(|e| method.is_none_or(|m| e.method.eq_ignore_ascii_case(m)))
        .filter(|e| appid.is_none_or(|a| e.appid.as_deref() == Some(a)))
        .map(|e| e.to_json())
        .collect();
    ok(Value::Array(entries))
}

/// `POST /_emulator/clock {"advance_secs":N}`.
fn clock(app: &App, req: &Request) -> Response {
    let body = match json_body(req) {
        Ok(b) => b,
        Err(resp) => return resp,
    };
    let Some(secs) = body
        .get("advance_secs")
        .and_then(Value::as_u64)
        .filter(|s| *s <= MAX_ADVANCE)
    else {
        return error(
            400,
            "\"advance_secs\" must be a non-negative integer (seconds)",
        );
    };
    let mut state = app.state();
    state.offset = state.offset.saturating_add(secs).min(MAX_ADVANCE);
    ok(json!({ "now": state.now(), "offset_secs": state.offset }))
}

/// The served apps a control call is about: the one its `appid` names (query parameter, or
/// `body` field), else all of them. An AppID that is not served is an error.
fn selected_apps(app: &App, appid: Option<&str>) -> Result<Vec<usize>, Response> {
    match appid {
        None => Ok((0..app.accounts.len()).collect()),
        Some(id) => app
            .account(id)
            .map(|i| vec![i])
            .ok_or_else(|| error(400, format!("no app {id:?} is served here"))),
    }
}

/// `POST /_emulator/tokens/revoke [{"appid":A}]`: every token of app A (of every app without
/// an `appid`) answers 40001 from now on.
fn revoke(app: &App, req: &Request) -> Response {
    let body = match json_body(req) {
        Ok(b) => b,
        Err(resp) => return resp,
    };
    let appid = match body.get("appid") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.as_str()),
        Some(_) => return error(400, "\"appid\" must be a string"),
    };
    let selected = match selected_apps(app, appid) {
        Ok(s) => s,
        Err(resp) => return resp,
    };
    let mut state = app.state();
    let now = state.now();
    let revoked: usize = selected
        .iter()
        .map(|&i| state.tokens[i].revoke_all(now))
        .sum();
    let appids: Vec<&str> = selected
        .iter()
        .map(|&i| app.accounts[i].appid.as_str())
        .collect();
    ok(json!({ "revoked": revoked, "appids": appids }))
}

/// `GET /_emulator/tokens[?appid=A]`: every token the emulator remembers, per app.
fn tokens(app: &App, req: &Request) -> Response {
    let selected = match selected_apps(app, req.query_param("appid")) {
        Ok(s) => s,
        Err(resp) => return resp,
    };
    let state = app.state();
    let now = state.now();
    let mut items = Vec::new();
    for i in selected {
        for t in state.tokens[i].list(now) {
            items.push(json!({
                "appid": app.accounts[i].appid,
                "token": t.token,
                "kind": t.kind.as_str(),
                "issued_at": t.issued_at,
                "expires_at": t.expires_at,
                "invalid_after": t.invalid_after,
                "revoked": t.revoked,
                "valid": t.valid,
            }));
        }
    }
    ok(json!({ "tokens": items }))
}

/// `GET /_emulator/apps`: the served apps (the default first), with counts.
fn apps(app: &App) -> Response {
    let state = app.state();
    let now = state.now();
    let media = state.media.list();
    let items: Vec<Value> = app
        .accounts
        .iter()
        .enumerate()
        .map(|(i, a)| {
            let tokens = state.tokens[i].list(now);
            json!({
                "appid": a.appid,
                "default": i == 0,
                "tokens": tokens.len(),
                "valid_tokens": tokens.iter().filter(|t| t.valid).count(),
                "media": media.iter().filter(|(_, m)| m.app == i).count(),
            })
        })
        .collect();
    ok(json!({ "apps": items }))
}

/// `GET /_emulator/media[?appid=A]`: what the store holds.
fn media(app: &App, req: &Request) -> Response {
    let selected = match selected_apps(app, req.query_param("appid")) {
        Ok(s) => s,
        Err(resp) => return resp,
    };
    let state = app.state();
    let items: Vec<Value> = state
        .media
        .list()
        .into_iter()
        .filter(|(_, m)| selected.contains(&m.app))
        .map(|(id, m)| {
            json!({
                "media_id": id,
                "appid": app.accounts[m.app].appid,
                "type": m.kind.as_str(),
                "content_type": m.format.content_type(),
                "size": m.bytes.len(),
                "created_at": m.created_at,
            })
        })
        .collect();
    ok(json!({
        "total_bytes": state.media.total_bytes(),
        "cap_bytes": state.media.cap(),
        "media": items,
    }))
}
