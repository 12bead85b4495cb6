// The Worker as the account's token hub (中控), and a Worker behind it, in real workerd
// (`wrangler dev`) against the emulator. The hub calls the emulator as 127.0.0.1, the consumer
// as localhost: the emulator logs each call's Host, which tells them apart on one machine.
//
// Shown here: the consumer uploads and downloads with no token call of its own at WeChat; after
// WeChat revokes every token the chain recovers with exactly one refresh at WeChat; 20
// concurrent forced refreshes rotate once and all 20 callers get the one new token; API keys,
// wrong keys, the app secret and unknown app ids get no token, and a token key of app A nothing
// of app B; co-wechat-api pointed at the hub fetches its token from it.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { createServer } from 'node:http';
import { once } from 'node:events';
import { startEmulator, startWorker, jpeg, APPID, SECRET, API_KEY } from './harness.mjs';

const require = createRequire(import.meta.url);
const APP_B = 'wxHubAppB00000002';
const SECRET_B = 'secret-of-b';
const TOKEN_KEY_A = 'token-key-of-a-0123';
const TOKEN_KEY_B = 'token-key-of-b-4567';
const CONSUMER_KEY = 'consumer-api-key';

describe('the token hub, and a Worker behind it', () => {
  let emu;
  let hub;
  let consumer;
  const localhost = () => emu.url.replace('127.0.0.1', 'localhost');
  const stable = (body) => hub.fetch('/cgi-bin/stable_token', { method: 'POST', body: JSON.stringify({ grant_type: 'client_credential', ...body }) });
  const tokenCalls = async () => (await emu.requests()).filter((e) => e.path === '/cgi-bin/stable_token' || e.path === '/cgi-bin/token');

  before(async () => {
    emu = await startEmulator(['--app', `${APPID}:${SECRET}`, '--app', `${APP_B}:${SECRET_B}`]);
    hub = await startWorker({
      name: 'hub',
      durableObject: true,
      vars: { UPSTREAM_BASE: emu.url, WECHAT_APPID: APPID, WECHAT_APPS: `${APPID},${APP_B}` },
      secrets: {
        WECHAT_SECRET: SECRET,
        API_KEYS: API_KEY,
        TOKEN_KEYS: TOKEN_KEY_A,
        [`WECHAT_SECRET_${APP_B}`]: SECRET_B,
        [`API_KEYS_${APP_B}`]: 'api-key-b',
        [`TOKEN_KEYS_${APP_B}`]: TOKEN_KEY_B,
      },
    });
    consumer = await startWorker({
      name: 'hub-consumer',
      durableObject: true,
      vars: { UPSTREAM_BASE: localhost(), TOKEN_UPSTREAM_BASE: hub.url, WECHAT_APPID: APPID, DOWNLOAD_AUTH: 'key' },
      secrets: { WECHAT_SECRET: TOKEN_KEY_A, API_KEYS: CONSUMER_KEY },
    });
  });
  after(async () => {
    await consumer?.stop();
    await hub?.stop();
    emu?.stop();
  });

  it('hands out the app\'s token in WeChat\'s shape to a token key, and says so in /healthz', async () => {
    const r = await stable({ appid: APPID, secret: TOKEN_KEY_A });
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('cache-control'), 'no-store');
    const body = r.json();
    assert.ok(body.access_token);
    assert.ok(body.expires_in > 7000 && body.expires_in <= 7200, String(body.expires_in));
    const classic = (await hub.fetch(`/cgi-bin/token?grant_type=client_credential&appid=${APPID}&secret=${TOKEN_KEY_A}`)).json();
    assert.equal(classic.access_token, body.access_token, 'the hub\'s one token, whichever call');
    const h = (await hub.fetch('/healthz')).json();
    const app = h.apps.find((a) => a.appid === APPID);
    assert.deepEqual(app.tokenHub, { keys: 1, forcedRefreshBudget: 15, forcedRefreshSpacingMs: 30000 });
    const c = (await consumer.fetch('/healthz')).json();
    assert.equal(c.apps[0].tokenUpstream, true);
  });

  it('gives no token to API keys, wrong keys, the app secret, unknown apps or another app\'s key', async () => {
    const cases = [
      [{ appid: APPID, secret: API_KEY }, 40125],
      [{ appid: APPID, secret: 'wrong' }, 40125],
      [{ appid: APPID, secret: SECRET }, 40125],
      [{ appid: APPID }, 40125],
      [{ appid: 'wxNotServed', secret: TOKEN_KEY_A }, 40013],
      [{ appid: APP_B, secret: TOKEN_KEY_A }, 40125],
      [{ appid: APPID, secret: TOKEN_KEY_B }, 40125],
    ];
    for (const [ask, errcode] of cases) {
      const r = await stable(ask);
      const body = r.json();
      assert.equal(body.errcode, errcode, JSON.stringify(ask));
      assert.equal(body.access_token, undefined);
      assert.ok(!JSON.stringify(body).includes(SECRET), 'the app secret is never echoed');
    }
    const bad = await hub.fetch('/cgi-bin/stable_token', { method: 'POST', body: JSON.stringify({ grant_type: 'password', appid: APPID, secret: TOKEN_KEY_A }) });
    assert.equal(bad.json().errcode, 40002);
    // App B's own key gets app B's token, a different one.
    const a = (await stable({ appid: APPID, secret: TOKEN_KEY_A })).json().access_token;
    const b = (await stable({ appid: APP_B, secret: TOKEN_KEY_B })).json().access_token;
    assert.ok(b && b !== a);
  });

  it('serves the consumer, whose token comes from the hub: no token call of its own at WeChat', async () => {
    await emu.control('DELETE', 'requests');
    const bytes = jpeg(20_000);
    const form = new FormData();
    form.append('media', new Blob([bytes]), 'a.jpg');
    const up = await consumer.fetch('/media?type=image', { method: 'POST', headers: { authorization: `Bearer ${CONSUMER_KEY}` }, body: form });
    assert.equal(up.status, 201, up.text());
    const { mediaId } = up.json();
    const got = await consumer.fetch(`/media/${mediaId}`, { headers: { authorization: `Bearer ${CONSUMER_KEY}` } });
    assert.equal(got.status, 200);
    assert.ok(got.body.equals(bytes));
    const log = await emu.requests();
    const mediaCalls = log.filter((e) => e.path.startsWith('/cgi-bin/media/'));
    assert.ok(mediaCalls.length >= 1);
    assert.ok(mediaCalls.every((e) => e.host.startsWith('localhost')), 'media calls come from the consumer');
    assert.ok((await tokenCalls()).every((e) => e.host.startsWith('127.0.0.1')), 'token calls come only from the hub');
  });

  it('recovers the chain with exactly one refresh at WeChat after every token is revoked', async () => {
    // Something to fetch that is not cached yet: uploaded straight to WeChat.
    const token = await emu.token();
    const form = new FormData();
    form.append('media', new Blob([jpeg(9_000)]), 'b.jpg');
    const { media_id: id } = await (await fetch(`${emu.url}/cgi-bin/media/upload?access_token=${token}&type=image`, { method: 'POST', body: form })).json();
    await emu.control('POST', 'tokens/revoke', {});
    await emu.control('DELETE', 'requests');
    const got = await consumer.fetch(`/media/${id}`, { headers: { authorization: `Bearer ${CONSUMER_KEY}` } });
    assert.equal(got.status, 200, got.text());
    const calls = await tokenCalls();
    assert.equal(calls.length, 1, JSON.stringify(calls));
    assert.ok(calls[0].host.startsWith('127.0.0.1'));
  });

  it('rotates once for 20 concurrent forced refreshes, and all 20 get the one new token', async () => {
    const current = (await stable({ appid: APP_B, secret: TOKEN_KEY_B })).json().access_token;
    await emu.control('DELETE', 'requests');
    const answers = await Promise.all(Array.from({ length: 20 }, () =>
      stable({ appid: APP_B, secret: TOKEN_KEY_B, force_refresh: true, access_token: current }).then((r) => r.json())));
    const tokens = new Set(answers.map((a) => a.access_token));
    assert.equal(tokens.size, 1, JSON.stringify(answers));
    assert.ok(!tokens.has(current), 'rotated');
    const calls = (await tokenCalls()).filter((e) => e.appid === APP_B);
    assert.equal(calls.length, 1, JSON.stringify(calls));
    // Within 30 s, a forced refresh without a failed token keeps the current one.
    const again = (await stable({ appid: APP_B, secret: TOKEN_KEY_B, force_refresh: true })).json();
    assert.equal(again.access_token, [...tokens][0]);
    assert.equal((await tokenCalls()).filter((e) => e.appid === APP_B).length, 1);
  });

  it('is a drop-in token server for co-wechat-api', async () => {
    const WechatAPI = require('co-wechat-api');
    const api = new WechatAPI(APPID, TOKEN_KEY_A);
    api.prefix = `${hub.url}/cgi-bin/`;
    const { accessToken } = await api.getAccessToken();
    const current = (await stable({ appid: APPID, secret: TOKEN_KEY_A })).json().access_token;
    assert.equal(accessToken, current);
  });
});

describe('a Worker behind a 中控 with its own API (WECHAT_TOKEN_URL)', () => {
  let emu;
  let worker;
  let center;
  const asks = [];
  const KEY = 'center-key-89';
  before(async () => {
    emu = await startEmulator();
    // The 中控 stand-in: GET /token with its key → the current token; ?invalid=T drops T first.
    let current = null;
    center = createServer(async (req, res) => {
      const url = new URL(req.url, 'http://x');
      asks.push({ auth: req.headers.authorization, invalid: url.searchParams.get('invalid') });
      if (req.headers.authorization !== `Bearer ${KEY}`) {
        res.writeHead(401, { 'content-type': 'application/json' });
        return res.end('{"errcode":40001,"errmsg":"bad key"}');
      }
      if (url.searchParams.get('invalid') === current?.access_token) current = null;
      if (!current) {
        const r = await fetch(`${emu.url}/cgi-bin/stable_token`, { method: 'POST', body: JSON.stringify({ grant_type: 'client_credential', appid: APPID, secret: SECRET }) });
        current = await r.json();
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ access_token: current.access_token, expires_in: current.expires_in }));
    });
    center.listen(0, '127.0.0.1');
    await once(center, 'listening');
    worker = await startWorker({
      name: 'token-url',
      vars: {
        UPSTREAM_BASE: emu.url.replace('127.0.0.1', 'localhost'),
        WECHAT_APPID: APPID,
        WECHAT_TOKEN_URL: `http://127.0.0.1:${center.address().port}/token`,
        DOWNLOAD_AUTH: 'key',
      },
      secrets: { WECHAT_TOKEN_URL_KEY: KEY, API_KEYS: API_KEY },
    });
  });
  after(async () => {
    await worker?.stop();
    emu?.stop();
    center?.close();
  });

  it('uploads and downloads with the 中控\'s token, and asks it again with ?invalid= after a revoke', async () => {
    const auth = { authorization: `Bearer ${API_KEY}` };
    const form = new FormData();
    const bytes = jpeg(15_000);
    form.append('media', new Blob([bytes]), 'c.jpg');
    const up = await worker.fetch('/media?type=image', { method: 'POST', headers: auth, body: form });
    assert.equal(up.status, 201, up.text());
    assert.ok(asks.length >= 1 && asks.every((a) => a.auth === `Bearer ${KEY}`));
    assert.equal((await worker.fetch('/healthz')).json().tokens, 'token-url');
    const token = await emu.token();
    const f2 = new FormData();
    f2.append('media', new Blob([jpeg(8_000)]), 'd.jpg');
    const { media_id: id } = await (await fetch(`${emu.url}/cgi-bin/media/upload?access_token=${token}&type=image`, { method: 'POST', body: f2 })).json();
    await emu.control('POST', 'tokens/revoke', {});
    const before = asks.length;
    const got = await worker.fetch(`/media/${id}`, { headers: auth });
    assert.equal(got.status, 200, got.text());
    const invalids = asks.slice(before).filter((a) => a.invalid);
    assert.equal(invalids.length, 1, JSON.stringify(asks.slice(before)));
    // The token never reached the emulator from the Worker's own token calls.
    assert.ok((await emu.requests()).filter((e) => e.path.includes('token')).every((e) => e.host.startsWith('127.0.0.1')));
  });
});

describe('a Worker that WeChat refuses by its address (40164, the IP whitelist)', () => {
  let emu;
  let worker;
  before(async () => {
    // Token calls from any address but 10.9.9.9 answer 40164: every call from this machine.
    emu = await startEmulator(['--ip-whitelist', '10.9.9.9']);
    worker = await startWorker({
      name: 'whitelist',
      durableObject: true,
      vars: { UPSTREAM_BASE: emu.url, WECHAT_APPID: APPID },
      secrets: { WECHAT_SECRET: SECRET, API_KEYS: API_KEY },
    });
  });
  after(async () => {
    await worker?.stop();
    emu?.stop();
  });

  it('answers a configuration error that says what to do, and says it in /healthz', async () => {
    const form = new FormData();
    form.append('media', new Blob([jpeg(2_000)]), 'a.jpg');
    const up = await worker.fetch('/media?type=image', { method: 'POST', headers: { authorization: `Bearer ${API_KEY}` }, body: form });
    assert.equal(up.status, 500, up.text());
    const { error } = up.json();
    assert.equal(error.code, 'CONFIG');
    assert.match(error.message, /TOKEN_UPSTREAM_BASE/);
    assert.ok(!up.text().includes(SECRET), 'never the app secret');
    assert.ok(!/\b\d+\.\d+\.\d+\.\d+\b/.test(error.message.replace(/\b10\.9\.9\.9\b/, '')), 'never the address');
    const h = (await worker.fetch('/healthz')).json();
    assert.match(h.apps[0].tokenError, /TOKEN_UPSTREAM_BASE/);
  });
});
