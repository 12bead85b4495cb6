//! Upload bodies: the media as the caller holds it (Blob or bytes), and the multipart form each
//! attempt sends, built anew so that a spent body is never re-sent.

use js_sys::{Array, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
use web_sys::{Blob, BlobPropertyBag, FormData};

use super::*;
use crate::protocol::request::UPLOAD_FIELD;
use crate::protocol::{Error, SNIFF_LEN};

/// The media an upload sends: a `Blob` (a file, or bytes already wrapped) or bytes as the caller
/// holds them. Neither is copied into wasm memory; only the first [`SNIFF_LEN`] bytes are read to
/// sniff the format.
#[derive(Clone)]
pub enum UploadMedia {
    /// A Blob (or File), sent as it is.
    Blob(Blob),
    /// Bytes: handed to a transport that takes form parts as bytes (see
    /// [`takes_form_parts`]) as they are, else wrapped in a Blob once per call.
    Bytes(Uint8Array),
}

impl UploadMedia {
    /// The size in bytes.
    pub fn size(&self) -> u64 {
        match self {
            UploadMedia::Blob(blob) => blob.size() as u64,
            UploadMedia::Bytes(bytes) => u64::from(bytes.length()),
        }
    }

    /// The first [`SNIFF_LEN`] bytes, for format detection (read from a Blob, copied from bytes).
    pub async fn head(&self) -> Result<Vec<u8>, Error> {
        match self {
            UploadMedia::Blob(blob) => read_head(blob).await,
            UploadMedia::Bytes(bytes) => Ok(prefix(bytes, SNIFF_LEN)),
        }
    }

    /// What each attempt's form carries, with `content_type` as the part's type: bytes stay bytes
    /// for a transport that takes them (`parts`), anything else becomes a Blob of that type (its
    /// bytes are not copied again from one attempt to the next).
    pub fn form_body(&self, content_type: &str, parts: bool) -> Result<FormBody, Error> {
        Ok(match self {
            UploadMedia::Bytes(bytes) if parts => FormBody::Bytes {
                bytes: bytes.clone(),
                content_type: content_type.to_string(),
            },
            UploadMedia::Bytes(bytes) => FormBody::Blob(blob_of(bytes, content_type)?),
            UploadMedia::Blob(blob) => FormBody::Blob(typed_blob(blob, content_type)?),
        })
    }
}

/// The media part of an upload's form, as each attempt sends it.
#[derive(Clone)]
pub enum FormBody {
    /// A `FormData` holding this Blob.
    Blob(Blob),
    /// The bytes as a form part of the given type, for a transport that [`takes_form_parts`].
    Bytes {
        /// The media.
        bytes: Uint8Array,
        /// The part's Content-Type.
        content_type: String,
    },
}

/// The key a transport function sets (to `true`) to say that it takes, besides `FormData`, a
/// form given as an array of `[name, { name: filename, type, data }]` entries (the shape a
/// `FormData` iterates in, with the bytes in `data`). The npm package's Node transport does, so
/// bytes a caller holds go out without being copied into a Blob and read back.
pub const FORM_PARTS_KEY: &str = "wxmedia.formParts";

/// An upload request built by the protocol core ([`crate::protocol::upload_request`]), ready
/// to send: `POST` with a fresh form whose `media` part is `body` named `filename`. Built anew for
/// every attempt (a spent body is never re-sent); the media's bytes are not copied.
pub fn upload_request(
    request: &http::Request<Vec<u8>>,
    body: &FormBody,
    filename: &str,
) -> Result<Outgoing, Error> {
    let outgoing = to_web_request(request)?;
    let init = &outgoing.init;
    match body {
        FormBody::Blob(blob) => {
            let form = FormData::new().map_err(|e| js_error(&e))?;
            form.append_with_blob_and_filename(UPLOAD_FIELD, blob, filename)
                .map_err(|e| js_error(&e))?;
            init.set_body(&form);
        }
        FormBody::Bytes {
            bytes,
            content_type,
        } => {
            let part = js_sys::Object::new();
            for (key, value) in [
                ("name", JsValue::from_str(filename)),
                ("type", JsValue::from_str(content_type)),
                ("data", bytes.into()),
            ] {
                Reflect::set(&part, &JsValue::from_str(key), &value).map_err(|e| js_error(&e))?;
            }
            let entry = Array::of2(&JsValue::from_str(UPLOAD_FIELD), &part);
            init.set_body(&Array::of1(&entry));
        }
    }
    Ok(outgoing)
}

/// A blob with the same bytes as `blob` and the given type (the bytes are not copied).
pub fn typed_blob(blob: &Blob, content_type: &str) -> Result<Blob, Error> {
    if blob.type_() == content_type {
        return Ok(blob.clone());
    }
    blob_of(blob, content_type)
}

/// `new Blob([part], { type })`: a Blob part is not copied, bytes are (once, in JS).
fn blob_of(part: &JsValue, content_type: &str) -> Result<Blob, Error> {
    let options = BlobPropertyBag::new();
    options.set_type(content_type);
    Blob::new_with_blob_sequence_and_options(&Array::of1(part), &options).map_err(|e| js_error(&e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::{upload_request as build, AccessToken, MediaType};
    use crate::web::Settled;
    use wasm_bindgen::JsCast;
    use wasm_bindgen_test::wasm_bindgen_test;

    fn request() -> http::Request<Vec<u8>> {
        build(
            "http://127.0.0.1:9",
            &AccessToken::new("TOKEN"),
            MediaType::Image,
        )
    }

    fn body_of(outgoing: &Outgoing) -> JsValue {
        Reflect::get(outgoing.init.as_ref(), &"body".into()).unwrap()
    }

    #[wasm_bindgen_test]
    async fn a_blob_goes_out_as_a_form_with_one_media_part() {
        let bytes = Uint8Array::from(&[0xff, 0xd8, 0xff, 0xe0][..]);
        let media = UploadMedia::Bytes(bytes);
        assert_eq!(media.size(), 4);
        assert_eq!(media.head().await.unwrap(), vec![0xff, 0xd8, 0xff, 0xe0]);
        let form = media.form_body("image/jpeg", false).unwrap();
        assert!(matches!(form, FormBody::Blob(_)));
        let outgoing = upload_request(&request(), &form, "中.jpg").unwrap();
        assert_eq!(
            outgoing.url,
            "http://127.0.0.1:9/cgi-bin/media/upload?access_token=TOKEN&type=image"
        );
        let method = Reflect::get(outgoing.init.as_ref(), &"method".into()).unwrap();
        assert_eq!(method.as_string().as_deref(), Some("POST"));
        let form: FormData = body_of(&outgoing).unchecked_into();
        let part: web_sys::File = form.get(UPLOAD_FIELD).unchecked_into();
        assert_eq!(part.name(), "中.jpg");
        assert_eq!(part.type_(), "image/jpeg");
        assert_eq!(part.size(), 4.0);
        // Every attempt builds its own form.
        let again = upload_request(
            &request(),
            &media.form_body("image/jpeg", false).unwrap(),
            "a.jpg",
        )
        .unwrap();
        assert_ne!(body_of(&again), body_of(&outgoing));
    }

    #[wasm_bindgen_test]
    fn bytes_stay_bytes_for_a_transport_that_takes_parts() {
        let bytes = Uint8Array::from(&b"#!AMR\n"[..]);
        let form = UploadMedia::Bytes(bytes.clone())
            .form_body("audio/amr", true)
            .unwrap();
        let outgoing = upload_request(&request(), &form, "v.amr").unwrap();
        let entries: Array = body_of(&outgoing).unchecked_into();
        assert_eq!(entries.length(), 1);
        let entry: Array = entries.get(0).unchecked_into();
        assert_eq!(entry.get(0).as_string().as_deref(), Some(UPLOAD_FIELD));
        let part = entry.get(1);
        let field = |k: &str| Reflect::get(&part, &k.into()).unwrap();
        assert_eq!(field("name").as_string().as_deref(), Some("v.amr"));
        assert_eq!(field("type").as_string().as_deref(), Some("audio/amr"));
        // The very bytes the caller holds: not copied.
        assert_eq!(field("data"), JsValue::from(bytes));
    }

    #[wasm_bindgen_test]
    async fn a_blob_is_retyped_without_copying_its_bytes() {
        let blob = blob_of(&Uint8Array::from(&b"GIF89a"[..]), "image/gif").unwrap();
        assert_eq!(typed_blob(&blob, "image/gif").unwrap(), blob);
        let retyped = typed_blob(&blob, "image/png").unwrap();
        assert_eq!(retyped.type_(), "image/png");
        let bytes = Settled::new(&retyped.array_buffer()).await.unwrap();
        assert_eq!(Uint8Array::new(&bytes).to_vec(), b"GIF89a");
        let media = UploadMedia::Blob(blob);
        assert_eq!(media.size(), 6);
        assert_eq!(media.head().await.unwrap(), b"GIF89a");
    }
}
