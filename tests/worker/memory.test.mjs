// The per-isolate memory tier (worker/src/media/memory.rs) in real workerd: its answers are byte for
// byte a cache hit's (a Worker with MEMORY_CACHE_BYTES=0 answers the same requests from the
// Cache API alone), auth still runs first, it stays under its bound, evicts the least recently
// used first, and lets objects over 1 MiB pass by.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startEmulator, startWorker, jpeg, APPID, SECRET, API_KEY } from './harness.mjs';

const auth = { authorization: `Bearer ${API_KEY}` };
let emu;
const workers = [];
after(async () => {
  for (const w of workers) await w.stop();
  emu?.stop();
});

async function worker(name, vars = {}) {
  const w = await startWorker({
    name,
    vars: { UPSTREAM_BASE: emu.url, WECHAT_APPID: APPID, DOWNLOAD_AUTH: 'key', ...vars },
    secrets: { WECHAT_SECRET: SECRET, API_KEYS: API_KEY },
  });
  workers.push(w);
  return w;
}

async function uploadUpstream(bytes, filename) {
  const token = await emu.token();
  const form = new FormData();
  form.append('media', new Blob([bytes]), filename);
  const r = await fetch(`${emu.url}/cgi-bin/media/upload?access_token=${token}&type=image`, { method: 'POST', body: form });
  const json = await r.json();
  assert.ok(json.media_id, JSON.stringify(json));
  return json.media_id;
}

const usage = async (w) => (await w.fetch('/healthz')).json().memoryCache;
/**
 * Status, headers (but Date) and body: what must be identical. A multipart/byteranges answer's
 * boundary is random on every answer, the cache's own included: it is compared as a placeholder.
 */
const boundary = /miniflare-boundary-[0-9a-f-]+/g;
const answer = (r) => ({
  status: r.status,
  headers: [...r.headers].filter(([k]) => k !== 'date').map(([k, v]) => [k, v.replace(boundary, 'BOUNDARY')]).sort(),
  body: r.body.toString('latin1').replace(boundary, 'BOUNDARY'),
});

describe('the memory tier', () => {
  let mem; // the default bound
  let cacheOnly; // MEMORY_CACHE_BYTES=0: every hit from the Cache API

  before(async () => {
    emu = await startEmulator();
    mem = await worker('memory-on');
    cacheOnly = await worker('memory-off', { MEMORY_CACHE_BYTES: 0 });
  });

  it('answers byte for byte what a cache hit answers: GET, Range, If-None-Match, HEAD', async () => {
    const bytes = jpeg(30_000, 5);
    const id = await uploadUpstream(bytes, 'same.jpg');
    const p = `/media/${id}`;
    for (const w of [mem, cacheOnly]) {
      const first = await w.fetch(p, { headers: auth });
      assert.equal(first.status, 200);
      assert.equal(first.headers.get('x-cache'), 'MISS');
    }
    assert.deepEqual(await usage(mem), { bytes: bytes.length, entries: 1, limit: 16 << 20 });
    assert.deepEqual(await usage(cacheOnly), { bytes: 0, entries: 0, limit: 0 });
    const requests = [
      {},
      { headers: { range: 'bytes=100-199' } },
      { headers: { range: 'bytes=-10' } },
      { headers: { range: 'bytes=29990-' } },
      { headers: { range: 'bytes=0-1,5-9' } },
      { headers: { range: 'bytes=40000-' } },
      { headers: { range: 'items=0-9' } },
      { headers: { 'if-none-match': `"${id}"` } },
      { headers: { 'if-none-match': '"other"' } },
      { method: 'HEAD' },
      { method: 'HEAD', headers: { range: 'bytes=0-9' } },
    ];
    for (const init of requests) {
      const a = await mem.fetch(p, { ...init, headers: { ...auth, ...init.headers } });
      const b = await cacheOnly.fetch(p, { ...init, headers: { ...auth, ...init.headers } });
      assert.deepEqual(answer(a), answer(b), JSON.stringify(init));
    }
    const hit = await mem.fetch(p, { headers: auth });
    assert.equal(hit.headers.get('x-cache'), 'HIT');
    assert.deepEqual(hit.body, bytes);
    assert.equal((await usage(mem)).entries, 1);
  });

  it('still refuses a download without credentials when the media is in memory', async () => {
    const bytes = jpeg(5_000, 6);
    const id = await uploadUpstream(bytes, 'auth.jpg');
    assert.equal((await mem.fetch(`/media/${id}`, { headers: auth })).status, 200);
    assert.equal((await mem.fetch(`/media/${id}`, { headers: auth })).headers.get('x-cache'), 'HIT');
    const refused = await mem.fetch(`/media/${id}`);
    assert.equal(refused.status, 401);
    assert.ok(!refused.body.includes(Buffer.from(bytes.subarray(0, 64))));
    const wrongKey = await mem.fetch(`/media/${id}`, { headers: { authorization: 'Bearer nope' } });
    assert.ok([401, 403].includes(wrongKey.status), String(wrongKey.status));
  });

  it('stays under its bound while 100 distinct media are fetched', async () => {
    const limit = 50_000;
    const w = await worker('memory-bound', { MEMORY_CACHE_BYTES: limit });
    for (let i = 0; i < 100; i++) {
      const bytes = jpeg(4_000 + i * 10, i);
      const id = await uploadUpstream(bytes, `n${i}.jpg`);
      const r = await w.fetch(`/media/${id}`, { headers: auth });
      assert.equal(r.status, 200);
      assert.deepEqual(r.body, bytes);
      const u = await usage(w);
      assert.ok(u.bytes <= limit, JSON.stringify(u));
      assert.equal(u.limit, limit);
    }
    const u = await usage(w);
    assert.ok(u.entries >= 1 && u.entries <= 12, JSON.stringify(u));
  });

  it('evicts the least recently used first', async () => {
    const w = await worker('memory-lru', { MEMORY_CACHE_BYTES: 60_000 });
    const ids = {};
    for (const [name, size] of [['a', 10_000], ['b', 20_000], ['c', 30_000], ['d', 5_000]]) {
      ids[name] = await uploadUpstream(jpeg(size, size % 251), `${name}.jpg`);
    }
    const get = async (name) => assert.equal((await w.fetch(`/media/${ids[name]}`, { headers: auth })).status, 200);
    await get('a'); await get('b'); await get('c');
    assert.deepEqual(await usage(w), { bytes: 60_000, entries: 3, limit: 60_000 });
    await get('a'); // a is now the most recently used: b the least
    await get('d'); // room for d: b goes (a would leave 55 000)
    assert.deepEqual(await usage(w), { bytes: 45_000, entries: 3, limit: 60_000 });
  });

  it('lets an object over 1 MiB pass by', async () => {
    const bytes = jpeg((1 << 20) + 1, 9);
    const id = await uploadUpstream(bytes, 'big.jpg');
    const before = await usage(mem);
    for (let i = 0; i < 2; i++) {
      const r = await mem.fetch(`/media/${id}`, { headers: auth });
      assert.equal(r.status, 200);
      assert.deepEqual(r.body, bytes);
    }
    assert.deepEqual(await usage(mem), before);
  });
});
