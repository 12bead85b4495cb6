// The installed `wxmedia` command against the emulator: every command, its failures and exit
// codes. Every run (but `token`'s) is checked for leaks by h.cli: neither stdout nor stderr may
// contain an access token the emulator has seen, or a secret from the environment.

import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import h from './helpers.cjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const SPY = path.join(here, 'fixtures', 'no-whole-reads.cjs');
const base = ['--base-url', h.EMU];

before(h.reset);

test('--help explains the commands, credentials, output and exit codes', async () => {
  const r = await h.cli(['--help']);
  h.exits(r, 0);
  for (const s of [
    'upload <image|voice|video|thumb> <file>',
    'get <mediaId> [-o FILE|DIR|-]',
    'hd-voice <mediaId>',
    'wxmedia token',
    'WECHAT_APPID',
    'WECHAT_SECRET',
    'WECHAT_ACCESS_TOKEN',
    '--base-url',
    '--json',
    '--wav',
    '--mp3',
    '--progress',
    'downloads the\n            video from that URL',
    'Exit codes',
  ]) {
    assert.ok(r.out.includes(s), `--help mentions ${JSON.stringify(s)}`);
  }
  for (const code of ['0 ', '1 ', '2 ', '3 ', '4 ', '130 ']) assert.match(r.out, new RegExp(`\\n  ${code}`));
  assert.equal(r.err, '');
  h.exits(await h.cli(['help', 'get']), 0);
  h.exits(await h.cli(['get', '--help']), 0);
  const v = await h.cli(['--version']);
  h.exits(v, 0);
  assert.equal(v.out.trim(), process.env.WXMEDIA_VERSION || v.out.trim());
  const none = await h.cli([]);
  h.exits(none, 2);
  assert.match(none.err, /Usage:/);
});

test('usage errors exit 2, before any request', async () => {
  await h.reset();
  const cases = [
    [['frobnicate'], /unknown command frobnicate/],
    [['get', 'x', '--frob'], /unknown option --frob/],
    [['upload', 'image'], /needs a media type and a file/],
    [['upload', 'audio', 'x.mp3'], /unknown media type audio/],
    [['get'], /needs a media id/],
    [['get', 'a', 'b'], /unexpected argument b/],
    [['get', 'a', '-o'], /-o needs a value/],
    [['get', 'a', '--timeout', 'soon', '-o', '/tmp/x'], /--timeout must be a positive number/],
    [['get', 'a', '--token-mode', 'fancy', '-o', '/tmp/x'], /--token-mode must be stable or classic/],
    [['get', 'a', '--base-url', 'not a url', '-o', '/tmp/x'], /--base-url/],
  ];
  for (const [args, message] of cases) {
    const r = await h.cli(args);
    h.exits(r, 2);
    assert.match(r.err, message, args.join(' '));
    assert.equal(r.out, '');
  }
  const nocreds = await h.cli(['token', ...base], { env: {} });
  h.exits(nocreds, 2);
  assert.match(nocreds.err, /no credentials: set WECHAT_APPID and WECHAT_SECRET, WECHAT_TOKEN_URL, or WECHAT_ACCESS_TOKEN/);
  const json = await h.cli(['upload', 'audio', 'x', '--json']);
  h.exits(json, 2);
  assert.deepEqual(JSON.parse(json.out).exitCode, 2);
  assert.equal(json.err, '');
  assert.deepEqual(await h.requests(), [], 'no request was made');
});

test('upload of each type prints the media id; --json prints the result', async (t) => {
  await h.reset();
  const dir = h.tempDir(t);
  const samples = { image: h.jpeg(), voice: h.amr(), video: h.mp4(), thumb: h.jpeg(3000) };
  const ids = [];
  for (const [type, bytes] of Object.entries(samples)) {
    const file = h.writeSample(dir, `sample-${type}.bin`, bytes);
    const r = await h.cli(['upload', type, file, ...base]);
    h.exits(r, 0);
    assert.match(r.out, /^[\w-]{16,}\n$/);
    assert.equal(r.err, '');
    ids.push([r.out.trim(), type, bytes.length]);
  }
  const stored = await h.storedMedia();
  assert.deepEqual(
    stored.map((m) => [m.media_id, m.type, m.size]).sort(),
    ids.sort(),
  );
  const j = await h.cli(['upload', 'image', path.join(dir, 'sample-image.bin'), '--json', '--filename', 'named.png', ...base]);
  h.exits(j, 0);
  const out = JSON.parse(j.out);
  assert.deepEqual(Object.keys(out).sort(), ['createdAt', 'file', 'mediaId', 'size', 'type']);
  assert.equal(out.type, 'image');
  assert.equal(out.size, samples.image.length);
});

test('upload of a 5 MB file streams it from disk, and --progress reports on stderr', async (t) => {
  await h.reset();
  const dir = h.tempDir(t);
  const bytes = h.jpeg(5 * 1024 * 1024);
  const file = h.writeSample(dir, 'five-mb.jpg', bytes);
  const r = await h.cli(['upload', 'image', file, '--progress', ...base], {
    node: ['--require', SPY],
    env: { ...h.creds, WXMEDIA_TEST_WATCH: 'five-mb.jpg' },
  });
  h.exits(r, 0);
  assert.match(r.err, /openAsBlob calls: 1\b/);
  assert.match(r.err, /uploading five-mb\.jpg \(5\.0 MiB\)/);
  assert.match(r.err, /uploaded 5\.0 MiB in [\d.]+ s/);
  const uploads = await h.requests('/cgi-bin/media/upload');
  assert.equal(uploads.length, 1);
  assert.deepEqual((await h.storedMedia()).map((m) => [m.media_id, m.size]), [[r.out.trim(), bytes.length]]);
});

test('upload refuses a bad file, or a wrong type, with exit 3 and no request', async (t) => {
  await h.reset();
  const dir = h.tempDir(t);
  const jpg = h.writeSample(dir, 'photo.jpg', h.jpeg());
  const cases = [
    [['upload', 'image', path.join(dir, 'missing.jpg')], /missing\.jpg: no such file or directory/],
    [['upload', 'image', dir], /is a directory, not a file/],
    [['upload', 'image', h.writeSample(dir, 'empty.jpg', Buffer.alloc(0))], /MediaValidationError/],
    [['upload', 'voice', jpg], /MediaValidationError/],
    [['upload', 'video', h.writeSample(dir, 'notes.txt', Buffer.from('hello, not a video'))], /MediaValidationError/],
    [['upload', 'thumb', h.writeSample(dir, 'big-thumb.jpg', h.jpeg(65 * 1024))], /MediaValidationError/],
  ];
  for (const [args, message] of cases) {
    const r = await h.cli([...args, ...base]);
    h.exits(r, 3);
    assert.match(r.err, message, args.join(' '));
    assert.equal(r.out, '');
  }
  const j = await h.cli(['upload', 'voice', jpg, '--json', ...base]);
  h.exits(j, 3);
  assert.deepEqual(JSON.parse(j.out), {
    error: JSON.parse(j.out).error,
    exitCode: 3,
  });
  assert.equal(JSON.parse(j.out).error.name, 'MediaValidationError');
  assert.equal(JSON.parse(j.out).error.code, 'BAD_FORMAT');
  assert.deepEqual(await h.requests(), [], 'nothing was sent, not even for a token');
});

test('a failed upload exits 1 after bounded retries and stores nothing', async (t) => {
  await h.reset();
  const dir = h.tempDir(t);
  const file = h.writeSample(dir, 'photo.jpg', h.jpeg(2 * 1024 * 1024));
  await h.fault({ path: '/cgi-bin/media/upload', status: 502, count: 10 });
  const r = await h.cli(['upload', 'image', file, '--json', ...base]);
  h.exits(r, 1);
  const { error } = JSON.parse(r.out);
  assert.equal(error.name, 'NetworkError');
  assert.equal(error.status, 502);
  assert.equal((await h.requests('/cgi-bin/media/upload')).length, 3);
  assert.deepEqual(await h.storedMedia(), []);
  await h.control('DELETE', '/_emulator/faults');
  await h.fault({ path: '/cgi-bin/media/upload', errcode: 40005 });
  const w = await h.cli(['upload', 'image', file, ...base]);
  h.exits(w, 1);
  assert.match(w.err, /WeChatError: WeChat error 40005/);
  assert.deepEqual(await h.storedMedia(), []);
});

test('get -o FILE, -o DIR, -o - and stdout write the same bytes; --json without -o only describes', async (t) => {
  await h.reset();
  const dir = h.tempDir(t);
  const bytes = h.jpeg(3 * 1024 * 1024);
  const up = await h.cli(['upload', 'image', h.writeSample(dir, 'src.jpg', bytes), ...base]);
  const id = up.out.trim();

  const file = path.join(dir, 'out.jpg');
  const r = await h.cli(['get', id, '-o', file, ...base]);
  h.exits(r, 0);
  assert.equal(r.out, `${file}\n`);
  assert.equal(r.err, '', 'no progress line when stderr is not a terminal');
  assert.ok(fs.readFileSync(file).equals(bytes));

  const sub = path.join(dir, 'sub');
  fs.mkdirSync(sub);
  const d = await h.cli(['get', id, '-o', sub, '--json', ...base]);
  h.exits(d, 0);
  const saved = JSON.parse(d.out);
  assert.deepEqual(saved, {
    mediaId: id,
    kind: 'media',
    path: path.join(sub, `${id}.jpg`),
    bytes: bytes.length,
    contentType: 'image/jpeg',
    filename: `${id}.jpg`,
  });
  assert.deepEqual(h.listDir(sub), [`${id}.jpg`]);

  for (const args of [['get', id], ['get', id, '-o', '-']]) {
    const s = await h.cli([...args, ...base], { binaryStdout: true });
    h.exits(s, 0);
    assert.ok(s.stdout.equals(bytes), args.join(' '));
  }

  const meta = await h.cli(['get', id, '--json', ...base]);
  h.exits(meta, 0);
  assert.deepEqual(JSON.parse(meta.out), {
    kind: 'media',
    mediaId: id,
    contentType: 'image/jpeg',
    filename: `${id}.jpg`,
    contentLength: bytes.length,
  });

  const p = await h.cli(['get', id, '-o', path.join(dir, 'p.jpg'), '--progress', ...base]);
  h.exits(p, 0);
  assert.match(p.err, /^wxmedia: downloading /m);
  assert.match(p.err, /^wxmedia: downloaded 3\.0 MiB in [\d.]+ s$/m);
});

test('get of an expired or unknown id exits 1 with the errcode, and writes nothing', async (t) => {
  await h.reset();
  const dir = h.tempDir(t);
  const up = await h.cli(['upload', 'image', h.writeSample(dir, 'a.jpg', h.jpeg()), ...base]);
  const id = up.out.trim();
  await h.advanceClock(3 * 24 * 3600 + 1);
  const out = path.join(dir, 'out', 'x.jpg');
  fs.mkdirSync(path.dirname(out));
  const r = await h.cli(['get', id, '-o', out, ...base]);
  h.exits(r, 1);
  assert.match(r.err, /WeChatError: WeChat error 40007: invalid media_id/);
  assert.match(r.err, /expired/);
  // A media id may start with '-' (base64url): it is an argument, not an unknown option.
  const dash = await h.cli(['get', '-no-such-media-id', '-o', out, ...base]);
  h.exits(dash, 1);
  assert.match(dash.err, /40007/);
  // Or with two (base64url: one in 4096): still an argument, while a short unknown one is an error.
  const dashes = await h.cli(['get', '--fiaOG0MDkpyyKXNF7QEHIatNgYdDm0KeAgKo', '-o', out, ...base]);
  h.exits(dashes, 1);
  assert.match(dashes.err, /40007/);
  const j = await h.cli(['get', 'no-such-media-id', '-o', out, '--json', ...base]);
  h.exits(j, 1);
  const { error, exitCode } = JSON.parse(j.out);
  assert.equal(exitCode, 1);
  assert.equal(error.name, 'WeChatError');
  assert.equal(error.errcode, 40007);
  assert.equal(error.errmsg, 'invalid media_id');
  assert.equal(typeof error.rid, 'string');
  assert.deepEqual(h.listDir(path.dirname(out)), []);
});

test('a download cut short exits 1 and leaves no file; a bad target exits 3 before any request', async (t) => {
  await h.reset();
  const dir = h.tempDir(t);
  const up = await h.cli(['upload', 'image', h.writeSample(dir, 'a.jpg', h.jpeg(500_000)), ...base]);
  const id = up.out.trim();
  const out = path.join(dir, 'out');
  fs.mkdirSync(out);
  await h.fault({ path: '/cgi-bin/media/get', truncate_at: 123_456 });
  const r = await h.cli(['get', id, '-o', path.join(out, 'x.jpg'), ...base]);
  h.exits(r, 1);
  assert.match(r.err, /NetworkError/);
  assert.deepEqual(h.listDir(out), [], 'no partial or temporary file');

  const gets = (await h.requests('/cgi-bin/media/get')).length;
  const bad = await h.cli(['get', id, '-o', path.join(dir, 'no-such-dir', 'x.jpg'), ...base]);
  h.exits(bad, 3);
  assert.match(bad.err, /no such file or directory/);
  assert.equal((await h.requests('/cgi-bin/media/get')).length, gets, 'no request for an unwritable -o');

  const ctl = await h.cli(['get', 'a\u0001b', '-o', path.join(out, 'y'), ...base]);
  h.exits(ctl, 3);
  assert.match(ctl.err, /MediaValidationError/);
});

test('get of a video downloads it from its URL; --json without -o gives the URL', async (t) => {
  await h.reset();
  const dir = h.tempDir(t);
  const up = await h.cli(['upload', 'video', h.writeSample(dir, 'clip.mp4', h.mp4()), ...base]);
  const id = up.out.trim();
  // The emulator's CDN is a loopback address: trusted only when named.
  const refused = await h.cli(['get', id, '--json', ...base]);
  assert.notEqual(refused.code, 0);
  assert.match(refused.out, /not public/);
  const cdn = ['--video-host', h.CDN_HOST];
  const meta = await h.cli(['get', id, '--json', ...base, ...cdn]);
  h.exits(meta, 0);
  const { kind, videoUrl } = JSON.parse(meta.out);
  assert.equal(kind, 'video');
  assert.ok(videoUrl.startsWith(`${h.CDN}/vweixinp.tc.qq.com/1007_`), videoUrl);
  assert.equal((await h.requests(new URL(videoUrl).pathname)).length, 0, '--json alone downloads nothing');

  const r = await h.cli(['get', id, '-o', dir, ...base], { env: { ...h.creds, WXMEDIA_VIDEO_HOSTS: h.CDN_HOST } });
  h.exits(r, 0);
  assert.equal(r.out, `${path.join(dir, `${id}.mp4`)}\n`);
  assert.ok(fs.readFileSync(path.join(dir, `${id}.mp4`)).equals(h.mp4()));
  assert.equal((await h.requests(new URL(videoUrl).pathname)).length, 1);
});

test('hd-voice writes speex; for an image it exits 1', async (t) => {
  await h.reset();
  const dir = h.tempDir(t);
  const voice = (await h.cli(['upload', 'voice', h.writeSample(dir, 'n.amr', h.amr()), ...base])).out.trim();
  const image = (await h.cli(['upload', 'image', h.writeSample(dir, 'i.jpg', h.jpeg()), ...base])).out.trim();
  const r = await h.cli(['hd-voice', voice, '-o', path.join(dir, 'v.speex'), '--json', ...base]);
  h.exits(r, 0);
  assert.equal(JSON.parse(r.out).contentType, 'voice/speex');
  const speex = fs.readFileSync(path.join(dir, 'v.speex'));
  assert.ok(speex.length > 0 && speex.length % 60 === 0, `${speex.length} bytes`);
  assert.equal((await h.requests('/cgi-bin/media/get/jssdk')).length, 1);
  const bad = await h.cli(['hd-voice', image, '-o', path.join(dir, 'i.speex'), ...base]);
  h.exits(bad, 1);
  assert.match(bad.err, /40007/);
  assert.ok(!fs.existsSync(path.join(dir, 'i.speex')));
});

test('get --wav and hd-voice --wav write WAV files; media that is not voice exits 1', async (t) => {
  await h.reset();
  const dir = h.tempDir(t);
  const voice = (await h.cli(['upload', 'voice', h.writeSample(dir, 'n.amr', h.voiceFixture('amr-mode5.amr')), ...base])).out.trim();
  const image = (await h.cli(['upload', 'image', h.writeSample(dir, 'i.jpg', h.jpeg()), ...base])).out.trim();

  const r = await h.cli(['get', voice, '--wav', '-o', path.join(dir, 'n.wav'), '--json', ...base]);
  h.exits(r, 0);
  const out = JSON.parse(r.out);
  assert.equal(out.contentType, 'audio/wav');
  const wav = fs.readFileSync(path.join(dir, 'n.wav'));
  assert.equal(out.bytes, wav.length);
  h.assertWav(wav, 8000, h.voiceFixture('amr-mode5.amr.s16'));
  // -o DIR names it .wav; stdout gets the same bytes.
  fs.mkdirSync(path.join(dir, 'out'), { recursive: true });
  const named = await h.cli(['get', voice, '--wav', '-o', path.join(dir, 'out'), ...base]);
  h.exits(named, 0);
  assert.match(path.basename(named.out.trim()), /\.wav$/);
  assert.ok(fs.readFileSync(named.out.trim()).equals(wav));
  const piped = await h.cli(['get', voice, '--wav', ...base], { binaryStdout: true });
  h.exits(piped, 0);
  assert.ok(piped.stdout.equals(wav));

  const hd = await h.cli(['hd-voice', voice, '--wav', '-o', path.join(dir, 'hd.wav'), ...base]);
  h.exits(hd, 0);
  const samples = h.assertWav(fs.readFileSync(path.join(dir, 'hd.wav')), 16000);
  const expected = h.voiceFixture('amr-mode5.amr.s16').length / 2 / 8000;
  assert.ok(Math.abs(samples / 16000 - expected) <= 0.1, `${samples / 16000} s vs ${expected} s`);

  const bad = await h.cli(['get', image, '--wav', '-o', path.join(dir, 'i.wav'), ...base]);
  h.exits(bad, 1);
  assert.match(bad.err, /not voice/);
  assert.ok(!fs.existsSync(path.join(dir, 'i.wav')));

  // --mp3: the same voice as an MP3, named .mp3 in a directory, which sox decodes to its length.
  const mp3 = await h.cli(['get', voice, '--mp3', '-o', path.join(dir, 'out'), '--json', ...base]);
  h.exits(mp3, 0);
  const saved = JSON.parse(mp3.out);
  assert.equal(saved.contentType, 'audio/mpeg');
  assert.match(path.basename(saved.path), /\.mp3$/);
  const bytes = fs.readFileSync(saved.path);
  assert.equal(bytes[0], 0xff);
  assert.ok(bytes.length * 5 < wav.length);
  const decoded = execFileSync('sox', [saved.path, '-t', 'raw', '-e', 'signed', '-b', '16', '-c', '1', '-r', '8000', '-']);
  assert.ok(Math.abs(decoded.length - (wav.length - 44)) / 16000 < 0.3);
  const both = await h.cli(['get', voice, '--wav', '--mp3', ...base]);
  h.exits(both, 2);
  const notVoice = await h.cli(['get', image, '--mp3', '-o', path.join(dir, 'i.mp3'), ...base]);
  h.exits(notVoice, 1);
  assert.match(notVoice.err, /not voice/);
});

test('token prints a working token; only token prints it', async (t) => {
  await h.reset();
  const dir = h.tempDir(t);
  const r = await h.cli(['token', ...base], { leakCheck: false });
  h.exits(r, 0);
  const token = r.out.trim();
  assert.deepEqual(await h.tokensSeen(), [], 'fetching a token puts none in a query');
  assert.ok(token.length >= 32);
  const j = await h.cli(['token', '--json', ...base], { leakCheck: false });
  assert.deepEqual(JSON.parse(j.out), { accessToken: token, source: 'WeChat\'s token API with WECHAT_APPID and WECHAT_SECRET' });
  assert.match(r.err, /the token came from WeChat's token API/);
  // The printed token works as WECHAT_ACCESS_TOKEN; the commands run with it never print it.
  const env = { WECHAT_ACCESS_TOKEN: token };
  const up = await h.cli(['upload', 'image', h.writeSample(dir, 'a.jpg', h.jpeg()), '--json', ...base], { env });
  h.exits(up, 0);
  const got = await h.cli(['get', JSON.parse(up.out).mediaId, '-o', path.join(dir, 'b.jpg'), '--progress', ...base], { env });
  h.exits(got, 0);
  assert.deepEqual(await h.tokensSeen(), [token]);
  const same = await h.cli(['token', ...base], { env, leakCheck: false });
  assert.equal(same.out.trim(), token);
  assert.match(same.err, /WECHAT_ACCESS_TOKEN \(a fixed token\)/);
  // Behind a token hub: the emulator stands for it, as it speaks WeChat's token API.
  const hub = await h.cli(['token', '--json', ...base], { env: { WECHAT_APPID: h.APPID, WECHAT_SECRET: h.SECRET, WECHAT_TOKEN_BASE: h.EMU }, leakCheck: false });
  h.exits(hub, 0);
  assert.match(JSON.parse(hub.out).source, /^a token hub at WECHAT_TOKEN_BASE \(http:\/\/127\.0\.0\.1:\d+\)$/);
});

test('bad credentials exit 4, without printing the token or the secret', async (t) => {
  await h.reset();
  const dir = h.tempDir(t);
  const jpg = h.writeSample(dir, 'a.jpg', h.jpeg());
  const wrongSecret = await h.cli(['upload', 'image', jpg, ...base], { env: { WECHAT_APPID: h.APPID, WECHAT_SECRET: 'not-the-secret' } });
  h.exits(wrongSecret, 4);
  assert.match(wrongSecret.err, /40125/);
  const wrongAppid = await h.cli(['token', '--json', ...base], { env: { WECHAT_APPID: 'wx0000000000000999', WECHAT_SECRET: h.SECRET } });
  h.exits(wrongAppid, 4);
  assert.equal(JSON.parse(wrongAppid.out).error.errcode, 40013);
  const revoked = 'A'.repeat(100);
  const bad = await h.cli(['get', 'some-media-id', '-o', path.join(dir, 'x'), '--json', ...base], { env: { WECHAT_ACCESS_TOKEN: revoked } });
  h.exits(bad, 4);
  assert.equal(JSON.parse(bad.out).error.errcode, 40001);
  assert.ok(!bad.out.includes(revoked));
  assert.deepEqual(await h.tokensSeen(), [revoked], 'it was sent, once, and only to WeChat');
  await h.fault({ path: '/cgi-bin/media/get', status: 401 });
  const unauthorized = await h.cli(['get', 'some-media-id', '-o', path.join(dir, 'x'), ...base]);
  h.exits(unauthorized, 4);
  assert.match(unauthorized.err, /HTTP 401/);
  assert.deepEqual(h.listDir(dir), ['a.jpg']);
});

test('a slow call times out with exit 1; Ctrl-C exits 130 and removes the partial file', async (t) => {
  await h.reset();
  const dir = h.tempDir(t);
  const id = (await h.cli(['upload', 'image', h.writeSample(dir, 'a.jpg', h.jpeg()), ...base])).out.trim();
  await h.fault({ path: '/cgi-bin/media/get', delay_ms: 3000 });
  const slow = await h.cli(['get', id, '-o', path.join(dir, 'slow.jpg'), '--timeout', '0.5', '--json', ...base]);
  h.exits(slow, 1);
  assert.equal(JSON.parse(slow.out).error.name, 'TimeoutError');

  await h.control('DELETE', '/_emulator/faults');
  await h.fault({ path: '/cgi-bin/media/get', delay_ms: 5000 });
  const started = Date.now();
  const r = await h.cli(['get', id, '-o', path.join(dir, 'b.jpg'), ...base], {
    onSpawn: (child) => setTimeout(() => child.kill('SIGINT'), 700),
  });
  h.exits(r, 130);
  assert.ok(Date.now() - started < 4000, 'it stops at once');
  assert.deepEqual(h.listDir(dir), ['a.jpg']);
});

test('on a terminal: media to stdout is refused, and a slow transfer shows a progress line', async (t) => {
  // script(1) (util-linux) gives the CLI a pseudo-terminal for stdout and stderr.
  const script = ['/usr/bin/script', '/bin/script'].find((p) => fs.existsSync(p));
  if (!script) return t.skip('no script(1) here to provide a terminal');
  await h.reset();
  const dir = h.tempDir(t);
  const id = (await h.cli(['upload', 'image', h.writeSample(dir, 'a.jpg', h.jpeg(1024 * 1024)), ...base])).out.trim();
  const quote = (a) => `'${a.replace(/'/g, `'\\''`)}'`;
  const onTty = async (args) => {
    const env = h.cleanEnv(h.creds);
    try {
      const { stdout } = await promisify(execFile)(script, ['-qec', [h.BIN, ...args].map(quote).join(' '), '/dev/null'], { env });
      await h.assertNoLeaks([stdout], env, `wxmedia ${args.join(' ')} on a terminal`);
      return { code: 0, out: stdout };
    } catch (err) {
      if (typeof err.code !== 'number') throw err;
      return { code: err.code, out: err.stdout };
    }
  };
  const refused = await onTty(['get', id, ...base]);
  assert.equal(refused.code, 2, refused.out);
  assert.match(refused.out, /refusing to write media to a terminal/);

  const quick = await onTty(['get', id, '-o', path.join(dir, 'quick.jpg'), ...base]);
  assert.equal(quick.code, 0, quick.out);
  assert.doesNotMatch(quick.out, /downloading/, 'no progress for a transfer under a second');

  await h.fault({ path: '/cgi-bin/media/get', delay_ms: 1500 });
  const slow = await onTty(['get', id, '-o', path.join(dir, 'slow.jpg'), ...base]);
  assert.equal(slow.code, 0, slow.out);
  assert.match(slow.out, /\r\x1b\[Kwxmedia: downloading /, 'a progress line redrawn in place');
  assert.match(slow.out, /wxmedia: downloaded 1\.0 MiB in [\d.]+ s/);
  assert.ok(fs.readFileSync(path.join(dir, 'slow.jpg')).equals(h.jpeg(1024 * 1024)));
});

test('npx wxmedia runs the installed bin, offline', async () => {
  const { stdout } = await promisify(execFile)('npx', ['--offline', '--no-install', 'wxmedia', '--version'], {
    cwd: h.PROJECT,
    env: h.cleanEnv({}),
  });
  assert.equal(stdout.trim(), process.env.WXMEDIA_VERSION || stdout.trim());
  assert.match(stdout.trim(), /^\d+\.\d+\.\d+/);
});

test('upload voice: a WAV is encoded to AMR; over 60 s it is refused naming the limit and its length, or --split uploads each part', async (t) => {
  await h.reset();
  const dir = h.tempDir(t);
  const one = path.join(dir, 'one.wav');
  execFileSync('espeak-ng', ['-w', one, 'Thank you for your message. 我们会尽快回复。']);
  const wavOf = (seconds) => {
    const file = path.join(dir, `reply-${seconds}.wav`);
    execFileSync('sox', ['-R', '-D', one, '-r', '16000', file, 'pad', '0', '0.5', 'repeat', String(Math.ceil(seconds / 2)), 'trim', '0', String(seconds)]);
    return file;
  };
  const { MediaClient, encodeVoice } = await import('wxmedia');
  const client = new MediaClient({ appId: h.APPID, appSecret: h.SECRET, baseUrl: h.EMU });
  const downloaded = async (id) => Buffer.from(await (await client.get(id)).arrayBuffer());

  const short = wavOf(4);
  const r = await h.cli(['upload', 'voice', short, ...base]);
  h.exits(r, 0);
  assert.match(r.out, /^[\w-]{16,}\n$/);
  const amr = await downloaded(r.out.trim());
  assert.ok(amr.equals(Buffer.from(await encodeVoice(fs.readFileSync(short), { to: 'amr' }))), 'the WAV encoded to AMR (MR122)');
  assert.equal((amr[6] >> 3) & 15, 7);

  const long = wavOf(75);
  await h.reset();
  const refused = await h.cli(['upload', 'voice', long, ...base]);
  h.exits(refused, 3);
  assert.match(refused.err, /reply-75\.wav: 75 s of voice is longer than WeChat's limit of 60 s for one voice; --split uploads it as several parts/);
  assert.equal(refused.out, '');
  const json = await h.cli(['upload', 'voice', long, '--json', ...base]);
  h.exits(json, 3);
  assert.deepEqual(JSON.parse(json.out).error, {
    name: 'MediaValidationError', code: 'TOO_LONG', message: JSON.parse(json.out).error.message, seconds: 75, limit: 60,
  });
  assert.equal((await h.requests('/cgi-bin/media/upload')).length, 0, 'nothing was sent');

  const split = await h.cli(['upload', 'voice', long, '--split', ...base]);
  h.exits(split, 0);
  const ids = split.out.trim().split('\n');
  assert.equal(ids.length, 2);
  const frames = [];
  for (const id of ids) {
    const part = await downloaded(id);
    assert.equal(part.subarray(0, 6).toString('latin1'), '#!AMR\n');
    frames.push(part.subarray(6));
  }
  assert.deepEqual(frames.map((f) => f.length / 32), [3000, 750]);
  const whole = Buffer.from(await encodeVoice(fs.readFileSync(long), { to: 'amr' }));
  assert.ok(Buffer.concat([Buffer.from('#!AMR\n'), ...frames]).equals(whole), 'the parts hold every frame once');
  assert.deepEqual((await h.storedMedia()).map((m) => m.type), ['voice', 'voice']);

  const j = await h.cli(['upload', 'voice', long, '--split', '--json', ...base]);
  h.exits(j, 0);
  const out = JSON.parse(j.out);
  assert.equal(out.mediaIds.length, 2);
  assert.equal(out.mediaId, out.mediaIds[0]);
  assert.deepEqual(out.parts.map((p) => p.seconds), [60, 15]);
  assert.equal(out.seconds, 75);
  assert.equal(out.encoded, true);
  assert.equal(out.format, 'amr');

  const usage = await h.cli(['upload', 'image', short, '--split', ...base]);
  h.exits(usage, 2);
  assert.match(usage.err, /--split is for voice/);
});
