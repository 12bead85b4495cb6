// One Worker serving several WeChat apps (WECHAT_APPS), in real workerd against one emulator
// serving the same apps: keys scoped to their app, media of one app invisible to another (and
// fetched only with that app's token), token refreshes per app, app-bound signed URLs, /healthz,
// settings missing or contradicting each other, and a scan of every answer for every secret.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { startEmulator, startWorker, recordedResponses, jpeg } from './harness.mjs';

const A = 'wxapp00000000000a1';
const B = 'wxapp00000000000b2';
const C = 'wxapp00000000000c3';
const SECRETS = { [A]: 'secret-of-app-a', [B]: 'secret-of-app-b', [C]: 'secret-of-app-c' };
const KEYS = { [A]: 'key-of-app-a', [B]: 'key-of-app-b', [C]: 'key-of-app-c' };
const SIGNING_KEY = 'apps-signing-key';
const bearer = (app) => ({ authorization: `Bearer ${KEYS[app]}` });

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

/** Upstream calls the emulator logged for `app` (on `path`, for `mediaId`). */
async function calls(app, path, mediaId) {
  const log = await emu.control('GET', `requests?appid=${app}`);
  return log.filter((e) => (!path || e.path === path) && (!mediaId || e.query?.media_id === mediaId));
}
const tokenFetches = async (app) => (await calls(app, '/cgi-bin/stable_token')).length
  + (await calls(app, '/cgi-bin/token')).length;

/** Uploads straight to the emulator with `app`'s own token (media the Worker has never seen). */
async function uploadUpstream(app, bytes) {
  const token = await emu.token(app, SECRETS[app]);
  const form = new FormData();
  form.append('media', new Blob([bytes]), 'x.jpg');
  const r = await fetch(`${emu.url}/cgi-bin/media/upload?access_token=${token}&type=image`, { method: 'POST', body: form });
  const json = await r.json();
  assert.ok(json.media_id, JSON.stringify(json));
  return json.media_id;
}

async function uploadVia(w, prefix, app, bytes) {
  const form = new FormData();
  form.append('media', new Blob([bytes]), 'photo.jpg');
  return w.fetch(`${prefix}/media?type=image`, { method: 'POST', headers: bearer(app), body: form });
}

const pathOf = (url) => new URL(url).pathname + new URL(url).search;

describe('one Worker, two apps (Durable Object tokens, R2, signed downloads)', () => {
  let w;
  before(async () => {
    emu = await startEmulator(['--app', `${A}:${SECRETS[A]}`, '--app', `${B}:${SECRETS[B]}`, '--app', `${C}:${SECRETS[C]}`]);
    w = await worker({
      name: 'apps2',
      vars: { UPSTREAM_BASE: emu.url, WECHAT_APPS: `${A},${B}` },
      secrets: {
        [`WECHAT_SECRET_${A}`]: SECRETS[A], [`WECHAT_SECRET_${B}`]: SECRETS[B],
        [`API_KEYS_${A}`]: KEYS[A], [`API_KEYS_${B}`]: KEYS[B], SIGNING_KEY,
      },
      durableObject: true,
      r2: true,
    });
  });

  it('lists its apps on /healthz, the first as default, with what each has and no values', async () => {
    const r = await w.fetch('/healthz');
    assert.equal(r.status, 200);
    const h = r.json();
    assert.equal(h.appid, A);
    assert.deepEqual(h.apps.map((a) => [a.appid, a.default, a.path, a.tokens, a.apiKeys, a.missing.length]),
      [[A, true, `/apps/${A}`, 'durable-object', 1, 0], [B, false, `/apps/${B}`, 'durable-object', 1, 0]]);
    for (const s of [...Object.values(SECRETS), ...Object.values(KEYS), SIGNING_KEY]) assert.ok(!r.text().includes(s), s);
  });

  it('scopes API keys to their app (401 across apps, before any upstream call)', async () => {
    const before = (await emu.control('GET', 'requests')).length;
    for (const [path, app] of [[`/apps/${B}`, A], ['', B], [`/apps/${A}`, B]]) {
      const r = await uploadVia(w, path, app, jpeg(500));
      assert.equal(r.status, 401, `${path} with ${app}'s key: ${r.text()}`);
      assert.equal(r.json().error.code, 'UNAUTHORIZED');
    }
    let r = await w.fetch(`/apps/${B}/media/some-media-id/sign`, { method: 'POST', headers: bearer(A) });
    assert.equal(r.status, 401);
    r = await w.fetch(`/apps/${B}/media/some-media-id`, { headers: bearer(A) });
    assert.equal(r.status, 401);
    assert.equal((await emu.control('GET', 'requests')).length, before, 'WeChat was never called');
  });

  it('uploads into the app of the route, and hands out URLs under its prefix', async () => {
    const r = await uploadVia(w, `/apps/${B}`, B, jpeg(1500, 3));
    assert.equal(r.status, 201, r.text());
    const up = r.json();
    assert.match(new URL(up.url).pathname, new RegExp(`^/apps/${B}/media/`));
    const media = await emu.control('GET', `media?appid=${B}`);
    assert.ok(media.media.some((m) => m.media_id === up.mediaId && m.appid === B));
    const got = await w.fetch(pathOf(up.url));
    assert.equal(got.status, 200);
    assert.deepEqual(got.body, jpeg(1500, 3));
    // The default app's unprefixed routes still work as before.
    const d = await uploadVia(w, '', A, jpeg(800, 4));
    assert.equal(d.status, 201, d.text());
    assert.match(new URL(d.json().url).pathname, /^\/media\//);
    assert.equal((await w.fetch(pathOf(d.json().url))).status, 200);
  });

  it('never shows one app the media of another, nor calls WeChat with the wrong app token', async () => {
    const idB = await uploadUpstream(B, jpeg(900, 5));
    for (const path of [`/apps/${A}/media/${idB}`, `/media/${idB}`]) {
      const r = await w.fetch(path, { headers: bearer(A) });
      assert.equal(r.status, 404, `${path}: ${r.text()}`);
      assert.equal(r.json().error.code, 'NOT_FOUND');
    }
    assert.ok((await calls(A, '/cgi-bin/media/get', idB)).length >= 1, "asked with A's token");
    assert.equal((await calls(B, '/cgi-bin/media/get', idB)).length, 0, "B's token was never used for A's route");
    const r = await w.fetch(`/apps/${B}/media/${idB}`, { headers: bearer(B) });
    assert.equal(r.status, 200, r.text());
    assert.equal(r.headers.get('x-cache'), 'MISS');
    assert.equal((await calls(B, '/cgi-bin/media/get', idB)).length, 1);
    // WeChat-shaped routes pick the app from the key.
    const compatA = await w.fetch(`/cgi-bin/media/get?access_token=${KEYS[A]}&media_id=${idB}`);
    assert.equal(compatA.json().errcode, 40007);
    const compatB = await w.fetch(`/cgi-bin/media/get?access_token=${KEYS[B]}&media_id=${idB}`);
    assert.equal(compatB.status, 200);
    assert.deepEqual(compatB.body, jpeg(900, 5));
    const bad = await w.fetch(`/cgi-bin/media/get?access_token=nobody&media_id=${idB}`);
    assert.equal(bad.json().errcode, 40001);
  });

  it('answers 404 UNKNOWN_APP for an app it does not serve', async () => {
    for (const app of [C, 'wxnope']) {
      const r = await w.fetch(`/apps/${app}/media/some-media-id`, { headers: bearer(A) });
      assert.equal(r.status, 404);
      assert.equal(r.json().error.code, 'UNKNOWN_APP');
    }
  });

  it('refreshes only the app whose token was revoked', async () => {
    const idA = await uploadUpstream(A, jpeg(700, 8));
    const idB = await uploadUpstream(B, jpeg(700, 9));
    const idB2 = await uploadUpstream(B, jpeg(700, 10));
    // Both apps hold a token already (earlier tests); count fetches from here.
    const [a0, b0] = [await tokenFetches(A), await tokenFetches(B)];
    const revoked = await emu.control('POST', 'tokens/revoke', { appid: A });
    assert.deepEqual(revoked.appids, [A]);
    let r = await w.fetch(`/apps/${A}/media/${idA}`, { headers: bearer(A) });
    assert.equal(r.status, 200, r.text());
    r = await w.fetch(`/apps/${B}/media/${idB}`, { headers: bearer(B) });
    assert.equal(r.status, 200, r.text());
    assert.ok(await tokenFetches(A) > a0, 'A fetched a new token');
    assert.equal(await tokenFetches(B), b0, "B's token was not fetched again");
    const failed = (await calls(A, '/cgi-bin/media/get', idA)).filter((e) => e.errcode === 40001);
    assert.equal(failed.length, 1, 'one call with the revoked token');
    r = await w.fetch(`/apps/${B}/media/${idB2}`, { headers: bearer(B) });
    assert.equal(r.status, 200);
    assert.equal(await tokenFetches(B), b0);
  });

  it('binds signed URLs to their app', async () => {
    const idA = await uploadUpstream(A, jpeg(600, 11));
    const idB = await uploadUpstream(B, jpeg(600, 12));
    const sign = async (prefix, app, id) => {
      const r = await w.fetch(`${prefix}/media/${id}/sign`, { method: 'POST', headers: bearer(app) });
      assert.equal(r.status, 200, r.text());
      return new URL(r.json().url);
    };
    const forB = await sign(`/apps/${B}`, B, idB);
    assert.equal(forB.pathname, `/apps/${B}/media/${idB}`);
    assert.equal((await w.fetch(forB.pathname + forB.search)).status, 200);
    for (const path of [`/apps/${A}/media/${idB}`, `/media/${idB}`]) {
      const r = await w.fetch(path + forB.search);
      assert.equal(r.status, 403, path);
      assert.equal(r.json().error.code, 'SIGNATURE_INVALID');
    }
    const forA = await sign('', A, idA);
    assert.equal(forA.pathname, `/media/${idA}`);
    assert.equal((await w.fetch(forA.pathname + forA.search)).status, 200);
    const onB = await w.fetch(`/apps/${B}/media/${idA}${forA.search}`);
    assert.equal(onB.status, 403);
    // The documented message: HMAC-SHA256 over "app:{appid}\n{kind}\n{mediaId}\n{exp}".
    const exp = Math.floor(Date.now() / 1000) + 600;
    const sig = createHmac('sha256', SIGNING_KEY).update(`app:${B}\nmedia\n${idB}\n${exp}`).digest('base64url');
    assert.equal((await w.fetch(`/apps/${B}/media/${idB}?exp=${exp}&sig=${sig}`)).status, 200);
    assert.equal((await w.fetch(`/apps/${A}/media/${idB}?exp=${exp}&sig=${sig}`)).status, 403);
  });
});

describe('one Worker, three apps (isolate tokens, key downloads, one app without its secret)', () => {
  let w;
  let clash;
  before(async () => {
    w = await worker({
      name: 'apps3',
      vars: { UPSTREAM_BASE: emu.url, WECHAT_APPS: `${A},${B},${C}`, DOWNLOAD_AUTH: 'key', [`MAX_UPLOAD_BYTES_${B}`]: 1000 },
      secrets: {
        [`WECHAT_SECRET_${A}`]: SECRETS[A], [`WECHAT_SECRET_${B}`]: SECRETS[B],
        [`API_KEYS_${A}`]: KEYS[A], [`API_KEYS_${B}`]: KEYS[B], [`API_KEYS_${C}`]: KEYS[C],
      },
    });
    clash = await worker({
      name: 'apps-clash',
      vars: { UPSTREAM_BASE: emu.url, WECHAT_APPS: `${A},${B}` },
      secrets: { [`WECHAT_SECRET_${A}`]: SECRETS[A], [`API_KEYS_${A}`]: KEYS[A], [`API_KEYS_${B}`]: `other,${KEYS[A]}` },
    });
  });

  it('reports the app that lacks its secret, by setting name only', async () => {
    const h = (await w.fetch('/healthz')).json();
    assert.deepEqual(h.apps.map((a) => [a.appid, a.tokens, a.missing]),
      [[A, 'isolate', []], [B, 'isolate', []], [C, 'unconfigured', [`WECHAT_SECRET_${C}`]]]);
    assert.equal(h.apps[1].limits.image, 1000);
    assert.equal(h.apps[0].limits.image, 10 * 1024 * 1024);
  });

  it('answers 500 naming WECHAT_SECRET_<APPID> where that app calls WeChat, and serves the others', async () => {
    const r = await uploadVia(w, `/apps/${C}`, C, jpeg(500));
    assert.equal(r.status, 500);
    assert.equal(r.json().error.code, 'CONFIG');
    assert.match(r.json().error.message, new RegExp(`WECHAT_SECRET_${C}`));
    assert.ok(!r.text().includes(SECRETS[A]) && !r.text().includes(KEYS[C]));
    const compat = await w.fetch(`/cgi-bin/media/get?access_token=${KEYS[C]}&media_id=some-media-id`);
    assert.equal(compat.json().errcode, 48001);
    const ok = await uploadVia(w, `/apps/${B}`, B, jpeg(500, 1));
    assert.equal(ok.status, 201, ok.text());
  });

  it('scopes keys across three apps, for downloads too', async () => {
    const idB = await uploadUpstream(B, jpeg(400, 13));
    for (const app of [A, C]) {
      const r = await w.fetch(`/apps/${B}/media/${idB}`, { headers: bearer(app) });
      assert.equal(r.status, 401, app);
    }
    const r = await w.fetch(`/apps/${B}/media/${idB}`, { headers: bearer(B) });
    assert.equal(r.status, 200, r.text());
    assert.deepEqual(r.body, jpeg(400, 13));
    const tooBig = await uploadVia(w, `/apps/${B}`, B, jpeg(5000));
    assert.equal(tooBig.status, 413, 'MAX_UPLOAD_BYTES_<APPID> is checked before anything else');
  });

  it('refuses a key shared by two apps on every request, naming both settings and not the key', async () => {
    const r = await clash.fetch('/healthz');
    assert.equal(r.status, 500);
    assert.equal(r.json().error.code, 'CONFIG');
    assert.match(r.json().error.message, new RegExp(`API_KEYS_${A} and API_KEYS_${B}`));
    assert.ok(!r.text().includes(KEYS[A]));
  });
});

describe('secrets of every app', () => {
  it('never appear in any response of this suite', async () => {
    const tokens = await emu.tokens();
    assert.ok(tokens.length >= 3, 'the suite used tokens of several apps');
    const secrets = [...tokens, ...Object.values(SECRETS), ...Object.values(KEYS), SIGNING_KEY];
    const responses = recordedResponses();
    assert.ok(responses.length > 30);
    for (const r of responses) {
      for (const secret of secrets) {
        assert.ok(!r.headers.includes(secret), `${r.url}: a secret in the headers`);
        assert.ok(!r.body.includes(secret), `${r.url}: a secret in the body`);
      }
    }
  });
});
