//! A message's fields, and what the Worker needs of them: the media ids it carries and the key a
//! redelivery is known by.

use crate::PushError;

/// A message: its XML fields by path, in document order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    fields: Vec<(String, String)>,
}

/// Which of a message's media an id is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaRole {
    /// `MediaId`: the image, voice or video itself.
    Media,
    /// `ThumbMediaId`: a video's thumbnail.
    Thumb,
    /// `MediaId16K`: a voice message's 16 kHz rendition.
    Media16K,
}

impl MediaRole {
    /// `media`, `thumb` or `media16k`.
    pub fn as_str(self) -> &'static str {
        match self {
            MediaRole::Media => "media",
            MediaRole::Thumb => "thumb",
            MediaRole::Media16K => "media16k",
        }
    }
}

/// A media id a message carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaRef {
    /// The media id.
    pub media_id: String,
    /// Which of the message's media it is.
    pub role: MediaRole,
}

impl Message {
    /// Reads a message's XML (see [`crate::xml::fields`]).
    pub fn parse(xml: &str) -> Result<Message, PushError> {
        Ok(Message {
            fields: crate::xml::fields(xml)?,
        })
    }

    /// Every field, in document order.
    pub fn fields(&self) -> &[(String, String)] {
        &self.fields
    }

    /// The first field at `path` (`MsgType`, `ScanCodeInfo/ScanType`).
    pub fn get(&self, path: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(name, _)| name == path)
            .map(|(_, value)| value.as_str())
    }

    /// `MsgType`.
    pub fn msg_type(&self) -> Option<&str> {
        self.get("MsgType")
    }

    /// The fan's openid (`FromUserName`).
    pub fn from_user(&self) -> Option<&str> {
        self.get("FromUserName")
    }

    /// `CreateTime`, in seconds.
    pub fn create_time(&self) -> Option<u64> {
        self.get("CreateTime").and_then(|t| t.trim().parse().ok())
    }

    /// `MsgId` (or `MsgID`), kept as text: MsgIds exceed 2^53.
    pub fn msg_id(&self) -> Option<&str> {
        self.get("MsgId")
            .or_else(|| self.get("MsgID"))
            .filter(|id| !id.is_empty())
    }

    /// What a redelivery of this message is known by: `MsgId`, or for an event (which has none)
    /// the fan, the time and the event, as WeChat's own guide says.
    pub fn dedupe_key(&self) -> String {
        match self.msg_id() {
            Some(id) => format!("msg:{id}"),
            None => format!(
                "event:{}:{}:{}",
                self.from_user().unwrap_or(""),
                self.get("CreateTime").unwrap_or(""),
                self.get("Event").unwrap_or("")
            ),
        }
    }

    /// The media ids an image, voice, video or shortvideo message carries (none for others).
    pub fn media(&self) -> Vec<MediaRef> {
        let roles: &[(&str, MediaRole)] = match self.msg_type() {
            Some("image") => &[("MediaId", MediaRole::Media)],
            Some("voice") => &[
                ("MediaId", MediaRole::Media),
                ("MediaId16K", MediaRole::Media16K),
            ],
            Some("video" | "shortvideo") => &[
                ("MediaId", MediaRole::Media),
                ("ThumbMediaId", MediaRole::Thumb),
            ],
            _ => &[],
        };
        roles
            .iter()
            .filter_map(|(field, role)| {
                self.get(field)
                    .filter(|id| !id.is_empty())
                    .map(|id| MediaRef {
                        media_id: id.to_string(),
                        role: *role,
                    })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn media_of_each_kind() {
        let voice = Message::parse(
            "<xml><MsgType><![CDATA[voice]]></MsgType><MediaId><![CDATA[m1]]></MediaId>\
             <Format><![CDATA[amr]]></Format><MediaId16K><![CDATA[m2]]></MediaId16K><MsgId>1234567890123456789</MsgId></xml>",
        )
        .unwrap();
        let ids: Vec<_> = voice
            .media()
            .into_iter()
            .map(|m| (m.media_id, m.role))
            .collect();
        assert_eq!(
            ids,
            vec![
                ("m1".into(), MediaRole::Media),
                ("m2".into(), MediaRole::Media16K)
            ]
        );
        assert_eq!(voice.dedupe_key(), "msg:1234567890123456789");
        let video = Message::parse(
            "<xml><MsgType>shortvideo</MsgType><MediaId>v</MediaId><ThumbMediaId>t</ThumbMediaId></xml>",
        )
        .unwrap();
        assert_eq!(video.media().len(), 2);
        let text =
            Message::parse("<xml><MsgType>text</MsgType><MediaId>x</MediaId></xml>").unwrap();
        assert!(text.media().is_empty());
        let event = Message::parse(
            "<xml><FromUserName>o1</FromUserName><CreateTime>5</CreateTime><MsgType>event</MsgType><Event>subscribe</Event></xml>",
        )
        .unwrap();
        assert_eq!(event.dedupe_key(), "event:o1:5:subscribe");
    }
}
