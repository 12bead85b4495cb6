// Bursts of cold downloads: every request is answered within its deadline (a 504 at worst),
// however many wait on the same fill. Bounded: 20 ids × 10 concurrent requests, once.
import { it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startEmulator, startWorker, jpeg, API_KEY } from './harness.mjs';

const IDS = 20;
const PER_ID = 10;
const TIMEOUT_MS = 15_000;
// What a client waits before it calls a request unanswered: the Worker's deadline plus slack for
// a loaded two-core machine.
const PATIENCE_MS = TIMEOUT_MS + 15_000;

let emu;
let w;
before(async () => {
  emu = await startEmulator();
  w = await startWorker({
    name: 'burst',
    vars: { WECHAT_APPID: 'wx0000000000000001', UPSTREAM_BASE: emu.url, DOWNLOAD_AUTH: 'key', UPSTREAM_TIMEOUT_MS: String(TIMEOUT_MS) },
    secrets: { WECHAT_SECRET: 'emulator-secret', API_KEYS: API_KEY },
  });
});
after(async () => {
  await w?.stop();
  emu?.stop();
});

it(`${IDS} cold 1 MB ids × ${PER_ID} concurrent requests: all answered within the deadline`, async () => {
  const token = await emu.token();
  const ids = [];
  for (let i = 0; i < IDS; i++) {
    const form = new FormData();
    form.append('media', new Blob([jpeg(1 << 20, i)]), `b${i}.jpg`);
    const r = await fetch(`${emu.url}/cgi-bin/media/upload?access_token=${token}&type=image`, { method: 'POST', body: form });
    ids.push((await r.json()).media_id);
  }
  const started = Date.now();
  const outcomes = await Promise.all(ids.flatMap((id) => Array.from({ length: PER_ID }, async () => {
    try {
      const r = await fetch(`${w.url}/media/${id}`, {
        headers: { authorization: `Bearer ${API_KEY}` },
        signal: AbortSignal.timeout(PATIENCE_MS),
      });
      const body = await r.arrayBuffer();
      return { status: r.status, size: body.byteLength, ms: Date.now() - started };
    } catch (e) {
      return { status: 'unanswered', error: String(e), ms: Date.now() - started };
    }
  })));
  const unanswered = outcomes.filter((o) => o.status === 'unanswered');
  assert.equal(unanswered.length, 0, `${unanswered.length} of ${outcomes.length} requests went unanswered past ${PATIENCE_MS} ms`);
  for (const o of outcomes) {
    assert.ok(o.status === 200 || o.status === 504, JSON.stringify(o));
    if (o.status === 200) assert.equal(o.size, 1 << 20);
  }
  const ok = outcomes.filter((o) => o.status === 200).length;
  console.log(`burst: ${ok} of ${outcomes.length} answered 200, the rest 504; slowest ${Math.max(...outcomes.map((o) => o.ms))} ms`);
  assert.ok(ok > 0, 'no request succeeded');
});
