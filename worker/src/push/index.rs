//! `GET /archive` (and `/apps/{appid}/archive`): the archive's index, newest first, from the
//! app's `PushLog` — a query of the strongly consistent store, not a bucket listing. Bearer API
//! key of that app.

use worker::{Env, Request, Response};
use wxmedia::protocol::sign::{media_path, SignedKind};

use super::log;
use super::records::{parse_cursor, LogAnswer, LogAsk, MAX_PAGE};
use crate::config::Config;
use crate::error::{ApiError, ErrorCode};
use crate::routes::auth;
use crate::routes::pipeline::{internal, query};

/// Answers a page of the index.
pub async fn index(req: &Request, env: &Env, config: &Config) -> Result<Response, ApiError> {
    auth::require_key(
        config,
        req.headers().get("authorization").ok().flatten().as_deref(),
    )?;
    let limit = match query(req, "limit") {
        None => 20,
        Some(l) => match l.parse::<u32>() {
            Ok(n) if (1..=MAX_PAGE).contains(&n) => n,
            _ => {
                return Err(ApiError::new(
                    ErrorCode::BadRequest,
                    format!("limit must be 1 to {MAX_PAGE}"),
                ))
            }
        },
    };
    let cursor = query(req, "cursor");
    if cursor.as_deref().is_some_and(|c| parse_cursor(c).is_none()) {
        return Err(ApiError::new(
            ErrorCode::BadRequest,
            "not a cursor of this index",
        ));
    }
    let ask = LogAsk::List {
        limit,
        cursor,
        msg_type: query(req, "type"),
        from_user: query(req, "from"),
    };
    let (mut items, cursor) = match log::ask(env, &config.appid, &ask).await {
        Ok(LogAnswer::Page { items, cursor }) => (items, cursor),
        Ok(_) => {
            return Err(ApiError::new(
                ErrorCode::Internal,
                "the push log answered out of turn",
            ))
        }
        Err(message) => return Err(ApiError::new(ErrorCode::Internal, message)),
    };
    let scope = config.prefixed.then_some(config.appid.as_str());
    for item in &mut items {
        item.url = media_path(scope, SignedKind::Media, &item.media_id);
        if item.decodable_voice() {
            item.wav_url = Some(format!("{}?format=wav", item.url));
        }
    }
    let body = serde_json::json!({ "items": items, "cursor": cursor });
    let mut response = Response::from_json(&body).map_err(internal)?;
    let _ = response.headers_mut().set("Cache-Control", "no-store");
    Ok(response)
}
