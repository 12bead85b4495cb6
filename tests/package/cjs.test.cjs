'use strict';
// The installed package through require(): its manifest, the Node helpers (uploads by path,
// downloads to a path) and the typed errors, against the emulator.

const { test, before } = require('node:test');
const assert = require('node:assert/strict');
const { execFile } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { promisify } = require('node:util');
const h = require('./helpers.cjs');

const wx = require('wxmedia');

const client = (opts = {}) => new wx.MediaClient({ appId: h.APPID, appSecret: h.SECRET, baseUrl: h.EMU, ...opts });

before(h.reset);

test('require resolves to the installed package, whose manifest is complete', () => {
  h.assertInstalled(require.resolve('wxmedia'));
  assert.equal(path.basename(require.resolve('wxmedia')), 'index.cjs');
  const manifest = require('wxmedia/package.json');
  const cargo = process.env.WXMEDIA_VERSION;
  if (cargo) assert.equal(manifest.version, cargo);
  assert.equal(manifest.name, 'wxmedia');
  const web = (entry) => ({ types: './web.d.mts', default: entry });
  assert.deepEqual(manifest.exports['.'], {
    workerd: web('./workerd.mjs'),
    'edge-light': web('./edge-light.mjs'),
    deno: web('./default.mjs'),
    bun: web('./default.mjs'),
    browser: web('./browser.mjs'),
    node: {
      import: { types: './index.d.mts', default: './index.mjs' },
      require: { types: './index.d.cts', default: './index.cjs' },
    },
    default: web('./default.mjs'),
  });
  assert.equal(manifest.exports['./wxmedia_bg.wasm'], './wxmedia_bg.wasm');
  assert.equal(manifest.exports['./voice_bg.wasm'], './voice_bg.wasm');
  assert.equal(manifest.exports['./package.json'], './package.json');
  // Node 20.18.1 is the oldest the Node transport's one dependency (undici 7) runs on.
  assert.equal(manifest.engines.node, '>=20.18.1');
  assert.deepEqual(Object.keys(manifest.dependencies), ['undici']);
  assert.equal(require('undici/package.json').version.split('.')[0], '7');
  assert.equal(manifest.bin.wxmedia, 'bin/wxmedia.cjs');
  const dir = path.dirname(require.resolve('wxmedia/package.json'));
  for (const f of manifest.files) assert.ok(fs.existsSync(path.join(dir, f)), `${f} is missing`);
  assert.ok(fs.statSync(path.join(dir, 'bin/wxmedia.cjs')).mode & 0o111, 'the bin is executable');
  assert.ok(fs.readFileSync(path.join(dir, 'README.md'), 'utf8').includes('WeChatError'));
  // The voice wasm's AMR-NB port is Apache-2.0 code's: its notice ships with it.
  assert.equal(manifest.license, '(MIT OR Apache-2.0) AND Apache-2.0');
  assert.ok(fs.readFileSync(path.join(dir, 'NOTICE'), 'utf8').includes('PacketVideo'));
});

test('it exports the client, the helpers and the error guards', () => {
  assert.deepEqual(Object.keys(wx).sort(), [
    'AbortError',
    'MediaClient',
    'MediaFile',
    'MediaValidationError',
    'NetworkError',
    'PushError',
    'TimeoutError',
    'WeChatError',
    'decodeVoice',
    'encodeVoice',
    'inferMediaType',
    'openMedia',
    'openMessage',
    'saveMedia',
    'sealReply',
    'signMediaUrl',
    'splitVoice',
    'validateMedia',
    'verifySignature',
  ]);
  const c = client();
  for (const m of ['upload', 'get', 'getHdVoice', 'accessToken', 'uploadFile', 'download', 'downloadHdVoice', 'free']) {
    assert.equal(typeof c[m], 'function', m);
  }
  assert.throws(() => new wx.MediaClient({}), TypeError);
  assert.throws(() => new wx.MediaClient({ accessToken: 'x'.repeat(40), baseUrl: 'not a url' }), TypeError);
});

test('uploadFile streams a 5 MB file from disk: one upload, the bytes stored, no whole-file read', async (t) => {
  await h.reset();
  const dir = h.tempDir(t);
  const bytes = h.jpeg(5 * 1024 * 1024);
  const file = h.writeSample(dir, 'big-photo.jpg', bytes);
  // In a child process whose fs refuses to read the file whole and counts fs.openAsBlob calls.
  const script = `
    const wx = require('wxmedia');
    const c = new wx.MediaClient({ appId: '${h.APPID}', appSecret: '${h.SECRET}', baseUrl: '${h.EMU}' });
    c.uploadFile('image', ${JSON.stringify(file)}).then(
      (r) => console.log(JSON.stringify(r)),
      (e) => { console.error(e); process.exitCode = 1; });`;
  const { stdout, stderr } = await promisify(execFile)(
    process.execPath,
    ['--require', path.join(__dirname, 'fixtures', 'no-whole-reads.cjs'), '-e', script],
    { cwd: h.PROJECT, env: { ...process.env, WXMEDIA_TEST_WATCH: 'big-photo.jpg' } },
  );
  assert.match(stderr, /openAsBlob calls: 1\b/);
  const result = JSON.parse(stdout);
  assert.equal(result.type, 'image');
  const uploads = await h.requests('/cgi-bin/media/upload');
  assert.equal(uploads.length, 1);
  assert.equal(uploads[0].errcode, 0);
  const stored = await h.storedMedia();
  assert.deepEqual(
    stored.map((m) => [m.media_id, m.size, m.type]),
    [[result.mediaId, bytes.length, 'image']],
  );
  // And the bytes are the file's.
  const media = await client().get(result.mediaId);
  assert.ok(Buffer.from(await media.arrayBuffer()).equals(bytes));
});

test('download streams to a file through a temporary name, reporting progress', async (t) => {
  await h.reset();
  const dir = h.tempDir(t);
  const bytes = h.jpeg(3 * 1024 * 1024 + 17);
  const c = client();
  const { mediaId } = await c.upload('image', bytes, { filename: 'x.jpg' });
  const target = path.join(dir, 'copy.jpg');
  const seen = [];
  const saved = await c.download(mediaId, target, { onProgress: (p) => seen.push(p) });
  assert.deepEqual(saved, {
    kind: 'media',
    path: target,
    bytes: bytes.length,
    contentType: 'image/jpeg',
    filename: `${mediaId}.jpg`,
  });
  assert.ok(fs.readFileSync(target).equals(bytes));
  assert.deepEqual(h.listDir(dir), ['copy.jpg']);
  assert.deepEqual(seen[0], { bytes: 0, total: bytes.length });
  assert.deepEqual(seen.at(-1), { bytes: bytes.length, total: bytes.length });
  assert.ok(seen.length > 2, 'progress is reported as chunks arrive');
  for (let i = 1; i < seen.length; i++) assert.ok(seen[i].bytes >= seen[i - 1].bytes);
});

test('a download cut short leaves no file, and does not replace an existing one', async (t) => {
  await h.reset();
  const dir = h.tempDir(t);
  const c = client();
  const { mediaId } = await c.upload('image', h.jpeg(200_000));
  const target = h.writeSample(dir, 'keep.jpg', Buffer.from('the previous contents'));
  const fresh = path.join(dir, 'fresh.jpg');
  for (const [f, name] of [[target, 'keep.jpg'], [fresh, 'fresh.jpg']]) {
    await h.fault({ path: '/cgi-bin/media/get', truncate_at: 70_000 });
    await assert.rejects(c.download(mediaId, f), (err) => {
      assert.ok(err instanceof wx.NetworkError, `${err.name}: ${err.message}`);
      assert.equal(err.code, 'NETWORK');
      return true;
    }, name);
  }
  assert.deepEqual(h.listDir(dir), ['keep.jpg'], 'no partial or temporary file is left');
  assert.equal(fs.readFileSync(target, 'utf8'), 'the previous contents');
});

test('a failed download of an unknown or expired id creates nothing; an unwritable target costs no request', async (t) => {
  await h.reset();
  const dir = h.tempDir(t);
  const c = client();
  const { mediaId } = await c.upload('image', h.jpeg());
  await h.advanceClock(3 * 24 * 3600 + 60);
  await assert.rejects(c.download(mediaId, path.join(dir, 'a.jpg')), (err) => {
    assert.ok(err instanceof wx.WeChatError);
    assert.ok(wx.WeChatError.is(err));
    assert.equal(err.errcode, 40007);
    assert.equal(err.code, 'WECHAT');
    assert.equal(typeof err.description, 'string');
    return true;
  });
  assert.deepEqual(h.listDir(dir), []);
  const before = (await h.requests('/cgi-bin/media/get')).length;
  await assert.rejects(c.download(mediaId, path.join(dir, 'missing-dir', 'a.jpg')), { code: 'ENOENT' });
  assert.equal((await h.requests('/cgi-bin/media/get')).length, before, 'no request for an unwritable target');
});

test('download can be cancelled: AbortError, and the partial file is removed', async (t) => {
  await h.reset();
  const dir = h.tempDir(t);
  const c = client();
  const { mediaId } = await c.upload('image', h.jpeg());
  await h.fault({ path: '/cgi-bin/media/get', delay_ms: 3000 });
  const ctl = new AbortController();
  setTimeout(() => ctl.abort(), 200);
  const started = Date.now();
  await assert.rejects(c.download(mediaId, path.join(dir, 'a.jpg'), { signal: ctl.signal }), (err) => {
    assert.ok(err instanceof wx.AbortError, `${err.name}: ${err.message}`);
    assert.equal(err.code, 'CANCELLED');
    return true;
  });
  assert.ok(Date.now() - started < 2500, 'the call stops when aborted');
  assert.deepEqual(h.listDir(dir), []);

  // Aborted halfway through the body: the same error, and the partial file goes too.
  const big = await c.upload('image', h.jpeg(4 * 1024 * 1024));
  const mid = new AbortController();
  let seen = 0;
  const onProgress = ({ bytes }) => {
    seen = bytes;
    if (bytes > 0) mid.abort();
  };
  await assert.rejects(c.download(big.mediaId, path.join(dir, 'b.jpg'), { signal: mid.signal, onProgress }), (err) => {
    assert.ok(err instanceof wx.AbortError, `${err.name}: ${err.message}`);
    assert.equal(err.code, 'CANCELLED');
    return true;
  });
  assert.ok(seen > 0 && seen < 4 * 1024 * 1024, `aborted after ${seen} bytes`);
  assert.deepEqual(h.listDir(dir), []);
});

test('downloadHdVoice writes speex; hd voice of an image is a WeChatError', async (t) => {
  await h.reset();
  const dir = h.tempDir(t);
  const c = client();
  const { mediaId } = await c.upload('voice', h.amr());
  const saved = await c.downloadHdVoice(mediaId, path.join(dir, 'v.speex'));
  assert.equal(saved.contentType, 'voice/speex');
  // WeChat's HD voice: headerless Speex, one 60-byte frame per 20 ms frame of the recording.
  const speex = fs.readFileSync(saved.path);
  assert.ok(speex.length > 0 && speex.length % 60 === 0, `${speex.length} bytes`);
  const img = await c.upload('image', h.jpeg());
  await assert.rejects(c.downloadHdVoice(img.mediaId, path.join(dir, 'i.speex')), wx.WeChatError);
  assert.deepEqual(h.listDir(dir), ['v.speex']);
});

test('typed errors: validation before any request, timeouts, guards that only match their own', async () => {
  await h.reset();
  const c = client();
  await assert.rejects(c.upload('image', new Uint8Array(0)), (err) => {
    assert.ok(err instanceof wx.MediaValidationError);
    assert.ok(err instanceof Error);
    assert.equal(err.name, 'MediaValidationError');
    assert.equal(err.code, 'EMPTY');
    return true;
  });
  await assert.rejects(c.upload('audio', h.jpeg()), { name: 'MediaValidationError', code: 'BAD_TYPE' });
  await assert.rejects(c.upload('voice', h.jpeg()), { name: 'MediaValidationError', code: 'BAD_FORMAT' });
  await assert.rejects(c.upload('thumb', h.jpeg(70 * 1024)), { name: 'MediaValidationError', code: 'TOO_LARGE' });
  assert.deepEqual(await h.requests(), [], 'nothing was sent, not even a token request');

  const slow = new wx.MediaClient({ appId: h.APPID, appSecret: h.SECRET, baseUrl: h.EMU, timeoutMs: 300 });
  await slow.accessToken();
  await h.fault({ path: '/cgi-bin/media/get', delay_ms: 2000 });
  await assert.rejects(slow.get('some-id'), (err) => {
    assert.ok(err instanceof wx.TimeoutError);
    assert.equal(err.code, 'TIMEOUT');
    assert.ok(!(err instanceof wx.WeChatError) && !(err instanceof wx.NetworkError));
    return true;
  });
  for (const cls of [wx.WeChatError, wx.MediaValidationError, wx.TimeoutError, wx.NetworkError, wx.AbortError]) {
    assert.equal(cls.is(new Error('plain')), false);
    assert.equal(cls.is({ name: cls.name }), false, 'an Error, not a look-alike object');
    assert.equal(cls.is(null), false);
    const e = new Error('x');
    e.name = cls.name;
    assert.ok(e instanceof cls);
    const made = new cls('made', { errcode: 1 });
    assert.ok(made instanceof Error && made instanceof cls && cls.is(made));
    assert.equal(made.name, cls.name);
    assert.equal(made.message, 'made');
  }
  assert.equal(new wx.WeChatError('x').code, 'WECHAT');
});

test('upload from memory of each type, and get back the same bytes (a video as its URL)', async () => {
  await h.reset();
  const c = client();
  for (const [type, bytes] of [['image', h.jpeg()], ['voice', h.amr()], ['thumb', h.jpeg(4000)]]) {
    const r = await c.upload(type, bytes);
    assert.equal(r.type, type);
    assert.equal(typeof r.createdAt, 'number');
    const file = await c.get(r.mediaId);
    assert.ok(file instanceof wx.MediaFile);
    assert.equal(file.kind, 'media');
    assert.ok(Buffer.from(await file.arrayBuffer()).equals(bytes), type);
  }
  const v = await c.upload('video', new Blob([h.mp4()]));
  // The emulator's CDN is a loopback address on a port of its own: trusted only when named.
  await assert.rejects(c.get(v.mediaId), (err) => err instanceof wx.NetworkError && /not public/.test(err.message));
  const link = await client({ videoHosts: [h.CDN_HOST] }).get(v.mediaId);
  assert.equal(link.kind, 'video');
  assert.ok(link.videoUrl.startsWith(`${h.CDN}/vweixinp.tc.qq.com/1007_`), link.videoUrl);
});

test('signMediaUrl, validateMedia and inferMediaType', async () => {
  assert.equal(
    wx.signMediaUrl({ baseUrl: 'https://media.example.com/', mediaId: 'abc', signingKey: 'test-signing-key', expiresIn: 400, now: 600 }),
    'https://media.example.com/media/abc?exp=1000&sig=5eK_XYOJuZ0ywcCfPhkzkvdzqQFuKKzAiWvuM7RMHqQ',
  );
  assert.match(
    wx.signMediaUrl({ baseUrl: 'https://m.example.com', mediaId: 'abc', signingKey: 'k', hdVoice: true, now: 0 }),
    /^https:\/\/m\.example\.com\/media\/abc\/hd-voice\?exp=3600&sig=[\w-]+$/,
  );
  assert.throws(() => wx.signMediaUrl({ baseUrl: 'https://m.example.com', mediaId: '', signingKey: 'k' }));
  const v = await wx.validateMedia('image', h.jpeg(), { filename: 'photo.png' });
  assert.deepEqual(v, { type: 'image', format: 'jpeg', filename: 'photo.jpg', contentType: 'image/jpeg', size: 2048 });
  await assert.rejects(wx.validateMedia('voice', h.jpeg()), wx.MediaValidationError);
  assert.equal(await wx.inferMediaType(h.amr()), 'voice');
  assert.equal(await wx.inferMediaType(h.mp4()), 'video');
  assert.equal(await wx.inferMediaType(Buffer.from('hello')), null);
});

test('without fs.openAsBlob, openMedia reads small files into memory and refuses files over 20 MiB', async (t) => {
  await h.reset();
  const dir = h.tempDir(t);
  const small = h.writeSample(dir, 'small.jpg', h.jpeg(10_000));
  const huge = path.join(dir, 'huge.jpg');
  fs.writeFileSync(huge, h.jpeg(100));
  fs.truncateSync(huge, 21 * 1024 * 1024);
  const script = `
    const fs = require('node:fs');
    const wx = require('wxmedia');
    const c = new wx.MediaClient({ appId: '${h.APPID}', appSecret: '${h.SECRET}', baseUrl: '${h.EMU}' });
    (async () => {
      const out = { hasOpenAsBlob: typeof fs.openAsBlob };
      out.small = await c.uploadFile('image', ${JSON.stringify(small)});
      try { await c.uploadFile('image', ${JSON.stringify(huge)}); } catch (e) { out.huge = { name: e.name, code: e.code, isGuard: e instanceof wx.MediaValidationError }; }
      console.log(JSON.stringify(out));
    })().catch((e) => { console.error(e); process.exitCode = 1; });`;
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['--require', path.join(__dirname, 'fixtures', 'no-whole-reads.cjs'), '-e', script],
    { cwd: h.PROJECT, env: { ...process.env, WXMEDIA_TEST_NO_OPENASBLOB: '1' } },
  );
  const out = JSON.parse(stdout);
  assert.equal(out.hasOpenAsBlob, 'undefined');
  assert.equal(out.small.type, 'image');
  assert.deepEqual(out.huge, { name: 'MediaValidationError', code: 'TOO_LARGE', isGuard: true });
  assert.deepEqual((await h.storedMedia()).map((m) => m.size), [10_000]);
  assert.equal((await h.requests('/cgi-bin/media/upload')).length, 1, 'the huge file was never sent');
});

test('openMedia refuses what is not a regular file, with Node fs errors', async (t) => {
  const dir = h.tempDir(t);
  await assert.rejects(wx.openMedia(path.join(dir, 'nope.jpg')), { code: 'ENOENT' });
  await assert.rejects(wx.openMedia(dir), { code: 'EISDIR' });
  const blob = await wx.openMedia(h.writeSample(dir, 'a.amr', h.amr()), { type: 'audio/amr' });
  assert.equal(blob.size, h.amr().length);
  assert.equal(blob.type, 'audio/amr');
  assert.equal(await wx.inferMediaType(blob), 'voice');
});

test('fifty concurrent uploads on one client share one token', async () => {
  await h.reset();
  const c = client();
  const results = await Promise.all(Array.from({ length: 50 }, (_, i) => c.upload('image', h.jpeg(1000 + i))));
  assert.equal(new Set(results.map((r) => r.mediaId)).size, 50);
  assert.equal((await h.requests('/cgi-bin/stable_token')).length, 1);
});

test('decodeVoice: every AMR mode and HD Speex to WAV, bit-exact with the reference decoders', async () => {
  for (let mode = 0; mode < 8; mode++) {
    const name = `amr-mode${mode}.amr`;
    const wav = await wx.decodeVoice(h.voiceFixture(name));
    h.assertWav(wav, 8000, h.voiceFixture(`${name}.s16`));
  }
  // A Blob and an ArrayBuffer too; HD Speex has no header, so it needs format: 'speex'.
  const speex = h.voiceFixture('hd.speex');
  const wav = await wx.decodeVoice(new Blob([speex]), { format: 'speex' });
  h.assertWav(wav, 16000, h.voiceFixture('hd.speex.s16'));
  const buf = speex.buffer.slice(speex.byteOffset, speex.byteOffset + speex.length);
  h.assertWav(await wx.decodeVoice(buf, { format: 'speex' }), 16000, h.voiceFixture('hd.speex.s16'));
});

test('decodeVoice refuses junk with a MediaValidationError (BAD_VOICE) and bad arguments with TypeErrors', async () => {
  const bad = (err) => err instanceof wx.MediaValidationError && err.code === 'BAD_VOICE' && /voice/.test(err.message);
  await assert.rejects(wx.decodeVoice(new Uint8Array([1, 2, 3])), bad);
  await assert.rejects(wx.decodeVoice(new Uint8Array(0)), bad);
  await assert.rejects(wx.decodeVoice(Buffer.from('#!AMR-WB\n\x04\x01')), bad);
  await assert.rejects(wx.decodeVoice(Buffer.from([...Buffer.from('#!AMR\n'), 0x64, 1, 2, 3])), bad); // a reserved frame type
  await assert.rejects(wx.decodeVoice(h.jpeg(), { format: 'amr' }), bad);
  await assert.rejects(wx.decodeVoice('#!AMR\n'), TypeError);
  await assert.rejects(wx.decodeVoice(h.voiceFixture('amr-mode0.amr'), { format: 'mp3' }), TypeError);
  // The decoder still works after refusals.
  h.assertWav(await wx.decodeVoice(h.voiceFixture('amr-mode0.amr')), 8000, h.voiceFixture('amr-mode0.amr.s16'));
});

test('MediaFile.wav(): voice from get() and getHdVoice() as WAV; other media refused', async () => {
  await h.reset();
  const c = client();
  const amr = h.voiceFixture('amr-mode7.amr');
  const { mediaId } = await c.upload('voice', amr, { filename: 'note.amr' });
  const file = await c.get(mediaId);
  assert.equal(typeof file.wav, 'function');
  h.assertWav(await file.wav(), 8000, h.voiceFixture('amr-mode7.amr.s16'));
  // The emulator answers get/jssdk with HD Speex made from the AMR: as long, at 16 kHz.
  const hd = await c.getHdVoice(mediaId);
  assert.match(hd.contentType, /speex/);
  const samples = h.assertWav(await hd.wav(), 16000);
  const amrSamples = h.voiceFixture('amr-mode7.amr.s16').length / 2;
  assert.ok(Math.abs(samples / 16000 - amrSamples / 8000) <= 0.1, `${samples / 16000} s vs ${amrSamples / 8000} s`);

  const image = await c.upload('image', h.jpeg());
  const notVoice = await c.get(image.mediaId);
  await assert.rejects(notVoice.wav(), (err) => err instanceof wx.MediaValidationError && err.code === 'NOT_VOICE');
  // WeChat's quirk: voice labelled text/plain with no disposition is still voice (its bytes say so),
  // and an image labelled text/plain is not.
  await h.fault({ path: '/cgi-bin/media/get', quirk: 'text_plain' });
  const plain = await c.get(mediaId);
  assert.equal(plain.contentType, 'text/plain');
  h.assertWav(await plain.wav(), 8000, h.voiceFixture('amr-mode7.amr.s16'));
  await h.fault({ path: '/cgi-bin/media/get', quirk: 'text_plain' });
  const plainImage = await c.get(image.mediaId);
  await assert.rejects(plainImage.wav(), (err) => err instanceof wx.MediaValidationError && err.code === 'NOT_VOICE');
});
