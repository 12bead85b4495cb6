#!/usr/bin/env node
'use strict';
// The wxmedia command line: upload, get, hd-voice and token, over the package's MediaClient.
// The access token is printed by `wxmedia token` and nowhere else.

const fsp = require('node:fs/promises');
const path = require('node:path');
const wx = require('../index.cjs');
const node = require('../lib/node.cjs');

const VERSION = require('../package.json').version;

const EXIT = {
  OK: 0,
  FAILED: 1,
  USAGE: 2,
  REFUSED: 3,
  CREDENTIALS: 4,
  INTERRUPTED: 130,
};

// What the core's errcode table says about an error (WeChatError.action) that means "these
// credentials do not work": exit 4.
const CREDENTIAL_ACTIONS = new Set(['REFRESH_TOKEN_AND_RETRY', 'CONFIGURATION']);

const HELP = `wxmedia ${VERSION} — WeChat temporary media (临时素材) from the command line

Usage:
  wxmedia upload <image|voice|video|thumb> <file> [--filename NAME] [--split]
  wxmedia get <mediaId> [-o FILE|DIR|-] [--wav|--mp3]
  wxmedia hd-voice <mediaId> [-o FILE|DIR|-] [--wav|--mp3]
  wxmedia token
  wxmedia help [command]

Commands:
  upload    Uploads <file> as temporary media (kept by WeChat for 3 days) and prints its
            media id (for thumb: WeChat's thumb_media_id). The file is streamed from disk,
            not read into memory. It is checked first, so a file WeChat would refuse (wrong
            format for the type, too large, empty) is refused without any request: image
            JPEG/PNG/GIF up to 10 MiB, voice AMR/MP3 up to 2 MiB, video MP4 up to 10 MiB,
            thumb JPEG up to 64 KiB. Voice may also be a WAV file (any rate, mono or stereo):
            it is encoded to AMR-NB (12.2 kbit/s) first. Voice longer than WeChat's 60 s (or
            over 2 MiB) is refused, naming its length, unless --split: then it is cut on frame
            boundaries, each part is uploaded, and one media id is printed per line.
  get       Downloads media. With -o FILE it is written to FILE (through a temporary file
            renamed once complete: a download that fails leaves no FILE behind) and the path
            is printed; with -o DIR (an existing directory, or a path ending in /) the file
            takes the name WeChat gives; with -o - or no -o the bytes go to stdout (refused if
            stdout is a terminal). WeChat answers a video with a URL: get then downloads the
            video from that URL (it needs no token). With --json and no -o, nothing is
            downloaded: get prints what the media is (its type and name, or a video's URL).
            With --wav, voice is decoded to a WAV file (16-bit mono PCM; AMR is 8 kHz) and
            that is written instead (to DIR as <name>.wav); other media are refused. With
            --mp3, the same as an MP3 (<name>.mp3).
  hd-voice  Downloads a voice message recorded with the JSSDK as 16 kHz speex
            (/cgi-bin/media/get/jssdk); -o as for get. With --wav, decoded to a 16 kHz WAV.
  token     Prints the access token the credentials give (fetching one if needed). It is a
            secret: no other command ever prints it.

Options:
  -o, --output PATH    where get/hd-voice write (FILE, DIR or -)
      --wav            get/hd-voice: write the voice decoded to WAV instead of the original
      --mp3            get/hd-voice: write the voice as MP3 (about a tenth of the WAV)
      --filename NAME  the filename sent with an upload (default: the file's name; its
                       extension is corrected to fit the detected format)
      --split          upload voice: voice over 60 s (or 2 MiB) goes as several parts,
                       one media id per line
      --base-url URL   where to send requests (default https://api.weixin.qq.com, or
                       $WXMEDIA_BASE_URL): the wxmedia Worker, or the emulator
      --video-host H   also trust video URLs on H (host or host:port; comma-separated, or
                       $WXMEDIA_VIDEO_HOSTS): a proxy in front of WeChat's video CDN, or the
                       emulator's CDN listener. WeChat's own URLs need no option
      --token-mode M   stable (default: /cgi-bin/stable_token) or classic (/cgi-bin/token)
      --timeout SECS   bound on each call, retries included (default 60)
      --json           print the result as one JSON object on stdout; on failure print
                       {"error":{...},"exitCode":N} on stdout instead of a message on stderr
      --progress       always show transfer progress on stderr (one line per second when
                       stderr is not a terminal)
      --no-progress    never show it (default: shown on a terminal for transfers over 1 s)
  -q, --quiet          no progress and no notes on stderr (errors are still reported)
  -h, --help           this help
  -V, --version        the version

Credentials (environment only, so they stay out of shell history and process lists):
  WECHAT_ACCESS_TOKEN                 a token to use as is (never refreshed). For the
                                      wxmedia Worker, this is one of its API keys.
  WECHAT_APPID and WECHAT_SECRET      the account's app id and secret: tokens are fetched
                                      (and refreshed once on a token error) as needed.
  WECHAT_TOKEN_BASE                   with WECHAT_APPID and WECHAT_SECRET: a token hub (the
                                      wxmedia Worker's, a 中控 speaking WeChat's token API);
                                      WECHAT_SECRET is then one of its token keys.
  WECHAT_TOKEN_URL (WECHAT_TOKEN_URL_KEY)
                                      a 中控 with its own API: GET for {access_token,
                                      expires_in}, Authorization: Bearer the key.
  WECHAT_ACCESS_TOKEN wins, then WECHAT_TOKEN_URL, then WECHAT_APPID and WECHAT_SECRET.

Exit codes:
  0    success
  1    the call failed: a WeChat error (e.g. 40007, an unknown or expired media id), a
       network error, a timeout, an HTTP error, a download cut short, or a write error;
       with --wav, media that is not voice (NOT_VOICE) or cannot be decoded (BAD_VOICE)
  2    usage: unknown command or option, missing argument, unknown media type, no
       credentials, a bad --base-url, or binary output to a terminal
  3    refused before anything was sent: the file is missing, unreadable or not a file,
       WeChat would refuse it (MediaValidationError: BAD_FORMAT, TOO_LARGE, EMPTY,
       BAD_TYPE), the media id is malformed (BAD_MEDIA_ID), or -o cannot be written
  4    the credentials were refused (a WeChatError whose action is REFRESH_TOKEN_AND_RETRY
       or CONFIGURATION: errcode 40001, 40002, 40013, 40014, 40125, 40164, 41001, 41002,
       41004 or 42001), or HTTP 401/403 (e.g. from the Worker)
  130  interrupted (Ctrl-C); a partial download is removed

Examples:
  export WECHAT_APPID=wx… WECHAT_SECRET=…
  id=$(npx wxmedia upload image photo.jpg)
  npx wxmedia get "$id" -o copy.jpg
  WECHAT_ACCESS_TOKEN=<api key> npx wxmedia --base-url https://media.example.com get "$id" -o .
  npx wxmedia upload voice note.amr --json   # {"type":"voice","mediaId":"…",…}
  npx wxmedia upload voice reply.wav --split # WAV to AMR; one media id per part
`;

const COMMAND_HELP = {
  upload: 'Usage: wxmedia upload <image|voice|video|thumb> <file> [--filename NAME] [--split] [--json]',
  get: 'Usage: wxmedia get <mediaId> [-o FILE|DIR|-] [--wav|--mp3] [--json]',
  'hd-voice': 'Usage: wxmedia hd-voice <mediaId> [-o FILE|DIR|-] [--wav|--mp3] [--json]',
  token: 'Usage: wxmedia token [--json]',
  help: 'Usage: wxmedia help [command]',
};

class UsageError extends Error {}

const VALUE_OPTIONS = new Map([
  ['-o', 'output'],
  ['--output', 'output'],
  ['--filename', 'filename'],
  ['--base-url', 'baseUrl'],
  ['--video-host', 'videoHost'],
  ['--token-mode', 'tokenMode'],
  ['--timeout', 'timeout'],
]);
const FLAG_OPTIONS = new Map([
  ['--json', 'json'],
  ['--wav', 'wav'],
  ['--mp3', 'mp3'],
  ['--split', 'split'],
  ['--progress', 'progress'],
  ['--no-progress', 'noProgress'],
  ['-q', 'quiet'],
  ['--quiet', 'quiet'],
  ['-h', 'help'],
  ['--help', 'help'],
  ['-V', 'version'],
  ['--version', 'version'],
]);

function parseArgs(argv) {
  const opts = {};
  const positional = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--') {
      positional.push(...argv.slice(i + 1));
      break;
    }
    if (arg === '-' || !arg.startsWith('-')) {
      positional.push(arg);
      continue;
    }
    const eq = arg.startsWith('--') ? arg.indexOf('=') : -1;
    const name = eq > 0 ? arg.slice(0, eq) : arg;
    if (VALUE_OPTIONS.has(name)) {
      let value;
      if (eq > 0) value = arg.slice(eq + 1);
      else if (i + 1 < argv.length) value = argv[++i];
      else throw new UsageError(`${name} needs a value`);
      opts[VALUE_OPTIONS.get(name)] = value;
    } else if (FLAG_OPTIONS.has(name) && eq < 0) {
      opts[FLAG_OPTIONS.get(name)] = true;
    } else if ((!arg.startsWith('--') && arg.length > 2) || (eq < 0 && arg.length > 20 && /^[-\w]+$/.test(arg))) {
      // Every short option is one letter, and no long one is over 20 characters: `-_aSMM…` and
      // `--fiaOG…` are arguments, e.g. media ids (they are base64url, so one in 64 starts with
      // '-', and one in 4096 with '--').
      positional.push(arg);
    } else {
      throw new UsageError(`unknown option ${name}`);
    }
  }
  return { opts, positional };
}

// ---------------------------------------------------------------------------------------------
// Output

/** Removes secrets the CLI was given from text it prints (the client never puts them there). */
function scrub(text) {
  let out = String(text);
  for (const key of ['WECHAT_ACCESS_TOKEN', 'WECHAT_SECRET']) {
    const secret = process.env[key];
    if (secret && secret.length >= 4) out = out.split(secret).join('[redacted]');
  }
  return out;
}

function formatBytes(n) {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

/**
 * A progress line on stderr. On a terminal (unless --no-progress/--quiet) it appears once a
 * transfer has run for a second and is redrawn in place; with --progress it is always shown,
 * as one line per second when stderr is not a terminal, and a last line when done.
 */
class Progress {
  constructor(ctx, label, total) {
    this.label = label;
    this.total = total;
    this.bytes = null;
    this.start = Date.now();
    this.tty = Boolean(process.stderr.isTTY);
    this.mode = ctx.quiet || ctx.noProgress ? 'off' : ctx.progress ? 'forced' : this.tty ? 'auto' : 'off';
    this.shown = false;
    this.lastLine = 0;
    this.timer = null;
    if (this.mode === 'off') return;
    const tick = this.mode === 'forced' && !this.tty ? 1000 : 200;
    this.timer = setInterval(() => this.render(false), tick);
    this.timer.unref();
    if (this.mode === 'forced') this.render(false);
  }

  update(bytes, total) {
    this.bytes = bytes;
    if (total != null) this.total = total;
  }

  text(done) {
    const secs = (Date.now() - this.start) / 1000;
    if (done) {
      const amount = this.bytes != null ? formatBytes(this.bytes) : this.total != null ? formatBytes(this.total) : '';
      return `wxmedia: ${done} ${amount} in ${secs.toFixed(1)} s`.replace(/ {2,}/g, ' ');
    }
    if (this.bytes == null) {
      const size = this.total != null ? ` (${formatBytes(this.total)})` : '';
      return `wxmedia: ${this.label}${size}, ${Math.floor(secs)} s`;
    }
    const pct = this.total ? ` (${Math.floor((this.bytes / this.total) * 100)}%)` : '';
    const of = this.total != null ? ` / ${formatBytes(this.total)}` : '';
    return `wxmedia: ${this.label}: ${formatBytes(this.bytes)}${of}${pct}, ${Math.floor(secs)} s`;
  }

  render(force) {
    if (this.mode === 'off') return;
    if (this.mode === 'auto' && Date.now() - this.start < 1000) return;
    if (this.tty) {
      process.stderr.write(`\r\x1b[K${this.text(null)}`);
    } else if (force || Date.now() - this.lastLine >= 1000 || !this.shown) {
      process.stderr.write(`${this.text(null)}\n`);
      this.lastLine = Date.now();
    }
    this.shown = true;
  }

  finish(doneWord) {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    if (this.mode === 'off' || !this.shown) return;
    if (this.tty) process.stderr.write('\r\x1b[K');
    if (doneWord) process.stderr.write(`${this.text(doneWord)}\n`);
  }
}

// ---------------------------------------------------------------------------------------------
// Errors and exit codes

function exitCodeFor(err, ctx) {
  if (err instanceof UsageError) return EXIT.USAGE;
  if (ctx.interrupted) return EXIT.INTERRUPTED;
  // --wav on media that is not voice, or voice that does not decode: the download was made.
  if (wx.MediaValidationError.is(err) && (err.code === 'NOT_VOICE' || err.code === 'BAD_VOICE') && ctx.command !== 'upload') return EXIT.FAILED;
  if (wx.MediaValidationError.is(err)) return EXIT.REFUSED;
  if (wx.WeChatError.is(err)) return CREDENTIAL_ACTIONS.has(err.action) ? EXIT.CREDENTIALS : EXIT.FAILED;
  if (wx.NetworkError.is(err) && (err.status === 401 || err.status === 403)) return EXIT.CREDENTIALS;
  if (node.isFsError(err) && !ctx.requested) return EXIT.REFUSED;
  return EXIT.FAILED;
}

function errorJson(err) {
  const out = {
    name: err && err.name ? String(err.name) : 'Error',
    code: err && err.code != null ? String(err.code) : null,
    message: scrub(err && err.message ? err.message : String(err)),
  };
  for (const key of ['errcode', 'errmsg', 'hint', 'rid', 'description', 'action', 'status', 'path', 'seconds', 'limit']) {
    if (err && err[key] != null) out[key] = typeof err[key] === 'string' ? scrub(err[key]) : err[key];
  }
  return out;
}

function describe(err) {
  if (err instanceof UsageError) return err.message;
  if (wx.WeChatError.is(err)) {
    const what = err.description ? `\n  ${err.description}` : '';
    return `${err.message}${what}`;
  }
  if (node.isFsError(err)) {
    const reasons = {
      ENOENT: 'no such file or directory',
      EISDIR: 'is a directory, not a file',
      EACCES: 'permission denied',
      ENOTDIR: 'a part of the path is not a directory',
      ENOSPC: 'no space left on the device',
      EPIPE: 'the output was closed early',
    };
    const reason = reasons[err.code] || err.message;
    return err.path ? `${err.path}: ${reason}` : reason;
  }
  return err && err.message ? err.message : String(err);
}

function report(err, ctx) {
  const code = exitCodeFor(err, ctx);
  if (ctx.json) {
    process.stdout.write(`${JSON.stringify({ error: errorJson(err), exitCode: code })}\n`);
  } else {
    const name = err && err.name && err.name !== 'Error' && !(err instanceof UsageError) ? `${err.name}: ` : '';
    process.stderr.write(`wxmedia: ${scrub(`${name}${describe(err)}`)}\n`);
    if (err instanceof UsageError) {
      process.stderr.write(`${COMMAND_HELP[ctx.command] || 'Run `wxmedia --help` for usage.'}\n`);
    }
  }
  return code;
}

function printJson(value) {
  process.stdout.write(`${JSON.stringify(value)}\n`);
}

// ---------------------------------------------------------------------------------------------
// The client

/** Where the credentials say tokens come from, in words (for `wxmedia token`). */
function tokenSource() {
  const env = process.env;
  if (env.WECHAT_ACCESS_TOKEN) return 'WECHAT_ACCESS_TOKEN (a fixed token)';
  if (env.WECHAT_TOKEN_URL) return `a 中控 at WECHAT_TOKEN_URL (${new URL(env.WECHAT_TOKEN_URL).origin})`;
  if (env.WECHAT_TOKEN_BASE) return `a token hub at WECHAT_TOKEN_BASE (${new URL(env.WECHAT_TOKEN_BASE).origin})`;
  return 'WeChat\'s token API with WECHAT_APPID and WECHAT_SECRET';
}

function makeClient(ctx) {
  const options = {};
  const token = process.env.WECHAT_ACCESS_TOKEN;
  const appId = process.env.WECHAT_APPID;
  const secret = process.env.WECHAT_SECRET;
  const tokenUrl = process.env.WECHAT_TOKEN_URL;
  const tokenBase = process.env.WECHAT_TOKEN_BASE;
  if (token) {
    options.accessToken = token;
  } else if (tokenUrl) {
    options.tokenUrl = tokenUrl;
    if (process.env.WECHAT_TOKEN_URL_KEY) options.tokenKey = process.env.WECHAT_TOKEN_URL_KEY;
  } else if (appId && secret) {
    options.appId = appId;
    options.appSecret = secret;
    if (tokenBase) options.tokenBase = tokenBase;
  } else {
    throw new UsageError('no credentials: set WECHAT_APPID and WECHAT_SECRET, WECHAT_TOKEN_URL, or WECHAT_ACCESS_TOKEN');
  }
  const mode = ctx.opts.tokenMode;
  if (mode !== undefined) {
    if (mode !== 'stable' && mode !== 'classic') throw new UsageError(`--token-mode must be stable or classic, not ${mode}`);
    options.tokenMode = mode;
  }
  const base = ctx.opts.baseUrl !== undefined ? ctx.opts.baseUrl : process.env.WXMEDIA_BASE_URL;
  if (base) options.baseUrl = base;
  const videoHosts = ctx.opts.videoHost !== undefined ? ctx.opts.videoHost : process.env.WXMEDIA_VIDEO_HOSTS;
  if (videoHosts) options.videoHosts = videoHosts.split(',').map((h) => h.trim()).filter(Boolean);
  if (ctx.opts.timeout !== undefined) {
    const secs = Number(ctx.opts.timeout);
    if (!Number.isFinite(secs) || secs <= 0) throw new UsageError(`--timeout must be a positive number of seconds, not ${ctx.opts.timeout}`);
    options.timeoutMs = Math.round(secs * 1000);
  }
  try {
    return new wx.MediaClient(options);
  } catch (err) {
    // A TypeError from the constructor: a malformed option, such as --base-url.
    const message = err && err.message ? err.message : String(err);
    throw new UsageError(message.replace(/^option baseUrl/, '--base-url').replace(/^option videoHosts/, '--video-host'));
  }
}

// ---------------------------------------------------------------------------------------------
// Commands

const MEDIA_TYPES = ['image', 'voice', 'video', 'thumb'];

async function cmdUpload(ctx) {
  const [type, file, ...rest] = ctx.args;
  if (!type || !file) throw new UsageError('upload needs a media type and a file');
  if (rest.length) throw new UsageError(`unexpected argument ${rest[0]}`);
  if (!MEDIA_TYPES.includes(type)) throw new UsageError(`unknown media type ${type}: use image, voice, video or thumb`);
  if (ctx.opts.split && type !== 'voice') throw new UsageError('--split is for voice');
  const client = makeClient(ctx);
  const blob = await node.openMedia(file);
  const filename = ctx.opts.filename || path.basename(file);
  if (type === 'voice') return uploadVoice(ctx, client, file, blob, filename);
  const progress = new Progress(ctx, `uploading ${path.basename(file)}`, blob.size);
  ctx.requested = true;
  let result;
  try {
    result = await client.upload(type, blob, { filename, signal: ctx.signal });
  } finally {
    progress.finish(result ? 'uploaded' : null);
  }
  if (ctx.json) {
    printJson({ type: result.type, mediaId: result.mediaId, createdAt: result.createdAt, file, size: blob.size });
  } else {
    process.stdout.write(`${result.mediaId}\n`);
  }
}

/** The most bytes `upload voice` reads into memory: the WAV encodeVoice() takes (10 minutes). */
const MAX_VOICE_INPUT = 256 * 1024 * 1024;

/**
 * `upload voice FILE`: through uploadVoice(), so a WAV is encoded to AMR-NB (MR122) first, and
 * AMR or MP3 goes as it is. Over WeChat's 60 s (or 2 MiB) it is refused before anything is sent,
 * naming the limit and the duration, unless --split: then each part is uploaded and one media id
 * printed per line.
 */
async function uploadVoice(ctx, client, file, blob, filename) {
  if (blob.size > MAX_VOICE_INPUT) {
    throw wxError('TOO_LARGE', `${file}: ${formatBytes(blob.size)} is more than the ${formatBytes(MAX_VOICE_INPUT)} read for voice`);
  }
  const bytes = new Uint8Array(await blob.arrayBuffer());
  const progress = new Progress(ctx, `uploading ${path.basename(file)}`, blob.size);
  ctx.requested = true;
  let parts;
  try {
    parts = await client.uploadVoice(bytes, { filename, split: Boolean(ctx.opts.split), signal: ctx.signal });
  } catch (err) {
    if (wx.MediaValidationError.is(err) && err.code === 'TOO_LONG' && err.seconds != null) {
      throw wxError('TOO_LONG', `${file}: ${err.seconds} s of voice is longer than WeChat's limit of ${err.limit} s for one voice; --split uploads it as several parts`, { seconds: err.seconds, limit: err.limit });
    }
    if (wx.MediaValidationError.is(err) && err.code === 'TOO_LARGE' && err.size != null) {
      throw wxError('TOO_LARGE', `${file}: ${formatBytes(err.size)} of voice is more than WeChat's limit of ${formatBytes(err.limit)} for one voice; --split uploads it as several parts`, { seconds: err.seconds, size: err.size, limit: err.limit });
    }
    throw err;
  } finally {
    progress.finish(parts ? 'uploaded' : null);
  }
  if (ctx.json) {
    const [first] = parts;
    printJson({
      type: first.type,
      mediaId: first.mediaId,
      createdAt: first.createdAt,
      file,
      size: blob.size,
      format: first.format,
      encoded: first.encoded,
      seconds: Math.round(parts.reduce((sum, p) => sum + p.seconds, 0) * 1000) / 1000,
      mediaIds: parts.map((p) => p.mediaId),
      parts: parts.map((p) => ({ mediaId: p.mediaId, createdAt: p.createdAt, seconds: p.seconds, size: p.size })),
    });
  } else {
    process.stdout.write(parts.map((p) => `${p.mediaId}\n`).join(''));
  }
}

/** A MediaValidationError made here (the CLI's own refusals of voice). */
function wxError(code, message, extra) {
  return new wx.MediaValidationError(message, Object.assign({ code }, extra));
}

/** `-o` to a kind of destination. */
async function outputOf(ctx) {
  const o = ctx.opts.output;
  if (o === undefined) return ctx.json ? { kind: 'meta' } : { kind: 'stdout' };
  if (o === '') throw new UsageError('-o needs a path');
  if (o === '-') return { kind: 'stdout' };
  if (o.endsWith('/') || o.endsWith(path.sep)) return { kind: 'dir', path: o };
  const stat = await fsp.stat(o).catch(() => null);
  if (stat && stat.isDirectory()) return { kind: 'dir', path: o };
  return { kind: 'file', path: o };
}

/** What --wav and --mp3 write: the extension and the Content-Type. */
const RENDITIONS = { wav: 'audio/wav', mp3: 'audio/mpeg' };

/**
 * --wav or --mp3: the media decoded to WAV (or MP3), as a MediaFile-like answer (`kind`, `body`,
 * `contentType`, `filename`, `contentLength`) that saving and printing take like any download.
 */
async function asRendition(media, to) {
  if (media.kind !== 'media') {
    throw new wx.MediaValidationError(`--${to}: the media is a video, not voice`, { code: 'NOT_VOICE' });
  }
  const bytes = await (to === 'mp3' ? media.mp3() : media.wav());
  const base = media.filename ? media.filename.replace(/\.[^.]*$/, '') : null;
  return {
    kind: 'media',
    body: new Blob([bytes]).stream(),
    bodyUsed: false,
    contentType: RENDITIONS[to],
    filename: base ? `${base}.${to}` : null,
    contentLength: bytes.length,
  };
}

/** A safe file name for `-o DIR`: WeChat's filename, else the media id (.mp4 for videos). */
function nameFor(mediaId, src) {
  const given = src.filename ? path.basename(src.filename.replace(/\\/g, '/')) : '';
  const clean = given.replace(/[\u0000-\u001f/]/g, '_');
  if (clean && clean !== '.' && clean !== '..') return clean;
  const base = mediaId.replace(/[^\w.-]/g, '_');
  if (src.kind === 'video') return `${base}.mp4`;
  const ext = Object.keys(RENDITIONS).find((k) => RENDITIONS[k] === src.contentType);
  return ext ? `${base}.${ext}` : base;
}

async function cmdDownload(ctx, hd) {
  const [mediaId, ...rest] = ctx.args;
  if (!mediaId) throw new UsageError(`${ctx.command} needs a media id`);
  if (rest.length) throw new UsageError(`unexpected argument ${rest[0]}`);
  const out = await outputOf(ctx);
  if (out.kind === 'stdout' && process.stdout.isTTY) {
    throw new UsageError('refusing to write media to a terminal: use -o FILE, or redirect stdout');
  }
  const client = makeClient(ctx);
  const fetchOriginal = () => {
    ctx.requested = true;
    const opts = { signal: ctx.signal };
    return hd ? client.getHdVoice(mediaId, opts) : client.get(mediaId, opts);
  };
  if (ctx.opts.wav && ctx.opts.mp3) throw new UsageError('--wav and --mp3 do not go together');
  const to = ctx.opts.wav ? 'wav' : ctx.opts.mp3 ? 'mp3' : null;
  const fetchMedia = to ? () => fetchOriginal().then((m) => asRendition(m, to)) : fetchOriginal;
  const label = `downloading ${mediaId.length > 24 ? `${mediaId.slice(0, 23)}…` : mediaId}`;

  if (out.kind === 'meta') {
    const media = await fetchMedia();
    if (media.kind === 'video') {
      printJson({ kind: 'video', mediaId, videoUrl: media.videoUrl });
    } else {
      printJson({
        kind: 'media',
        mediaId,
        contentType: media.contentType,
        filename: media.filename ?? null,
        contentLength: media.contentLength ?? null,
      });
      if (media.body) await media.body.cancel().catch(() => {});
    }
    return;
  }

  const progress = new Progress(ctx, label, null);
  const options = {
    signal: ctx.signal,
    onProgress: ({ bytes, total }) => progress.update(bytes, total),
  };
  let saved = null;
  try {
    if (out.kind === 'stdout') {
      const src = await node.sourceOf(await fetchMedia(), ctx.signal);
      try {
        const bytes = await node.pump(src, process.stdout, options);
        saved = { kind: src.kind, path: '-', bytes, contentType: src.contentType, filename: src.filename };
        if (src.kind === 'video') saved.videoUrl = src.videoUrl;
      } finally {
        if (!src.body.locked) await src.body.cancel().catch(() => {});
      }
    } else if (out.kind === 'dir') {
      saved = await node.saveTo(out.path, fetchMedia, options, (src) => nameFor(mediaId, src));
    } else {
      saved = await node.saveTo(out.path, fetchMedia, options);
    }
  } finally {
    progress.finish(saved ? 'downloaded' : null);
  }
  if (ctx.json) {
    printJson({ mediaId, ...saved });
  } else if (saved.path !== '-') {
    process.stdout.write(`${saved.path}\n`);
  }
}

async function cmdToken(ctx) {
  if (ctx.args.length) throw new UsageError(`unexpected argument ${ctx.args[0]}`);
  const client = makeClient(ctx);
  ctx.requested = true;
  const token = await client.accessToken();
  const source = tokenSource();
  if (ctx.json) printJson({ accessToken: token, source });
  else {
    process.stdout.write(`${token}\n`);
    // Where it came from, on stderr: stdout stays the token alone, for scripts.
    process.stderr.write(`wxmedia: the token came from ${source}\n`);
  }
}

const COMMANDS = {
  upload: cmdUpload,
  get: (ctx) => cmdDownload(ctx, false),
  'hd-voice': (ctx) => cmdDownload(ctx, true),
  token: cmdToken,
};

async function main(argv) {
  const ctx = { json: argv.includes('--json'), command: null, requested: false, interrupted: false };
  try {
    const { opts, positional } = parseArgs(argv);
    Object.assign(ctx, { opts, json: Boolean(opts.json), progress: opts.progress, noProgress: opts.noProgress, quiet: opts.quiet });
    if (opts.version) {
      process.stdout.write(`${VERSION}\n`);
      return EXIT.OK;
    }
    let [command, ...args] = positional;
    if (command === 'help') {
      const topic = args[0];
      if (topic && !COMMAND_HELP[topic]) throw new UsageError(`no command ${topic}`);
      process.stdout.write(HELP);
      return EXIT.OK;
    }
    if (opts.help) {
      process.stdout.write(HELP);
      return EXIT.OK;
    }
    if (!command) {
      process.stderr.write(HELP);
      return EXIT.USAGE;
    }
    ctx.command = command;
    const run = COMMANDS[command];
    if (!run) throw new UsageError(`unknown command ${command}`);
    ctx.args = args;
    const controller = new AbortController();
    ctx.signal = controller.signal;
    const onSignal = () => {
      ctx.interrupted = true;
      controller.abort();
    };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    try {
      await run(ctx);
    } finally {
      process.removeListener('SIGINT', onSignal);
      process.removeListener('SIGTERM', onSignal);
    }
    return EXIT.OK;
  } catch (err) {
    return report(err, ctx);
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    process.stderr.write(`wxmedia: internal error: ${scrub(err && err.stack ? err.stack : err)}\n`);
    process.exitCode = EXIT.FAILED;
  },
);
