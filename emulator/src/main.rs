//! `wxmedia-emulator`: runs the emulator until SIGINT/SIGTERM.
//!
//! The first line on stdout is exactly `listening on http://IP:PORT` (scripts read it to learn
//! the port), the second `video CDN on http://IP:PORT`; request logs go to stderr with tokens and secrets redacted.

use std::io::Write;
use std::net::{IpAddr, SocketAddr};
use std::process::ExitCode;

use wxmedia_emulator::{AppCredentials, Config};

const USAGE: &str = "\
wxmedia-emulator: a local imitation of WeChat's temporary-media API

USAGE:
    wxmedia-emulator [--listen ADDR] [OPTIONS]

OPTIONS:
    --listen ADDR          address to listen on [default: 127.0.0.1:0; port 0 picks a free port]
    --appid ID             the default account's AppID [default: wx0000000000000001]
    --secret S             the default account's AppSecret [default: emulator-secret]
    --app ID:SECRET        serve this account too (repeatable; split at the first ':'). Each
                           app has its own tokens, quotas and media. Without --appid/--secret,
                           the first --app is the default account (and the only ones served
                           are the --app ones)
    --callback-token T     the Token message pushes are signed with [default:
                           emulator-callback-token]
    --aes-key KEY          the EncodingAESKey of safe and compatible mode (43 characters)
                           [default: abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG]
    --app-push ID:TOKEN[:KEY]
                           account ID's own Token (and EncodingAESKey) for pushes
    --cors                 answer with CORS headers and preflights (for browser tests)
    --max-store-bytes N    cap on stored media bytes [default: 268435456]
    --ip-whitelist IP,IP   token calls from other addresses answer 40164
    --unverified           an unverified account: /cgi-bin/media/get/jssdk answers 48001
    --video-host HOST      the host video URLs name, as WeChat names its CDN by address
                           (e.g. 203.205.137.89) [default: the emulator's CDN listener]
    --quiet                no per-request log lines on stderr
    -h, --help             print this help
    -V, --version          print the version

The first line on stdout is `listening on http://IP:PORT`, the second `video CDN on
http://IP:PORT` (a second listener, which serves the video URLs). Control API: /_emulator/ (see
README).
";

/// What the command line asked for.
enum Command {
    Run(SocketAddr, Box<Config>),
    Help,
    Version,
}

fn parse_args(args: impl Iterator<Item = String>) -> Result<Command, String> {
    let mut listen: SocketAddr = ([127, 0, 0, 1], 0).into();
    let mut config = Config {
        log_requests: true,
        ..Config::default()
    };
    let mut apps: Vec<AppCredentials> = Vec::new();
    let mut pushes: Vec<(String, String, Option<String>)> = Vec::new();
    let mut default_given = false;
    let mut args = args.peekable();
    while let Some(arg) = args.next() {
        // Accept both `--flag value` and `--flag=value`.
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f.to_owned(), Some(v.to_owned())),
            _ => (arg.clone(), None),
        };
        let mut value = |name: &str| -> Result<String, String> {
            inline
                .clone()
                .or_else(|| args.next())
                .ok_or_else(|| format!("{name} needs a value"))
        };
        match flag.as_str() {
            "-h" | "--help" => return Ok(Command::Help),
            "-V" | "--version" => return Ok(Command::Version),
            "--listen" => {
                let v = value("--listen")?;
                listen = v
                    .parse()
                    .map_err(|_| format!("--listen: {v:?} is not an IP:PORT address"))?;
            }
            "--appid" => {
                config.appid = value("--appid")?;
                default_given = true;
            }
            "--secret" => {
                config.secret = value("--secret")?;
                default_given = true;
            }
            "--app" => {
                let v = value("--app")?;
                let app = match v.split_once(':') {
                    Some((id, secret)) if !id.is_empty() && !secret.is_empty() => {
                        AppCredentials::new(id, secret)
                    }
                    _ => return Err(format!("--app: {v:?} is not ID:SECRET")),
                };
                if apps.iter().any(|a| a.appid == app.appid) {
                    return Err(format!("--app: {} given twice", app.appid));
                }
                apps.push(app);
            }
            "--max-store-bytes" => {
                let v = value("--max-store-bytes")?;
                config.max_store_bytes = v
                    .parse()
                    .map_err(|_| format!("--max-store-bytes: {v:?} is not a number"))?;
            }
            "--ip-whitelist" => {
                let v = value("--ip-whitelist")?;
                let ips = v
                    .split(',')
                    .filter(|s| !s.trim().is_empty())
                    .map(|s| {
                        s.trim()
                            .parse::<IpAddr>()
                            .map_err(|_| format!("--ip-whitelist: {s:?} is not an IP address"))
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                config.ip_whitelist = Some(ips);
            }
            "--video-host" => {
                let v = value("--video-host")?;
                let ok = !v.is_empty()
                    && v.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b));
                if !ok {
                    return Err(format!("--video-host: {v:?} is not a host or host:port"));
                }
                config.video_host = Some(v);
            }
            "--callback-token" => {
                let v = value("--callback-token")?;
                if !push_token_ok(&v) {
                    return Err(format!(
                        "--callback-token: {v:?} is not 3 to 32 letters or digits"
                    ));
                }
                config.callback_token = v;
            }
            "--aes-key" => {
                let v = value("--aes-key")?;
                if !aes_key_ok(&v) {
                    return Err(format!("--aes-key: {v:?} is not 43 characters of base64"));
                }
                config.aes_key = v;
            }
            "--app-push" => {
                let v = value("--app-push")?;
                let mut parts = v.split(':');
                let (Some(id), Some(token)) = (parts.next(), parts.next()) else {
                    return Err(format!("--app-push: {v:?} is not ID:TOKEN[:KEY]"));
                };
                let key = parts.next();
                if id.is_empty()
                    || !push_token_ok(token)
                    || key.is_some_and(|k| !aes_key_ok(k))
                    || parts.next().is_some()
                {
                    return Err(format!("--app-push: {v:?} is not ID:TOKEN[:KEY]"));
                }
                pushes.push((id.to_owned(), token.to_owned(), key.map(str::to_owned)));
            }
            "--cors" | "--unverified" | "--quiet" if inline.is_some() => {
                return Err(format!("{flag} takes no value"));
            }
            "--cors" => config.cors = true,
            "--unverified" => config.verified = false,
            "--quiet" => config.log_requests = false,
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    if !default_given && !apps.is_empty() {
        let first = apps.remove(0);
        config.appid = first.appid;
        config.secret = first.secret;
    }
    if apps.iter().any(|a| a.appid == config.appid) {
        return Err(format!("--app: {} is also the --appid", config.appid));
    }
    for (id, token, key) in pushes {
        if id == config.appid {
            config.callback_token = token;
            if let Some(key) = key {
                config.aes_key = key;
            }
        } else if let Some(app) = apps.iter_mut().find(|a| a.appid == id) {
            app.callback_token = Some(token);
            app.aes_key = key;
        } else {
            return Err(format!("--app-push: {id} is not a served app"));
        }
    }
    config.apps = apps;
    Ok(Command::Run(listen, Box::new(config)))
}

/// A push Token as WeChat takes one: 3 to 32 letters or digits.
fn push_token_ok(token: &str) -> bool {
    (3..=32).contains(&token.len())
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

/// An EncodingAESKey: 43 characters of base64.
fn aes_key_ok(key: &str) -> bool {
    key.len() == 43
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/')
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> ExitCode {
    let (listen, config) = match parse_args(std::env::args().skip(1)) {
        Ok(Command::Run(listen, config)) => (listen, *config),
        Ok(Command::Help) => {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Ok(Command::Version) => {
            println!("wxmedia-emulator {}", env!("CARGO_PKG_VERSION"));
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("wxmedia-emulator: {e}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let running = match wxmedia_emulator::spawn(listen, config).await {
        Ok(r) => r,
        Err(e) => {
            eprintln!("wxmedia-emulator: cannot listen on {listen}: {e}");
            return ExitCode::FAILURE;
        }
    };
    {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "listening on {}", running.base_url());
        let _ = writeln!(out, "video CDN on {}", running.cdn_url());
        let _ = out.flush();
    }
    let signal = wait_for_signal().await;
    eprintln!("wxmedia-emulator: {signal}, shutting down");
    running.shutdown().await;
    ExitCode::SUCCESS
}

/// Waits for SIGINT or SIGTERM (Ctrl-C only where there are no Unix signals).
async fn wait_for_signal() -> &'static str {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match (
            signal(SignalKind::interrupt()),
            signal(SignalKind::terminate()),
        ) {
            (Ok(mut int), Ok(mut term)) => tokio::select! {
                _ = int.recv() => "SIGINT",
                _ = term.recv() => "SIGTERM",
            },
            _ => {
                let _ = tokio::signal::ctrl_c().await;
                "interrupt"
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
        "interrupt"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Command, String> {
        parse_args(args.iter().map(|s| (*s).to_owned()))
    }

    #[test]
    fn parses_everything() {
        let Ok(Command::Run(listen, c)) = parse(&[
            "--listen",
            "127.0.0.1:9000",
            "--appid=wxA",
            "--secret",
            "S",
            "--cors",
            "--max-store-bytes",
            "1024",
            "--ip-whitelist",
            "10.0.0.1, ::1",
            "--unverified",
        ]) else {
            panic!("did not parse");
        };
        assert_eq!(listen.port(), 9000);
        assert_eq!((c.appid.as_str(), c.secret.as_str()), ("wxA", "S"));
        assert!(c.cors && !c.verified && c.log_requests);
        assert_eq!(c.max_store_bytes, 1024);
        assert_eq!(c.ip_whitelist.map(|l| l.len()), Some(2));
    }

    #[test]
    fn apps() {
        let Ok(Command::Run(_, c)) = parse(&["--app", "wxA:sa", "--app=wxB:s:b"]) else {
            panic!("did not parse");
        };
        assert_eq!((c.appid.as_str(), c.secret.as_str()), ("wxA", "sa"));
        assert_eq!(c.apps, [AppCredentials::new("wxB", "s:b")]);
        let Ok(Command::Run(_, c)) = parse(&["--app", "wxA:sa", "--appid", "wxD"]) else {
            panic!("did not parse");
        };
        assert_eq!(
            (c.appid.as_str(), c.secret.as_str()),
            ("wxD", "emulator-secret")
        );
        assert_eq!(c.apps, [AppCredentials::new("wxA", "sa")]);
        let Ok(Command::Run(_, c)) = parse(&[]) else {
            panic!("did not parse");
        };
        assert_eq!(
            *c,
            Config {
                log_requests: true,
                ..Config::default()
            }
        );
        let Ok(Command::Run(_, c)) = parse(&[
            "--app",
            "wxA:sa",
            "--app",
            "wxB:sb",
            "--callback-token",
            "tokA",
            "--app-push",
            "wxB:tokB:ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopq",
        ]) else {
            panic!("did not parse");
        };
        assert_eq!(c.callback_token, "tokA");
        assert_eq!(c.apps[0].callback_token.as_deref(), Some("tokB"));
        assert!(c.apps[0].aes_key.is_some());
        for bad in [
            &["--app-push", "wxZ:tok"][..],
            &["--aes-key", "short"],
            &["--callback-token", "a b"],
            &["--app", "wxA"],
            &["--app", ":s"],
            &["--app", "wxA:"],
            &["--app", "wxA:1", "--app", "wxA:2"],
            &["--appid", "wxA", "--app", "wxA:2"],
        ] {
            assert!(parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn rejects_bad_input() {
        for bad in [
            &["--listen"][..],
            &["--listen", "nope"],
            &["--bogus"],
            &["--cors=1"],
            &["--ip-whitelist", "1.2.3"],
        ] {
            assert!(parse(bad).is_err(), "{bad:?}");
        }
        assert!(matches!(parse(&["--help"]), Ok(Command::Help)));
    }
}
