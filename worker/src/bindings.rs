//! The few platform objects the `worker` crate does not expose as plain JS values: the default
//! cache, and R2's `get`/`put` on raw values. Bodies stay JS values.

use js_sys::{Object, Promise, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::ReadableStream;
use wxmedia::client::Settled;

#[wasm_bindgen]
extern "C" {
    /// An R2 bucket binding.
    #[wasm_bindgen(extends = Object)]
    #[derive(Clone)]
    pub type R2Bucket;
    #[wasm_bindgen(method, catch)]
    fn get(this: &R2Bucket, key: &str) -> Result<Promise, JsValue>;
    #[wasm_bindgen(method, catch, js_name = head)]
    fn head_object(this: &R2Bucket, key: &str) -> Result<Promise, JsValue>;
    #[wasm_bindgen(method, catch)]
    fn put(
        this: &R2Bucket,
        key: &str,
        value: &JsValue,
        options: &JsValue,
    ) -> Result<Promise, JsValue>;
}

thread_local! {
    static DEFAULT_CACHE: std::cell::RefCell<Option<web_sys::Cache>> = const { std::cell::RefCell::new(None) };
}

/// `caches.default`, Cloudflare's per-data-centre cache (looked up once per isolate).
pub fn default_cache() -> Result<web_sys::Cache, JsValue> {
    if let Some(cache) = DEFAULT_CACHE.with(|c| c.borrow().clone()) {
        return Ok(cache);
    }
    let caches = Reflect::get(&js_sys::global(), &"caches".into())?;
    let cache: web_sys::Cache = Reflect::get(&caches, &"default".into())?.unchecked_into();
    DEFAULT_CACHE.with(|c| *c.borrow_mut() = Some(cache.clone()));
    Ok(cache)
}

/// The R2 bucket bound as `name`, if any.
pub fn bucket(env: &worker::Env, name: &str) -> Option<R2Bucket> {
    let bucket = env.bucket(name).ok()?;
    Some(AsRef::<JsValue>::as_ref(&bucket).clone().unchecked_into())
}

/// An R2 object body: its stream and what it was stored with.
pub struct R2Body {
    /// The bytes.
    pub body: ReadableStream,
    /// `size`.
    pub size: f64,
    /// The stored HTTP metadata (content type, disposition).
    pub content_type: Option<String>,
    /// The stored Content-Disposition.
    pub content_disposition: Option<String>,
}

impl R2Body {
    /// How this object is stored in the cache under `key`.
    pub fn stored<'a>(
        &'a self,
        key: &'a str,
        etag: &'a str,
        ttl_secs: u64,
    ) -> crate::media::Stored<'a> {
        crate::media::Stored {
            key,
            content_type: self
                .content_type
                .as_deref()
                .unwrap_or("application/octet-stream"),
            content_disposition: self.content_disposition.as_deref().unwrap_or("attachment"),
            content_length: Some(self.size as u64),
            etag,
            ttl_secs,
        }
    }
}

impl R2Bucket {
    /// `bucket.get(key)`.
    pub async fn get_body(&self, key: &str) -> Result<Option<R2Body>, JsValue> {
        let object = Settled::new(&self.get(key)?).await?;
        if object.is_null() || object.is_undefined() {
            return Ok(None);
        }
        let meta = Reflect::get(&object, &"httpMetadata".into())?;
        let text =
            |v: &JsValue, k: &str| Reflect::get(v, &k.into()).ok().and_then(|v| v.as_string());
        Ok(Some(R2Body {
            body: Reflect::get(&object, &"body".into())?.unchecked_into(),
            size: Reflect::get(&object, &"size".into())?
                .as_f64()
                .unwrap_or(0.0),
            content_type: text(&meta, "contentType"),
            content_disposition: text(&meta, "contentDisposition"),
        }))
    }

    /// `bucket.head(key)`: the stored object's Content-Type and size, without its body.
    pub async fn head(&self, key: &str) -> Result<Option<(String, u64)>, JsValue> {
        let object = Settled::new(&self.head_object(key)?).await?;
        if object.is_null() || object.is_undefined() {
            return Ok(None);
        }
        let meta = Reflect::get(&object, &"httpMetadata".into())?;
        let content_type = Reflect::get(&meta, &"contentType".into())
            .ok()
            .and_then(|v| v.as_string())
            .unwrap_or_else(|| "application/octet-stream".into());
        let size = Reflect::get(&object, &"size".into())?
            .as_f64()
            .unwrap_or(0.0) as u64;
        Ok(Some((content_type, size)))
    }

    /// `bucket.put(key, value, { httpMetadata })`; `value` is a Blob or a stream of known
    /// length.
    pub async fn put_value(
        &self,
        key: &str,
        value: &JsValue,
        content_type: &str,
        content_disposition: &str,
    ) -> Result<(), JsValue> {
        let meta = Object::new();
        Reflect::set(&meta, &"contentType".into(), &content_type.into())?;
        Reflect::set(
            &meta,
            &"contentDisposition".into(),
            &content_disposition.into(),
        )?;
        let options = Object::new();
        Reflect::set(&options, &"httpMetadata".into(), &meta)?;
        Settled::new(&self.put(key, value, &options)?).await?;
        Ok(())
    }
}
