// The Worker in real workerd (wrangler dev) with the emulator as its upstream: every route and
// auth mode, the cache tiers, faults, bad input, and a scan of every response for the token.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import {
  startEmulator, startWorker, recordedResponses, jpeg, png, amr, mp4, multipart,
  APPID, SECRET, API_KEY, SIGNING_KEY,
} from './harness.mjs';

const auth = { authorization: `Bearer ${API_KEY}` };
let emu;
const workers = [];
after(async () => {
  for (const w of workers) await w.stop();
  emu?.stop();
});

async function worker(opts) {
  const w = await startWorker(opts);
  workers.push(w);
  return w;
}

/** Uploads straight to the emulator, as media that did not come through the Worker. */
async function uploadUpstream(type, bytes, filename) {
  const token = await emu.token();
  const form = new FormData();
  form.append('media', new Blob([bytes]), filename);
  const r = await fetch(`${emu.url}/cgi-bin/media/upload?access_token=${token}&type=${type}`, { method: 'POST', body: form });
  const json = await r.json();
  assert.ok(json.media_id || json.thumb_media_id, JSON.stringify(json));
  return json.media_id || json.thumb_media_id;
}

async function uploadVia(w, type, bytes, filename) {
  const form = new FormData();
  form.append('media', new Blob([bytes]), filename);
  const r = await w.fetch(`/media?type=${type}`, { method: 'POST', headers: auth, body: form });
  assert.equal(r.status, 201, r.text());
  return r.json();
}

async function signedPath(w, id, kind) {
  const r = await w.fetch(`/media/${id}/sign${kind ? `?kind=${kind}` : ''}`, { method: 'POST', headers: auth });
  assert.equal(r.status, 200, r.text());
  const { url, expiresAt } = r.json();
  assert.ok(expiresAt > Date.now() / 1000);
  return new URL(url).pathname + new URL(url).search;
}

/** The video URL the emulator itself answers for `id` (what WeChat would send the Worker). */
async function upstreamVideoUrl(id) {
  const r = await fetch(`${emu.url}/cgi-bin/media/get?access_token=${await emu.token()}&media_id=${id}`);
  return (await r.json()).video_url;
}

const upstreamGets = async (id) =>
  (await emu.requests('/cgi-bin/media/get')).filter((e) => !id || e.query.media_id === id).length;

describe('the Worker', () => {
  let w; // signed downloads, Durable Object tokens, R2, CORS, a short upstream timeout

  before(async () => {
    // Video URLs in the field's shape: WeChat's CDN by public address (nothing here fetches it).
    emu = await startEmulator(['--video-host', '203.205.137.89']);
    w = await worker({
      name: 'signed',
      vars: { UPSTREAM_BASE: emu.url, WECHAT_APPID: APPID, CORS_ORIGINS: 'https://console.example', UPSTREAM_TIMEOUT_MS: 1500 },
      secrets: { WECHAT_SECRET: SECRET, API_KEYS: `${API_KEY},test-key-2`, SIGNING_KEY },
      durableObject: true,
      r2: true,
    });
  });

  it('reports its health without secrets', async () => {
    const r = await w.fetch('/healthz');
    assert.equal(r.status, 200);
    const h = r.json();
    assert.equal(h.ok, true);
    assert.equal(h.downloadAuth, 'signed');
    assert.equal(h.tokens, 'durable-object');
    assert.equal(h.r2, true);
    assert.equal(h.limits.thumb, 65536);
    for (const secret of [SECRET, API_KEY, SIGNING_KEY]) assert.ok(!r.text().includes(secret));
  });

  it('uploads multipart, answers 201 with a signed URL, and the first download is a hit', async () => {
    const bytes = jpeg(5000);
    const up = await uploadVia(w, 'image', bytes, 'photo.jpg');
    assert.equal(up.type, 'image');
    assert.ok(up.mediaId && up.createdAt > 0);
    const url = new URL(up.url);
    assert.match(url.search, /^\?exp=\d+&sig=[A-Za-z0-9_-]{43}$/);
    const r = await w.fetch(url.pathname + url.search);
    assert.equal(r.status, 200);
    assert.deepEqual(r.body, bytes);
    assert.equal(r.headers.get('x-cache'), 'HIT');
    assert.equal(r.headers.get('content-type'), 'image/jpeg');
    assert.equal(r.headers.get('content-disposition'), `attachment; filename="${up.mediaId}.jpg"`);
    assert.equal(r.headers.get('etag'), `"${up.mediaId}"`);
    assert.equal(r.headers.get('accept-ranges'), 'bytes');
    assert.match(r.headers.get('cache-control'), /^private, max-age=259200$/);
    assert.equal(await upstreamGets(up.mediaId), 0, 'write-through: WeChat was never asked');
  });

  it('uploads raw bytes with a Content-Type', async () => {
    const r = await w.fetch('/media?type=voice&filename=hello.amr', {
      method: 'POST', headers: { ...auth, 'content-type': 'audio/amr' }, body: amr(),
    });
    assert.equal(r.status, 201, r.text());
    assert.equal(r.json().type, 'voice');
    const upload = (await emu.requests('/cgi-bin/media/upload')).at(-1);
    assert.equal(upload.errcode, 0);
    assert.equal(upload.query.type, 'voice');
  });

  it('downloads media that did not come through it, once from WeChat, then from the cache', async () => {
    const bytes = jpeg(3000, 7);
    const id = await uploadUpstream('image', bytes, 'x.jpg');
    const p = await signedPath(w, id);
    const first = await w.fetch(p);
    assert.equal(first.status, 200);
    assert.equal(first.headers.get('x-cache'), 'MISS');
    assert.equal(first.headers.get('x-cache-source'), 'upstream');
    assert.deepEqual(first.body, bytes);
    const afterFirst = await upstreamGets(id);
    assert.ok(afterFirst >= 1);
    const second = await w.fetch(p);
    assert.equal(second.headers.get('x-cache'), 'HIT');
    assert.deepEqual(second.body, bytes);
    assert.equal(await upstreamGets(id), afterFirst, 'the second download never reached WeChat');
  });

  it('answers Range with 206, If-None-Match with 304, and HEAD without a body', async () => {
    const bytes = jpeg(4000, 3);
    const { mediaId, url } = await uploadVia(w, 'image', bytes, 'r.jpg');
    const p = new URL(url).pathname + new URL(url).search;
    const ranged = await w.fetch(p, { headers: { range: 'bytes=100-199' } });
    assert.equal(ranged.status, 206);
    assert.equal(ranged.headers.get('content-range'), `bytes 100-199/${bytes.length}`);
    assert.deepEqual(ranged.body, bytes.subarray(100, 200));
    const notModified = await w.fetch(p, { headers: { 'if-none-match': `"${mediaId}"` } });
    assert.equal(notModified.status, 304);
    assert.equal(notModified.body.length, 0);
    const head = await w.fetch(p, { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(head.headers.get('content-length'), String(bytes.length));
    assert.equal(head.body.length, 0);
  });

  it('shares one upstream fetch among 20 concurrent cold downloads', async () => {
    const bytes = jpeg(20_000, 11);
    const id = await uploadUpstream('image', bytes, 'c.jpg');
    const p = await signedPath(w, id);
    const all = await Promise.all(Array.from({ length: 20 }, () => w.fetch(p)));
    for (const r of all) {
      assert.equal(r.status, 200);
      assert.deepEqual(r.body, bytes);
    }
    assert.equal(await upstreamGets(id), 1);
  });

  it('refreshes a revoked token once', async () => {
    const warm = await uploadUpstream('image', jpeg(100, 1), 'w.jpg');
    assert.equal((await w.fetch(await signedPath(w, warm))).status, 200); // the Worker holds a token now
    const id = await uploadUpstream('image', jpeg(100, 2), 'v.jpg');
    const before = (await emu.requests('/cgi-bin/stable_token')).length;
    await emu.control('POST', 'tokens/revoke', {});
    const r = await w.fetch(await signedPath(w, id));
    assert.equal(r.status, 200, r.text());
    assert.equal((await emu.requests('/cgi-bin/stable_token')).length - before, 1, 'exactly one refresh');
    const gets = (await emu.requests('/cgi-bin/media/get')).slice(-2);
    assert.deepEqual(gets.map((g) => g.errcode), [40001, null], 'the failed call, then one retry');
  });

  it('maps upstream faults: -1 and 502 to 502, a truncated body to 502 (not cached), a delay to 504', async () => {
    const bytes = jpeg(10_000, 5);
    const id = await uploadUpstream('image', bytes, 'f.jpg');
    const p = await signedPath(w, id);

    await emu.fault({ path: '/cgi-bin/media/get', count: 5, errcode: -1 });
    let r = await w.fetch(p);
    assert.equal(r.status, 502);
    assert.equal(r.json().error.errcode, -1);
    assert.equal(await upstreamGets(id), 3, '-1 is retried, a bounded number of times');
    await emu.control('DELETE', 'faults');

    await emu.fault({ path: '/cgi-bin/media/get', count: 5, status: 502 });
    r = await w.fetch(p);
    assert.equal(r.status, 502);
    assert.equal(r.json().error.code, 'UPSTREAM_ERROR');
    await emu.control('DELETE', 'faults');

    await emu.fault({ path: '/cgi-bin/media/get', count: 1, truncate_at: 4000 });
    r = await w.fetch(p);
    assert.equal(r.status, 502);
    assert.equal(r.json().error.code, 'UPSTREAM_TRUNCATED');
    const gets = await upstreamGets(id);
    r = await w.fetch(p);
    assert.equal(r.status, 200, 'the truncated body was not cached');
    assert.deepEqual(r.body, bytes);
    assert.equal(r.headers.get('x-cache'), 'MISS');
    assert.equal(await upstreamGets(id), gets + 1);

    const slow = await uploadUpstream('image', jpeg(100, 9), 's.jpg');
    await emu.fault({ path: '/cgi-bin/media/get', count: 1, delay_ms: 4000 });
    r = await w.fetch(await signedPath(w, slow));
    assert.equal(r.status, 504);
    assert.equal(r.json().error.code, 'UPSTREAM_TIMEOUT');
  });

  it('answers quota errors with 429 and Retry-After', async () => {
    const id = await uploadUpstream('image', jpeg(100, 4), 'q.jpg');
    await emu.fault({ path: '/cgi-bin/media/get', count: 1, errcode: 45009 });
    const r = await w.fetch(await signedPath(w, id));
    assert.equal(r.status, 429);
    assert.equal(r.json().error.errcode, 45009);
    assert.ok(Number(r.headers.get('retry-after')) > 0);
    assert.equal(await upstreamGets(id), 1, '45009 is not retried');
  });

  it('answers unknown media with 404 and remembers it briefly', async () => {
    const p = await signedPath(w, 'no-such-media-id');
    const r = await w.fetch(p);
    assert.equal(r.status, 404);
    assert.equal(r.json().error.errcode, 40007);
    assert.equal((await w.fetch(p)).status, 404);
    assert.equal(await upstreamGets('no-such-media-id'), 1, 'negative-cached');
  });

  it('redirects videos to their field-shaped URL unchanged, or answers JSON when asked', async () => {
    const id = await uploadUpstream('video', mp4(), 'v.mp4');
    const field = await upstreamVideoUrl(id);
    assert.match(field, /^http:\/\/203\.205\.137\.89\/vweixinp\.tc\.qq\.com\/1007_[0-9a-f]{32}\.f10\.mp4\?vkey=[0-9A-F]+&sha=0&save=1$/);
    const p = await signedPath(w, id);
    const r = await w.fetch(p);
    assert.equal(r.status, 302);
    assert.equal(r.headers.get('location'), field);
    const j = await w.fetch(p, { headers: { accept: 'application/json' } });
    assert.equal(j.status, 200);
    assert.deepEqual(j.json(), { videoUrl: field });
  });

  it('serves HD voice as speex, cached the same way', async () => {
    const id = await uploadUpstream('voice', amr(), 'v.amr');
    const p = await signedPath(w, id, 'hd-voice');
    assert.match(p, new RegExp(`^/media/${id}/hd-voice\\?exp=`));
    const first = await w.fetch(p);
    assert.equal(first.status, 200, first.text());
    assert.equal(first.headers.get('content-type'), 'voice/speex');
    assert.equal(first.headers.get('content-disposition'), `attachment; filename="${id}.speex"`);
    const second = await w.fetch(p);
    assert.equal(second.headers.get('x-cache'), 'HIT');
    assert.deepEqual(second.body, first.body);
    assert.equal((await emu.requests('/cgi-bin/media/get/jssdk')).filter((e) => e.query.media_id === id).length, 1);
    // A signature for the plain download does not open the HD voice one.
    const plain = await signedPath(w, id);
    const forged = `/media/${id}/hd-voice${new URL(plain, 'http://x').search}`;
    assert.equal((await w.fetch(forged)).status, 403);
  });

  it('refuses bad input before calling WeChat', async () => {
    const calls = (await emu.requests()).length;
    const check = async (r, status, code) => {
      assert.equal(r.status, status, r.text());
      assert.equal(r.json().error.code, code);
    };
    const broken = { ...auth, 'content-type': 'multipart/form-data; boundary=xyz' };
    await check(await w.fetch('/media?type=image', { method: 'POST', headers: broken, body: 'not multipart at all' }), 400, 'BAD_REQUEST');
    const other = multipart('file', 'a.jpg', 'image/jpeg', jpeg(100));
    await check(await w.fetch('/media?type=image', { method: 'POST', headers: { ...auth, 'content-type': other.contentType }, body: other.body }), 400, 'BAD_REQUEST');
    const ok = multipart('media', 'a.jpg', 'image/jpeg', jpeg(100));
    await check(await w.fetch('/media?type=sticker', { method: 'POST', headers: { ...auth, 'content-type': ok.contentType }, body: ok.body }), 400, 'BAD_TYPE');
    const pngAsVoice = multipart('media', 'a.amr', 'audio/amr', png());
    await check(await w.fetch('/media?type=voice', { method: 'POST', headers: { ...auth, 'content-type': pngAsVoice.contentType }, body: pngAsVoice.body }), 415, 'BAD_FORMAT');
    const bigThumb = multipart('media', 't.jpg', 'image/jpeg', jpeg(70_000));
    await check(await w.fetch('/media?type=thumb', { method: 'POST', headers: { ...auth, 'content-type': bigThumb.contentType }, body: bigThumb.body }), 413, 'TOO_LARGE');
    const hugeRaw = await w.fetch('/media?type=image', { method: 'POST', headers: { ...auth, 'content-type': 'image/jpeg' }, body: jpeg(11 * 1024 * 1024) });
    await check(hugeRaw, 413, 'TOO_LARGE');
    await check(await w.fetch('/media?type=image', { method: 'POST', headers: { ...auth, 'content-type': 'image/jpeg' }, body: Buffer.alloc(0) }), 400, 'EMPTY');
    for (const id of ['a%26b', 'a&b', 'a%2Fb', 'a..b', '..%2F..%2Fetc', 'a%00', 'x'.repeat(10_000)]) {
      await check(await w.fetch(`/media/${id}`, { headers: auth }), 400, 'BAD_MEDIA_ID');
    }
    await check(await w.fetch('/media/a/b', { headers: auth }), 400, 'BAD_MEDIA_ID');
    assert.equal((await emu.requests()).length, calls, 'nothing reached WeChat');
  });

  it('refuses unsigned, expired, forged and altered URLs, and missing or wrong keys', async () => {
    const { mediaId, url } = await uploadVia(w, 'image', jpeg(500, 8), 'a.jpg');
    const u = new URL(url);
    const code = async (p, init) => { const r = await w.fetch(p, init); return [r.status, r.json().error?.code]; };
    assert.deepEqual(await code(`/media/${mediaId}`), [403, 'SIGNATURE_REQUIRED']);
    const exp = Number(u.searchParams.get('exp'));
    const sig = u.searchParams.get('sig');
    assert.deepEqual(await code(`/media/${mediaId}?exp=${exp + 1}&sig=${sig}`), [403, 'SIGNATURE_INVALID']);
    assert.deepEqual(await code(`/media/${mediaId}?exp=${exp}&sig=${sig.slice(0, -2)}AA`), [403, 'SIGNATURE_INVALID']);
    // Correctly signed, but for longer than the 7-day cap: refused on verifying too.
    const far = Math.floor(Date.now() / 1000) + 8 * 86_400;
    const farSig = createHmac('sha256', SIGNING_KEY).update(`media\n${mediaId}\n${far}`).digest('base64url');
    assert.deepEqual(await code(`/media/${mediaId}?exp=${far}&sig=${farSig}`), [403, 'SIGNATURE_INVALID']);
    const near = far - 2 * 86_400;
    const nearSig = createHmac('sha256', SIGNING_KEY).update(`media\n${mediaId}\n${near}`).digest('base64url');
    assert.equal((await w.fetch(`/media/${mediaId}?exp=${near}&sig=${nearSig}`)).status, 200);
    const other = await uploadVia(w, 'image', jpeg(500, 9), 'b.jpg');
    assert.deepEqual(await code(`/media/${other.mediaId}?exp=${exp}&sig=${sig}`), [403, 'SIGNATURE_INVALID']);
    const expired = await w.fetch(`/media/${mediaId}/sign?expires_in=1`, { method: 'POST', headers: auth });
    const e = new URL(expired.json().url);
    await new Promise((r) => setTimeout(r, 2100));
    assert.deepEqual(await code(e.pathname + e.search), [403, 'SIGNATURE_EXPIRED']);
    // An API key opens downloads too.
    assert.equal((await w.fetch(`/media/${mediaId}`, { headers: auth })).status, 200);
    assert.deepEqual(await code(`/media/${mediaId}`, { headers: { authorization: 'Bearer nope' } }), [401, 'UNAUTHORIZED']);
    assert.deepEqual(await code('/media?type=image', { method: 'POST', body: jpeg(100) }), [401, 'UNAUTHORIZED']);
    assert.deepEqual(await code('/media?type=image', { method: 'POST', headers: { authorization: 'Bearer wrong' }, body: jpeg(100) }), [401, 'UNAUTHORIZED']);
    assert.deepEqual(await code(`/media/${mediaId}/sign`, { method: 'POST' }), [401, 'UNAUTHORIZED']);
    const second = await w.fetch('/media?type=image', { method: 'POST', headers: { authorization: 'Bearer test-key-2', 'content-type': 'image/jpeg' }, body: jpeg(100) });
    assert.equal(second.status, 201, 'every key in API_KEYS works');
  });

  it('speaks WeChat on /cgi-bin/media/*, from the same cache', async () => {
    const form = new FormData();
    form.append('media', new Blob([jpeg(1200, 12)]), 'wx.jpg');
    let r = await w.fetch(`/cgi-bin/media/upload?access_token=${API_KEY}&type=image`, { method: 'POST', body: form });
    assert.equal(r.status, 200);
    const up = r.json();
    assert.equal(up.type, 'image');
    assert.ok(up.media_id && up.created_at);
    const thumbForm = new FormData();
    thumbForm.append('media', new Blob([jpeg(500, 13)]), 't.jpg');
    r = await w.fetch(`/cgi-bin/media/upload?access_token=${API_KEY}&type=thumb`, { method: 'POST', body: thumbForm });
    assert.ok(r.json().thumb_media_id, r.text());
    r = await w.fetch(`/cgi-bin/media/get?access_token=${API_KEY}&media_id=${up.media_id}`);
    assert.equal(r.status, 200);
    assert.deepEqual(r.body, jpeg(1200, 12));
    assert.equal(r.headers.get('content-disposition'), `attachment; filename="${up.media_id}.jpg"`);
    assert.equal(r.headers.get('x-cache'), 'HIT');
    for (const [p, errcode] of [
      [`/cgi-bin/media/get?access_token=wrong&media_id=${up.media_id}`, 40001],
      [`/cgi-bin/media/get?media_id=${up.media_id}`, 41001],
      [`/cgi-bin/media/get?access_token=${API_KEY}&media_id=missing-id`, 40007],
      [`/cgi-bin/media/get?access_token=${API_KEY}`, 41006],
      [`/cgi-bin/media/get?access_token=${API_KEY}&media_id=a%26b`, 40007],
    ]) {
      r = await w.fetch(p);
      assert.equal(r.status, 200, p);
      assert.equal(r.json().errcode, errcode, `${p}: ${r.text()}`);
    }
    const bad = new FormData();
    bad.append('media', new Blob([png()]), 'x.png');
    r = await w.fetch(`/cgi-bin/media/upload?access_token=${API_KEY}&type=voice`, { method: 'POST', body: bad });
    assert.equal(r.json().errcode, 40005);
    const voice = await uploadUpstream('voice', amr(), 'v.amr');
    r = await w.fetch(`/cgi-bin/media/get/jssdk?access_token=${API_KEY}&media_id=${voice}`);
    assert.equal(r.headers.get('content-type'), 'voice/speex');
    const video = await uploadUpstream('video', mp4(), 'v.mp4');
    r = await w.fetch(`/cgi-bin/media/get?access_token=${API_KEY}&media_id=${video}`);
    assert.deepEqual(r.json(), { video_url: await upstreamVideoUrl(video) });
  });

  it('answers CORS for allowed origins only', async () => {
    const pre = await w.fetch('/media?type=image', {
      method: 'OPTIONS',
      headers: { origin: 'https://console.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization' },
    });
    assert.equal(pre.status, 204);
    assert.equal(pre.headers.get('access-control-allow-origin'), 'https://console.example');
    assert.match(pre.headers.get('access-control-allow-headers'), /Authorization/);
    const r = await w.fetch('/healthz', { headers: { origin: 'https://console.example' } });
    assert.equal(r.headers.get('access-control-allow-origin'), 'https://console.example');
    assert.match(r.headers.get('access-control-expose-headers'), /X-Cache/);
    const no = await w.fetch('/healthz', { headers: { origin: 'https://evil.example' } });
    assert.equal(no.headers.get('access-control-allow-origin'), null);
  });
});

describe('the Worker with public downloads, isolate tokens and R2 as the persistent tier', () => {
  let w;
  before(async () => {
    w = await worker({
      name: 'public',
      vars: { UPSTREAM_BASE: emu.url, WECHAT_APPID: APPID, DOWNLOAD_AUTH: 'public', CACHE_TTL_SECS: 1 },
      secrets: { WECHAT_SECRET: SECRET, API_KEYS: API_KEY },
      r2: true,
    });
  });

  it('serves public downloads with a public, immutable Cache-Control', async () => {
    const h = (await w.fetch('/healthz')).json();
    assert.equal(h.tokens, 'isolate');
    const { mediaId, url } = await uploadVia(w, 'image', jpeg(800, 21), 'p.jpg');
    assert.equal(new URL(url).search, '', 'public URLs are not signed');
    const r = await w.fetch(`/media/${mediaId}`);
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('cache-control'), 'public, max-age=1, immutable');
  });

  it('keeps media past WeChat’s expiry in R2', async () => {
    const bytes = jpeg(2500, 22);
    const id = await uploadUpstream('image', bytes, 'old.jpg');
    assert.equal((await w.fetch(`/media/${id}`)).headers.get('x-cache-source'), 'upstream');
    await emu.control('POST', 'clock', { advance_secs: 4 * 86400 }); // WeChat forgets it
    await new Promise((r) => setTimeout(r, 2200)); // the Cache API entry (max-age=1) expires
    const r = await w.fetch(`/media/${id}`);
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('x-cache-source'), 'r2');
    assert.deepEqual(r.body, bytes);
    assert.equal(await upstreamGets(id), 1);
  });
});

describe('the Worker and a video CDN on another port of the upstream’s host', () => {
  // The emulator's default: video URLs name its CDN listener (127.0.0.1, a port of its own).
  let cdnEmu;
  let untrusting;
  let trusting;
  before(async () => {
    cdnEmu = await startEmulator();
    const vars = { UPSTREAM_BASE: cdnEmu.url, WECHAT_APPID: APPID, DOWNLOAD_AUTH: 'key' };
    const secrets = { WECHAT_SECRET: SECRET, API_KEYS: API_KEY };
    [untrusting, trusting] = await Promise.all([
      worker({ name: 'cdn-untrusted', vars, secrets }),
      worker({ name: 'cdn-trusted', vars: { ...vars, VIDEO_HOSTS: cdnEmu.cdnHost }, secrets }),
    ]);
  });
  after(() => cdnEmu?.stop());

  async function cdnVideo() {
    const form = new FormData();
    form.append('media', new Blob([mp4()]), 'v.mp4');
    const r = await fetch(`${cdnEmu.url}/cgi-bin/media/upload?access_token=${await cdnEmu.token()}&type=video`, { method: 'POST', body: form });
    return (await r.json()).media_id;
  }

  it('refuses a loopback address on another port (the upstream is its host and port)', async () => {
    const r = await untrusting.fetch(`/media/${await cdnVideo()}`, { headers: auth });
    assert.equal(r.status, 502, r.text());
    assert.equal(r.headers.get('location'), null);
    assert.match(r.json().error.message, /not public/);
  });

  it('passes it on when VIDEO_HOSTS trusts it, and the URL serves the video', async () => {
    const id = await cdnVideo();
    const r = await trusting.fetch(`/media/${id}`, { headers: auth });
    assert.equal(r.status, 302, r.text());
    const location = r.headers.get('location');
    assert.ok(location.startsWith(`${cdnEmu.cdnUrl}/vweixinp.tc.qq.com/1007_`), location);
    const video = await fetch(location);
    assert.equal(video.status, 200);
    assert.deepEqual(Buffer.from(await video.arrayBuffer()), mp4());
    const bad = await worker({ name: 'cdn-bad', vars: { UPSTREAM_BASE: cdnEmu.url, WECHAT_APPID: APPID, VIDEO_HOSTS: 'http://x/' }, secrets: { WECHAT_SECRET: SECRET, API_KEYS: API_KEY } });
    const h = await bad.fetch('/healthz');
    assert.equal(h.status, 500);
    assert.match(h.text(), /VIDEO_HOSTS/);
  });
});

describe('the Worker with key downloads and a fixed token', () => {
  let w;
  before(async () => {
    const token = await emu.token();
    w = await worker({
      name: 'key',
      vars: { UPSTREAM_BASE: emu.url, WECHAT_APPID: APPID, DOWNLOAD_AUTH: 'key' },
      secrets: { WECHAT_ACCESS_TOKEN: token, API_KEYS: API_KEY },
    });
  });

  it('needs the key to download and never fetches a token', async () => {
    const before = (await emu.requests('/cgi-bin/stable_token')).length;
    const id = await uploadUpstream('image', jpeg(300, 31), 'k.jpg');
    assert.equal((await w.fetch(`/media/${id}`)).status, 401);
    const r = await w.fetch(`/media/${id}`, { headers: auth });
    assert.equal(r.status, 200, r.text());
    assert.equal((await w.fetch('/healthz')).json().tokens, 'fixed');
    assert.equal((await emu.requests('/cgi-bin/stable_token')).length, before + 1, 'only the test fetched one');
  });
});

describe('the Worker without required settings', () => {
  let bare;
  let noAppid;
  before(async () => {
    bare = await worker({ name: 'bare', vars: { UPSTREAM_BASE: emu.url, WECHAT_APPID: APPID } });
    noAppid = await worker({ name: 'unconfigured', vars: { UPSTREAM_BASE: emu.url } });
  });

  it('answers 500 JSON naming the missing setting, and only where it is needed', async () => {
    let r = await noAppid.fetch('/healthz');
    assert.equal(r.status, 500);
    assert.equal(r.json().error.code, 'CONFIG');
    assert.match(r.json().error.message, /WECHAT_APPID/);

    r = await bare.fetch('/healthz');
    assert.equal(r.status, 200);
    assert.equal(r.json().tokens, 'unconfigured');
    r = await bare.fetch('/media?type=image', { method: 'POST', headers: auth, body: jpeg(100) });
    assert.equal(r.status, 500);
    assert.match(r.json().error.message, /API_KEYS/);
    r = await bare.fetch('/media/some-media-id?exp=1&sig=x');
    assert.equal(r.status, 500);
    assert.match(r.json().error.message, /SIGNING_KEY/);
  });
});

describe('secrets', () => {
  it('never appear in any response of this suite', async () => {
    const tokens = await emu.tokens();
    assert.ok(tokens.length > 0, 'the suite used tokens');
    const responses = recordedResponses();
    assert.ok(responses.length > 50);
    for (const r of responses) {
      for (const secret of [...tokens, SECRET, SIGNING_KEY]) {
        assert.ok(!r.headers.includes(secret), `${r.url}: a secret in the headers`);
        assert.ok(!r.body.includes(secret), `${r.url}: a secret in the body`);
      }
    }
  });
});
