//! ARCHITECTURE.md's invariants, checked: each test fails when the code drifts from what the
//! document says, or the document from the code.
#![cfg(not(target_arch = "wasm32"))]

use std::fs;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn architecture() -> String {
    fs::read_to_string(root().join("ARCHITECTURE.md")).expect("ARCHITECTURE.md")
}

/// Every file under `dir` (relative to the root) whose name ends with one of `exts`, as
/// root-relative paths with `/`.
fn files(dir: &str, exts: &[&str]) -> Vec<String> {
    fn walk(root: &Path, dir: &Path, exts: &[&str], out: &mut Vec<String>) {
        let Ok(entries) = fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            if path.is_dir() {
                if !matches!(name.as_str(), "node_modules" | "build" | "pkg" | "target") {
                    walk(root, &path, exts, out);
                }
            } else if exts.iter().any(|e| name.ends_with(e)) {
                let rel = path.strip_prefix(root).unwrap().to_string_lossy();
                out.push(rel.replace('\\', "/"));
            }
        }
    }
    let mut out = Vec::new();
    walk(&root(), &root().join(dir), exts, &mut out);
    out.sort();
    out
}

/// The source text without its comments' lines (`//`, `//!`, `///`), so a doc that names a
/// forbidden thing does not count as using it.
fn code_of(path: &str) -> String {
    fs::read_to_string(root().join(path))
        .unwrap()
        .lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The backticked paths of the invariant whose bullet starts with `lead`.
fn listed_paths(doc: &str, lead: &str) -> Vec<String> {
    let start = doc
        .find(lead)
        .unwrap_or_else(|| panic!("ARCHITECTURE.md has no invariant starting {lead:?}"));
    let rest = &doc[start..];
    let end = rest[2..].find("\n- ").map_or(rest.len(), |i| i + 2);
    rest[..end]
        .split('`')
        .skip(1)
        .step_by(2)
        .filter(|s| s.starts_with("src/") || s.starts_with("worker/"))
        .map(str::to_string)
        .collect()
}

#[test]
fn web_types_stay_at_the_platform_edge() {
    let allowed = listed_paths(
        &architecture(),
        "- **Only the platform edge knows `JsValue`, `js_sys` and `web_sys`**",
    );
    assert!(allowed.len() >= 4, "the list was not found: {allowed:?}");
    let is_allowed = |path: &str| {
        allowed
            .iter()
            .any(|a| path == a || (a.ends_with('/') && path.starts_with(a.as_str())))
    };
    let mut offenders = Vec::new();
    for path in files("src", &[".rs"])
        .into_iter()
        .chain(files("worker/src", &[".rs"]))
    {
        let code = code_of(&path);
        let uses = ["JsValue", "js_sys", "web_sys", "wasm_bindgen"]
            .iter()
            .any(|word| code.contains(word));
        if uses && !is_allowed(&path) {
            offenders.push(path);
        }
    }
    assert!(
        offenders.is_empty(),
        "web types outside the files ARCHITECTURE.md allows: {offenders:?}"
    );
    // Every file on the list exists (a renamed file must be renamed there too).
    for path in &allowed {
        assert!(
            root().join(path).exists(),
            "ARCHITECTURE.md lists {path}, which is gone"
        );
    }
}

#[test]
fn the_protocol_core_does_no_io_and_reads_no_clock() {
    let forbidden = [
        "std::time",
        "SystemTime",
        "Instant::",
        "std::fs",
        "std::net",
        "std::env",
        "std::process",
        "std::thread",
        "File::",
        "TcpStream",
        "Date::now",
        "js_sys",
        "web_sys",
        "wasm_bindgen",
        "tokio",
        "println!",
        "eprintln!",
    ];
    let sources = files("src/protocol", &[".rs"]);
    assert!(sources.len() >= 10, "{sources:?}");
    let mut offenders = Vec::new();
    for path in &sources {
        let code = code_of(path);
        for word in forbidden {
            if code.contains(word) {
                offenders.push(format!("{path}: {word}"));
            }
        }
    }
    assert!(
        offenders.is_empty(),
        "IO or a clock in the protocol core: {offenders:?}"
    );
}

#[test]
fn the_code_map_names_every_source_file() {
    let doc = architecture();
    let start = doc.find("## Code map").expect("a code map");
    let end = doc[start..].find("\n## ").map_or(doc.len(), |i| start + i);
    let map = &doc[start..end];
    let covered = |path: &str| {
        if map.contains(&format!("`{path}`")) {
            return true;
        }
        let (dir, name) = path.rsplit_once('/').unwrap();
        // `dir/a.rs`, `b.rs` on one line: the bare name next to its directory.
        if map
            .lines()
            .any(|l| l.contains(&format!("`{dir}/")) && l.contains(&format!("`{name}`")))
        {
            return true;
        }
        // Outside the two crates' sources, a line for a directory covers what is in it.
        if path.starts_with("src/") || path.starts_with("worker/src/") {
            return false;
        }
        let mut ancestor = dir;
        loop {
            if map.contains(&format!("`{ancestor}/`")) {
                return true;
            }
            match ancestor.rsplit_once('/') {
                Some((up, _)) => ancestor = up,
                None => return false,
            }
        }
    };
    let mut sources = Vec::new();
    for dir in [
        "src",
        "worker/src",
        "emulator/src",
        "tests",
        "npm",
        "www",
        "bench",
        "scripts",
        "codecs",
        "push",
    ] {
        sources.extend(files(
            dir,
            &[".rs", ".js", ".mjs", ".cjs", ".ts", ".mts", ".cts", ".sh"],
        ));
    }
    assert!(sources.len() > 30, "{sources:?}");
    let missing: Vec<_> = sources.iter().filter(|p| !covered(p)).collect();
    assert!(
        missing.is_empty(),
        "ARCHITECTURE.md's code map misses {missing:?}"
    );
}

/// "The emulator shares no types with the client": it depends on no crate of the workspace, so a
/// renamed field breaks a test instead of agreeing with itself.
#[test]
fn the_emulator_shares_no_types_with_the_client() {
    let manifest = fs::read_to_string(root().join("emulator/Cargo.toml")).expect("manifest");
    let deps: Vec<&str> = manifest
        .lines()
        .skip_while(|l| !l.starts_with("[dependencies]"))
        .skip(1)
        .take_while(|l| !l.starts_with('['))
        .filter_map(|l| l.split('=').next().map(str::trim))
        .filter(|name| !name.is_empty() && !name.starts_with('#'))
        .collect();
    assert!(
        !deps.is_empty(),
        "emulator/Cargo.toml lists no dependencies: not read right"
    );
    for name in deps {
        assert!(
            !name.starts_with("wxmedia"),
            "the emulator depends on {name}"
        );
    }
    for file in files("emulator/src", &[".rs"]) {
        assert!(
            !code_of(&file).contains("wxmedia::"),
            "{file} uses the client crate"
        );
    }
}

/// One home per rule: what is voice (`wxmedia::voice::format_by_label`, then `#!AMR` where the
/// label says nothing) is decided nowhere else in the Worker or the npm package, and signed
/// download URLs have one shape (`protocol::sign::signed_path`).
#[test]
fn voice_detection_and_url_signing_have_one_home() {
    let mut outside = Vec::new();
    for file in [
        files("worker/src", &[".rs"]),
        files("npm", &[".mjs", ".cjs", ".js"]),
    ]
    .concat()
    {
        // Without comments (`//`, and the lines of `/* … */` blocks).
        let code: String = code_of(&file)
            .lines()
            .filter(|l| !l.trim_start().starts_with('*') && !l.trim_start().starts_with("/*"))
            .collect::<Vec<_>>()
            .join("\n");
        if code.contains("#!AMR") || code.contains("format_by_label(") && file.starts_with("npm") {
            outside.push(format!("{file}: decides what is voice"));
        }
        if code.contains("signed_query_in(") || code.contains("signed_query(") {
            outside.push(format!("{file}: builds a signed URL itself"));
        }
    }
    for file in files("src", &[".rs"]) {
        let code = code_of(&file);
        if file != "src/protocol/sign.rs" && code.contains("signed_query_in(") {
            outside.push(format!("{file}: builds a signed URL itself"));
        }
        if !file.starts_with("codecs/voice/") && code.contains("fn format_by_label") {
            outside.push(format!("{file}: a second voice rule"));
        }
    }
    assert!(outside.is_empty(), "{outside:#?}");
}

/// The Rust sources of the two crates outside their test modules (by convention at the end of a
/// file, after `#[cfg(test)]`), without `//` comments.
fn shipped_code(dirs: &[&str]) -> Vec<(String, String)> {
    dirs.iter()
        .flat_map(|dir| files(dir, &[".rs"]))
        .map(|path| {
            let code = code_of(&path);
            let code = code.split("#[cfg(test)]").next().unwrap_or("").to_string();
            let code = code
                .lines()
                .map(|l| l.split("//").next().unwrap_or(""))
                .collect::<Vec<_>>()
                .join("\n");
            (path, code)
        })
        .collect()
}

/// "One home per rule": WeChat's errcodes are numbers only in the errcode table
/// (`src/protocol/error.rs`); everywhere else names them (`errcode::INVALID_MEDIA_ID`) or asks
/// the table (`action_for`).
#[test]
fn errcode_numbers_live_only_in_the_error_table() {
    let mut offenders = Vec::new();
    for (path, code) in shipped_code(&["src", "worker/src"]) {
        if path == "src/protocol/error.rs" {
            continue;
        }
        let bytes = code.as_bytes();
        for (i, window) in bytes.windows(5).enumerate() {
            let digits = window.iter().all(u8::is_ascii_digit);
            let bounded = (i == 0 || !bytes[i - 1].is_ascii_alphanumeric() && bytes[i - 1] != b'.')
                && bytes
                    .get(i + 5)
                    .is_none_or(|b| !b.is_ascii_alphanumeric() && *b != b'.');
            if digits && bounded && (b'4'..=b'4').contains(&window[0]) && window[1] <= b'8' {
                let number = std::str::from_utf8(window).unwrap();
                offenders.push(format!("{path}: {number}"));
            }
        }
    }
    assert!(
        offenders.is_empty(),
        "errcodes outside the table: {offenders:?}"
    );
}

/// "One home per rule": the Worker's route paths are matched in one table
/// (`worker/src/routes/table.rs`, which the full handler and the JS entry's plans both ask) and written in one place (`protocol::sign`: `media_path`,
/// `app_prefix`), besides WeChat's own paths in `protocol::request`.
#[test]
fn route_literals_live_in_one_place() {
    let homes = [
        "worker/src/routes/table.rs",
        "src/protocol/sign.rs",
        "src/protocol/request.rs",
    ];
    let mut offenders = Vec::new();
    for (path, code) in shipped_code(&["src", "worker/src"]) {
        if homes.contains(&path.as_str()) {
            continue;
        }
        for literal in [
            "\"/media",
            "\"/apps/",
            "\"/healthz",
            "\"/cgi-bin",
            "\"/wechat",
            "[\"media\"",
            "[\"apps\"",
            "[\"cgi-bin\"",
            "[\"healthz\"",
        ] {
            if code.contains(literal) {
                offenders.push(format!("{path}: {literal}"));
            }
        }
    }
    assert!(
        offenders.is_empty(),
        "route literals outside their homes: {offenders:?}"
    );
}

/// "Media bytes do not pass through wasm memory": in the web edge and the client, bytes are
/// copied from JS into wasm only by the functions bounded for it — the 64-byte peek (`prefix`),
/// the 16-byte sniff (`read_head`), and small JSON within its cap (`read_small_body` through
/// `read_rest`, and a download's answer that looks like JSON in `inspect`, its first chunk
/// checked against the cap before it is copied) — and the peek is 64 bytes, as ARCHITECTURE.md
/// says.
#[test]
fn only_bounded_reads_copy_bytes_into_wasm() {
    let allowed = [
        "prefix",
        "read_head",
        "read_small_body",
        "read_rest",
        "inspect",
    ];
    let mut offenders = Vec::new();
    for (path, code) in shipped_code(&["src/web", "src/client", "src/js"]) {
        let mut current = String::new();
        for line in code.lines() {
            if let Some(at) = line.find("fn ") {
                let name: String = line[at + 3..]
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                if !name.is_empty() {
                    current = name;
                }
            }
            let copies = [".to_vec()", ".copy_to("].iter().any(|w| line.contains(w));
            if copies && !allowed.contains(&current.as_str()) {
                offenders.push(format!("{path}: {current}: {}", line.trim()));
            }
        }
    }
    assert!(
        offenders.is_empty(),
        "copies into wasm outside the bounded reads: {offenders:#?}"
    );
    assert!(
        code_of("src/protocol/response.rs").contains("pub const PEEK_LEN: usize = 64;"),
        "the peek is 64 bytes"
    );
    let download = code_of("src/client/download.rs");
    assert!(download.contains("web::prefix(&first, PEEK_LEN)"));
    assert!(architecture().contains("at most 64 bytes of it come into wasm"));
    let inspect = &download[download.find("async fn inspect(").expect("inspect")..];
    let guard = inspect
        .find("> MAX_JSON_LEN")
        .expect("inspect checks the cap");
    assert!(guard < inspect.find(".to_vec()").expect("inspect copies"));
}
