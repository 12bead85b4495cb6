//! Media types, format sniffing by magic bytes, upload validation, the multipart/form-data parser.

use bytes::Bytes;

/// The `type` query parameter of an upload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum MediaKind {
    Image,
    Voice,
    Video,
    Thumb,
}

const MB: usize = 1024 * 1024;

impl MediaKind {
    /// Parses `image|voice|video|thumb`.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "image" => Some(MediaKind::Image),
            "voice" => Some(MediaKind::Voice),
            "video" => Some(MediaKind::Video),
            "thumb" => Some(MediaKind::Thumb),
            _ => None,
        }
    }

    /// The name WeChat uses.
    pub fn as_str(self) -> &'static str {
        match self {
            MediaKind::Image => "image",
            MediaKind::Voice => "voice",
            MediaKind::Video => "video",
            MediaKind::Thumb => "thumb",
        }
    }

    /// Largest accepted file.
    pub fn max_size(self) -> usize {
        match self {
            MediaKind::Image | MediaKind::Video => 10 * MB,
            MediaKind::Voice => 2 * MB,
            MediaKind::Thumb => 64 * 1024,
        }
    }

    fn extensions(self) -> &'static [&'static str] {
        match self {
            MediaKind::Image => &["jpg", "jpeg", "png", "gif"],
            MediaKind::Voice => &["amr", "mp3"],
            MediaKind::Video => &["mp4"],
            MediaKind::Thumb => &["jpg", "jpeg"],
        }
    }

    pub(crate) fn formats(self) -> &'static [Format] {
        match self {
            MediaKind::Image => &[Format::Jpeg, Format::Png, Format::Gif],
            MediaKind::Voice => &[Format::Amr, Format::Mp3],
            MediaKind::Video => &[Format::Mp4],
            MediaKind::Thumb => &[Format::Jpeg],
        }
    }
}

/// A file format recognised by its magic bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    Jpeg,
    Png,
    Gif,
    Amr,
    Mp3,
    Mp4,
}

impl Format {
    /// The Content-Type the download answers with.
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Jpeg => "image/jpeg",
            Format::Png => "image/png",
            Format::Gif => "image/gif",
            Format::Amr => "audio/amr",
            Format::Mp3 => "audio/mpeg",
            Format::Mp4 => "video/mp4",
        }
    }

    /// The extension of the download's filename.
    pub fn ext(self) -> &'static str {
        match self {
            Format::Jpeg => "jpg",
            Format::Png => "png",
            Format::Gif => "gif",
            Format::Amr => "amr",
            Format::Mp3 => "mp3",
            Format::Mp4 => "mp4",
        }
    }

    pub(crate) fn matches(self, data: &[u8]) -> bool {
        match self {
            Format::Jpeg => data.starts_with(&[0xFF, 0xD8, 0xFF]),
            Format::Png => data.starts_with(&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A]),
            Format::Gif => data.starts_with(b"GIF87a") || data.starts_with(b"GIF89a"),
            Format::Amr => data.starts_with(b"#!AMR\n") || data.starts_with(b"#!AMR-WB\n"),
            Format::Mp3 => {
                data.starts_with(b"ID3")
                    || (data.len() >= 2 && data[0] == 0xFF && data[1] & 0xE0 == 0xE0)
            }
            Format::Mp4 => data.len() >= 8 && &data[4..8] == b"ftyp",
        }
    }
}

/// Checks an uploaded file against `kind`: extension and magic bytes (else 40005), then size
/// (else 40006). Returns the sniffed format.
pub(crate) fn validate(kind: MediaKind, filename: &str, data: &[u8]) -> Result<Format, i64> {
    let ext = filename
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    if !kind.extensions().contains(&ext.as_str()) {
        return Err(40005);
    }
    let format = kind
        .formats()
        .iter()
        .copied()
        .find(|f| f.matches(data))
        .ok_or(40005)?;
    if data.len() > kind.max_size() {
        return Err(40006);
    }
    Ok(format)
}

/// One part of a multipart/form-data body.
#[derive(Debug)]
pub(crate) struct Part {
    /// `name` from Content-Disposition.
    pub name: Option<String>,
    /// `filename` from Content-Disposition, raw bytes decoded as UTF-8 (lossy).
    pub filename: Option<String>,
    /// Whether an RFC 5987 `filename*` parameter was present.
    pub has_filename_star: bool,
    /// The part's content.
    pub data: Bytes,
}

/// Extracts the boundary from a `multipart/form-data; boundary=...` Content-Type.
pub(crate) fn boundary(content_type: &[u8]) -> Option<Vec<u8>> {
    let text = String::from_utf8_lossy(content_type);
    let mut pieces = split_params(&text).into_iter();
    let mime = pieces.next()?;
    if !mime.trim().eq_ignore_ascii_case("multipart/form-data") {
        return None;
    }
    pieces
        .filter_map(|p| parse_param(&p))
        .find(|(k, _)| k.eq_ignore_ascii_case("boundary"))
        .map(|(_, v)| v.into_bytes())
        .filter(|b| !b.is_empty() && b.len() <= 200)
}

/// Splits a header value at `;` outside quoted strings.
fn split_params(value: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut escaped = false;
    for c in value.chars() {
        if escaped {
            cur.push(c);
            escaped = false;
            continue;
        }
        match c {
            '\\' if quoted => {
                cur.push(c);
                escaped = true;
            }
            '"' => {
                quoted = !quoted;
                cur.push(c);
            }
            ';' if !quoted => out.push(std::mem::take(&mut cur)),
            _ => cur.push(c),
        }
    }
    out.push(cur);
    out
}

/// Parses `key=value` or `key="quoted value"`.
fn parse_param(param: &str) -> Option<(String, String)> {
    let (k, v) = param.split_once('=')?;
    let k = k.trim().to_owned();
    let v = v.trim();
    let v = match v.strip_prefix('"').and_then(|s| s.strip_suffix('"')) {
        Some(inner) => {
            let mut out = String::with_capacity(inner.len());
            let mut chars = inner.chars();
            while let Some(c) = chars.next() {
                if c == '\\' {
                    if let Some(n) = chars.next() {
                        out.push(n);
                    }
                } else {
                    out.push(c);
                }
            }
            out
        }
        None => v.to_owned(),
    };
    Some((k, v))
}

/// Parses a multipart/form-data body. `None` when it is not a complete multipart body.
pub(crate) fn parse_multipart(body: &Bytes, boundary: &[u8]) -> Option<Vec<Part>> {
    let mut delim = Vec::with_capacity(boundary.len() + 4);
    delim.extend_from_slice(b"\r\n--");
    delim.extend_from_slice(boundary);
    let finder = memchr::memmem::Finder::new(&delim);
    // The first delimiter may open the body without a preceding CRLF.
    let mut pos = if body.starts_with(&delim[2..]) {
        delim.len() - 2
    } else {
        finder.find(body)? + delim.len()
    };
    let mut parts = Vec::new();
    loop {
        let rest = &body[pos..];
        if rest.starts_with(b"--") {
            return Some(parts);
        }
        // Transport padding, then CRLF.
        let pad = rest
            .iter()
            .take_while(|b| **b == b' ' || **b == b'\t')
            .count();
        if !rest[pad..].starts_with(b"\r\n") {
            return None;
        }
        pos += pad + 2;
        let mut headers = [httparse::EMPTY_HEADER; 16];
        let (head_len, headers) = match httparse::parse_headers(&body[pos..], &mut headers) {
            Ok(httparse::Status::Complete((n, h))) => (n, h),
            _ => return None,
        };
        let mut part = Part {
            name: None,
            filename: None,
            has_filename_star: false,
            data: Bytes::new(),
        };
        for h in headers.iter() {
            if h.name.eq_ignore_ascii_case("content-disposition") {
                let value = String::from_utf8_lossy(h.value);
                for (k, v) in split_params(&value)
                    .iter()
                    .skip(1)
                    .filter_map(|p| parse_param(p))
                {
                    match k.to_ascii_lowercase().as_str() {
                        "name" => part.name = Some(v),
                        "filename" => part.filename = Some(v),
                        "filename*" => part.has_filename_star = true,
                        _ => {}
                    }
                }
            }
        }
        let start = pos + head_len;
        let end = start + finder.find(&body[start..])?;
        part.data = body.slice(start..end);
        parts.push(part);
        pos = end + delim.len();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffing_and_validation() {
        let jpeg = [0xFF, 0xD8, 0xFF, 0xE0, 0, 0];
        assert_eq!(validate(MediaKind::Image, "a.JPG", &jpeg), Ok(Format::Jpeg));
        assert_eq!(
            validate(MediaKind::Thumb, "a.jpeg", &jpeg),
            Ok(Format::Jpeg)
        );
        assert_eq!(validate(MediaKind::Thumb, "a.png", &jpeg), Err(40005));
        assert_eq!(validate(MediaKind::Image, "a", &jpeg), Err(40005));
        assert_eq!(
            validate(MediaKind::Voice, "a.mp3", &[0xFF, 0xFB, 0x90]),
            Ok(Format::Mp3)
        );
        assert_eq!(validate(MediaKind::Voice, "a.mp3", &jpeg), Err(40005));
        assert_eq!(
            validate(MediaKind::Video, "a.mp4", b"\0\0\0\x18ftypisom"),
            Ok(Format::Mp4)
        );
        let big = [&jpeg[..], &vec![0; 64 * 1024][..]].concat();
        assert_eq!(validate(MediaKind::Thumb, "a.jpg", &big), Err(40006));
    }

    #[test]
    fn multipart_round_trip() {
        let body = Bytes::from_static(
            b"--XyZ\r\nContent-Disposition: form-data; name=\"media\"; filename=\"\xe6\xb5\x8b.jpg\"\r\n\
Content-Type: image/jpeg\r\n\r\n\xff\xd8\xff\r\n--XyZ\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\n1\r\n--XyZ--\r\n",
        );
        let b = boundary(b"multipart/form-data; boundary=\"XyZ\"").unwrap();
        let parts = parse_multipart(&body, &b).unwrap();
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[0].name.as_deref(), Some("media"));
        assert_eq!(parts[0].filename.as_deref(), Some("测.jpg"));
        assert_eq!(&parts[0].data[..], b"\xff\xd8\xff");
        assert_eq!(&parts[1].data[..], b"1");
        assert!(parse_multipart(&Bytes::from_static(b"--XyZ\r\n"), &b).is_none());
        assert!(boundary(b"application/json").is_none());
    }
}
