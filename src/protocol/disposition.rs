//! `Content-Disposition` parsing (RFC 6266, with RFC 5987 `filename*`).
//!
//! Works on the header's raw bytes, because WeChat sends non-ASCII names as raw UTF-8 inside
//! `filename="…"` (which `HeaderValue::to_str` refuses).

use std::borrow::Cow;

/// One part of a `Content-Disposition` value, borrowed from it.
#[derive(Debug, PartialEq, Eq)]
enum Part<'a> {
    /// The disposition type (`attachment`, `inline`, …) as sent: a bare token that comes first.
    Kind(&'a [u8]),
    /// A parameter: its name as sent and its value (quotes and escapes removed).
    Param(&'a [u8], Cow<'a, [u8]>),
}

/// The parts of a `Content-Disposition` value in order, without copying it (only a quoted value
/// with backslash escapes is copied, unescaped). Bare tokens after the first are skipped, as are
/// parameters with an empty name.
struct Parts<'a> {
    value: &'a [u8],
    at: usize,
    first: bool,
}

fn parts(value: &[u8]) -> Parts<'_> {
    Parts {
        value,
        at: 0,
        first: true,
    }
}

fn is_ws(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

fn trim(mut s: &[u8]) -> &[u8] {
    while let [first, rest @ ..] = s {
        if is_ws(*first) {
            s = rest;
        } else {
            break;
        }
    }
    while let [rest @ .., last] = s {
        if is_ws(*last) {
            s = rest;
        } else {
            break;
        }
    }
    s
}

impl<'a> Iterator for Parts<'a> {
    type Item = Part<'a>;

    fn next(&mut self) -> Option<Part<'a>> {
        let value = self.value;
        let n = value.len();
        loop {
            let mut i = self.at;
            // Skip separators and whitespace.
            while i < n && (is_ws(value[i]) || value[i] == b';') {
                i += 1;
            }
            if i >= n {
                self.at = n;
                return None;
            }
            // A name: up to '=' or ';'.
            let name_start = i;
            while i < n && value[i] != b'=' && value[i] != b';' {
                i += 1;
            }
            let name = trim(&value[name_start..i]);
            let first = std::mem::replace(&mut self.first, false);
            if i >= n || value[i] == b';' {
                // A bare token: the disposition type if it comes first, else ignored.
                self.at = i;
                if first && !name.is_empty() {
                    return Some(Part::Kind(name));
                }
                continue;
            }
            i += 1; // '='
            while i < n && is_ws(value[i]) {
                i += 1;
            }
            let param_value = if i < n && value[i] == b'"' {
                i += 1;
                let start = i;
                let mut unescaped: Option<Vec<u8>> = None;
                while i < n && value[i] != b'"' {
                    if value[i] == b'\\' && i + 1 < n {
                        let copy = unescaped.get_or_insert_with(|| value[start..i].to_vec());
                        i += 1;
                        copy.push(value[i]);
                    } else if let Some(copy) = &mut unescaped {
                        copy.push(value[i]);
                    }
                    i += 1;
                }
                let quoted = match unescaped {
                    Some(copy) => Cow::Owned(copy),
                    None => Cow::Borrowed(&value[start..i]),
                };
                // Skip the closing quote and anything up to the next ';'.
                while i < n && value[i] != b';' {
                    i += 1;
                }
                quoted
            } else {
                let start = i;
                while i < n && value[i] != b';' {
                    i += 1;
                }
                Cow::Borrowed(trim(&value[start..i]))
            };
            self.at = i;
            if !name.is_empty() {
                return Some(Part::Param(name, param_value));
            }
        }
    }
}

/// Decodes `%XX` escapes; a `%` not followed by two hex digits is kept as is.
pub(crate) fn percent_decode(input: &[u8]) -> Vec<u8> {
    fn hex(b: u8) -> Option<u8> {
        match b {
            b'0'..=b'9' => Some(b - b'0'),
            b'a'..=b'f' => Some(b - b'a' + 10),
            b'A'..=b'F' => Some(b - b'A' + 10),
            _ => None,
        }
    }
    let mut out = Vec::with_capacity(input.len());
    let mut i = 0;
    while i < input.len() {
        if input[i] == b'%' && i + 2 < input.len() {
            if let (Some(h), Some(l)) = (hex(input[i + 1]), hex(input[i + 2])) {
                out.push(h << 4 | l);
                i += 3;
                continue;
            }
        }
        out.push(input[i]);
        i += 1;
    }
    out
}

fn latin1(bytes: &[u8]) -> String {
    bytes.iter().map(|&b| char::from(b)).collect()
}

/// Decodes an RFC 5987 ext-value (`charset'lang'pct-encoded`). Only UTF-8 and ISO-8859-1 are
/// understood; anything else (or invalid UTF-8) gives `None`.
fn decode_ext_value(value: &[u8]) -> Option<String> {
    let mut parts = value.splitn(3, |&b| b == b'\'');
    let charset = trim(parts.next()?);
    let _language = parts.next()?;
    let encoded = parts.next()?;
    let bytes = percent_decode(encoded);
    let is = |names: &[&str]| {
        names
            .iter()
            .any(|n| charset.eq_ignore_ascii_case(n.as_bytes()))
    };
    if is(&["utf-8", "utf8"]) {
        String::from_utf8(bytes).ok()
    } else if is(&["iso-8859-1", "latin1", "latin-1", "us-ascii"]) {
        Some(latin1(&bytes))
    } else {
        None
    }
}

/// Decodes a plain `filename` value: UTF-8 if valid, else ISO-8859-1.
fn decode_plain(value: &[u8]) -> Cow<'_, str> {
    match std::str::from_utf8(value) {
        Ok(s) => Cow::Borrowed(s),
        Err(_) => Cow::Owned(latin1(value)),
    }
}

/// Keeps the last path segment and drops control characters (RFC 6266 §4.3: a recipient must
/// not let a name choose a directory).
fn last_segment(name: &str) -> Option<String> {
    let base = match name.bytes().rposition(|b| b == b'/' || b == b'\\') {
        Some(at) => &name[at + 1..],
        None => name,
    };
    // Control characters are C0, DEL and C1 (U+0080 to U+009F, which UTF-8 starts with 0xC2):
    // a name without those bytes is kept as it is.
    let cleaned: Cow<'_, str> = if base.bytes().any(|b| b < 0x20 || b == 0x7f || b == 0xc2) {
        Cow::Owned(base.chars().filter(|c| !c.is_control()).collect())
    } else {
        Cow::Borrowed(base)
    };
    let cleaned = cleaned.trim();
    if cleaned.is_empty() || cleaned == "." || cleaned == ".." {
        None
    } else {
        Some(cleaned.to_owned())
    }
}

/// The file name a `Content-Disposition` value carries, if any.
///
/// Prefers `filename*=charset'lang'pct-encoded` (UTF-8 or ISO-8859-1) over `filename`; a plain
/// `filename` (quoted, with backslash escapes, or a bare token) is decoded as UTF-8, falling back
/// to ISO-8859-1. Parameter names match in any case and order. Only the last path segment is
/// returned, without control characters; an empty name gives `None`.
///
/// ```
/// use wxmedia::protocol::disposition::filename;
/// assert_eq!(
///     filename(b"attachment; filename*=utf-8''%E6%B5%8B%E8%AF%95.jpg; filename=\"x.jpg\"").as_deref(),
///     Some("测试.jpg"),
/// );
/// ```
pub fn filename(header_value: &[u8]) -> Option<String> {
    // The first `filename*` and the first `filename`, in one pass.
    let (mut ext, mut plain) = (None, None);
    for part in parts(header_value) {
        if let Part::Param(name, value) = part {
            if ext.is_none() && name.eq_ignore_ascii_case(b"filename*") {
                ext = Some(value);
            } else if plain.is_none() && name.eq_ignore_ascii_case(b"filename") {
                plain = Some(value);
            }
        }
    }
    if let Some(name) = ext
        .and_then(|v| decode_ext_value(&v))
        .and_then(|n| last_segment(&n))
    {
        return Some(name);
    }
    plain.and_then(|v| last_segment(&decode_plain(&v)))
}

/// Whether a `Content-Disposition` value marks a download: its type is `attachment`, or it
/// carries a `filename`/`filename*` parameter.
pub fn is_attachment(header_value: &[u8]) -> bool {
    parts(header_value).any(|part| match part {
        Part::Kind(kind) => kind.eq_ignore_ascii_case(b"attachment"),
        Part::Param(name, _) => {
            name.eq_ignore_ascii_case(b"filename") || name.eq_ignore_ascii_case(b"filename*")
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (header value, filename, is_attachment)
    fn check(value: &[u8], name: Option<&str>, attachment: bool) {
        assert_eq!(
            filename(value).as_deref(),
            name,
            "value: {}",
            String::from_utf8_lossy(value)
        );
        assert_eq!(
            is_attachment(value),
            attachment,
            "value: {}",
            String::from_utf8_lossy(value)
        );
    }

    #[test]
    fn shapes() {
        let raw_utf8 = "测试.jpg".as_bytes();
        let mut both = b"attachment; filename*=utf-8''%E6%B5%8B%E8%AF%95.jpg; filename=\"".to_vec();
        both.extend_from_slice(raw_utf8);
        both.push(b'"');
        check(&both, Some("测试.jpg"), true);

        let mut raw_only = b"attachment; filename=\"".to_vec();
        raw_only.extend_from_slice(raw_utf8);
        raw_only.push(b'"');
        check(&raw_only, Some("测试.jpg"), true);

        // filename first, filename* second: filename* still wins.
        let mut reversed = b"attachment; filename=\"fallback.jpg\"; FILENAME*=UTF-8'zh'".to_vec();
        reversed.extend_from_slice(b"%E6%B5%8B%E8%AF%95.jpg");
        check(&reversed, Some("测试.jpg"), true);

        let cases: &[(&[u8], Option<&str>, bool)] = &[
            (
                b"attachment; filename=\"MEDIA_ID.jpg\"",
                Some("MEDIA_ID.jpg"),
                true,
            ),
            (
                b"attachment; filename=\"MEDIA_ID.speex\"",
                Some("MEDIA_ID.speex"),
                true,
            ),
            (b"Attachment; Filename=\"A.JPG\"", Some("A.JPG"), true),
            (b"attachment;filename=plain.png", Some("plain.png"), true),
            (
                b"attachment; filename = spaced.gif ",
                Some("spaced.gif"),
                true,
            ),
            (b"inline; filename=\"i.png\"", Some("i.png"), true),
            (b"inline", None, false),
            (b"attachment", None, true),
            (b"ATTACHMENT;", None, true),
            (b"", None, false),
            (b"form-data; name=\"media\"", None, false),
            (b"filename=\"no-type.mp4\"", Some("no-type.mp4"), true),
            (
                b"attachment; filename=\"a \\\"quoted\\\" name.jpg\"",
                Some("a \"quoted\" name.jpg"),
                true,
            ),
            (
                b"attachment; filename=\"back\\\\slash.jpg\"",
                Some("slash.jpg"),
                true,
            ),
            (
                b"attachment; filename=\"semi;colon.jpg\"; size=3",
                Some("semi;colon.jpg"),
                true,
            ),
            (
                b"attachment; size=10; filename=\"later.jpg\"",
                Some("later.jpg"),
                true,
            ),
            (
                b"attachment; filename*=iso-8859-1'en'%A3%20rates.jpg",
                Some("£ rates.jpg"),
                true,
            ),
            (
                b"attachment; filename*=\"UTF-8''%E2%82%AC.png\"",
                Some("€.png"),
                true,
            ),
            // Unknown charset or invalid UTF-8 in filename*: fall back to filename.
            (
                b"attachment; filename*=koi8-r''%C1.jpg; filename=\"f.jpg\"",
                Some("f.jpg"),
                true,
            ),
            (
                b"attachment; filename*=utf-8''%FF%FE.jpg; filename=\"g.jpg\"",
                Some("g.jpg"),
                true,
            ),
            (
                b"attachment; filename*=utf-8''100%25%zz.jpg",
                Some("100%%zz.jpg"),
                true,
            ),
            // Latin-1 bytes that are not UTF-8.
            (
                b"attachment; filename=\"caf\xe9.jpg\"",
                Some("café.jpg"),
                true,
            ),
            // Paths and control characters are dropped.
            (
                b"attachment; filename=\"../../etc/passwd\"",
                Some("passwd"),
                true,
            ),
            (
                b"attachment; filename=\"C:\\\\Users\\\\x.jpg\"",
                Some("x.jpg"),
                true,
            ),
            (b"attachment; filename=\"a\x01b.jpg\"", Some("ab.jpg"), true),
            (b"attachment; filename=\"\"", None, true),
            (b"attachment; filename=\"..\"", None, true),
            // Unterminated quote: take the rest.
            (b"attachment; filename=\"open.jpg", Some("open.jpg"), true),
            // A backslash as the last byte stays (and then splits off an empty segment).
            (b"attachment; filename=\"trail\\", None, true),
            (b"attachment; filename=\"\\a\\b.jpg\"", Some("ab.jpg"), true),
            // Parameters without a name, and bare tokens after the first, are skipped.
            (b"; =x; filename=a.jpg", Some("a.jpg"), true),
            (b"inline; attachment", None, false),
            // The first of each name counts, and `filename*` wins wherever it stands.
            (
                b"attachment; filename=a.jpg; FILENAME=b.jpg",
                Some("a.jpg"),
                true,
            ),
            (
                b"inline; filename=\"x.jpg\"; filename*=utf-8''y.jpg; filename*=utf-8''z.jpg",
                Some("y.jpg"),
                true,
            ),
            // C1 controls go, other characters whose UTF-8 starts with 0xC2 stay.
            (
                b"attachment; filename=\"a\xc2\x85b\xc2\xa3.jpg\"",
                Some("ab\u{a3}.jpg"),
                true,
            ),
            (
                b"attachment; filename=\" padded.jpg \x7f\"",
                Some("padded.jpg"),
                true,
            ),
        ];
        for &(value, name, attachment) in cases {
            check(value, name, attachment);
        }
    }
}
