// The Worker as the account's callback endpoint, in real workerd (`wrangler dev`, with R2, the
// PushLog Durable Object and the archive Queue simulated locally), the emulator playing WeChat:
// it makes a fan's media, signs or seals the push, POSTs it with WeChat's timeout and tries, and
// reports each try. A local handler stands for the developer's server behind the Worker.
//
// Shown here: the URL check; plaintext, safe and compatible pushes verified, answered and
// forwarded (the handler gets WeChat's plaintext shape, signed with the same Token); a reply
// sealed back in safe mode; redeliveries answered with the first answer, forwarded and archived
// once; a 10 MiB video archived while WeChat's media API takes 8 s, the push answered in time;
// after the emulator's clock moves 4 days, archived image, voice (and its WAV) and video served
// byte for byte by /media/{id} (Range too); forged, stale, oversized, entity-laden and malformed
// pushes change nothing; two apps keep their archives apart.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { startEmulator, startWorker, jpeg, ROOT, APPID, SECRET, API_KEY } from './harness.mjs';

const APP_B = 'wxPushAppB000002';
const SECRET_B = 'secret-b';
const KEY_B = 'key-for-app-b';
const TOKEN = 'pushtoken1';
const AES_KEY = 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG';
const auth = { authorization: `Bearer ${API_KEY}` };
const fixture = (name) => readFileSync(path.join(ROOT, 'codecs/voice/tests/fixtures', name));
const sha1 = (parts) => createHash('sha1').update([...parts].sort().join('')).digest('hex');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** An MP4-shaped file of `size` bytes (an `ftyp` box, then a pattern), as a fan's video. */
function mp4(size) {
  const bytes = Buffer.alloc(size);
  bytes.writeUInt32BE(24, 0);
  bytes.write('ftypisom', 4, 'latin1');
  for (let i = 24; i < size; i++) bytes[i] = (i * 31 + (i >> 8)) & 0xff;
  return bytes;
}

/** The developer's handler: records each delivery, answers what `reply` says (after `delayMs`). */
async function startHandler() {
  const deliveries = [];
  const state = { reply: 'success', delayMs: 0 };
  const server = createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', async () => {
      const url = new URL(req.url, 'http://x');
      const q = Object.fromEntries(url.searchParams);
      deliveries.push({ query: q, body: Buffer.concat(chunks).toString('utf8'), contentType: req.headers['content-type'] });
      if (state.delayMs) await sleep(state.delayMs);
      res.writeHead(200, { 'content-type': 'text/xml' });
      res.end(typeof state.reply === 'function' ? state.reply(q) : state.reply);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { url: `http://127.0.0.1:${server.address().port}/wechat`, deliveries, state, close: () => server.close() };
}

/** Polls the archive index until `mediaId` is no longer pending. */
async function archived(w, mediaId, prefix = '', timeoutMs = 60_000, headers = auth) {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const r = await w.fetch(`${prefix}/archive?limit=100`, { headers });
    assert.equal(r.status, 200, r.text());
    const item = r.json().items.find((i) => i.mediaId === mediaId);
    if (item && item.status !== 'pending') return item;
    if (Date.now() > until) throw new Error(`${mediaId} still ${item?.status ?? 'missing'} after ${timeoutMs} ms`);
    await sleep(200);
  }
}

describe('the callback endpoint (message push)', () => {
  let emu;
  let w;
  let handler;
  const callback = () => `${w.url}/wechat/callback`;
  const push = (body) => emu.control('POST', 'push', { url: callback(), ...body });

  before(async () => {
    emu = await startEmulator(['--callback-token', TOKEN, '--aes-key', AES_KEY, '--app', `${APPID}:${SECRET}`, '--app', `${APP_B}:${SECRET_B}`]);
    handler = await startHandler();
    w = await startWorker({
      name: 'push',
      r2: true,
      pushes: true,
      queue: true,
      vars: {
        UPSTREAM_BASE: emu.url,
        WECHAT_APPID: APPID,
        WECHAT_APPS: `${APPID},${APP_B}`,
        VIDEO_HOSTS: emu.cdnHost,
        CALLBACK_FORWARD_URL: handler.url,
        CALLBACK_FORWARD_TIMEOUT_MS: '3000',
        DOWNLOAD_AUTH: 'key',
      },
      secrets: {
        WECHAT_SECRET: SECRET,
        API_KEYS: API_KEY,
        [`WECHAT_SECRET_${APP_B}`]: SECRET_B,
        [`API_KEYS_${APP_B}`]: KEY_B,
        WECHAT_CALLBACK_TOKEN: TOKEN,
        WECHAT_ENCODING_AES_KEY: AES_KEY,
        [`WECHAT_CALLBACK_TOKEN_${APP_B}`]: TOKEN,
        [`WECHAT_ENCODING_AES_KEY_${APP_B}`]: AES_KEY,
      },
    });
  });
  after(async () => {
    await w?.stop();
    emu?.stop();
    handler?.close();
  });

  it('answers WeChat\'s URL check only when it is signed with the Token', async () => {
    const ts = String(Math.floor(Date.now() / 1000));
    const q = (token) => `signature=${sha1([token, ts, 'n1'])}&timestamp=${ts}&nonce=n1&echostr=echo-42`;
    const ok = await w.fetch(`/wechat/callback?${q(TOKEN)}`);
    assert.equal(ok.status, 200);
    assert.equal(ok.text(), 'echo-42');
    const forged = await w.fetch(`/wechat/callback?${q('other')}`);
    assert.equal(forged.status, 403);
    assert.equal(forged.json().error.code, 'PUSH_REFUSED');
    assert.equal((await w.fetch('/wechat/callback')).status, 403);
  });

  it('reports in /healthz that the callback is ready', async () => {
    const h = (await w.fetch('/healthz')).json();
    const app = h.apps.find((a) => a.appid === APPID);
    assert.deepEqual(app.callback, { configured: true, ready: true, safeMode: true, forwards: true, missing: [] });
  });

  it('takes a plaintext image push: forwarded as WeChat sends it, answered, archived', async () => {
    handler.state.reply = 'success';
    const before = handler.deliveries.length;
    const image = jpeg(30_000);
    const r = await push({ msgType: 'image', mode: 'plain', media: image.toString('base64') });
    assert.equal(r.tries.length, 1, JSON.stringify(r.tries));
    assert.equal(r.tries[0].status, 200);
    assert.equal(r.reply, 'success');
    assert.ok(r.tries[0].ms < 5000, `answered in ${r.tries[0].ms} ms`);
    // The handler got the plaintext XML, signed with the same Token, once.
    const got = handler.deliveries.slice(before);
    assert.equal(got.length, 1);
    assert.equal(got[0].body, r.xml);
    assert.equal(got[0].query.signature, sha1([TOKEN, got[0].query.timestamp, got[0].query.nonce]));
    assert.ok(got[0].query.openid);
    const item = await archived(w, r.mediaId);
    assert.equal(item.status, 'archived');
    assert.equal(item.msgType, 'image');
    assert.equal(item.msgId, r.msgId);
    assert.equal(typeof item.msgId, 'string');
    assert.equal(item.size, image.length);
    assert.equal(item.url, `/media/${r.mediaId}`);
    const media = await w.fetch(item.url, { headers: auth });
    assert.equal(media.status, 200);
    assert.ok(media.body.equals(image));
  });

  it('opens safe-mode pushes and seals the handler\'s reply back in WeChat\'s envelope', async () => {
    const reply = (q) => `<xml><ToUserName><![CDATA[${q.openid}]]></ToUserName><FromUserName><![CDATA[gh_1]]></FromUserName><CreateTime>1</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[收到]]></Content></xml>`;
    handler.state.reply = reply;
    const before = handler.deliveries.length;
    const r = await push({ msgType: 'text', mode: 'safe', content: 'hello 你好' });
    assert.equal(r.tries[0].status, 200);
    assert.match(r.tries[0].reply, /<Encrypt>/);
    assert.equal(r.replySignatureOk, true);
    const got = handler.deliveries.slice(before);
    assert.equal(got.length, 1);
    assert.equal(got[0].body, r.xml, 'the handler gets the decrypted message');
    assert.equal(r.reply, reply(got[0].query));
    // Compatible mode: the same, with the plaintext fields beside the envelope.
    const c = await push({ msgType: 'text', mode: 'compat', content: 'compat' });
    assert.equal(c.replySignatureOk, true);
    assert.match(c.reply, /收到/);
    handler.state.reply = 'success';
  });

  it('answers a redelivery with the first answer, and forwards and archives once', async () => {
    handler.state.reply = () => '<xml><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[once]]></Content></xml>';
    handler.state.delayMs = 2_500;
    const before = handler.deliveries.length;
    await emu.control('DELETE', 'requests');
    // WeChat's tries shortened to 1 s so the first times out while the handler works.
    const r = await push({ msgType: 'image', mode: 'safe', media: jpeg(5_000).toString('base64'), timeoutMs: 1000 });
    handler.state.delayMs = 0;
    assert.ok(r.tries.length >= 2, JSON.stringify(r.tries));
    assert.ok(r.tries.slice(0, -1).every((t) => t.error), JSON.stringify(r.tries));
    assert.equal(r.reply, '<xml><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[once]]></Content></xml>');
    await archived(w, r.mediaId);
    await sleep(500);
    assert.equal(handler.deliveries.length - before, 1, 'forwarded once');
    const gets = (await emu.requests('/cgi-bin/media/get')).filter((e) => e.query.media_id === r.mediaId);
    assert.equal(gets.length, 1, 'fetched from WeChat once');
    // A redelivery long after: the same answer, nothing done again.
    handler.state.reply = 'success';
  });

  it('archives a 10 MiB video while WeChat\'s media API takes 8 s, and answers the push in time', async () => {
    const video = mp4(10 * 1024 * 1024);
    await emu.fault({ path: '/cgi-bin/media/get', delay_ms: 8000 });
    const started = Date.now();
    const r = await push({ msgType: 'video', mode: 'plain', media: video.toString('base64'), thumb: jpeg(2_000).toString('base64') });
    assert.equal(r.tries.length, 1);
    assert.ok(r.tries[0].ms < 5000, `answered in ${r.tries[0].ms} ms`);
    assert.ok(Date.now() - started < 8000 + 5000);
    const item = await archived(w, r.mediaId, '', 90_000);
    assert.equal(item.status, 'archived', JSON.stringify(item));
    assert.equal(item.size, video.length);
    assert.equal(item.thumbMediaId, r.thumbMediaId);
  });

  it('changes nothing for forged, stale, oversized, entity-laden and malformed pushes', async () => {
    const index = async () => (await w.fetch('/archive?limit=100', { headers: auth })).json().items.length;
    const count = await index();
    const before = handler.deliveries.length;
    await emu.control('DELETE', 'requests');
    const image = jpeg(1_000).toString('base64');
    const forged = await push({ msgType: 'image', media: image, forge: true, tries: 1 });
    assert.equal(forged.tries[0].status, 403);
    const stale = await push({ msgType: 'image', media: image, timestamp: Math.floor(Date.now() / 1000) - 600, tries: 1 });
    assert.equal(stale.tries[0].status, 403);
    const entity = await push({ xml: '<!DOCTYPE xml [<!ENTITY e "boom">]><xml><MsgType>&e;</MsgType></xml>', tries: 1 });
    assert.equal(entity.tries[0].status, 400);
    const broken = await push({ xml: '<xml><MsgType>image</MsgType><MediaId>x', tries: 1 });
    assert.equal(broken.tries[0].status, 400);
    const deep = await push({ xml: `<xml>${'<a>'.repeat(20)}x${'</a>'.repeat(20)}</xml>`, tries: 1 });
    assert.equal(deep.tries[0].status, 400);
    // Safe mode, but sealed for another app (the same Token and key): refused.
    const otherApp = await push({ appid: APP_B, msgType: 'image', media: image, mode: 'safe', tries: 1 });
    assert.equal(otherApp.tries[0].status, 400);
    // Oversized: refused before it is read.
    const ts = String(Math.floor(Date.now() / 1000));
    const big = await w.fetch(`/wechat/callback?signature=${sha1([TOKEN, ts, 'n'])}&timestamp=${ts}&nonce=n`, {
      method: 'POST', body: Buffer.alloc(1024 * 1024 + 1, 0x20),
    });
    assert.equal(big.status, 413);
    // A bad envelope (base64 that is not whole blocks), correctly signed.
    const enc = 'QUJD';
    const bad = await w.fetch(`/wechat/callback?timestamp=${ts}&nonce=n&encrypt_type=aes&msg_signature=${sha1([TOKEN, ts, 'n', enc])}`, {
      method: 'POST', body: `<xml><ToUserName>gh</ToUserName><Encrypt><![CDATA[${enc}]]></Encrypt></xml>`,
    });
    assert.equal(bad.status, 400);
    await sleep(500);
    assert.equal(await index(), count, 'nothing archived');
    assert.equal(handler.deliveries.length, before, 'nothing forwarded');
    assert.equal((await emu.requests('/cgi-bin/media/get')).length, 0, 'nothing fetched');
  });

  it('keeps two apps\' archives apart', async () => {
    const image = jpeg(4_321);
    const r = await emu.control('POST', 'push', { url: `${w.url}/apps/${APP_B}/wechat/callback`, appid: APP_B, msgType: 'image', mode: 'safe', media: image.toString('base64') });
    assert.equal(r.tries[0].status, 200);
    const item = await archived(w, r.mediaId, `/apps/${APP_B}`, 60_000, { authorization: `Bearer ${KEY_B}` });
    assert.equal(item.status, 'archived');
    assert.equal(item.url, `/apps/${APP_B}/media/${r.mediaId}`);
    const a = (await w.fetch('/archive?limit=100', { headers: auth })).json();
    assert.ok(!a.items.some((i) => i.mediaId === r.mediaId), 'not in the default app\'s archive');
    const b = await w.fetch(`/apps/${APP_B}/archive`, { headers: { authorization: `Bearer ${KEY_B}` } });
    assert.ok(b.json().items.some((i) => i.mediaId === r.mediaId));
    assert.equal((await w.fetch(`/apps/${APP_B}/archive`, { headers: auth })).status, 401);
    const m = await w.fetch(`/apps/${APP_B}/media/${r.mediaId}`, { headers: { authorization: `Bearer ${KEY_B}` } });
    assert.ok(m.body.equals(image));
  });

  it('pages the index newest first, filtered by type and fan', async () => {
    const fan = `oFan${Date.now()}`;
    const ids = [];
    for (let i = 0; i < 3; i++) {
      const r = await push({ msgType: 'image', fromUser: fan, createTime: 1_700_000_000 + i, media: jpeg(1_000 + i).toString('base64') });
      ids.push(r.mediaId);
    }
    const page1 = (await w.fetch(`/archive?from=${fan}&limit=2`, { headers: auth })).json();
    assert.deepEqual(page1.items.map((i) => i.mediaId), [ids[2], ids[1]]);
    assert.ok(page1.cursor);
    const page2 = (await w.fetch(`/archive?from=${fan}&limit=2&cursor=${page1.cursor}`, { headers: auth })).json();
    assert.deepEqual(page2.items.map((i) => i.mediaId), [ids[0]]);
    assert.equal(page2.cursor, null);
    const videos = (await w.fetch(`/archive?from=${fan}&type=video`, { headers: auth })).json();
    assert.equal(videos.items.length, 0);
    assert.equal((await w.fetch('/archive', {})).status, 401);
    assert.equal((await w.fetch('/archive?cursor=nope', { headers: auth })).status, 400);
  });
  it('serves every archived media byte for byte after WeChat forgot it (clock + 4 days; last: the clock only moves on)', async () => {
    const image = jpeg(12_345);
    const amr = fixture('amr-mode7.amr');
    const video = mp4(300_000);
    const img = await push({ msgType: 'image', mode: 'compat', media: image.toString('base64') });
    // Its 16 kHz rendition as WeChat may send it: AMR-WB, kept as it is (no decoder for it yet).
    const wb = Buffer.concat([Buffer.from('#!AMR-WB\n', 'latin1'), Buffer.alloc(6_000, 0x44)]);
    const voice = await push({ msgType: 'voice', mode: 'safe', media: amr.toString('base64'), media16k: wb.toString('base64') });
    assert.ok(voice.mediaId16K);
    const vid = await push({ msgType: 'shortvideo', mode: 'plain', media: video.toString('base64') });
    for (const r of [img, voice, vid]) assert.equal((await archived(w, r.mediaId)).status, 'archived');
    const voiceItem = await archived(w, voice.mediaId);
    assert.equal(voiceItem.mediaId16K, voice.mediaId16K);
    assert.equal(voiceItem.format, 'amr');
    assert.equal(voiceItem.wavUrl, `/media/${voice.mediaId}?format=wav`);
    await emu.control('POST', 'clock', { advance_secs: 4 * 86_400 });
    // WeChat itself no longer has them.
    const token = await emu.token();
    const gone = await fetch(`${emu.url}/cgi-bin/media/get?access_token=${token}&media_id=${img.mediaId}`);
    assert.equal((await gone.json()).errcode, 40007);
    const a = await w.fetch(`/media/${img.mediaId}`, { headers: auth });
    assert.equal(a.status, 200);
    assert.ok(a.body.equals(image));
    const b = await w.fetch(`/media/${voice.mediaId}`, { headers: auth });
    assert.ok(b.body.equals(amr));
    const b16 = await w.fetch(`/media/${voice.mediaId16K}`, { headers: auth });
    assert.equal(b16.status, 200, b16.text());
    assert.ok(b16.body.equals(wb));
    const wav = await w.fetch(`/media/${voice.mediaId}?format=wav`, { headers: auth });
    assert.equal(wav.status, 200);
    assert.ok(wav.body.subarray(44).equals(fixture('amr-mode7.amr.s16')));
    const v = await w.fetch(`/media/${vid.mediaId}`, { headers: auth });
    assert.equal(v.status, 200, 'an archived video is bytes, not a redirect');
    assert.equal(v.headers.get('content-type'), 'video/mp4');
    assert.ok(v.body.equals(video));
    const range = await w.fetch(`/media/${vid.mediaId}`, { headers: { ...auth, range: 'bytes=1000-1999' } });
    assert.equal(range.status, 206);
    assert.ok(range.body.equals(video.subarray(1000, 2000)));
  });

});
