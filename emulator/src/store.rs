//! The media store: uploaded files by media_id, a byte cap, and the 3-day expiry.

use std::collections::HashMap;

use bytes::Bytes;

use crate::media::{Format, MediaKind};
use crate::tokens::random_id;

/// How long a media_id stays downloadable.
pub(crate) const MEDIA_LIFETIME: u64 = 3 * 86_400;
/// Length of a media_id.
pub(crate) const MEDIA_ID_LEN: usize = 64;

/// One stored upload.
#[derive(Debug, Clone)]
pub(crate) struct Media {
    /// The upload's `type`.
    pub kind: MediaKind,
    /// The sniffed format.
    pub format: Format,
    /// The app whose token uploaded it (an index into the served accounts); only that app's
    /// tokens can get it.
    pub app: usize,
    /// The file.
    pub bytes: Bytes,
    /// Emulated unix time of the upload.
    pub created_at: u64,
}

impl Media {
    fn expired(&self, now: u64) -> bool {
        now >= self.created_at + MEDIA_LIFETIME
    }
}

/// The store would pass its cap.
#[derive(Debug)]
pub(crate) struct StoreFull {
    /// The configured cap in bytes.
    pub cap: u64,
}

/// Media by id, with a cap on the total bytes held.
#[derive(Debug)]
pub(crate) struct MediaStore {
    items: HashMap<String, Media>,
    total: u64,
    cap: u64,
}

impl MediaStore {
    /// An empty store holding at most `cap` bytes.
    pub fn new(cap: u64) -> Self {
        MediaStore {
            items: HashMap::new(),
            total: 0,
            cap,
        }
    }

    /// Stores `media` under a new id. Expired media are purged first when space is short.
    pub fn insert(&mut self, media: Media, now: u64) -> Result<String, StoreFull> {
        let size = media.bytes.len() as u64;
        if self.total + size > self.cap {
            self.purge_expired(now);
        }
        if self.total + size > self.cap {
            return Err(StoreFull { cap: self.cap });
        }
        let mut id = random_id(MEDIA_ID_LEN);
        while self.items.contains_key(&id) {
            id = random_id(MEDIA_ID_LEN);
        }
        self.total += size;
        self.items.insert(id.clone(), media);
        Ok(id)
    }

    /// The media for `id` if it exists and has not expired; an expired one is purged.
    pub fn get(&mut self, id: &str, now: u64) -> Option<Media> {
        let media = self.items.get(id)?;
        if media.expired(now) {
            self.remove(id);
            return None;
        }
        Some(media.clone())
    }

    fn remove(&mut self, id: &str) {
        if let Some(m) = self.items.remove(id) {
            self.total -= m.bytes.len() as u64;
        }
    }

    /// Drops every expired media.
    pub fn purge_expired(&mut self, now: u64) {
        let expired: Vec<String> = self
            .items
            .iter()
            .filter(|(_, m)| m.expired(now))
            .map(|(id, _)| id.clone())
            .collect();
        for id in expired {
            self.remove(&id);
        }
    }

    /// Every stored media (expired ones included until purged), oldest first.
    pub fn list(&self) -> Vec<(&str, &Media)> {
        let mut all: Vec<(&str, &Media)> =
            self.items.iter().map(|(k, v)| (k.as_str(), v)).collect();
        all.sort_by(|a, b| a.1.created_at.cmp(&b.1.created_at).then(a.0.cmp(b.0)));
        all
    }

    /// Bytes currently held.
    pub fn total_bytes(&self) -> u64 {
        self.total
    }

    /// The configured cap.
    pub fn cap(&self) -> u64 {
        self.cap
    }

    /// Drops everything.
    pub fn clear(&mut self) {
        self.items.clear();
        self.total = 0;
    }
}
