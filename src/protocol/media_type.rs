//! The four temporary-media types WeChat knows (`type=` on upload).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A temporary-media type: the `type` query parameter of an upload.
///
/// Serialises as lowercase (`"image"`, `"voice"`, `"video"`, `"thumb"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MediaType {
    /// JPEG, PNG or GIF, up to 10 MiB by default.
    Image,
    /// AMR or MP3, up to 2 MiB (and 60 s) by default.
    Voice,
    /// MP4, up to 10 MiB by default.
    Video,
    /// A JPEG thumbnail, up to 64 KiB by default. Upload answers `thumb_media_id`.
    Thumb,
}

impl MediaType {
    /// All four types, in declaration order.
    pub const ALL: [MediaType; 4] = [
        MediaType::Image,
        MediaType::Voice,
        MediaType::Video,
        MediaType::Thumb,
    ];

    /// The wire name: `image`, `voice`, `video` or `thumb`.
    pub const fn as_str(self) -> &'static str {
        match self {
            MediaType::Image => "image",
            MediaType::Voice => "voice",
            MediaType::Video => "video",
            MediaType::Thumb => "thumb",
        }
    }
}

impl fmt::Display for MediaType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The error of [`MediaType::from_str`]: the input was not one of the four wire names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownMediaType(pub String);

impl fmt::Display for UnknownMediaType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "media type must be image, voice, video or thumb, not {:?}",
            self.0
        )
    }
}

impl std::error::Error for UnknownMediaType {}

impl FromStr for MediaType {
    type Err = UnknownMediaType;

    /// Parses the exact lowercase wire name; anything else is an error (WeChat answers 40004).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "image" => Ok(MediaType::Image),
            "voice" => Ok(MediaType::Voice),
            "video" => Ok(MediaType::Video),
            "thumb" => Ok(MediaType::Thumb),
            other => Err(UnknownMediaType(other.to_owned())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        for t in MediaType::ALL {
            assert_eq!(t.as_str().parse::<MediaType>(), Ok(t));
            assert_eq!(t.to_string(), t.as_str());
            let json = serde_json::to_string(&t).unwrap();
            assert_eq!(json, format!("\"{}\"", t.as_str()));
            assert_eq!(serde_json::from_str::<MediaType>(&json).unwrap(), t);
        }
    }

    #[test]
    fn rejects_everything_else() {
        for bad in [
            "",
            "Image",
            "IMAGE",
            " image",
            "news",
            "file",
            "thumb_media",
        ] {
            let err = bad.parse::<MediaType>().unwrap_err();
            assert_eq!(err, UnknownMediaType(bad.to_owned()));
            assert!(err
                .to_string()
                .contains("must be image, voice, video or thumb"));
        }
        assert!(serde_json::from_str::<MediaType>("\"Image\"").is_err());
    }
}
