'use strict';
// Shared by the package suites. They run from a temporary project where tests/package/run
// installed the tarball, so `require('wxmedia')` is the installed package, never src/ or pkg/.

const assert = require('node:assert/strict');
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const EMU = process.env.EMULATOR_URL;
if (!EMU) throw new Error('EMULATOR_URL is not set: run these suites through tests/package/run');
/** The emulator's video CDN listener, and its host:port for the client's videoHosts option. */
const CDN = process.env.EMULATOR_CDN_URL;
if (!CDN) throw new Error('EMULATOR_CDN_URL is not set: run these suites through tests/package/run');
const CDN_HOST = CDN.slice('http://'.length);
const PROJECT = process.env.WXMEDIA_PROJECT || path.resolve(__dirname, '..');
const BIN = path.join(PROJECT, 'node_modules', '.bin', 'wxmedia');
const APPID = 'wx0000000000000001';
const SECRET = 'emulator-secret';

/** Asserts that `wxmedia` resolves into the temporary project's node_modules. */
function assertInstalled(resolved) {
  const expected = path.join(fs.realpathSync(PROJECT), 'node_modules', 'wxmedia') + path.sep;
  assert.ok(
    fs.realpathSync(resolved).startsWith(expected),
    `wxmedia resolved to ${resolved}, not into ${expected}`,
  );
}

// --- the emulator's control API -------------------------------------------------------------

async function control(method, p, body) {
  const res = await fetch(`${EMU}${p}`, {
    method,
    headers: body ? { 'content-type': 'application/json' } : {},
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  assert.ok(res.ok, `${method} ${p}: HTTP ${res.status} ${text}`);
  return JSON.parse(text);
}
const reset = () => control('POST', '/_emulator/reset');
const fault = (f) => control('POST', '/_emulator/faults', f);
const advanceClock = (secs) => control('POST', '/_emulator/clock', { advance_secs: secs });
const storedMedia = async () => (await control('GET', '/_emulator/media')).media;
async function requests(p) {
  return control('GET', `/_emulator/requests${p ? `?path=${encodeURIComponent(p)}` : ''}`);
}
/** Every access token the emulator has seen in a query since the last reset. */
async function tokensSeen() {
  const all = await requests();
  return [...new Set(all.map((r) => r.query && r.query.access_token).filter(Boolean))];
}

// --- samples: just enough of each format for the magic-byte checks ---------------------------

function jpeg(len = 2048) {
  const head = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00, 0x01]);
  const body = Buffer.alloc(Math.max(0, len - head.length - 2));
  for (let i = 0; i < body.length; i++) body[i] = i % 251;
  return Buffer.concat([head, body, Buffer.from([0xff, 0xd9])]);
}
function amr() {
  return Buffer.concat([Buffer.from('#!AMR\n'), Buffer.alloc(64, 0x3c)]);
}
function mp4() {
  return Buffer.concat([
    Buffer.from([0, 0, 0, 0x18]),
    Buffer.from('ftypisom'),
    Buffer.from([0, 0, 2, 0]),
    Buffer.from('isommp41'),
    Buffer.alloc(256),
  ]);
}

/** The repository's voice fixtures (codecs/voice/tests/fixtures), given by tests/package/run. */
const VOICE_FIXTURES = process.env.WXMEDIA_VOICE_FIXTURES || path.join(__dirname, '..', '..', 'tests', 'fixtures', 'voice');
/** A voice fixture's bytes. */
function voiceFixture(name) {
  return fs.readFileSync(path.join(VOICE_FIXTURES, name));
}

/**
 * Checks a WAV from decodeVoice(): a 44-byte RIFF/WAVE header, 16-bit mono at `rate`, and (when
 * given) a data chunk equal to the reference PCM `ref`. Returns the number of samples.
 */
function assertWav(wav, rate, ref) {
  const b = Buffer.from(wav.buffer, wav.byteOffset, wav.byteLength);
  assert.ok(wav instanceof Uint8Array, 'a Uint8Array');
  assert.equal(b.toString('latin1', 0, 4), 'RIFF');
  assert.equal(b.toString('latin1', 8, 16), 'WAVEfmt ');
  assert.equal(b.readUInt16LE(22), 1, 'mono');
  assert.equal(b.readUInt32LE(24), rate, 'sample rate');
  assert.equal(b.readUInt16LE(34), 16, '16-bit');
  assert.equal(b.toString('latin1', 36, 40), 'data');
  assert.equal(b.readUInt32LE(40), b.length - 44);
  if (ref) assert.ok(b.subarray(44).equals(ref), 'the data chunk equals the reference PCM');
  return (b.length - 44) / 2;
}

/** A fresh directory, removed when the test ends. */
function tempDir(t) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wxmedia-t-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}
function writeSample(dir, name, bytes) {
  const p = path.join(dir, name);
  fs.writeFileSync(p, bytes);
  return p;
}

// --- the CLI ---------------------------------------------------------------------------------

/** The environment without any WECHAT_* or WXMEDIA_* variable of the caller, plus `extra`. */
function cleanEnv(extra) {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!k.startsWith('WECHAT_') && !k.startsWith('WXMEDIA_') && k !== 'NODE_OPTIONS') env[k] = v;
  }
  return Object.assign(env, extra);
}
const creds = { WECHAT_APPID: APPID, WECHAT_SECRET: SECRET };

/**
 * Runs the installed `wxmedia` bin (its shebang, through the .bin link, as npx would) and
 * resolves { code, signal, stdout (Buffer), out (string), err (string) }. Unless `leakCheck` is
 * false, asserts afterwards that neither stream contains an access token the emulator has seen,
 * the secrets in the environment, or anything shaped like a token (stdout is not searched for
 * shapes when `binaryStdout`: media bytes). `onSpawn(child)` can signal it.
 */
async function cli(args, opts = {}) {
  const env = cleanEnv(opts.env === undefined ? creds : opts.env);
  const argv = opts.node ? [...opts.node, BIN, ...args] : args;
  const child = spawn(opts.node ? process.execPath : BIN, argv, {
    cwd: opts.cwd || PROJECT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const out = [];
  const err = [];
  child.stdout.on('data', (c) => out.push(c));
  child.stderr.on('data', (c) => err.push(c));
  if (opts.onSpawn) opts.onSpawn(child);
  const [code, signal] = await new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (c, s) => resolve([c, s]));
  });
  const result = {
    code,
    signal,
    stdout: Buffer.concat(out),
    out: Buffer.concat(out).toString('utf8'),
    err: Buffer.concat(err).toString('utf8'),
  };
  if (opts.leakCheck !== false) {
    await assertNoLeaks(opts.binaryStdout ? [result.err] : [result.out, result.err], env, `wxmedia ${args.join(' ')}`, [result.out]);
  }
  return result;
}

/**
 * Asserts that none of `texts` (nor `binary`, searched only for exact secrets) contains an access
 * token the emulator has seen in a query, a secret of `env`, or anything shaped like a token
 * (a token fetched but never sent is not in the log; the emulator's tokens are 136 characters of
 * [A-Za-z0-9_-], its media ids 64).
 */
async function assertNoLeaks(texts, env, label, binary = []) {
  const secrets = [...(await tokensSeen()), env.WECHAT_SECRET, env.WECHAT_ACCESS_TOKEN].filter(
    (s) => s && s.length >= 8,
  );
  for (const text of [...texts, ...binary]) {
    for (const s of secrets) assert.ok(!text.includes(s), `the output of ${label} contains a secret`);
  }
  for (const text of texts) {
    assert.doesNotMatch(text, /[A-Za-z0-9_-]{100,}/, `${label} printed something shaped like a token`);
  }
}

/** Asserts an exit code, showing the output when it differs. */
function exits(result, code) {
  assert.equal(result.code, code, `exit ${result.code}, expected ${code}\nstdout: ${result.out.slice(0, 2000)}\nstderr: ${result.err}`);
}

/** What only the Node entry exports (the Node helpers). */
const NODE_ONLY = ['openMedia', 'saveMedia'];

/**
 * Asserts what fixtures/roundtrip.mjs resolved to in some runtime: the bytes came back equal,
 * the emulator stored them, the errors were typed (instanceof and code), and the namespace had
 * the shared API: every export of the Node entry but the Node helpers.
 */
/**
 * How long `mp3` decodes, in seconds at `rate`, by ffmpeg (which trims the encoder's delay and
 * padding by the gapless LAME tag) and by sox (libmad, which does not: it decodes LAME's own
 * files the codec's delay plus padding long).
 */
function mp3Seconds(mp3, rate) {
  const { execFileSync } = require('node:child_process');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wxmedia-mp3-'));
  const file = path.join(dir, 'v.mp3');
  fs.writeFileSync(file, mp3);
  try {
    const ffmpeg = execFileSync('ffmpeg', ['-v', 'error', '-i', file, '-f', 's16le', '-ac', '1', '-ar', String(rate), '-'], { maxBuffer: 1 << 28 });
    const sox = execFileSync('sox', [file, '-t', 'raw', '-e', 'signed', '-b', '16', '-c', '1', '-r', String(rate), '-'], { maxBuffer: 1 << 28 });
    return { ffmpeg: ffmpeg.length / 2 / rate, sox: sox.length / 2 / rate };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Asserts that `mp3` (MPEG-2/2.5 Layer III at `rate`) decodes to `seconds`: ffmpeg to within one
 * frame (576 samples), sox to that plus at most the codec's delay and a frame of padding.
 */
function assertMp3Duration(mp3, seconds, rate, label) {
  assert.equal(mp3[0], 0xff, `${label}: an MP3 frame sync first`);
  const frame = 576 / rate;
  const got = mp3Seconds(mp3, rate);
  assert.ok(Math.abs(got.ffmpeg - seconds) <= frame, `${label}: ffmpeg decodes ${got.ffmpeg} s of ${seconds} s`);
  assert.ok(got.sox - seconds >= 0 && got.sox - seconds <= 3 * frame, `${label}: sox decodes ${got.sox} s of ${seconds} s`);
}

/** How many 8 kHz samples sox (opencore-amrnb) decodes `amr` to. */
function amrSamples(amr) {
  const { execFileSync } = require('node:child_process');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wxmedia-amr-'));
  try {
    fs.writeFileSync(path.join(dir, 'v.amr'), amr);
    return execFileSync('sox', ['-t', 'amr-nb', path.join(dir, 'v.amr'), '-t', 's16', '-'], { maxBuffer: 1 << 28 }).length / 2;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** What `sox in.wav -r 8000 -c 1 -C MODE -t amr-nb out.amr` writes for the WAV `wav`. */
function soxAmr(wav, mode) {
  const { execFileSync } = require('node:child_process');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wxmedia-amr-'));
  try {
    fs.writeFileSync(path.join(dir, 'in.wav'), wav);
    execFileSync('sox', [path.join(dir, 'in.wav'), '-r', '8000', '-c', '1', '-C', String(mode), '-t', 'amr-nb', path.join(dir, 'out.amr')]);
    return fs.readFileSync(path.join(dir, 'out.amr'));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Asserts that `amr` is an AMR-NB file in `mode` that sox decodes to `seconds` (± one 20 ms
 * frame: the encoder pads the last frame with silence).
 */
function assertAmrDuration(amr, seconds, mode, label) {
  assert.equal(Buffer.from(amr.subarray(0, 6)).toString('latin1'), '#!AMR\n', `${label}: the AMR magic`);
  assert.equal((amr[6] >> 3) & 15, mode, `${label}: the first frame's mode`);
  const got = amrSamples(amr) / 8000;
  assert.ok(Math.abs(got - seconds) <= 0.02 + 1e-9, `${label}: sox decodes ${got} s of ${seconds} s`);
}

/** The records of an AMR file after its magic number, as hex strings. */
function amrRecords(amr) {
  const payload = [12, 13, 15, 17, 19, 20, 26, 31, 5, -1, -1, -1, -1, -1, -1, 0];
  assert.equal(Buffer.from(amr.subarray(0, 6)).toString('latin1'), '#!AMR\n');
  const out = [];
  for (let at = 6; at < amr.length;) {
    const len = 1 + payload[(amr[at] >> 3) & 15];
    out.push(Buffer.from(amr.subarray(at, at + len)).toString('hex'));
    at += len;
  }
  return out;
}

/** The frame types of the records of an AMR file (8: SID, 15: NO_DATA). */
function amrFrameTypes(amr) {
  return amrRecords(amr).map((record) => (parseInt(record.slice(0, 2), 16) >> 3) & 15);
}

/**
 * The AMR facts of fixtures/roundtrip.mjs: in all eight modes, the 8 kHz mono 16-bit WAV
 * (speech, a pause, speech) encodes with DTX to exactly what sox (opencore-amrnb, which always
 * encodes with DTX) writes for it, pause frames and all; without DTX (the default) to a frame of
 * the mode for every 20 ms; both inputs decode to their duration; the default mode is MR122.
 */
function assertAmrFacts(a, label) {
  const wav = Buffer.from(a.wav, 'base64');
  const seconds = (wav.length - 44) / 2 / 8000;
  for (let mode = 0; mode < 8; mode++) {
    const amr = Buffer.from(a.fromWav[mode], 'base64');
    const what = `${label}: encodeVoice(WAV, { to: 'amr', mode: ${mode}`;
    assertAmrDuration(amr, seconds, mode, `${what}, dtx: true })`);
    assert.ok(amr.equals(soxAmr(wav, mode)), `${what}, dtx: true }) differs from what sox writes`);
    assert.ok(amrFrameTypes(amr).some((t) => t === 8 || t === 15), `${what}, dtx: true }): the pause is SID/NO_DATA frames`);
    const plain = Buffer.from(a.noDtx[mode], 'base64');
    assertAmrDuration(plain, seconds, mode, `${what} })`);
    assert.deepEqual(new Set(amrFrameTypes(plain)), new Set([mode]), `${what} }): every frame in the mode`);
    assertAmrDuration(Buffer.from(a.fromPcm[mode], 'base64'), 0.75, mode, `${label}: encodeVoice(PCM, { to: 'amr', mode: ${mode} })`);
  }
  assert.equal(a.byDefault, a.noDtx[7], `${label}: the default AMR mode is MR122, without DTX`);
  assert.deepEqual(a.badMode, { name: 'TypeError', code: null, instanceOf: false }, `${label}: AMR mode 8`);
  assert.deepEqual(a.dtxOnMp3, { name: 'TypeError', code: null, instanceOf: false }, `${label}: dtx for MP3`);
}

/** The encodeVoice/splitVoice facts of fixtures/roundtrip.mjs, checked with ffmpeg and sox. */
async function assertEncodeFacts(e, label, { browser = false } = {}) {
  const wx = require('wxmedia');
  const { hostileWavs } = await import(path.join(__dirname, 'fixtures', 'roundtrip.mjs'));
  assert.equal(e.isUint8Array, true, `${label}: encodeVoice resolves to a Uint8Array`);
  const wav = Buffer.from(e.mp3.wav, 'base64');
  assertMp3Duration(wav, 2, 16000, `${label}: encodeVoice(WAV)`);
  assertMp3Duration(Buffer.from(e.mp3.pcm, 'base64'), 1.5, 16000, `${label}: encodeVoice(PCM)`);
  if (browser) {
    assert.ok(e.webAudio, `${label}: Web Audio decoded the MP3`);
    assert.ok(Math.abs(e.webAudio.seconds - 2) <= 576 / 16000, `${label}: Web Audio decodes ${e.webAudio.seconds} s of 2 s`);
  }
  const typed = (code) => ({ name: 'MediaValidationError', code, instanceOf: true });
  for (const [name, [, code]] of Object.entries(hostileWavs())) {
    assert.deepEqual(e.hostile[name], typed(code), `${label}: hostile WAV, ${name}`);
  }
  assertAmrFacts(e.amr, label);
  assert.deepEqual(e.badRate, { name: 'TypeError', code: null, instanceOf: false }, `${label}: a rate of 2^32`);
  assert.deepEqual(e.zeroChannels, typed('BAD_AUDIO'), `${label}: zero channels`);
  assert.deepEqual(e.badTo, { name: 'TypeError', code: null, instanceOf: false }, `${label}: to 'ogg'`);
  const half = [0x23, 0x21, 0x41, 0x4d, 0x52, 0x0a, 0x7c, 0x7c, 0x7c, 0x7c, 0x7c];
  assert.deepEqual(e.amrParts, [half, half], `${label}: splitVoice(AMR)`);
  const parts = await wx.splitVoice(wav, { maxSeconds: 0.5 });
  assert.deepEqual(e.mp3Parts, parts.map((p) => p.length), `${label}: splitVoice(MP3) as in Node`);
  assert.equal(e.mp3Parts.length, 5, `${label}: 2 s of MP3 in parts of 0.5 s`);
  assert.deepEqual(e.splitJunk, typed('BAD_VOICE'), `${label}: splitVoice(junk)`);
}

async function assertRoundTrip(r, label, { browser = false } = {}) {
  assert.ok(r && typeof r === 'object', `${label}: no result: ${JSON.stringify(r)}`);
  assert.equal(r.error, undefined, `${label} failed: ${r.error}`);
  const expected = Object.keys(require('wxmedia')).filter((n) => !NODE_ONLY.includes(n)).sort();
  assert.deepEqual(r.exports, expected, `${label}: the exports`);
  assert.deepEqual(r.voice, { riff: 'RIFF', samples: 1600 }, `${label}: decodeVoice`);
  await assertEncodeFacts(r.encode, label, { browser });
  assert.deepEqual(r.push, {
    sample: { mode: 'compat', xml: '<xml>' },
    signatureOk: true,
    reopened: true,
    forged: { name: 'PushError', code: 'BAD_SIGNATURE', instanceOf: true },
  }, `${label}: message push`);
  assert.deepEqual(r.uploadVoice, {
    answers: [['voice', 'amr', true, 0.5, 0, 2, 'string'], ['voice', 'amr', true, 0.5, 1, 2, 'string']],
    headers: ['#!AMR\n', '#!AMR\n'],
    everyFrameOnce: true,
    asIs: [1, false, true],
    tooLong: { name: 'MediaValidationError', code: 'TOO_LONG', seconds: 1, limit: 0.5 },
  }, `${label}: uploadVoice`);
  assert.ok(r.uploaded > 0);
  assert.equal(r.downloaded, r.uploaded, `${label}: downloaded ${r.downloaded} of ${r.uploaded} bytes`);
  assert.equal(r.same, true, `${label}: the downloaded bytes differ from the uploaded ones`);
  assert.equal(r.type, 'image');
  assert.equal(r.isMediaFile, true);
  assert.equal(r.contentType, 'image/jpeg');
  const stored = (await storedMedia()).find((m) => m.media_id === r.mediaId);
  assert.ok(stored, `${label}: the emulator does not hold ${r.mediaId}`);
  assert.equal(stored.size, r.uploaded);
  const only = (name) => ({
    WeChatError: name === 'WeChatError',
    MediaValidationError: name === 'MediaValidationError',
    TimeoutError: false,
    NetworkError: false,
    AbortError: false,
  });
  assert.deepEqual(r.wechatError, {
    name: 'WeChatError', code: 'WECHAT', errcode: 40007, isError: true, instanceOf: only('WeChatError'),
  }, `${label}: the WeChat error`);
  assert.deepEqual(r.validationError, {
    name: 'MediaValidationError', code: 'BAD_FORMAT', errcode: null, isError: true, instanceOf: only('MediaValidationError'),
  }, `${label}: the validation error`);
  assert.equal(r.badId, 'TypeError: mediaId must be a string');
  assert.equal(r.inferred, 'image');
  assert.equal(r.validated, 'x.jpg');
  assert.equal(r.signed, 'https://m.example.com/media/abc');
}

/** Names in `dir` (to prove that no partial or temporary file was left). */
function listDir(dir) {
  return fs.readdirSync(dir).sort();
}

module.exports = {
  EMU,
  CDN,
  CDN_HOST,
  PROJECT,
  BIN,
  APPID,
  SECRET,
  creds,
  assertInstalled,
  control,
  reset,
  fault,
  advanceClock,
  storedMedia,
  requests,
  tokensSeen,
  jpeg,
  amr,
  mp4,
  voiceFixture,
  assertWav,
  tempDir,
  writeSample,
  cleanEnv,
  cli,
  assertNoLeaks,
  exits,
  listDir,
  NODE_ONLY,
  assertRoundTrip,
  assertMp3Duration,
  assertAmrDuration,
  amrFrameTypes,
  amrRecords,
  soxAmr,
  amrSamples,
  assertEncodeFacts,
  mp3Seconds,
};
