// The Worker in real workerd (wrangler dev) in front of a hostile upstream: nothing that is not
// a positive, checked media answer is cached or passed on, no redirect is followed, no untrusted
// URL reaches a Location header, no echoed secret reaches a client; plus the smaller hardening
// items (Range units, nosniff, signed-URL lifetime, PUBLIC_BASE_URL, settings).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startWorker, recordedResponses, API_KEY, SIGNING_KEY } from './harness.mjs';
import { startHostile, HOSTILE_TOKEN, HOSTILE_VIDEOS, FIELD_VIDEO_URL } from './hostile.mjs';

const SECRET = 'hostile-app-secret-4242';
const auth = { authorization: `Bearer ${API_KEY}` };
let up;
let w;
let bare;
let nocache;
let short;

before(async () => {
  up = await startHostile({ secret: SECRET });
  w = await startWorker({
    name: 'hostile',
    vars: {
      WECHAT_APPID: 'wxhostile000000001',
      UPSTREAM_BASE: up.url,
      DOWNLOAD_AUTH: 'key',
      UPSTREAM_TIMEOUT_MS: String(2 ** 40),
      PUBLIC_BASE_URL: 'https://media.example.com',
    },
    secrets: { WECHAT_SECRET: SECRET, API_KEYS: API_KEY, SIGNING_KEY },
  });
  // A zone whose cache stores nothing (CACHE_TTL_SECS=0): each download is one upstream fetch.
  nocache = await startWorker({
    name: 'hostile-nocache',
    vars: { WECHAT_APPID: 'wxhostile000000003', UPSTREAM_BASE: up.url, DOWNLOAD_AUTH: 'key', CACHE_TTL_SECS: '0' },
    secrets: { WECHAT_SECRET: SECRET, API_KEYS: API_KEY },
  });
  // A short upstream timeout, for answers that stall and requests that hang.
  short = await startWorker({
    name: 'hostile-short',
    vars: { WECHAT_APPID: 'wxhostile000000004', UPSTREAM_BASE: up.url, DOWNLOAD_AUTH: 'key', UPSTREAM_TIMEOUT_MS: '1500' },
    secrets: { WECHAT_SECRET: SECRET, API_KEYS: API_KEY },
  });
  // No API_KEYS at all: the WeChat-shaped routes must not answer a retryable errcode.
  bare = await startWorker({
    name: 'hostile-bare',
    vars: { WECHAT_APPID: 'wxhostile000000002', UPSTREAM_BASE: up.url },
    secrets: { WECHAT_SECRET: SECRET },
  });
});
after(async () => {
  await w?.stop();
  await bare?.stop();
  await nocache?.stop();
  await short?.stop();
  up?.stop();
});

const get = (id, headers = {}) => w.fetch(`/media/${id}`, { headers: { ...auth, ...headers } });

describe('a hostile upstream', () => {
  for (const id of ['truncjson', 'truncjsonplain', 'html', 'emptyattachment', 'junkjpeg']) {
    it(`${id}: a 502, stored nowhere (asked again, upstream is asked again)`, async () => {
      const first = await get(id);
      assert.equal(first.status, 502, first.text());
      assert.equal(first.json().error.code, 'UPSTREAM_ERROR');
      const second = await get(id);
      assert.equal(second.status, 502, second.text());
      assert.notEqual(second.headers.get('x-cache'), 'HIT');
      assert.equal(up.calls(id), 2, 'the failure must not have been cached');
    });
  }

  it('a good answer is cached: one upstream call for two downloads', async () => {
    const a = await get('good');
    assert.equal(a.status, 200);
    assert.equal(a.body[0], 0xff);
    const b = await get('good');
    assert.equal(b.status, 200);
    assert.equal(b.headers.get('x-cache'), 'HIT');
    assert.equal(up.calls('good'), 1);
    assert.equal(b.headers.get('x-content-type-options'), 'nosniff');
  });

  it('an upstream redirect is an upstream error, never followed', async () => {
    const r = await get('redirect');
    assert.equal(r.status, 502, r.text());
    assert.equal(up.trapHits(), 0, 'the redirect target was fetched');
    assert.equal((await get('redirect')).status, 502);
    assert.equal(up.calls('redirect'), 2);
  });

  for (const id of HOSTILE_VIDEOS) {
    it(`${id}: a 502 with no Location`, async () => {
      const r = await get(id);
      assert.equal(r.status, 502, r.text());
      assert.equal(r.headers.get('location'), null);
      const json = await w.fetch(`/media/${id}`, { headers: { ...auth, accept: 'application/json' } });
      assert.equal(json.status, 502);
      assert.ok(!/javascript:|evil\.example|vweixinp/.test(json.text()), json.text());
    });
  }

  it("the upstream's own video URLs are still followed", async () => {
    const r = await get('okvideo');
    assert.equal(r.status, 302, r.text());
    assert.equal(r.headers.get('location'), `${up.url}/video/ok.mp4`);
  });

  it('a video URL in the field shape (WeChat’s CDN by public address) is passed on unchanged', async () => {
    const r = await get('fieldvideo');
    assert.equal(r.status, 302, r.text());
    assert.equal(r.headers.get('location'), FIELD_VIDEO_URL);
    const json = await w.fetch('/media/fieldvideo', { headers: { ...auth, accept: 'application/json' } });
    assert.deepEqual(json.json(), { videoUrl: FIELD_VIDEO_URL });
    assert.equal(up.trapHits(), 0, 'a hostile video URL was fetched');
  });

  it('an errmsg that echoes the token or the app secret reaches no client', async () => {
    for (const id of ['echotoken', 'echosecret']) {
      const r = await get(id);
      assert.ok(r.status >= 400, r.text());
      assert.ok(!r.text().includes(HOSTILE_TOKEN), r.text());
      assert.ok(!r.text().includes(SECRET), r.text());
      assert.match(r.text(), /\[redacted\]/);
    }
    const compat = await w.fetch(`/cgi-bin/media/get?access_token=${API_KEY}&media_id=echotoken`);
    assert.ok(!compat.text().includes(HOSTILE_TOKEN), compat.text());
  });

  it('an errmsg that echoes part of the token or the app secret reaches no client either', async () => {
    for (const [id, secret] of [['echopartial', HOSTILE_TOKEN], ['echopartialsecret', SECRET]]) {
      const r = await get(id);
      assert.ok(r.status >= 400, r.text());
      assert.match(r.text(), /\[redacted\]/, r.text());
      // No run of 10 characters of the secret is left.
      for (let i = 0; i + 10 <= secret.length; i++) {
        assert.ok(!r.text().includes(secret.slice(i, i + 10)), `${id}: ${r.text()}`);
      }
    }
  });

  for (const id of ['hugeimage', 'hugechunked', 'hugevoice']) {
    it(`${id}: an answer past WeChat's limit for its type is a 502, never read whole or cached`, async () => {
      const before = up.calls(id);
      const r = await get(id);
      assert.equal(r.status, 502, r.text().slice(0, 200));
      assert.equal(r.json().error.code, 'UPSTREAM_ERROR');
      assert.match(r.json().error.message, /more than any media WeChat serves/);
      const again = await get(id);
      assert.equal(again.status, 502);
      assert.equal(up.calls(id) - before, 2, 'asked upstream again: nothing was cached');
    });
  }

  it('a body that stalls past the deadline is a 504 UPSTREAM_TIMEOUT, not a 502', async () => {
    const started = Date.now();
    const r = await short.fetch('/media/stall', { headers: auth });
    assert.equal(r.status, 504, r.text());
    assert.equal(r.json().error.code, 'UPSTREAM_TIMEOUT');
    assert.ok(Date.now() - started < 10_000);
  });
});

describe('one deadline on the whole request', () => {
  it('a request whose body never ends is answered 504 once UPSTREAM_TIMEOUT_MS and the margin pass', async () => {
    // Declares 100 000 bytes, sends 1 000 and then nothing: the handler waits for the rest.
    const { request } = await import('node:http');
    const target = new URL('/media?type=image', short.url);
    const started = Date.now();
    const answer = await new Promise((resolve, reject) => {
      const req = request(target, {
        method: 'POST',
        headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'image/jpeg', 'content-length': '100000' },
      }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d) => { body += d; });
        res.on('end', () => resolve({ status: res.statusCode, body }));
      });
      req.on('error', reject);
      req.setTimeout(30_000, () => req.destroy(new Error('no answer in 30 s')));
      req.write(Buffer.alloc(1000, 0xff));
    });
    const took = Date.now() - started;
    assert.equal(answer.status, 504, answer.body);
    assert.equal(JSON.parse(answer.body).error.code, 'UPSTREAM_TIMEOUT');
    // 1 500 ms of upstream time plus the 5 000 ms margin, and slack for a loaded machine.
    assert.ok(took >= 6_000 && took < 20_000, `answered after ${took} ms`);
  });
});

describe('a zone with no cache', () => {
  it('fetches WeChat once per download and serves the checked bytes', async () => {
    const before = up.calls('good');
    for (let i = 1; i <= 3; i++) {
      const r = await nocache.fetch('/media/good', { headers: auth });
      assert.equal(r.status, 200, r.text());
      assert.equal(r.body.length, 2000);
      assert.equal(r.body[0], 0xff);
      assert.equal(up.calls('good') - before, i, `download ${i}: one upstream fetch each`);
    }
    const bad = await nocache.fetch('/media/html', { headers: auth });
    assert.equal(bad.status, 502, bad.text());
  });
});

describe('smaller hardening', () => {
  it('Range in an unknown unit is ignored; bytes ranges still give 206', async () => {
    const items = await get('good', { range: 'items=0-5' });
    assert.equal(items.status, 200, items.text());
    assert.equal(items.body.length, 2000);
    const bytes = await get('good', { range: 'bytes=0-5' });
    assert.equal(bytes.status, 206);
    assert.equal(bytes.body.length, 6);
  });

  it('signed URLs use PUBLIC_BASE_URL, not the Host header', async () => {
    const r = await w.fetch('/media/good/sign', { method: 'POST', headers: { ...auth, host: 'attacker.example' } });
    assert.equal(r.status, 200, r.text());
    assert.ok(r.json().url.startsWith('https://media.example.com/media/good'), r.json().url);
  });

  it('signed URLs live at most 7 days, on signing and on verifying', async () => {
    const tooLong = await w.fetch('/media/good/sign?expires_in=604801', { method: 'POST', headers: auth });
    assert.equal(tooLong.status, 400, tooLong.text());
    const week = await w.fetch('/media/good/sign?expires_in=604800', { method: 'POST', headers: auth });
    assert.equal(week.status, 200, week.text());
  });

  it('expires_in takes digits only, and an unknown app is not echoed at length', async () => {
    for (const v of ['+5', '%205', '5.0', '-1', '0x10']) {
      const r = await w.fetch(`/media/good/sign?expires_in=${v}`, { method: 'POST', headers: auth });
      assert.equal(r.status, 400, `${v}: ${r.text()}`);
    }
    const long = 'x'.repeat(10_000);
    const r = await w.fetch(`/apps/${long}/media/good`, { headers: auth });
    assert.equal(r.status, 404);
    assert.equal(r.json().error.code, 'UNKNOWN_APP');
    assert.ok(r.text().length < 500, `${r.text().length} bytes`);
  });

  it('/healthz warns when PUBLIC_BASE_URL is not set, and only then', async () => {
    const unset = (await nocache.fetch('/healthz')).json();
    assert.equal(unset.warnings.length, 1);
    assert.match(unset.warnings[0], /^PUBLIC_BASE_URL is not set/);
    assert.deepEqual((await w.fetch('/healthz')).json().warnings, []);
  });

  it('a huge UPSTREAM_TIMEOUT_MS is clamped, not fired at once', async () => {
    // The Worker above runs with 2^40 ms: its downloads work.
    const r = await get('good');
    assert.equal(r.status, 200, r.text());
  });

  it('no API_KEYS: the WeChat-shaped routes answer a non-retryable errcode', async () => {
    const r = await bare.fetch('/cgi-bin/media/get?access_token=anything&media_id=good');
    assert.equal(r.status, 200);
    assert.equal(r.json().errcode, 48001, r.text());
  });

  it('no response carried the token or the app secret', () => {
    for (const r of recordedResponses()) {
      const all = `${r.headers}\n${r.body}`;
      assert.ok(!all.includes(HOSTILE_TOKEN), `${r.url} leaked the token`);
      assert.ok(!all.includes(SECRET), `${r.url} leaked the app secret`);
    }
  });
});
