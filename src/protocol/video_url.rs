//! Which video URLs a client follows or shows: the `video_url` of a `media/get` answer.
//!
//! In the field, WeChat names its video CDN **by IP address**, with the CDN's domain as the first
//! path segment (`../shared/upstream-api.md`, §3):
//!
//! ```text
//! http://203.205.137.89/vweixinp.tc.qq.com/1007_9368551e5f9f412eb6bc703719e42a97.f10.mp4?vkey=…&sha=0&save=1
//! ```
//!
//! So the rule is: an absolute `http(s)` URL without credentials, whitespace or control
//! characters whose host is
//! - one of WeChat's domains ([`VIDEO_HOSTS`] or a subdomain), or
//! - a **public** IP literal whose first path segment is one of WeChat's domains, or
//! - the upstream's own host and port (a proxy or a local stand-in serves its own video URLs), or
//! - one of the hosts the caller trusts as well ([`VideoHost`]).
//!
//! Hosts are read the way the fetch that follows the URL reads them (the WHATWG URL standard):
//! `2130706433`, `0x7f.1`, `0177.0.0.1` and `127.1` all name 127.0.0.1, `[::ffff:7f00:1]` too, so
//! each is judged by the address it names. Hosts with percent-escapes or non-ASCII characters
//! (which the standard would decode or map before use) are refused outright: WeChat sends none.

use core::net::{Ipv4Addr, Ipv6Addr};

use super::Error;

/// WeChat's domains: video URLs on these hosts (and their subdomains) are followed or shown, and
/// an IP-literal URL's first path segment must name one of them.
pub const VIDEO_HOSTS: &[&str] = &["qq.com", "qpic.cn", "wechat.com"];

/// Longest video URL accepted.
const MAX_LEN: usize = 4096;

/// What a URL's host names, read as the WHATWG URL standard reads a special URL's host.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Host {
    /// A domain name, lowercased, without a trailing dot.
    Domain(String),
    /// An IPv4 literal, in whatever spelling.
    V4(Ipv4Addr),
    /// A bracketed IPv6 literal.
    V6(Ipv6Addr),
}

/// The parts of an absolute `http(s)` URL that the rule looks at.
#[derive(Debug)]
struct Parsed<'a> {
    host: Host,
    /// The port, the scheme's default when none is written.
    port: u16,
    /// The path, from its leading `/` (empty when the URL has none).
    path: &'a str,
}

/// A host (and optionally a port) whose video URLs the caller trusts besides WeChat's: a proxy in
/// front of WeChat's CDN, or a local stand-in for it. Parsed from `host` or `host:port`
/// (`[v6]:port` for IPv6).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VideoHost {
    host: Host,
    port: Option<u16>,
}

impl VideoHost {
    /// Parses `host`, `host:port` or `[v6]:port`; `None` for anything else (a scheme, a path,
    /// credentials, an empty host, a port that is not one).
    pub fn parse(text: &str) -> Option<VideoHost> {
        let text = text.trim();
        if text.is_empty() || text.contains(['/', '?', '#', '@', '\\']) {
            return None;
        }
        let (host, port) = split_authority(text)?;
        Some(VideoHost {
            host: parse_host(host)?,
            port: match port {
                None => None,
                Some(p) => Some(parse_port(p)?),
            },
        })
    }

    fn allows(&self, url: &Parsed<'_>) -> bool {
        self.host == url.host && self.port.is_none_or(|p| p == url.port)
    }
}

/// Checks a `video_url` from an answer before anyone follows or shows it (see the module's rule).
/// `base` is the upstream the client talks to; `also` the hosts its caller trusts as well.
pub fn check_video_url(url: &str, base: &str, also: &[VideoHost]) -> Result<(), Error> {
    let refuse = |why: &str| {
        Err(Error::Parse {
            message: format!("refused the video URL WeChat answered: {why}"),
            raw: Vec::new(),
        })
    };
    if url.len() > MAX_LEN {
        return refuse("it is too long");
    }
    if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return refuse("it contains whitespace or control characters");
    }
    let parsed = match parse_url(url) {
        Ok(p) => p,
        Err(why) => return refuse(why),
    };
    let own = parse_url(base)
        .ok()
        .is_some_and(|b| b.host == parsed.host && b.port == parsed.port);
    if own || also.iter().any(|h| h.allows(&parsed)) {
        return Ok(());
    }
    match &parsed.host {
        Host::Domain(d) if is_wechat_domain(d) => Ok(()),
        Host::Domain(_) => refuse("its host is not one of WeChat's"),
        Host::V4(_) | Host::V6(_) if !is_public(&parsed.host) => {
            refuse("its host is an address that is not public")
        }
        _ if cdn_segment(parsed.path) => Ok(()),
        _ => refuse("its host is an address and its path does not start with WeChat's CDN domain"),
    }
}

/// Whether `domain` (lowercased, no trailing dot) is one of [`VIDEO_HOSTS`] or a subdomain.
fn is_wechat_domain(domain: &str) -> bool {
    VIDEO_HOSTS.iter().any(|h| {
        domain == *h
            || domain
                .strip_suffix(h)
                .is_some_and(|rest| rest.ends_with('.') && rest.len() > 1)
    })
}

/// Whether a path's first segment is one of WeChat's domains, as in the field's
/// `/vweixinp.tc.qq.com/1007_….f10.mp4`, with no dot-segments or escapes anywhere in it.
fn cdn_segment(path: &str) -> bool {
    let Some(rest) = path.strip_prefix('/') else {
        return false;
    };
    let path_only = rest.split(['?', '#']).next().unwrap_or("");
    let Some((first, _)) = path_only.split_once('/') else {
        return false;
    };
    let clean = path_only
        .split('/')
        .all(|s| s != "." && s != ".." && !s.contains('%'));
    clean && matches!(parse_host(first), Some(Host::Domain(d)) if is_wechat_domain(&d))
}

/// Splits an absolute `http(s)` URL (ASCII case-insensitive scheme) into host, port and path.
fn parse_url(url: &str) -> Result<Parsed<'_>, &'static str> {
    let scheme = |prefix: &str| {
        url.get(..prefix.len())
            .filter(|s| s.eq_ignore_ascii_case(prefix))
            .map(|_| &url[prefix.len()..])
    };
    let (default_port, rest) = match (scheme("https://"), scheme("http://")) {
        (Some(rest), _) => (443, rest),
        (None, Some(rest)) => (80, rest),
        (None, None) => return Err("it is not an absolute http(s) URL"),
    };
    // The standard ends a special URL's authority at `\` too, and reads it as `/` elsewhere.
    if rest.contains('\\') {
        return Err("it contains a backslash");
    }
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, path) = rest.split_at(end);
    if authority.contains('@') {
        return Err("it carries credentials");
    }
    let (host, port) = split_authority(authority).ok_or("its host or port is malformed")?;
    let host = parse_host(host).ok_or("its host is malformed")?;
    let port = match port {
        None | Some("") => default_port,
        Some(p) => parse_port(p).ok_or("its port is malformed")?,
    };
    Ok(Parsed { host, port, path })
}

/// `host` and the text after its `:`, if any; IPv6 literals keep their brackets.
fn split_authority(authority: &str) -> Option<(&str, Option<&str>)> {
    if authority.starts_with('[') {
        let close = authority.find(']')?;
        let (host, after) = authority.split_at(close + 1);
        match after {
            "" => Some((host, None)),
            _ => Some((host, Some(after.strip_prefix(':')?))),
        }
    } else {
        match authority.split_once(':') {
            Some((host, port)) => Some((host, Some(port))),
            None => Some((authority, None)),
        }
    }
}

/// A port as the standard reads it: ASCII digits (leading zeros allowed), at most 65535.
fn parse_port(text: &str) -> Option<u16> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let digits = text.trim_start_matches('0');
    if digits.len() > 5 {
        return None;
    }
    digits
        .parse::<u32>()
        .map_or(Some(0), |n| u16::try_from(n).ok())
}

/// Reads a host as the WHATWG URL standard reads a special URL's host, for the ASCII hosts WeChat
/// sends: a bracketed IPv6 literal, an IPv4 literal in any of its spellings, or a domain.
/// Anything the standard would percent-decode or map (escapes, non-ASCII), or refuse, is `None`.
fn parse_host(host: &str) -> Option<Host> {
    if let Some(inner) = host.strip_prefix('[') {
        let inner = inner.strip_suffix(']')?;
        // A zone id (`%25eth0`) is not part of the standard's IPv6 syntax.
        return inner.parse::<Ipv6Addr>().ok().map(Host::V6);
    }
    let host = host.to_ascii_lowercase();
    if host.is_empty()
        || !host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
    {
        return None;
    }
    if ends_in_number(&host) {
        return parse_ipv4(&host).map(Host::V4);
    }
    let domain = host.strip_suffix('.').unwrap_or(&host);
    if domain.split('.').any(str::is_empty) {
        return None;
    }
    Some(Host::Domain(domain.to_owned()))
}

/// The standard's "ends in a number": the last label (a trailing empty one dropped) is all digits
/// or a `0x` hex number, so the host is parsed as IPv4 (and is invalid if that fails).
fn ends_in_number(host: &str) -> bool {
    let mut labels: Vec<&str> = host.split('.').collect();
    if labels.len() > 1 && labels.last() == Some(&"") {
        labels.pop();
    }
    let last = labels.last().copied().unwrap_or("");
    if !last.is_empty() && last.bytes().all(|b| b.is_ascii_digit()) {
        return true;
    }
    last.strip_prefix("0x")
        .is_some_and(|hex| hex.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// The standard's IPv4 parser: one to four parts, each decimal, `0x` hex or `0`-led octal; the
/// last part fills the remaining bytes.
fn parse_ipv4(host: &str) -> Option<Ipv4Addr> {
    let mut parts: Vec<&str> = host.split('.').collect();
    if parts.len() > 1 && parts.last() == Some(&"") {
        parts.pop();
    }
    if parts.len() > 4 {
        return None;
    }
    let mut numbers = Vec::with_capacity(parts.len());
    for part in &parts {
        numbers.push(ipv4_number(part)?);
    }
    let (last, init) = numbers.split_last()?;
    if init.iter().any(|&n| n > 255) || *last >= 256u64.pow(5 - numbers.len() as u32) {
        return None;
    }
    let mut address = *last;
    for (i, n) in init.iter().enumerate() {
        address += n << (8 * (3 - i));
    }
    Some(Ipv4Addr::from(u32::try_from(address).ok()?))
}

/// One IPv4 part: `0x…` hex (empty digits mean 0), `0…` octal, else decimal; at most 2^32.
fn ipv4_number(part: &str) -> Option<u64> {
    if part.is_empty() {
        return None;
    }
    let (digits, radix) = if let Some(hex) = part.strip_prefix("0x") {
        (hex, 16)
    } else if part.len() > 1 && part.starts_with('0') {
        (&part[1..], 8)
    } else {
        (part, 10)
    };
    if digits.is_empty() {
        return Some(0);
    }
    let digits = digits.trim_start_matches('0');
    if digits.is_empty() {
        return Some(0);
    }
    if digits.len() > 12 {
        return None;
    }
    u64::from_str_radix(digits, radix)
        .ok()
        .filter(|&n| n <= u64::from(u32::MAX))
}

/// Whether an IP literal names a public address: not loopback, private, link-local, CGNAT,
/// multicast, unspecified, documentation, benchmarking or otherwise reserved. IPv4-mapped IPv6
/// addresses are judged as the IPv4 address they carry; other IPv6 must be global unicast
/// (2000::/3) outside its special-purpose blocks.
fn is_public(host: &Host) -> bool {
    match host {
        Host::Domain(_) => false,
        Host::V4(v4) => public_v4(*v4),
        Host::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => public_v4(v4),
            None => public_v6(*v6),
        },
    }
}

fn public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(a == 0                                  // "this network", unspecified
        || a == 10                            // private
        || a == 127                           // loopback
        || a >= 224                           // multicast, reserved, broadcast
        || (a == 100 && (64..128).contains(&b)) // CGNAT 100.64/10
        || (a == 169 && b == 254)             // link-local
        || (a == 172 && (16..32).contains(&b)) // private
        || (a == 192 && b == 168)             // private
        || (a == 192 && b == 0 && c == 0)     // IETF protocol assignments
        || (a == 192 && b == 0 && c == 2)     // TEST-NET-1
        || (a == 192 && b == 88 && c == 99)   // 6to4 relay anycast
        || (a == 198 && (18..20).contains(&b)) // benchmarking 198.18/15
        || (a == 198 && b == 51 && c == 100)  // TEST-NET-2
        || (a == 203 && b == 0 && c == 113)) // TEST-NET-3
}

fn public_v6(ip: Ipv6Addr) -> bool {
    let s = ip.segments();
    (s[0] & 0xe000) == 0x2000               // global unicast 2000::/3
        && !(s[0] == 0x2001 && s[1] < 0x200) // IETF protocol assignments 2001::/23 (Teredo, ORCHID…)
        && !(s[0] == 0x2001 && s[1] == 0xdb8) // documentation
        && s[0] != 0x2002                    // 6to4: carries an IPv4 address
        && (s[0] & 0xfff0) != 0x3ff0 // documentation 3fff::/20
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The emulator's API, which serves its own video URLs in some setups.
    const BASE: &str = "http://127.0.0.1:9000";

    fn ok(url: &str) -> bool {
        check_video_url(url, BASE, &[]).is_ok()
    }

    #[test]
    fn field_urls_are_accepted() {
        // Recorded from WeChat's real answers (../shared/upstream-api.md §3).
        for url in [
            "http://203.205.137.89/vweixinp.tc.qq.com/1007_9368551e5f9f412eb6bc703719e42a97.f10.mp4?vkey=5493A3B1&sha=0&save=1",
            "http://61.182.130.30/vweixinp.tc.qq.com/1007_114bcede9a2244eeb5ab7f76d951df5f.f10.mp4?vkey=77AB",
            "http://103.7.29.197/vweixinp.tc.qq.com/1007_efd683683fdd41ea9a999ea9ad81f239.f10.mp4?vkey=C0FF",
            "http://203.205.158.71/vweixinp.tc.qq.com/1007_396b434523f5498d93000bfb4f0b32cb.f10.mp4?vkey=1",
            "http://61.182.133.153/vweixinp.tc.qq.com/1007_a.f10.mp4?vkey=1",
            "http://203.205.137.71/vweixinp.tc.qq.com/1007_b.f10.mp4?vkey=1",
            // The same shapes by name, over https, with an explicit port, a public IPv6.
            "http://vweixinp.tc.qq.com/1007_abc.f10.mp4?vkey=x",
            "https://mp.weixin.qq.com/v",
            "http://QQ.COM/x",
            "http://vweixinf.tc.qpic.cn./x.mp4",
            "HTTPS://203.205.137.89:443/vweixinp.tc.qq.com/1007_x.f10.mp4",
            "http://[2402:4e00::1]/vweixinp.tc.qq.com/1007_x.f10.mp4",
            "http://[::ffff:203.205.137.89]/vweixinp.tc.qq.com/1007_x.f10.mp4",
            // The upstream's own host and port.
            "http://127.0.0.1:9000/video/ID",
            "http://2130706433:9000/video/ID",
        ] {
            assert!(ok(url), "{url}");
        }
    }

    #[test]
    fn hostile_urls_are_refused() {
        let cdn = "/vweixinp.tc.qq.com/1007_x.f10.mp4?vkey=1";
        let mut bad: Vec<String> = [
            // Not http(s), not absolute.
            "javascript:alert(1)",
            "data:text/html,<script>",
            "ftp://qq.com/x",
            "//qq.com/x",
            "http:qq.com/x",
            "http:/qq.com/x",
            "http://",
            "http:///x",
            // Other hosts, look-alikes, credentials, escapes, backslashes, whitespace.
            "http://evil.example/x.mp4",
            "http://qq.com.evil.example/",
            "http://evilqq.com/",
            "http://.qq.com/",
            "http://a..qq.com/",
            "http://qq.com@evil.example/",
            "http://user:pw@vweixinp.tc.qq.com/x",
            "http://evil.example\\.qq.com/",
            "http://evil.example\\@qq.com/",
            "http://%71q.com/x",
            "http://ｑｑ.com/x",
            "http://vweixinp.tc.qq.com/a\r\nSet-Cookie: x=1",
            "http://vweixinp.tc.qq.com/a b",
            "http://vweixinp.tc.qq.com/\u{0}",
            "http://vweixinp.tc.qq.com:99999/x",
            "http://vweixinp.tc.qq.com:8a/x",
            // The upstream's host on another port, or another loopback address.
            "http://127.0.0.1:9001/x",
            "http://127.0.0.2:9000/x",
            "http://127.0.0.1/x",
            // Public IP literals without WeChat's CDN segment, or with a tricked one.
            "http://203.205.137.89/x.mp4",
            "http://203.205.137.89/",
            "http://203.205.137.89",
            "http://203.205.137.89/evil.example/1007_x.f10.mp4",
            "http://203.205.137.89/vweixinp.tc.qq.com",
            "http://203.205.137.89/vweixinp.tc.qq.com.evil.example/x",
            "http://203.205.137.89/vweixinp.tc.qq.com/../../x",
            "http://203.205.137.89/vweixinp.tc.qq.com/%2e%2e/x",
            "http://203.205.137.89/%76weixinp.tc.qq.com/x",
            "http://203.205.137.89//vweixinp.tc.qq.com/x",
            "http://203.205.137.89?/vweixinp.tc.qq.com/x",
            "http://203.205.137.89#/vweixinp.tc.qq.com/x",
            // Malformed IPv4.
            "http://1.2.3.4.5/vweixinp.tc.qq.com/x",
            "http://256.1.1.1/vweixinp.tc.qq.com/x",
            "http://1.2.3.08/vweixinp.tc.qq.com/x",
            "http://4294967296/vweixinp.tc.qq.com/x",
            "http://[::1/vweixinp.tc.qq.com/x",
            "http://[fe80::1%25eth0]/vweixinp.tc.qq.com/x",
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
        // Every non-public address, in every spelling a fetch would read as that address.
        for host in [
            "127.0.0.1",
            "127.1",
            "2130706433",
            "0x7f000001",
            "0x7f.1",
            "0177.0.0.1",
            "0177.0.0.01",
            "017700000001",
            "127.0.0.1.",
            "0x7F.0.0.1",
            "0",
            "0.0.0.0",
            "10.0.0.1",
            "012.0.0.1",
            "167772161",
            "100.64.0.1",
            "100.127.255.255",
            "169.254.169.254",
            "0xa9.0xfe.0xa9.0xfe",
            "2852039166",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "192.0.0.8",
            "192.0.2.1",
            "192.88.99.1",
            "198.18.0.1",
            "198.19.255.255",
            "198.51.100.1",
            "203.0.113.9",
            "224.0.0.1",
            "239.255.255.250",
            "240.0.0.1",
            "255.255.255.255",
            "[::]",
            "[::1]",
            "[0:0:0:0:0:0:0:1]",
            "[::ffff:127.0.0.1]",
            "[::ffff:7f00:1]",
            "[::ffff:10.0.0.1]",
            "[::ffff:169.254.169.254]",
            "[::127.0.0.1]",
            "[64:ff9b::a00:1]",
            "[fc00::1]",
            "[fd12:3456::1]",
            "[fe80::1]",
            "[fec0::1]",
            "[ff02::1]",
            "[100::1]",
            "[2001::1]",
            "[2001:db8::1]",
            "[2002:7f00:1::1]",
            "[3fff::1]",
        ] {
            bad.push(format!("http://{host}{cdn}"));
            bad.push(format!("https://{host}:8443{cdn}"));
        }
        for url in &bad {
            assert!(!ok(url), "{url}");
        }
    }

    #[test]
    fn hosts_are_read_as_a_fetch_reads_them() {
        let v4 = |h: &str| match parse_host(h) {
            Some(Host::V4(ip)) => Some(ip.to_string()),
            _ => None,
        };
        assert_eq!(v4("2130706433").as_deref(), Some("127.0.0.1"));
        assert_eq!(v4("0x7f.1").as_deref(), Some("127.0.0.1"));
        assert_eq!(v4("0177.0.0.1").as_deref(), Some("127.0.0.1"));
        assert_eq!(v4("127.1").as_deref(), Some("127.0.0.1"));
        assert_eq!(v4("1.2.65535").as_deref(), Some("1.2.255.255"));
        assert_eq!(v4("0x").as_deref(), Some("0.0.0.0"));
        assert_eq!(v4("203.205.137.89.").as_deref(), Some("203.205.137.89"));
        for invalid in [
            "1.2.3.4.5",
            "1.2.3.256",
            "1.2.65536",
            "09",
            "1..2",
            "0x1g.1",
        ] {
            assert_eq!(parse_host(invalid), None, "{invalid}");
        }
        assert_eq!(
            parse_host("Vweixinp.TC.qq.com."),
            Some(Host::Domain("vweixinp.tc.qq.com".into()))
        );
        // A domain that merely contains digits is still a domain.
        assert_eq!(
            parse_host("1a.qq.com"),
            Some(Host::Domain("1a.qq.com".into()))
        );
    }

    #[test]
    fn trusted_hosts_are_matched_by_host_and_port() {
        let cdn = VideoHost::parse("127.0.0.2:7000").unwrap();
        let any_port = VideoHost::parse("media-proxy.internal").unwrap();
        let also = [cdn, any_port];
        let check = |u: &str| check_video_url(u, BASE, &also).is_ok();
        assert!(check(
            "http://127.0.0.2:7000/vweixinp.tc.qq.com/1007_x.f10.mp4"
        ));
        assert!(check("http://0x7f000002:7000/anything"));
        assert!(!check("http://127.0.0.2:7001/x"));
        assert!(check("https://media-proxy.internal:1234/x"));
        assert!(!check("http://10.0.0.1/x"));
        for bad in ["", "http://x", "a/b", "u@h", "h:", "h:99999", "[::1", "a b"] {
            assert_eq!(VideoHost::parse(bad), None, "{bad:?}");
        }
        assert!(VideoHost::parse("[::1]:80").is_some());
    }
}
