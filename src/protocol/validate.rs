//! Size and format checks before an upload, and the filename sent upstream.
//!
//! WeChat refuses oversized files (40006), formats that do not fit the type and names whose
//! extension does not fit (40005), and RFC 5987 names (41005). Checking here turns those into
//! clear local errors and fixes the name so the upload is accepted.

use serde::{Deserialize, Serialize};

use super::error::{ValidationCode, ValidationError};
use super::media_type::MediaType;

/// How many leading bytes [`sniff`] needs to recognise every format.
pub const SNIFF_LEN: usize = 16;

/// A file format WeChat accepts for some media type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// JPEG (`FF D8 FF`).
    Jpeg,
    /// PNG (8-byte signature).
    Png,
    /// GIF87a or GIF89a.
    Gif,
    /// AMR narrowband (`#!AMR\n`) or wideband (`#!AMR-WB\n`).
    Amr,
    /// MP3: an ID3v2 tag or an MPEG audio frame header.
    Mp3,
    /// MP4 (an `ftyp` box at offset 4).
    Mp4,
}

impl Format {
    /// The extension WeChat expects, without the dot: `jpg`, `png`, `gif`, `amr`, `mp3`, `mp4`.
    pub const fn ext(self) -> &'static str {
        match self {
            Format::Jpeg => "jpg",
            Format::Png => "png",
            Format::Gif => "gif",
            Format::Amr => "amr",
            Format::Mp3 => "mp3",
            Format::Mp4 => "mp4",
        }
    }

    /// The MIME type: `image/jpeg`, `image/png`, `image/gif`, `audio/amr`, `audio/mpeg`,
    /// `video/mp4`.
    pub const fn content_type(self) -> &'static str {
        match self {
            Format::Jpeg => "image/jpeg",
            Format::Png => "image/png",
            Format::Gif => "image/gif",
            Format::Amr => "audio/amr",
            Format::Mp3 => "audio/mpeg",
            Format::Mp4 => "video/mp4",
        }
    }

    /// The format a `Content-Type` names (its essence, case-insensitively; the aliases WeChat and
    /// browsers use included: `image/jpg`, `voice/amr`, `audio/mp3`), or `None`.
    pub fn from_content_type(content_type: &str) -> Option<Format> {
        let essence = content_type
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        match essence.as_str() {
            "image/jpeg" | "image/jpg" => Some(Format::Jpeg),
            "image/png" => Some(Format::Png),
            "image/gif" => Some(Format::Gif),
            "audio/amr" | "voice/amr" => Some(Format::Amr),
            "audio/mpeg" | "audio/mp3" => Some(Format::Mp3),
            "video/mp4" => Some(Format::Mp4),
            _ => None,
        }
    }

    /// A display name for messages: `JPEG`, `PNG`, `GIF`, `AMR`, `MP3`, `MP4`.
    pub const fn name(self) -> &'static str {
        match self {
            Format::Jpeg => "JPEG",
            Format::Png => "PNG",
            Format::Gif => "GIF",
            Format::Amr => "AMR",
            Format::Mp3 => "MP3",
            Format::Mp4 => "MP4",
        }
    }
}

/// `ftyp` major brands of still-image HEIF/AVIF files, which are not MP4 video.
const IMAGE_BRANDS: &[&[u8; 4]] = &[
    b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1", b"avif", b"avis",
];

/// Recognises a format from the first bytes of a file ([`SNIFF_LEN`] are enough).
///
/// Returns `None` for anything else, including truncated signatures.
pub fn sniff(head: &[u8]) -> Option<Format> {
    if head.starts_with(&[0xFF, 0xD8, 0xFF]) {
        return Some(Format::Jpeg);
    }
    if head.starts_with(&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A]) {
        return Some(Format::Png);
    }
    if head.starts_with(b"GIF87a") || head.starts_with(b"GIF89a") {
        return Some(Format::Gif);
    }
    if head.starts_with(b"#!AMR\n") || head.starts_with(b"#!AMR-WB\n") {
        return Some(Format::Amr);
    }
    if head.len() >= 8 && &head[4..8] == b"ftyp" {
        let brand = head.get(8..12);
        if brand.is_some_and(|b| IMAGE_BRANDS.iter().any(|ib| b == ib.as_slice())) {
            return None;
        }
        return Some(Format::Mp4);
    }
    if head.len() >= 4 && head.starts_with(b"ID3") && head[3] != 0xFF {
        return Some(Format::Mp3);
    }
    if is_mpeg_audio_frame(head) {
        return Some(Format::Mp3);
    }
    None
}

/// An MPEG audio frame header: 11 sync bits, a valid version, layer, bitrate and sample rate.
fn is_mpeg_audio_frame(head: &[u8]) -> bool {
    let [b0, b1, b2, ..] = *head else {
        return false;
    };
    let version = (b1 >> 3) & 0b11; // 01 is reserved
    let layer = (b1 >> 1) & 0b11; // 00 is reserved (and is ADTS AAC's value)
    let bitrate = b2 >> 4; // 0000 is "free", 1111 is invalid
    let sample_rate = (b2 >> 2) & 0b11; // 11 is reserved
    b0 == 0xFF
        && b1 & 0xE0 == 0xE0
        && version != 0b01
        && layer != 0b00
        && bitrate != 0b0000
        && bitrate != 0b1111
        && sample_rate != 0b11
}

/// Size limits per media type, in bytes. Configurable because WeChat's documentation has
/// changed over time (older pages say image 2 MB).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Limits {
    /// Image limit (default 10 MiB).
    pub image: u64,
    /// Voice limit (default 2 MiB).
    pub voice: u64,
    /// Video limit (default 10 MiB).
    pub video: u64,
    /// Thumb limit (default 64 KiB).
    pub thumb: u64,
}

const MIB: u64 = 1024 * 1024;

impl Default for Limits {
    fn default() -> Self {
        Limits {
            image: 10 * MIB,
            voice: 2 * MIB,
            video: 10 * MIB,
            thumb: 64 * 1024,
        }
    }
}

impl Limits {
    /// The limit for one media type.
    pub const fn for_type(&self, media_type: MediaType) -> u64 {
        match media_type {
            MediaType::Image => self.image,
            MediaType::Voice => self.voice,
            MediaType::Video => self.video,
            MediaType::Thumb => self.thumb,
        }
    }
}

/// The formats WeChat accepts for a media type.
pub const fn allowed_formats(media_type: MediaType) -> &'static [Format] {
    match media_type {
        MediaType::Image => &[Format::Jpeg, Format::Png, Format::Gif],
        MediaType::Voice => &[Format::Amr, Format::Mp3],
        MediaType::Video => &[Format::Mp4],
        MediaType::Thumb => &[Format::Jpeg],
    }
}

/// A file that passed [`validate`]: what to send upstream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Validated {
    /// The detected format.
    pub format: Format,
    /// The name for the multipart part: the caller's stem (cleaned) with the format's extension.
    pub filename: String,
    /// The part's content type, from the detected format.
    pub content_type: &'static str,
}

fn list_formats(formats: &[Format]) -> String {
    match formats {
        [] => String::new(),
        [only] => only.name().to_owned(),
        [init @ .., last] => {
            let init: Vec<&str> = init.iter().map(|f| f.name()).collect();
            format!("{} or {}", init.join(", "), last.name())
        }
    }
}

fn check_size(media_type: MediaType, size: u64, limits: &Limits) -> Result<(), ValidationError> {
    if size == 0 {
        return Err(ValidationError::new(
            ValidationCode::Empty,
            format!("{media_type} is empty (0 bytes)"),
        ));
    }
    let limit = limits.for_type(media_type);
    if size > limit {
        return Err(ValidationError::new(
            ValidationCode::TooLarge,
            format!("{media_type} is {size} bytes; the limit is {limit} bytes"),
        ));
    }
    Ok(())
}

/// Refuses a declared length (a `Content-Length`, a `Blob.size`) before reading the body: zero
/// is [`ValidationCode::Empty`], over the limit is [`ValidationCode::TooLarge`].
pub fn check_size_hint(
    media_type: MediaType,
    declared_len: u64,
    limits: &Limits,
) -> Result<(), ValidationError> {
    check_size(media_type, declared_len, limits)
}

/// Checks an upload: size (`size` is the whole file's length), format (from `head`, the first
/// [`SNIFF_LEN`] or more bytes) and the file name.
///
/// The returned name keeps the caller's stem, without path, control characters or quotes, and
/// always ends with the detected format's extension (`photo.png` holding JPEG becomes
/// `photo.jpg`; no name gives `media.jpg`). Non-ASCII stays as is: the transport must send it as
/// raw UTF-8 in `filename="…"`, never in RFC 5987 form.
pub fn validate(
    media_type: MediaType,
    size: u64,
    head: &[u8],
    filename: Option<&str>,
    limits: &Limits,
) -> Result<Validated, ValidationError> {
    check_size(media_type, size, limits)?;
    let allowed = allowed_formats(media_type);
    let accepts = if allowed.len() == 1 {
        format!("{media_type} accepts only {}", list_formats(allowed))
    } else {
        format!("{media_type} accepts {}", list_formats(allowed))
    };
    let format = match sniff(head) {
        None => {
            return Err(ValidationError::new(
                ValidationCode::BadFormat,
                format!("could not recognise the file's format from its first bytes; {accepts}"),
            ))
        }
        Some(format) if !allowed.contains(&format) => {
            return Err(ValidationError::new(
                ValidationCode::BadFormat,
                format!("the file is {}, but {accepts}", format.name()),
            ))
        }
        Some(format) => format,
    };
    Ok(Validated {
        format,
        filename: upload_filename(filename, format),
        content_type: format.content_type(),
    })
}

/// The longest stem kept from a caller's name, in characters.
const MAX_STEM_CHARS: usize = 100;

/// Builds the upload name: the caller's cleaned stem plus the format's extension.
pub fn upload_filename(caller: Option<&str>, format: Format) -> String {
    let name = caller.unwrap_or("");
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
    let cleaned: String = base
        .chars()
        .filter(|&c| !c.is_control() && c != '"' && c != '\'')
        .collect();
    let stem = match cleaned.rsplit_once('.') {
        Some((stem, ext)) if looks_like_extension(ext) => stem,
        _ => cleaned.as_str(),
    };
    let stem = stem.trim_matches(|c: char| c.is_whitespace() || c == '.');
    let stem: String = stem.chars().take(MAX_STEM_CHARS).collect();
    let stem = stem.trim_end_matches(|c: char| c.is_whitespace() || c == '.');
    let stem = if stem.is_empty() { "media" } else { stem };
    format!("{stem}.{}", format.ext())
}

/// `jpg`, `jpeg`, `mp4`, `webp`… : 1 to 4 ASCII letters and digits, at least one a letter.
fn looks_like_extension(ext: &str) -> bool {
    (1..=4).contains(&ext.len())
        && ext.bytes().all(|b| b.is_ascii_alphanumeric())
        && ext.bytes().any(|b| b.is_ascii_alphabetic())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_from_content_types() {
        for format in [
            Format::Jpeg,
            Format::Png,
            Format::Gif,
            Format::Amr,
            Format::Mp3,
            Format::Mp4,
        ] {
            assert_eq!(
                Format::from_content_type(format.content_type()),
                Some(format)
            );
        }
        assert_eq!(
            Format::from_content_type("IMAGE/JPG; q=1"),
            Some(Format::Jpeg)
        );
        assert_eq!(Format::from_content_type("voice/amr"), Some(Format::Amr));
        assert_eq!(Format::from_content_type("voice/speex"), None);
        assert_eq!(Format::from_content_type(""), None);
    }

    const JPEG: &[u8] = &[
        0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, b'J', b'F', b'I', b'F', 0x00, 0x01, 0x01, 0x00, 0x00,
        0x01, 0x00, 0x01, 0x00, 0x00,
    ];
    const PNG: &[u8] = &[
        0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, b'I', b'H', b'D',
        b'R', 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1F,
        0x15, 0xC4, 0x89,
    ];
    const GIF: &[u8] = &[
        b'G', b'I', b'F', b'8', b'9', b'a', 0x01, 0x00, 0x01, 0x00, 0x80, 0x00, 0x00,
    ];
    const GIF87: &[u8] = b"GIF87a\x01\x00\x01\x00\x00\x00\x00";
    const AMR: &[u8] = b"#!AMR\n\x3c\x48\xf5\x1f\x96\x66\x79\xe1";
    const AMR_WB: &[u8] = b"#!AMR-WB\n\x04\x10\x20\x30";
    const MP3_ID3: &[u8] = &[
        b'I', b'D', b'3', 0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0A, 0xFF, 0xFB, 0x90, 0x64,
    ];
    /// MPEG-1 Layer III, 128 kbit/s, 44.1 kHz, no CRC.
    const MP3_FRAME: &[u8] = &[0xFF, 0xFB, 0x90, 0x64, 0x00, 0x00, 0x00, 0x00];
    /// MPEG-2 Layer III, 64 kbit/s, 22.05 kHz.
    const MP3_FRAME_V2: &[u8] = &[0xFF, 0xF3, 0x80, 0xC4];
    const MP4: &[u8] = &[
        0x00, 0x00, 0x00, 0x18, b'f', b't', b'y', b'p', b'i', b's', b'o', b'm', 0x00, 0x00, 0x02,
        0x00, b'i', b's', b'o', b'm', b'i', b's', b'o', b'2',
    ];
    const HEIC: &[u8] = &[
        0x00, 0x00, 0x00, 0x18, b'f', b't', b'y', b'p', b'h', b'e', b'i', b'c', 0x00, 0x00, 0x00,
        0x00,
    ];

    #[test]
    fn sniffs_every_format() {
        let cases: &[(&[u8], Option<Format>)] = &[
            (JPEG, Some(Format::Jpeg)),
            (PNG, Some(Format::Png)),
            (GIF, Some(Format::Gif)),
            (GIF87, Some(Format::Gif)),
            (AMR, Some(Format::Amr)),
            (AMR_WB, Some(Format::Amr)),
            (MP3_ID3, Some(Format::Mp3)),
            (MP3_FRAME, Some(Format::Mp3)),
            (MP3_FRAME_V2, Some(Format::Mp3)),
            (MP4, Some(Format::Mp4)),
            // Negative cases.
            (HEIC, None),
            (b"", None),
            (b"hello, world\n", None),
            (b"{\"errcode\":40007}", None),
            (b"<!DOCTYPE html>", None),
            (&[0xFF, 0xD8], None),                         // truncated JPEG
            (&[0x89, b'P', b'N', b'G', 0x0D, 0x0A], None), // truncated PNG
            (b"GIF8", None),
            (b"GIF89b", None),
            (b"#!AMR", None),
            (b"ID3", None),
            (&[0x00, 0x00, 0x00, 0x18, b'f', b't', b'y'], None),
            (&[0xFF, 0xF1, 0x50, 0x80], None), // ADTS AAC: layer bits 00
            (&[0xFF, 0xFB, 0xF0, 0x64], None), // bad bitrate index
            (&[0xFF, 0xFB, 0x9C, 0x64], None), // reserved sample rate
            (&[0xFF, 0xEB, 0x90, 0x64], None), // reserved MPEG version
            (&[0xFF, 0xFB], None),             // truncated frame header
            (b"RIFF\x24\x00\x00\x00WAVEfmt ", None),
        ];
        for &(head, expected) in cases {
            assert_eq!(sniff(head), expected, "head: {head:02X?}");
        }
        const { assert!(SNIFF_LEN >= 12) };
        for sample in [JPEG, PNG, GIF, AMR, AMR_WB, MP3_ID3, MP3_FRAME, MP4] {
            let head = &sample[..sample.len().min(SNIFF_LEN)];
            assert!(sniff(head).is_some());
        }
    }

    #[test]
    fn format_names() {
        let all = [
            (Format::Jpeg, "jpg", "image/jpeg"),
            (Format::Png, "png", "image/png"),
            (Format::Gif, "gif", "image/gif"),
            (Format::Amr, "amr", "audio/amr"),
            (Format::Mp3, "mp3", "audio/mpeg"),
            (Format::Mp4, "mp4", "video/mp4"),
        ];
        for (format, ext, ct) in all {
            assert_eq!(format.ext(), ext);
            assert_eq!(format.content_type(), ct);
        }
    }

    #[test]
    fn limits() {
        let l = Limits::default();
        assert_eq!(l.for_type(MediaType::Image), 10 * 1024 * 1024);
        assert_eq!(l.for_type(MediaType::Voice), 2 * 1024 * 1024);
        assert_eq!(l.for_type(MediaType::Video), 10 * 1024 * 1024);
        assert_eq!(l.for_type(MediaType::Thumb), 65536);
        let partial: Limits = serde_json::from_str(r#"{"image":2097152}"#).unwrap();
        assert_eq!(partial.image, 2 * 1024 * 1024);
        assert_eq!(partial.thumb, 65536);
        assert_eq!(allowed_formats(MediaType::Thumb), &[Format::Jpeg]);
        assert_eq!(
            allowed_formats(MediaType::Image),
            &[Format::Jpeg, Format::Png, Format::Gif]
        );
        assert_eq!(
            allowed_formats(MediaType::Voice),
            &[Format::Amr, Format::Mp3]
        );
        assert_eq!(allowed_formats(MediaType::Video), &[Format::Mp4]);
    }

    fn ok(t: MediaType, head: &[u8], name: Option<&str>) -> Validated {
        validate(t, head.len() as u64, head, name, &Limits::default())
            .unwrap_or_else(|e| panic!("{t} {name:?}: {e}"))
    }

    fn err(t: MediaType, size: u64, head: &[u8], name: Option<&str>) -> ValidationError {
        validate(t, size, head, name, &Limits::default()).unwrap_err()
    }

    #[test]
    fn accepts_fitting_formats() {
        let cases: &[(MediaType, &[u8], Format)] = &[
            (MediaType::Image, JPEG, Format::Jpeg),
            (MediaType::Image, PNG, Format::Png),
            (MediaType::Image, GIF, Format::Gif),
            (MediaType::Voice, AMR, Format::Amr),
            (MediaType::Voice, MP3_ID3, Format::Mp3),
            (MediaType::Voice, MP3_FRAME, Format::Mp3),
            (MediaType::Video, MP4, Format::Mp4),
            (MediaType::Thumb, JPEG, Format::Jpeg),
        ];
        for &(t, head, format) in cases {
            let v = ok(t, head, None);
            assert_eq!(v.format, format);
            assert_eq!(v.content_type, format.content_type());
            assert_eq!(v.filename, format!("media.{}", format.ext()));
        }
    }

    #[test]
    fn refuses_with_clear_messages() {
        let e = err(MediaType::Thumb, PNG.len() as u64, PNG, Some("t.png"));
        assert_eq!(e.code, ValidationCode::BadFormat);
        assert_eq!(e.message, "the file is PNG, but thumb accepts only JPEG");

        let e = err(MediaType::Image, 13, b"hello, world\n", None);
        assert_eq!(e.code, ValidationCode::BadFormat);
        assert_eq!(
            e.message,
            "could not recognise the file's format from its first bytes; image accepts JPEG, PNG or GIF"
        );

        let e = err(MediaType::Voice, 100, MP4, None);
        assert_eq!(e.message, "the file is MP4, but voice accepts AMR or MP3");

        let e = err(MediaType::Video, 100, JPEG, None);
        assert_eq!(e.message, "the file is JPEG, but video accepts only MP4");

        let e = err(MediaType::Image, 2, &[0xFF, 0xD8], None);
        assert_eq!(e.code, ValidationCode::BadFormat);

        let e = err(MediaType::Image, 100, HEIC, Some("IMG_0001.HEIC"));
        assert_eq!(e.code, ValidationCode::BadFormat);

        let e = err(MediaType::Thumb, 70000, JPEG, None);
        assert_eq!(e.code, ValidationCode::TooLarge);
        assert_eq!(e.message, "thumb is 70000 bytes; the limit is 65536 bytes");

        let e = err(MediaType::Image, 0, b"", None);
        assert_eq!(e.code, ValidationCode::Empty);
        assert_eq!(e.message, "image is empty (0 bytes)");

        // Exactly at the limit is fine; one byte over is not.
        assert!(validate(MediaType::Thumb, 65536, JPEG, None, &Limits::default()).is_ok());
        assert_eq!(
            err(MediaType::Thumb, 65537, JPEG, None).code,
            ValidationCode::TooLarge
        );
        // Size is checked before format.
        assert_eq!(
            err(MediaType::Voice, 3 * 1024 * 1024, b"junk", None).code,
            ValidationCode::TooLarge
        );
        // Custom limits.
        let old = Limits {
            image: 2 * 1024 * 1024,
            ..Limits::default()
        };
        assert_eq!(
            validate(MediaType::Image, 3 * 1024 * 1024, JPEG, None, &old)
                .unwrap_err()
                .code,
            ValidationCode::TooLarge
        );
    }

    #[test]
    fn size_hint() {
        let l = Limits::default();
        assert!(check_size_hint(MediaType::Video, 10 * 1024 * 1024, &l).is_ok());
        assert_eq!(
            check_size_hint(MediaType::Video, 10 * 1024 * 1024 + 1, &l)
                .unwrap_err()
                .message,
            "video is 10485761 bytes; the limit is 10485760 bytes"
        );
        assert_eq!(
            check_size_hint(MediaType::Voice, 0, &l).unwrap_err().code,
            ValidationCode::Empty
        );
    }

    #[test]
    fn upload_names() {
        let cases: &[(Option<&str>, Format, &str)] = &[
            (None, Format::Jpeg, "media.jpg"),
            (Some(""), Format::Png, "media.png"),
            (Some("photo.png"), Format::Jpeg, "photo.jpg"),
            (Some("photo.jpg"), Format::Jpeg, "photo.jpg"),
            (Some("photo.JPEG"), Format::Jpeg, "photo.jpg"),
            (Some("photo"), Format::Gif, "photo.gif"),
            (Some("测试.jpg"), Format::Jpeg, "测试.jpg"),
            (Some("语音"), Format::Amr, "语音.amr"),
            (
                Some("my.holiday.photo"),
                Format::Jpeg,
                "my.holiday.photo.jpg",
            ),
            (Some("v1.2"), Format::Mp4, "v1.2.mp4"),
            (Some("clip.mov"), Format::Mp4, "clip.mp4"),
            (Some("../../etc/passwd"), Format::Jpeg, "passwd.jpg"),
            (Some("C:\\Users\\me\\cat.png"), Format::Png, "cat.png"),
            (Some("a\"b'c.jpg"), Format::Jpeg, "abc.jpg"),
            (Some("new\r\nline.jpg"), Format::Jpeg, "newline.jpg"),
            (Some(".jpg"), Format::Jpeg, "media.jpg"),
            (Some("..."), Format::Jpeg, "media.jpg"),
            (Some("dir/"), Format::Jpeg, "media.jpg"),
            (Some("  spaced  .png"), Format::Png, "spaced.png"),
            (Some("photo..png"), Format::Jpeg, "photo.jpg"),
            (Some("%E6%B5%8B.jpg"), Format::Jpeg, "%E6%B5%8B.jpg"),
        ];
        for &(name, format, expected) in cases {
            assert_eq!(upload_filename(name, format), expected, "name: {name:?}");
        }
        let long = "x".repeat(500) + ".png";
        let out = upload_filename(Some(&long), Format::Png);
        assert_eq!(out, "x".repeat(MAX_STEM_CHARS) + ".png");
        // validate applies the same rules.
        assert_eq!(
            ok(MediaType::Image, JPEG, Some("photo.png")).filename,
            "photo.jpg"
        );
        assert_eq!(
            ok(MediaType::Voice, MP3_FRAME, Some("录音.wav")).filename,
            "录音.mp3"
        );
    }
}
