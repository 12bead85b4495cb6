//! The per-isolate memory tier, in front of the Cache API: the latest media an isolate answered,
//! bounded by bytes (`MEMORY_CACHE_BYTES`), least recently used first out.
//!
//! An entry is what a plain cache hit answered: its status (200), its headers as the cache gave
//! them and its bytes as a `Blob` — runtime memory, never wasm memory. A hit rebuilds that same
//! response without a Cache API call, so the client gets byte for byte what a cache hit gives
//! (the caller then adds its own headers as it does for a cache hit). Only plain lookups are
//! answered here: a request with a bytes `Range` or an `If-None-Match` goes to the cache, which
//! answers 206, 416 or 304 itself — the answers stay the cache's by construction. An entry
//! expires when the cache's copy would (`CACHE_TTL_SECS` from its `put`, less the `Age` the cache
//! reports), and objects over [`MAX_OBJECT_BYTES`] never enter.
//!
//! The bookkeeping ([`Lru`]) is pure and tested natively; the tier itself runs only in workerd.

use std::collections::{BTreeMap, HashMap};

/// `MEMORY_CACHE_BYTES` when unset: 16 MiB per isolate.
pub const DEFAULT_MEMORY_CACHE_BYTES: u64 = 16 << 20;
/// Objects larger than this are never held in memory.
pub const MAX_OBJECT_BYTES: u64 = 1 << 20;

/// Least-recently-used entries bounded by their total size, with an expiry each.
#[derive(Debug)]
pub struct Lru<V> {
    limit: u64,
    bytes: u64,
    tick: u64,
    entries: HashMap<String, Entry<V>>,
    /// Keys by last use (oldest first).
    order: BTreeMap<u64, String>,
}

#[derive(Debug)]
struct Entry<V> {
    value: V,
    size: u64,
    expires_ms: f64,
    used: u64,
}

impl<V: Clone> Lru<V> {
    /// An empty tier holding at most `limit` bytes (0: holds nothing).
    pub fn new(limit: u64) -> Self {
        Lru {
            limit,
            bytes: 0,
            tick: 0,
            entries: HashMap::new(),
            order: BTreeMap::new(),
        }
    }

    /// Changes the bound, evicting what no longer fits.
    pub fn set_limit(&mut self, limit: u64) {
        self.limit = limit;
        self.evict_to(limit);
    }

    /// The bound in bytes.
    pub fn limit(&self) -> u64 {
        self.limit
    }

    /// Bytes held.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// Entries held.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether nothing is held.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Whether an object of `size` bytes may enter.
    pub fn admits(&self, size: u64) -> bool {
        size <= MAX_OBJECT_BYTES && size <= self.limit
    }

    /// The value under `key` if it has not expired at `now_ms`, marked as the most recently used.
    /// An expired entry is dropped.
    pub fn get(&mut self, key: &str, now_ms: f64) -> Option<V> {
        let entry = self.entries.get(key)?;
        if entry.expires_ms <= now_ms {
            self.remove(key);
            return None;
        }
        self.tick += 1;
        let tick = self.tick;
        let entry = self.entries.get_mut(key)?;
        self.order.remove(&entry.used);
        entry.used = tick;
        self.order.insert(tick, key.to_string());
        Some(entry.value.clone())
    }

    /// Holds `value` (of `size` bytes, until `expires_ms`) under `key`, evicting the least
    /// recently used entries to stay within the bound. Refused (false) if it may not enter.
    pub fn insert(&mut self, key: &str, value: V, size: u64, expires_ms: f64) -> bool {
        self.remove(key);
        if !self.admits(size) {
            return false;
        }
        self.evict_to(self.limit - size);
        self.tick += 1;
        self.order.insert(self.tick, key.to_string());
        self.entries.insert(
            key.to_string(),
            Entry {
                value,
                size,
                expires_ms,
                used: self.tick,
            },
        );
        self.bytes += size;
        true
    }

    /// Forgets `key`.
    pub fn remove(&mut self, key: &str) {
        if let Some(entry) = self.entries.remove(key) {
            self.order.remove(&entry.used);
            self.bytes -= entry.size;
        }
    }

    /// Keys from least to most recently used.
    pub fn keys_by_use(&self) -> Vec<String> {
        self.order.values().cloned().collect()
    }

    fn evict_to(&mut self, bytes: u64) {
        while self.bytes > bytes {
            let Some((_, key)) = self.order.pop_first() else {
                break;
            };
            if let Some(entry) = self.entries.remove(&key) {
                self.bytes -= entry.size;
            }
        }
    }
}

/// Whether a lookup with these request headers is a plain one (no bytes `Range`, no
/// `If-None-Match`): the only kind the memory tier answers. The same rule as the cache lookup's:
/// a range in another unit than bytes is ignored (RFC 9110 §14.2).
pub fn is_plain(range: Option<&str>, if_none_match: Option<&str>) -> bool {
    !range.is_some_and(bytes_range) && if_none_match.is_none()
}

/// Whether a `Range` value asks for bytes: only those are carried to the cache lookup (RFC 9110
/// §14.2: a range in another unit is ignored, and the whole media answered).
pub fn bytes_range(range: &str) -> bool {
    range
        .trim_start()
        .get(..6)
        .is_some_and(|u| u.eq_ignore_ascii_case("bytes="))
}

#[cfg(target_arch = "wasm32")]
pub use tier::{held_answer, keep, keep_plain, lookup, usage};

#[cfg(target_arch = "wasm32")]
mod tier {
    use std::cell::RefCell;
    use std::rc::Rc;

    use wasm_bindgen::JsCast;
    use web_sys::{Blob, Headers, Response, ResponseInit};
    use wxmedia::client::Settled;

    use super::{is_plain, Lru, DEFAULT_MEMORY_CACHE_BYTES};
    use crate::config::Config;
    use crate::error::{ApiError, ErrorCode};

    /// A held answer: the cache's headers and the bytes, and the client's headers made from
    /// them for each shape of answer the JS entry has given (`crate::shell`), by shape number.
    #[derive(Clone)]
    struct Held {
        headers: Headers,
        blob: Blob,
        answers: Rc<RefCell<Vec<(usize, Headers)>>>,
    }

    thread_local! {
        static TIER: RefCell<Lru<Held>> = RefCell::new(Lru::new(DEFAULT_MEMORY_CACHE_BYTES));
    }

    fn plain(client_headers: &Headers) -> bool {
        let get = |name: &str| client_headers.get(name).ok().flatten();
        is_plain(get("range").as_deref(), get("if-none-match").as_deref())
    }

    fn with_tier<T>(config: &Config, f: impl FnOnce(&mut Lru<Held>) -> T) -> T {
        TIER.with(|tier| {
            let mut tier = tier.borrow_mut();
            if tier.limit() != config.memory_cache_bytes {
                tier.set_limit(config.memory_cache_bytes);
            }
            f(&mut tier)
        })
    }

    /// The answer a plain cache hit for `key` gave, from memory; `None` when not held (or
    /// expired), or when the request has a `Range` or `If-None-Match` (the cache answers those).
    pub fn lookup(key: &str, client_headers: &Headers, config: &Config) -> Option<Response> {
        if config.memory_cache_bytes == 0 || !plain(client_headers) {
            return None;
        }
        let held = with_tier(config, |tier| tier.get(key, js_sys::Date::now()))?;
        let init = ResponseInit::new();
        init.set_status(200);
        init.set_headers(&held.headers);
        Response::new_with_opt_blob_and_init(Some(&held.blob), &init).ok()
    }

    /// Passes a cache answer on, keeping a copy in memory when it is a whole 200 to a plain
    /// lookup that fits. Keeping reads the body into a Blob first (runtime memory) and answers
    /// from that Blob: once per media per isolate. A cached body that fails to read is a 502.
    pub async fn keep(
        key: &str,
        cached: Response,
        client_headers: &Headers,
        config: &Config,
    ) -> Result<Response, ApiError> {
        if !plain(client_headers) {
            return Ok(cached);
        }
        keep_plain(key, cached, config).await
    }

    /// [`keep`], for an answer to a lookup already known to be plain.
    pub async fn keep_plain(
        key: &str,
        cached: Response,
        config: &Config,
    ) -> Result<Response, ApiError> {
        if config.memory_cache_bytes == 0 || cached.status() != 200 {
            return Ok(cached);
        }
        let headers = cached.headers();
        let declared = headers
            .get("content-length")
            .ok()
            .flatten()
            .and_then(|v| v.trim().parse::<u64>().ok());
        match declared {
            Some(size) if with_tier(config, |tier| tier.admits(size)) => {}
            _ => return Ok(cached),
        }
        let Ok(copy) = Headers::new_with_headers(&headers) else {
            return Ok(cached);
        };
        let Ok(promise) = cached.blob() else {
            return Ok(cached);
        };
        let blob: Blob = Settled::new(&promise)
            .await
            .map_err(|_| {
                ApiError::new(
                    ErrorCode::UpstreamError,
                    "the cached copy of the media could not be read",
                )
            })?
            .unchecked_into();
        let size = blob.size() as u64;
        // The cache's copy expires `CACHE_TTL_SECS` after its put: as much less as it has aged.
        let age_secs = copy
            .get("age")
            .ok()
            .flatten()
            .and_then(|v| v.trim().parse::<u64>().ok())
            .unwrap_or(0);
        let expires_ms =
            js_sys::Date::now() + config.cache_ttl_secs.saturating_sub(age_secs) as f64 * 1000.0;
        if declared == Some(size) {
            let held = Held {
                headers: copy.clone(),
                blob: blob.clone(),
                answers: Rc::default(),
            };
            with_tier(config, |tier| tier.insert(key, held, size, expires_ms));
        }
        let init = ResponseInit::new();
        init.set_status(200);
        init.set_headers(&copy);
        Response::new_with_opt_blob_and_init(Some(&blob), &init)
            .map_err(|_| ApiError::internal("response"))
    }

    /// The client's headers and the bytes of an answer of shape number `shape` from what is
    /// held under `key` (unexpired), for the JS entry to answer a plain hit from
    /// (`crate::shell`); `None` when not held, and with the tier off. `answer` makes the
    /// client's headers from the cache's the first time a shape is asked for; they are kept
    /// with the media, so later hits copy no headers.
    pub fn held_answer(
        key: &str,
        config: &Config,
        shape: usize,
        answer: impl FnOnce(&Headers) -> Option<Headers>,
    ) -> Option<(Headers, Blob)> {
        if config.memory_cache_bytes == 0 {
            return None;
        }
        let held = with_tier(config, |tier| tier.get(key, js_sys::Date::now()))?;
        let mut answers = held.answers.borrow_mut();
        let headers = match answers.iter().find(|(n, _)| *n == shape) {
            Some((_, headers)) => headers.clone(),
            None => {
                let headers = answer(&held.headers)?;
                answers.push((shape, headers.clone()));
                headers
            }
        };
        Some((headers, held.blob.clone()))
    }

    /// `{ bytes, entries, limit }` of this isolate's tier, for `/healthz`.
    pub fn usage(config: &Config) -> serde_json::Value {
        with_tier(config, |tier| {
            serde_json::json!({
                "bytes": tier.bytes(),
                "entries": tier.len(),
                "limit": tier.limit(),
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stays_within_its_bound_evicting_the_least_recently_used() {
        let mut lru = Lru::new(300);
        assert!(lru.insert("a", 1, 100, 1e9));
        assert!(lru.insert("b", 2, 100, 1e9));
        assert!(lru.insert("c", 3, 100, 1e9));
        assert_eq!(lru.get("a", 0.0), Some(1)); // a is now the most recent
        assert!(lru.insert("d", 4, 100, 1e9)); // evicts b
        assert_eq!(lru.keys_by_use(), ["c", "a", "d"]);
        assert_eq!(lru.get("b", 0.0), None);
        assert_eq!((lru.bytes(), lru.len()), (300, 3));
        assert!(lru.insert("e", 5, 250, 1e9)); // evicts c, a, d
        assert_eq!(lru.keys_by_use(), ["e"]);
        assert_eq!(lru.bytes(), 250);
    }

    #[test]
    fn refuses_oversize_objects_and_a_zero_bound() {
        let mut lru = Lru::new(64 << 20);
        assert!(!lru.insert("big", (), MAX_OBJECT_BYTES + 1, 1e9));
        assert!(lru.insert("max", (), MAX_OBJECT_BYTES, 1e9));
        let mut off = Lru::new(0);
        assert!(!off.insert("a", (), 1, 1e9));
        assert!(off.is_empty());
    }

    #[test]
    fn expired_entries_are_dropped() {
        let mut lru = Lru::new(100);
        lru.insert("a", 1, 10, 1000.0);
        assert_eq!(lru.get("a", 999.0), Some(1));
        assert_eq!(lru.get("a", 1000.0), None);
        assert_eq!((lru.bytes(), lru.len()), (0, 0));
    }

    #[test]
    fn replacing_a_key_counts_it_once_and_shrinking_evicts() {
        let mut lru = Lru::new(100);
        lru.insert("a", 1, 40, 1e9);
        lru.insert("a", 2, 50, 1e9);
        lru.insert("b", 3, 50, 1e9);
        assert_eq!((lru.bytes(), lru.len()), (100, 2));
        lru.set_limit(60);
        assert_eq!(lru.keys_by_use(), ["b"]);
    }

    #[test]
    fn only_plain_lookups_are_answered_from_memory() {
        assert!(is_plain(None, None));
        assert!(is_plain(Some("items=0-1"), None));
        assert!(!is_plain(Some("bytes=0-1"), None));
        assert!(!is_plain(Some(" Bytes=0-"), None));
        assert!(!is_plain(None, Some("\"x\"")));
        assert!(bytes_range("  BYTES=0-") && !bytes_range("byte=0-") && !bytes_range("bytes"));
    }
}
