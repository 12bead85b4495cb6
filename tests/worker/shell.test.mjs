// The Worker's JS entry (worker/shell.mjs) against the Rust handler alone (worker/build/index.js),
// both in plain workerd with the same settings and the same history: every request of a table —
// each download route, each auth mode, Range/206/416, If-None-Match/304, HEAD, CORS, the memory
// tier on and off, renditions, misses, bad input — answers byte for byte alike (status, every
// header but Date, body). A probe Worker asks the same wasm for the plans, showing which rows the
// shell answered itself: the comparison is not of one handler with itself.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { startEmulator, startWorkerd, jpeg, amr, mp4, ROOT, APPID, SECRET, API_KEY, SIGNING_KEY, ENTRY, HANDLER } from './harness.mjs';

const B = 'wxshell0000000000b';
const SECRET_B = 'secret-of-b';
const KEY_B = 'key-of-b';
const ORIGIN = 'https://console.example';
const auth = { authorization: `Bearer ${API_KEY}` };
const PROBE = path.join(ROOT, 'tests/worker/fixtures/plan-probe.mjs');

let emu;
const started = [];
after(async () => {
  for (const w of started) await w.stop();
  emu?.stop();
});

async function start(opts) {
  const w = await startWorkerd(opts);
  started.push(w);
  return w;
}

async function uploadUpstream(type, bytes, filename, appid = APPID, secret = SECRET) {
  const token = await emu.token(appid, secret);
  const form = new FormData();
  form.append('media', new Blob([bytes]), filename);
  const r = await fetch(`${emu.url}/cgi-bin/media/upload?access_token=${token}&type=${type}`, { method: 'POST', body: form });
  const json = await r.json();
  assert.ok(json.media_id, JSON.stringify(json));
  return json.media_id;
}

/** Status, headers but Date, body; a multipart/byteranges boundary (random per answer) as a placeholder. */
const boundary = /miniflare-boundary-[0-9a-f-]+/g;
const answer = (r) => ({
  status: r.status,
  headers: [...r.headers].filter(([k]) => k !== 'date').map(([k, v]) => [k, v.replace(boundary, 'BOUNDARY')]).sort(),
  body: r.body.toString('latin1').replace(boundary, 'BOUNDARY'),
});

/** The plans the probe gets for a row. */
async function planOf(probe, base, [method, p, headers = {}]) {
  const r = await probe.fetch('/', { method: 'POST', body: JSON.stringify({ method, url: `${base}${p}`, headers }) });
  assert.equal(r.status, 200, r.text());
  return r.json();
}

/**
 * Sends every row to both Workers (the shell first, then the handler, each row in turn, so the
 * two histories stay alike) and compares; returns the shell's answers.
 */
async function compare(shell, handler, rows) {
  const out = [];
  for (const [method, p, headers = {}] of rows) {
    const a = await shell.fetch(p, { method, headers });
    const b = await handler.fetch(p, { method, headers });
    assert.deepEqual(answer(a), answer(b), `${method} ${p} ${JSON.stringify(headers)}`);
    out.push(a);
  }
  return out;
}

describe('the JS entry answers as the Rust handler does', () => {
  before(async () => {
    emu = await startEmulator(['--app', `${APPID}:${SECRET}`, '--app', `${B}:${SECRET_B}`]);
  });

  /** A pair (shell, handler) and a plan probe, all with `vars`. */
  async function trio(name, vars) {
    const opts = { vars: { UPSTREAM_BASE: emu.url, ...vars } };
    const shell = await start({ name: `${name}-shell`, main: ENTRY, ...opts });
    const handler = await start({ name: `${name}-handler`, main: HANDLER, ...opts });
    const probe = await start({ name: `${name}-probe`, main: PROBE, ...opts });
    return { shell, handler, probe };
  }

  it('signed downloads, API keys, CORS, the memory tier, both route families', async () => {
    const { shell, handler, probe } = await trio('signed', {
      WECHAT_APPID: APPID, WECHAT_SECRET: SECRET, API_KEYS: API_KEY, DOWNLOAD_AUTH: 'signed',
      SIGNING_KEY, CORS_ORIGINS: ORIGIN,
    });
    const img = await uploadUpstream('image', jpeg(40_000, 3), 'a.jpg');
    const voice = await uploadUpstream('voice', amr(), 'v.amr');
    const video = await uploadUpstream('video', mp4(), 'v.mp4');
    const sign = async (id, kind) => {
      const r = await shell.fetch(`/media/${id}/sign${kind ? `?kind=${kind}` : ''}`, { method: 'POST', headers: auth });
      assert.equal(r.status, 200, r.text());
      const u = new URL(r.json().url);
      return u.pathname + u.search;
    };
    const signed = await sign(img);
    const signedHd = await sign(voice, 'hd-voice');
    const forged = signed.replace(/sig=./, (m) => (m.endsWith('A') ? 'sig=B' : 'sig=A'));
    // Fill both Workers' caches the same way (misses: the full handler in both).
    await compare(shell, handler, [['GET', signed], ['GET', signedHd], ['GET', `/media/${voice}`, auth]]);
    const etag = `"${img}"`;
    const hits = [
      ['GET', signed],
      ['GET', signed],
      ['HEAD', signed],
      ['GET', signed, { range: 'bytes=0-99' }],
      ['GET', signed, { range: 'bytes=39990-' }],
      ['GET', signed, { range: 'bytes=-10' }],
      ['GET', signed, { range: 'bytes=0-1,5-6' }],
      ['GET', signed, { range: 'bytes=999999-' }],
      ['GET', signed, { range: 'items=0-1' }],
      ['HEAD', signed, { range: 'bytes=0-9' }],
      ['GET', signed, { 'if-none-match': etag }],
      ['GET', signed, { 'if-none-match': '"other"' }],
      ['GET', signed, { origin: ORIGIN }],
      ['GET', signed, { origin: 'https://elsewhere.example' }],
      ['GET', `/media/${img}`, auth],
      ['GET', `/media/${img}`, { ...auth, origin: ORIGIN, range: 'bytes=5-9' }],
      ['GET', `/apps/${APPID}/media/${img}`, auth],
      ['GET', signedHd],
      ['GET', `/media/${voice}`, auth],
      ['GET', `/cgi-bin/media/get?access_token=${API_KEY}&media_id=${img}`],
      ['HEAD', `/cgi-bin/media/get?access_token=${API_KEY}&media_id=${img}`, { 'if-none-match': etag }],
      ['GET', `/cgi-bin/media/get/jssdk?access_token=${API_KEY}&media_id=${voice}`],
    ];
    const others = [
      ['GET', forged],
      ['GET', `/media/${img}`],
      ['GET', `/media/${img}`, { authorization: 'Bearer wrong' }],
      ['GET', `/media/${img}?exp=1&sig=x`],
      ['GET', `/media/${voice}?format=wav`, auth],
      ['GET', `/media/${voice}?format=wav`, auth],
      ['GET', `/media/${img}?format=wav`, auth],
      ['GET', `/media/${img}?format=ogg`, auth],
      ['GET', '/media/bad!id', auth],
      ['GET', `/media/${img}/`, auth],
      ['GET', `/apps/wxnope/media/${img}`, auth],
      ['GET', `/apps/${APPID}/media/${img}`],
      ['POST', `/media/${img}`, auth],
      ['OPTIONS', `/media/${img}`, { origin: ORIGIN }],
      ['GET', `/cgi-bin/media/get?access_token=wrong&media_id=${img}`],
      ['GET', `/cgi-bin/media/get?media_id=${img}`],
      ['GET', `/cgi-bin/media/get?access_token=${API_KEY}`],
      ['GET', `/apps/${APPID}/cgi-bin/media/get?access_token=${API_KEY}&media_id=${img}`],
      // The same media, its id's first character escaped: not a piece of the URL, so no plan
      // (the key is built from the URL's own characters); the full handler answers it.
      ['GET', `/cgi-bin/media/get?access_token=${API_KEY}&media_id=%${img.charCodeAt(0).toString(16)}${img.slice(1)}`],
      ['GET', '/healthz'],
    ];
    // Planned, but the cache holds nothing: the shell hands them to the full handler (a video
    // is a redirect to WeChat's URL, never cached; an unknown id is WeChat's 40007).
    const misses = [
      ['GET', `/media/${video}`, auth],
      ['GET', '/media/not-a-media-id-here', auth],
      ['GET', '/media/not-a-media-id-here', auth],
    ];
    const answered = await compare(shell, handler, [...hits, ...others, ...misses]);
    const base = 'http://127.0.0.1';
    for (const [i, row] of misses.entries()) {
      assert.ok(await planOf(probe, base, row), `${row[1]}: planned`);
      // Not media from the cache: the video's redirect (or refusal of its URL), WeChat's 40007
      // (the second one remembered).
      const { status } = answered[hits.length + others.length + i];
      assert.ok(![200, 206, 304].includes(status), `${row[1]}: ${status}`);
    }
    for (const [i, row] of hits.entries()) {
      const plan = await planOf(probe, base, row);
      assert.ok(plan, `no plan for ${row[0]} ${row[1]}: the shell would not answer it`);
      assert.ok(!JSON.stringify(plan).includes(API_KEY), 'a plan holds no key');
      if (answered[i].status === 200 || answered[i].status === 206) assert.equal(answered[i].headers.get('x-cache'), 'HIT');
    }
    for (const row of others) assert.equal(await planOf(probe, base, row), null, `${row[0]} ${row[1]} has a plan`);
    // The memory tier (on here) may answer a plain lookup, never one carrying a Range.
    assert.equal((await planOf(probe, base, hits[0])).memory, true);
    assert.equal((await planOf(probe, base, hits[3])).memory, false);
    // The hits included 206, 304 and 416 answers and CORS: the comparison covered them.
    const statuses = new Set(answered.slice(0, hits.length).map((r) => r.status));
    for (const s of [200, 206, 304, 416]) assert.ok(statuses.has(s), `no ${s} among the hits`);
    assert.equal(answered[12].headers.get('access-control-allow-origin'), ORIGIN);
  });

  it('passes every other event (the archive Queue\'s consumer) to the Rust handler', async () => {
    const probe = await start({ name: 'events-probe', main: PROBE, vars: { WECHAT_APPID: APPID } });
    const { handler, shell } = (await probe.fetch('/')).json();
    assert.ok(handler.includes('fetch') && handler.includes('queue'), JSON.stringify(handler));
    for (const name of handler) assert.ok(shell.includes(name), `the entry has no ${name} handler`);
  });

  it('public downloads without the memory tier, CORS for any origin, two apps', async () => {
    const { shell, handler, probe } = await trio('public', {
      WECHAT_APPS: `${APPID},${B}`, [`WECHAT_SECRET_${APPID}`]: SECRET, [`WECHAT_SECRET_${B}`]: SECRET_B,
      [`API_KEYS_${APPID}`]: API_KEY, [`API_KEYS_${B}`]: KEY_B, DOWNLOAD_AUTH: 'public',
      MEMORY_CACHE_BYTES: '0', CORS_ORIGINS: '*',
    });
    const a = await uploadUpstream('image', jpeg(20_000, 7), 'a.jpg');
    const b = await uploadUpstream('image', jpeg(30_000, 9), 'b.jpg', B, SECRET_B);
    await compare(shell, handler, [['GET', `/media/${a}`], ['GET', `/apps/${B}/media/${b}`]]);
    const hits = [
      ['GET', `/media/${a}`],
      ['GET', `/media/${a}`, { origin: ORIGIN }],
      ['HEAD', `/apps/${APPID}/media/${a}`],
      ['GET', `/apps/${B}/media/${b}`, { range: 'bytes=100-199', origin: 'https://x.example' }],
      ['GET', `/cgi-bin/media/get?access_token=${KEY_B}&media_id=${b}`],
    ];
    const others = [
      // B's media is not the default app's: a miss there (the full handler asks WeChat).
      ['GET', `/media/${b}`],
      ['GET', `/cgi-bin/media/get?access_token=${KEY_B}&media_id=${a}`],
    ];
    const answered = await compare(shell, handler, [...hits, ...others]);
    for (const row of hits) {
      const plan = await planOf(probe, 'http://127.0.0.1', row);
      assert.ok(plan && !plan.memory && !plan.held, `${row[1]}: a plan without the memory tier`);
    }
    assert.equal(answered[1].headers.get('access-control-allow-origin'), '*');
    assert.equal(answered[0].headers.get('cache-control'), 'public, max-age=259200, immutable');
  });
});
