// The installed package through import: the same module as require(), the three ways to get a
// token, MediaFile's readers, videos, and saveMedia.

import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

import * as ns from 'wxmedia';
import { MediaClient, MediaFile, WeChatError, NetworkError, MediaValidationError, saveMedia, openMedia, signMediaUrl, decodeVoice } from 'wxmedia';
import h from './helpers.cjs';

const require = createRequire(import.meta.url);

before(h.reset);

test('import resolves to the installed index.mjs and shares everything with require()', () => {
  const resolved = fileURLToPath(import.meta.resolve('wxmedia'));
  h.assertInstalled(resolved);
  assert.equal(path.basename(resolved), 'index.mjs');
  const cjs = require('wxmedia');
  assert.deepEqual(Object.keys(ns).sort(), Object.keys(cjs).sort());
  for (const name of Object.keys(cjs)) assert.equal(ns[name], cjs[name], name);
  assert.equal(ns.default, undefined, 'no default export: use named imports');
  assert.equal(typeof signMediaUrl, 'function');
});

test('tokens three ways: app secret (stable and classic), a fixed token, a provider', async () => {
  await h.reset();
  const stable = new MediaClient({ appId: h.APPID, appSecret: h.SECRET, baseUrl: h.EMU });
  const classic = new MediaClient({ appId: h.APPID, appSecret: h.SECRET, baseUrl: h.EMU, tokenMode: 'classic' });
  const { mediaId } = await stable.upload('image', h.jpeg());
  assert.equal((await h.requests('/cgi-bin/stable_token')).length, 1);
  const token = await classic.accessToken();
  assert.equal((await h.requests('/cgi-bin/token')).length, 1);

  const fixed = new MediaClient({ accessToken: token, baseUrl: h.EMU });
  assert.equal((await fixed.get(mediaId)).kind, 'media');

  let asked = 0;
  const provided = new MediaClient({
    baseUrl: h.EMU,
    getAccessToken: async () => {
      asked += 1;
      return token;
    },
  });
  await provided.get(mediaId);
  await provided.get(mediaId);
  assert.equal(asked, 1, 'a provided token is cached');
  const gets = await h.requests('/cgi-bin/media/get');
  assert.ok(gets.slice(-3).every((r) => r.query.access_token === token));
});

test('tokens from elsewhere: a token hub (tokenBase) and a 中控 with its own API (tokenUrl)', async () => {
  await h.reset();
  // The emulator stands for the hub (it speaks WeChat's token API) under the name 127.0.0.1;
  // media calls name it localhost, so the log tells the two kinds of call apart.
  const media = h.EMU.replace('127.0.0.1', 'localhost');
  const viaHub = new MediaClient({ appId: h.APPID, appSecret: h.SECRET, baseUrl: media, tokenBase: h.EMU });
  const { mediaId } = await viaHub.upload('image', h.jpeg());
  const log = await h.requests();
  assert.ok(log.filter((e) => e.path === '/cgi-bin/stable_token').every((e) => e.host.startsWith('127.0.0.1')));
  assert.ok(log.filter((e) => e.path.startsWith('/cgi-bin/media/')).every((e) => e.host.startsWith('localhost')));
  // A revoked token: the hub is asked to refresh it (force_refresh with the failed token), once.
  await h.control('POST', '/_emulator/tokens/revoke', {});
  await h.control('DELETE', '/_emulator/requests');
  assert.equal((await viaHub.get(mediaId)).kind, 'media');
  assert.equal((await h.requests('/cgi-bin/stable_token')).length, 1);

  // A 中控 with its own API, with a key.
  const { createServer } = await import('node:http');
  const asks = [];
  let current = null;
  const center = createServer(async (req, res) => {
    const url = new URL(req.url, 'http://x');
    asks.push({ auth: req.headers.authorization, invalid: url.searchParams.get('invalid') });
    if (url.searchParams.get('invalid') === current) current = null;
    if (!current) {
      const r = await fetch(`${h.EMU}/cgi-bin/stable_token`, { method: 'POST', body: JSON.stringify({ grant_type: 'client_credential', appid: h.APPID, secret: h.SECRET }) });
      current = (await r.json()).access_token;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ access_token: current, expires_in: 7000 }));
  });
  center.listen(0, '127.0.0.1');
  await new Promise((r) => center.once('listening', r));
  try {
    const viaUrl = new MediaClient({ tokenUrl: `http://127.0.0.1:${center.address().port}/token`, tokenKey: 'k-1', baseUrl: h.EMU });
    assert.equal((await viaUrl.get(mediaId)).kind, 'media');
    assert.deepEqual(asks, [{ auth: 'Bearer k-1', invalid: null }]);
    await h.control('POST', '/_emulator/tokens/revoke', {});
    assert.equal((await viaUrl.get(mediaId)).kind, 'media');
    assert.equal(asks.length, 2);
    assert.ok(asks[1].invalid, 'asked again with ?invalid=<the failed token>');
    assert.throws(() => new MediaClient({ tokenUrl: 'not a url' }), TypeError);
  } finally {
    center.close();
  }
});

test('a MediaFile reads as a stream, an ArrayBuffer or a Blob, once', async () => {
  await h.reset();
  const client = new MediaClient({ appId: h.APPID, appSecret: h.SECRET, baseUrl: h.EMU });
  const bytes = h.jpeg(100_000);
  const { mediaId } = await client.upload('image', bytes, { filename: 'photo.jpg' });

  const a = await client.get(mediaId);
  assert.ok(a instanceof MediaFile);
  assert.equal(a.kind, 'media');
  assert.equal(a.contentType, 'image/jpeg');
  assert.equal(a.filename, `${mediaId}.jpg`);
  assert.equal(a.contentLength, bytes.length);
  assert.equal(a.bodyUsed, false);
  const chunks = [];
  for await (const chunk of a.body) chunks.push(chunk);
  assert.ok(Buffer.concat(chunks).equals(bytes));
  assert.equal(a.bodyUsed, true);
  await assert.rejects(a.arrayBuffer());

  const b = await client.get(mediaId);
  const blob = await b.blob();
  assert.equal(blob.type, 'image/jpeg');
  assert.ok(Buffer.from(await blob.arrayBuffer()).equals(bytes));
  // Read whole, the answer is let go: used, and a second read is refused.
  assert.equal(b.bodyUsed, true);
  await assert.rejects(b.arrayBuffer(), (err) => err.name === 'NetworkError' && /already been read/.test(err.message));
});

test('bytes upload as they are: a view into a larger buffer, an ArrayBuffer, other typed arrays', async () => {
  await h.reset();
  const calls = [];
  // The Node transport takes bytes as form parts; a caller's fetch gets a FormData of a Blob.
  const { nodeFetch } = require(path.join(path.dirname(fileURLToPath(import.meta.resolve('wxmedia'))), 'lib/http.cjs'));
  const own = (url, init) => {
    if (url.includes('/cgi-bin/media/upload')) calls.push(init.body instanceof FormData ? 'FormData' : typeof init.body);
    return fetch(url, init);
  };
  const viaTransport = new MediaClient({ appId: h.APPID, appSecret: h.SECRET, baseUrl: h.EMU });
  const viaFetch = new MediaClient({ appId: h.APPID, appSecret: h.SECRET, baseUrl: h.EMU, fetch: own });
  const jpeg = h.jpeg(70_000);
  // The JPEG sits in the middle of a larger buffer: only the view's bytes may be sent.
  const backing = Buffer.alloc(jpeg.length + 300, 0x5a);
  jpeg.copy(backing, 100);
  const view = backing.subarray(100, 100 + jpeg.length);
  const asArrayBuffer = jpeg.buffer.slice(jpeg.byteOffset, jpeg.byteOffset + jpeg.length);
  const asDataView = new DataView(backing.buffer, backing.byteOffset + 100, jpeg.length);
  for (const [name, client, media] of [
    ['Buffer view, Node transport', viaTransport, view],
    ['Uint8Array view, Node transport', viaTransport, new Uint8Array(backing.buffer, backing.byteOffset + 100, jpeg.length)],
    ['ArrayBuffer, Node transport', viaTransport, asArrayBuffer],
    ['DataView, Node transport', viaTransport, asDataView],
    ['Buffer view, own fetch', viaFetch, view],
  ]) {
    const { mediaId } = await client.upload('image', media, { filename: 'photo.png' });
    const file = await client.get(mediaId);
    assert.equal(file.contentType, 'image/jpeg', name);
    assert.equal(file.filename, `${mediaId}.jpg`, name);
    assert.ok(Buffer.from(await file.arrayBuffer()).equals(jpeg), name);
  }
  assert.deepEqual(calls, ['FormData'], 'a fetch of the caller\'s own gets FormData');
  const uploads = await h.requests('/cgi-bin/media/upload');
  assert.deepEqual(uploads.map((r) => r.status), [200, 200, 200, 200, 200], 'one upload each, no retry');
  assert.ok(nodeFetch[Symbol.for('wxmedia.formParts')], 'the Node transport says it takes form parts');
});

test('a video answers with its URL; saveMedia fetches it', async (t) => {
  await h.reset();
  const dir = h.tempDir(t);
  // The emulator's video URLs name its CDN listener by a loopback address and a port of its own:
  // refused unless trusted (WeChat's field URLs name a public address, which needs no option).
  const untrusting = new MediaClient({ appId: h.APPID, appSecret: h.SECRET, baseUrl: h.EMU });
  assert.throws(() => new MediaClient({ appId: h.APPID, appSecret: h.SECRET, videoHosts: ['http://x/'] }), TypeError);
  assert.throws(() => new MediaClient({ appId: h.APPID, appSecret: h.SECRET, videoHosts: 'x' }), TypeError);
  const client = new MediaClient({ appId: h.APPID, appSecret: h.SECRET, baseUrl: h.EMU, videoHosts: [h.CDN_HOST] });
  const video = h.writeSample(dir, 'clip.mp4', h.mp4());
  const { mediaId, type } = await client.uploadFile('video', video);
  assert.equal(type, 'video');
  await assert.rejects(untrusting.get(mediaId), (err) => {
    assert.equal(err.name, 'NetworkError');
    assert.match(err.message, /not public/);
    return true;
  });
  const link = await client.get(mediaId);
  assert.ok(link.videoUrl.startsWith(`${h.CDN}/vweixinp.tc.qq.com/1007_`), link.videoUrl);
  assert.deepEqual(Object.keys(link).sort(), ['kind', 'videoUrl']);
  assert.equal(link.kind, 'video');
  const saved = await saveMedia(link, path.join(dir, 'copy.mp4'));
  assert.equal(saved.kind, 'video');
  assert.equal(saved.videoUrl, link.videoUrl);
  assert.equal(saved.bytes, h.mp4().length);
  assert.ok(fs.readFileSync(saved.path).equals(h.mp4()));
  // download() does the same in one call, and a failing video URL leaves nothing behind.
  const again = await client.download(mediaId, path.join(dir, 'again.mp4'));
  assert.equal(again.kind, 'video');
  await h.fault({ path: new URL(link.videoUrl).pathname, status: 503 });
  await assert.rejects(client.download(mediaId, path.join(dir, 'failed.mp4')), (err) => {
    assert.ok(err instanceof NetworkError);
    assert.equal(err.code, 'HTTP');
    assert.equal(err.status, 503);
    return true;
  });
  assert.deepEqual(h.listDir(dir), ['again.mp4', 'clip.mp4', 'copy.mp4']);
});

test('saveMedia refuses a body already read, and anything that is not media', async (t) => {
  await h.reset();
  const dir = h.tempDir(t);
  const client = new MediaClient({ appId: h.APPID, appSecret: h.SECRET, baseUrl: h.EMU });
  const { mediaId } = await client.upload('image', await openMedia(h.writeSample(dir, 'a.jpg', h.jpeg())));
  const file = await client.get(mediaId);
  await file.arrayBuffer();
  await assert.rejects(saveMedia(file, path.join(dir, 'b.jpg')), TypeError);
  await assert.rejects(saveMedia({ kind: 'nope' }, path.join(dir, 'c.jpg')), TypeError);
  assert.deepEqual(h.listDir(dir), ['a.jpg']);
});

test('retried uploads: a transient error is retried, a persistent one stores nothing', async (t) => {
  await h.reset();
  const dir = h.tempDir(t);
  const client = new MediaClient({ appId: h.APPID, appSecret: h.SECRET, baseUrl: h.EMU });
  const file = h.writeSample(dir, 'a.jpg', h.jpeg(1024 * 1024));
  await h.fault({ path: '/cgi-bin/media/upload', errcode: -1 });
  const ok = await client.uploadFile('image', file);
  assert.equal((await h.requests('/cgi-bin/media/upload')).length, 2, 'retried once, the whole file sent again');
  assert.deepEqual((await h.storedMedia()).map((m) => [m.media_id, m.size]), [[ok.mediaId, 1024 * 1024]]);

  await h.fault({ path: '/cgi-bin/media/upload', errcode: -1, count: 10 });
  await assert.rejects(client.uploadFile('image', file), (err) => err instanceof WeChatError && err.errcode === -1);
  const uploads = await h.requests('/cgi-bin/media/upload');
  assert.equal(uploads.length, 2 + 3, 'three attempts, no more');
  assert.equal((await h.storedMedia()).length, 1, 'nothing stored by the failed upload');
});

test('decodeVoice through import: AMR and HD Speex to WAV equal to the reference PCM; wav() on a download', async () => {
  h.assertWav(await decodeVoice(h.voiceFixture('amr-mode4.amr')), 8000, h.voiceFixture('amr-mode4.amr.s16'));
  h.assertWav(await decodeVoice(new Uint8Array(h.voiceFixture('hd.speex')), { format: 'speex' }), 16000, h.voiceFixture('hd.speex.s16'));
  await assert.rejects(decodeVoice(new Uint8Array([9, 9, 9])), (err) => err instanceof MediaValidationError && err.code === 'BAD_VOICE');
  await h.reset();
  const client = new MediaClient({ appId: h.APPID, appSecret: h.SECRET, baseUrl: h.EMU });
  const { mediaId } = await client.upload('voice', h.voiceFixture('amr-damaged.amr'));
  h.assertWav(await (await client.get(mediaId)).wav(), 8000, h.voiceFixture('amr-damaged.amr.s16'));
});

test('decodeVoice to MP3: a tenth of the WAV, and sox decodes it to the recording\'s length', async () => {
  const pcm = h.voiceFixture('amr-mode7.amr.s16');
  const mp3 = await decodeVoice(h.voiceFixture('amr-mode7.amr'), { to: 'mp3' });
  assert.equal(mp3[0], 0xff, 'an MP3 frame sync first');
  assert.ok(mp3.length * 5 < pcm.length, `${mp3.length} bytes of MP3 for ${pcm.length} of PCM`);
  const { execFileSync } = await import('node:child_process');
  const os = await import('node:os');
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'wxmedia-mp3-')), 'v.mp3');
  fs.writeFileSync(file, mp3);
  const decoded = execFileSync('sox', [file, '-t', 'raw', '-e', 'signed', '-b', '16', '-c', '1', '-r', '8000', '-']);
  assert.ok(Math.abs(decoded.length - pcm.length) / 2 / 8000 < 0.3, `${decoded.length / 16000} s vs ${pcm.length / 16000} s`);
  const hd = await decodeVoice(new Uint8Array(h.voiceFixture('hd.speex')), { format: 'speex', to: 'mp3' });
  assert.equal(hd[0], 0xff);
  await assert.rejects(decodeVoice(h.voiceFixture('amr-mode7.amr'), { to: 'ogg' }), TypeError);
});
