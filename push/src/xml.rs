//! Message XML, read safely: a pull parser ([`quick_xml`]) that resolves only XML's five
//! predefined entities and character references; a DOCTYPE or any other entity reference is
//! refused ([`PushError::Entity`]), never expanded, and nesting is bounded.

use quick_xml::events::Event;
use quick_xml::Reader;

use crate::PushError;

/// The deepest nesting read (`<xml>` is depth 1; WeChat's events nest to 4).
pub const MAX_DEPTH: usize = 8;

/// The fields of a message: each element's text by its path below the root (`MsgType`,
/// `ScanCodeInfo/ScanType`), in document order. The root must be `<xml>`.
pub fn fields(xml: &str) -> Result<Vec<(String, String)>, PushError> {
    let mut reader = Reader::from_str(xml);
    reader.config_mut().trim_text(true);
    reader.config_mut().check_end_names = true;
    let mut path: Vec<String> = Vec::new();
    let mut text: Option<String> = None;
    let mut out = Vec::new();
    let mut seen_root = false;
    let broken = |e: quick_xml::Error| PushError::Malformed(format!("broken XML: {e}"));
    loop {
        match reader.read_event().map_err(broken)? {
            Event::DocType(_) => return Err(PushError::Entity),
            Event::Start(e) => {
                let name = String::from_utf8(e.name().as_ref().to_vec())
                    .map_err(|_| PushError::Malformed("an element name is not UTF-8".into()))?;
                if path.is_empty() {
                    if seen_root || name != "xml" {
                        return Err(PushError::Malformed("the root element is not <xml>".into()));
                    }
                    seen_root = true;
                }
                path.push(name);
                if path.len() > MAX_DEPTH {
                    return Err(PushError::Malformed(format!(
                        "nested deeper than {MAX_DEPTH} elements"
                    )));
                }
                text = None;
            }
            Event::Empty(e) => {
                if path.is_empty() {
                    return Err(PushError::Malformed("the root element is empty".into()));
                }
                let name = String::from_utf8(e.name().as_ref().to_vec())
                    .map_err(|_| PushError::Malformed("an element name is not UTF-8".into()))?;
                out.push((joined(&path[1..], &name), String::new()));
            }
            Event::Text(t) => {
                if path.is_empty() {
                    return Err(PushError::Malformed("text outside the root".into()));
                }
                let value = t.unescape().map_err(|e| match e {
                    quick_xml::Error::Escape(_) => PushError::Entity,
                    other => broken(other),
                })?;
                text.get_or_insert_with(String::new).push_str(&value);
            }
            Event::CData(c) => {
                if path.is_empty() {
                    return Err(PushError::Malformed("CDATA outside the root".into()));
                }
                let value = std::str::from_utf8(&c)
                    .map_err(|_| PushError::Malformed("CDATA is not UTF-8".into()))?;
                text.get_or_insert_with(String::new).push_str(value);
            }
            Event::End(_) => {
                let name = path.pop().unwrap_or_default();
                if let Some(value) = text.take() {
                    if !path.is_empty() {
                        out.push((joined(&path[1..], &name), value));
                    }
                }
            }
            Event::Decl(_) | Event::Comment(_) => {}
            Event::PI(_) => {
                return Err(PushError::Malformed("a processing instruction".into()));
            }
            Event::Eof => break,
        }
    }
    if !seen_root || !path.is_empty() {
        return Err(PushError::Malformed("the XML ends before </xml>".into()));
    }
    Ok(out)
}

fn joined(parents: &[String], name: &str) -> String {
    let mut path = String::new();
    for parent in parents {
        path.push_str(parent);
        path.push('/');
    }
    path.push_str(name);
    path
}

/// `text` with `&`, `<` and `>` escaped, for element content.
pub fn escape_text(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// `text` made safe inside `<![CDATA[…]]>` (a `]]>` in it split across two sections).
pub fn cdata_safe(text: &str) -> String {
    text.replace("]]>", "]]]]><![CDATA[>")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_wechats_shapes() {
        let xml = "<xml><ToUserName><![CDATA[gh_1]]></ToUserName><CreateTime>1348831860</CreateTime>\
            <MsgType><![CDATA[image]]></MsgType><PicUrl><![CDATA[http://x/a?b=1&c=2]]></PicUrl>\
            <Content>a &amp; b &#x4e2d;</Content><ScanCodeInfo><ScanType><![CDATA[qrcode]]></ScanType></ScanCodeInfo>\
            <Empty/></xml>";
        let f = fields(xml).unwrap();
        let get = |k: &str| f.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
        assert_eq!(get("ToUserName"), Some("gh_1"));
        assert_eq!(get("CreateTime"), Some("1348831860"));
        assert_eq!(get("PicUrl"), Some("http://x/a?b=1&c=2"));
        assert_eq!(get("Content"), Some("a & b 中"));
        assert_eq!(get("ScanCodeInfo/ScanType"), Some("qrcode"));
        assert_eq!(get("Empty"), Some(""));
    }

    #[test]
    fn nothing_is_expanded() {
        let doctype =
            "<?xml version=\"1.0\"?><!DOCTYPE xml [<!ENTITY x \"boom\">]><xml><A>&x;</A></xml>";
        assert_eq!(fields(doctype), Err(PushError::Entity));
        let entity = "<xml><A>&x;</A></xml>";
        assert_eq!(fields(entity), Err(PushError::Entity));
        let external = "<!DOCTYPE xml SYSTEM \"file:///etc/passwd\"><xml/>";
        assert_eq!(fields(external), Err(PushError::Entity));
    }

    #[test]
    fn broken_and_deep_xml_is_refused() {
        for bad in [
            "",
            "<xml>",
            "<xml><A>1</B></xml>",
            "<root><A>1</A></root>",
            "<xml><A>1</A></xml><xml/>",
            "text",
            "<xml/>",
            "<xml><?pi x?></xml>",
        ] {
            assert!(
                matches!(fields(bad), Err(PushError::Malformed(_))),
                "{bad:?}"
            );
        }
        let deep = format!(
            "<xml>{}{}</xml>",
            "<a>".repeat(MAX_DEPTH),
            "</a>".repeat(MAX_DEPTH)
        );
        assert!(matches!(fields(&deep), Err(PushError::Malformed(_))));
        let ok = format!(
            "<xml>{}x{}</xml>",
            "<a>".repeat(MAX_DEPTH - 1),
            "</a>".repeat(MAX_DEPTH - 1)
        );
        assert!(fields(&ok).is_ok());
    }

    #[test]
    fn escapes() {
        assert_eq!(escape_text("a<b>&c"), "a&lt;b&gt;&amp;c");
        assert_eq!(cdata_safe("x]]>y"), "x]]]]><![CDATA[>y");
    }
}
