//! The path and query of a request URL without parsing it, for the hot path's plan
//! ([`super::hit`]): a cache hit's whole decision costs less than parsing its URL with the `url`
//! crate (about a microsecond natively, mostly host handling the plan never looks at).
//!
//! The runtime hands a Worker `request.url` already serialized by a WHATWG URL parser, so
//! parsing it again only finds what is there. [`split`] finds it for URLs of a plain shape — an
//! `http`/`https` scheme, a host of lowercase letters, digits, dots and hyphens (or an IPv4
//! address) with an optional port, and a path and query of characters the serializer leaves
//! alone, with no dot segment — and answers `None` for anything else, which the caller parses
//! with `worker::Url` as before. Whatever it answers is what `url::Url` gives as `path()` and
//! `query()` (a property test below checks it on generated URLs).

/// The path and the query (without its `?`) of `url`, when `url` has the plain shape described
/// in the module docs; `None` otherwise (parse it).
pub fn split(url: &str) -> Option<(&str, Option<&str>)> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))?;
    let slash = rest.find('/')?;
    if !plain_authority(&rest[..slash]) {
        return None;
    }
    let rest = &rest[slash..];
    let (path, query) = match rest.find('?') {
        Some(q) => (&rest[..q], Some(&rest[q + 1..])),
        None => (rest, None),
    };
    let path_ok = path
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:@/%".contains(&b))
        && !path.split('/').any(dot_segment);
    let query_ok = query.is_none_or(|q| {
        q.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~!$&()*+,;=:@/?%".contains(&b))
    });
    (path_ok && query_ok).then_some((path, query))
}

/// `part` as the slice of `whole` it is (the same bytes in the same place: a piece [`split`]
/// found, not a copy), so it can be borrowed as long as `whole`, and where it starts.
pub fn slice_of<'a>(whole: &'a str, part: &str) -> Option<(usize, &'a str)> {
    let start = (part.as_ptr() as usize).checked_sub(whole.as_ptr() as usize)?;
    let slice = whole.get(start..start.checked_add(part.len())?)?;
    (slice.as_ptr() == part.as_ptr()).then_some((start, slice))
}

/// A segment the parser would resolve (`.` or `..`, either dot perhaps written `%2e`) or one it
/// might (anything starting with a dot or an escaped dot): left to the parser.
fn dot_segment(segment: &str) -> bool {
    let s = segment.as_bytes();
    s.first() == Some(&b'.')
        || (s.len() >= 3 && s[0] == b'%' && s[1] == b'2' && s[2].eq_ignore_ascii_case(&b'e'))
}

/// `host[:port]` as the serializer writes a plain one: an IPv4 address in dotted decimal, or
/// labels of lowercase letters, digits and hyphens (no `xn--`, the last one not a number), and a
/// port that fits in 16 bits.
fn plain_authority(authority: &str) -> bool {
    let (host, port) = match authority.rsplit_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (authority, None),
    };
    let port_ok = port.is_none_or(|p| {
        !p.is_empty()
            && p.len() <= 5
            && p.bytes().all(|b| b.is_ascii_digit())
            && p.parse::<u16>().is_ok()
    });
    port_ok && (canonical_ipv4(host) || plain_domain(host))
}

/// Four decimal octets as the serializer writes them: no leading zeros, none over 255.
fn canonical_ipv4(host: &str) -> bool {
    let mut octets = 0;
    for octet in host.split('.') {
        octets += 1;
        let digits = octet.as_bytes();
        let plain = matches!(digits.len(), 1..=3)
            && digits.iter().all(u8::is_ascii_digit)
            && (digits.len() == 1 || digits[0] != b'0');
        if !plain || octet.parse::<u8>().is_err() {
            return false;
        }
    }
    octets == 4
}

fn plain_domain(host: &str) -> bool {
    let labels_ok = host.split('.').all(|label| {
        !label.is_empty()
            && label
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    });
    // The WHATWG parser reads a host whose last label is a number (`1.2.3`, `a.0x1f`) as IPv4.
    let last = host.rsplit('.').next().unwrap_or("");
    let last_ok = last.bytes().any(|b| b.is_ascii_lowercase()) && !last.starts_with("0x");
    labels_ok && last_ok && !host.contains("xn--")
}

#[cfg(test)]
mod tests {
    use super::{slice_of, split};

    #[test]
    fn a_slice_is_found_where_it_is_and_a_copy_is_not() {
        let url = "https://w.example/media/ABC?x=1";
        let (path, _) = split(url).unwrap();
        assert_eq!(slice_of(url, &path[7..]), Some((24, "ABC")));
        assert_eq!(slice_of(url, "ABC"), None);
        assert_eq!(slice_of(url, &String::from("ABC")), None);
        assert_eq!(slice_of(url, &url[url.len()..]), Some((url.len(), "")));
    }

    fn parsed(url: &str) -> Option<(String, Option<String>)> {
        let u = worker::Url::parse(url).ok()?;
        Some((u.path().to_string(), u.query().map(str::to_string)))
    }

    #[test]
    fn plain_request_urls_split_as_the_parser_reads_them() {
        for url in [
            "https://media.example.com/media/MEDIA_abc-123",
            "http://127.0.0.1:8787/media/MEDIA_abc-123/hd-voice",
            "https://w.example/media/ABC?exp=1700000000&sig=abc_-",
            "https://w.example/cgi-bin/media/get?access_token=k1&media_id=ABC",
            "https://w.example/apps/wx1234/media/ABC?",
            "https://w.example/",
            "https://w.example//media/ABC",
            "https://w.example/media/A%2FB?format=wav&x=%20+y",
            "http://localhost:0/media/ABC",
        ] {
            let (path, query) = split(url).unwrap_or_else(|| panic!("{url}"));
            assert_eq!(
                Some((path.to_string(), query.map(str::to_string))),
                parsed(url),
                "{url}"
            );
        }
    }

    #[test]
    fn anything_else_is_left_to_the_parser() {
        for url in [
            "not a url",
            "ftp://w.example/media/ABC",
            "HTTPS://w.example/media/ABC",
            "https://w.example",
            "https://W.example/media/ABC",
            "https://user@w.example/media/ABC",
            "https://xn--nxasmq6b.example/media/ABC",
            "https://w.1/media/ABC",
            "https://w.0x1f/media/ABC",
            "https://1.2.3/media/ABC",
            "https://01.2.3.4/media/ABC",
            "https://1.2.3.256/media/ABC",
            "https://1.2.3.4.5/media/ABC",
            "https://1.2.3.04/media/ABC",
            "https://[::1]/media/ABC",
            "https://w.example:65536/media/ABC",
            "https://w.example:/media/ABC",
            "https://w..example/media/ABC",
            "https://w.example/media/../ABC",
            "https://w.example/media/%2e%2E/ABC",
            "https://w.example/media/.well-known",
            "https://w.example/media/A B",
            "https://w.example/media/A\\B",
            "https://w.example/media/ABC#top",
            "https://w.example/media/ABC?a='b'",
            "https://w.example/media/ABC?a=\u{e9}",
            "https://w.example/m\u{e9}dia/ABC",
            " https://w.example/media/ABC",
            "https://w.example/media/ABC\t",
        ] {
            assert_eq!(split(url), None, "{url}");
        }
    }

    /// Generated URLs, heavy in the characters that matter: whenever `split` answers, the
    /// parser agrees (and on plain ones it does answer).
    #[test]
    fn split_agrees_with_the_parser_on_generated_urls() {
        let mut rng = fastrand::Rng::with_seed(28);
        const HOST: &[&str] = &[
            "w.example",
            "127.0.0.1",
            "localhost:8787",
            "a-b.c",
            "w.1",
            "w.0x2",
            "1.2.3",
            "W.x",
            "xn--a.b",
            "a..b",
            "[::1]",
            "h:99999",
            "h:",
            "u@h",
            "0.0.0.0",
            "256.1.1.1",
            "h.example:80",
        ];
        const PIECE: &[&str] = &[
            "/", "media", "ABC", "a", "-", "_", ".", "..", "%2e", "%2E", "%", "%41", "%zz", "?",
            "&", "=", "+", "#", " ", "'", "\"", "\\", "<", ">", "`", "{", "}", "|", "^", "~", "!",
            "$", "(", ")", "*", ",", ";", ":", "@", "[", "]", "\t", "\n", "\u{e9}", "\u{7f}",
            "\u{0}",
        ];
        let mut answered = 0;
        for _ in 0..200_000 {
            let scheme = ["https://", "http://", "HTTP://", "https:/"][rng.usize(..4)];
            let host = HOST[rng.usize(..HOST.len())];
            let mut url = format!("{scheme}{host}/");
            for _ in 0..rng.usize(0..12) {
                url.push_str(PIECE[rng.usize(..PIECE.len())]);
            }
            if let Some((path, query)) = split(&url) {
                answered += 1;
                assert_eq!(
                    parsed(&url),
                    Some((path.to_string(), query.map(str::to_string))),
                    "{url:?}"
                );
            }
        }
        assert!(
            answered > 5_000,
            "only {answered} generated URLs were plain"
        );
    }
}
