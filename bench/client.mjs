// Benchmark: the wxmedia client (wasm, Node) against hand-written fetch + FormData doing the
// same calls, side by side in one run, against the emulator on loopback. Prints throughput of
// each and the ratio (target >= 0.9), and the gzipped size of the package's wasm (target <= 120 KB).
//
// Usage: EMULATOR_URL=http://127.0.0.1:PORT node bench/client.mjs   (scripts/bench does this)
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const root = fileURLToPath(new URL('..', import.meta.url));
const { MediaClient } = require(`${root}/pkg/index.cjs`);

const base = process.env.EMULATOR_URL;
if (!base) throw new Error('EMULATOR_URL is not set');
const SIZE = 1 << 20;
const OPS = Number(process.env.BENCH_OPS || 20);
const ROUNDS = Number(process.env.BENCH_ROUNDS || 5);
const APPID = 'wx0000000000000001';
const SECRET = 'emulator-secret';

// A 1 MiB JPEG-looking file (JPEG magic, then filler).
const bytes = new Uint8Array(SIZE);
for (let i = 0; i < SIZE; i++) bytes[i] = (i * 31) & 0xff;
bytes.set([0xff, 0xd8, 0xff, 0xe0]);
const blob = new Blob([bytes], { type: 'image/jpeg' });

const post = (path, body) => fetch(`${base}${path}`, { method: 'POST', body: JSON.stringify(body ?? {}) });

// The baseline: what a careful hand-written client does, with a token fetched once.
async function baselineToken() {
  const r = await fetch(`${base}/cgi-bin/stable_token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ grant_type: 'client_credential', appid: APPID, secret: SECRET, force_refresh: false }),
  });
  return (await r.json()).access_token;
}
async function baselineUpload(token) {
  const form = new FormData();
  form.append('media', blob, 'bench.jpg');
  const r = await fetch(`${base}/cgi-bin/media/upload?access_token=${encodeURIComponent(token)}&type=image`, { method: 'POST', body: form });
  const json = await r.json();
  if (!json.media_id) throw new Error(JSON.stringify(json));
  return json.media_id;
}
async function baselineGet(token, id) {
  const r = await fetch(`${base}/cgi-bin/media/get?access_token=${encodeURIComponent(token)}&media_id=${encodeURIComponent(id)}`);
  const buf = await r.arrayBuffer();
  if (buf.byteLength !== SIZE) throw new Error(`got ${buf.byteLength} bytes`);
}

const client = new MediaClient({ appId: APPID, appSecret: SECRET, baseUrl: base });
async function clientUpload() {
  return (await client.upload('image', blob, { filename: 'bench.jpg' })).mediaId;
}
async function clientGet(id) {
  const file = await client.get(id);
  const buf = await file.arrayBuffer();
  if (buf.byteLength !== SIZE) throw new Error(`got ${buf.byteLength} bytes`);
}

async function timed(fn) {
  const t0 = performance.now();
  for (let i = 0; i < OPS; i++) await fn(i);
  return performance.now() - t0;
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

await post('/_emulator/reset');
const token = await baselineToken();
const ids = [await baselineUpload(token)];
await baselineGet(token, ids[0]); // warm up both paths
await clientGet(await clientUpload());

const results = { upload: { baseline: [], client: [] }, download: { baseline: [], client: [] } };
for (let round = 0; round < ROUNDS; round++) {
  await post('/_emulator/reset');
  const t = await baselineToken();
  const id = await baselineUpload(t);
  // Alternate which side goes first, so neither always runs on a warmer process.
  const order = round % 2 ? ['client', 'baseline'] : ['baseline', 'client'];
  for (const side of order) {
    results.upload[side].push(await timed(side === 'client' ? clientUpload : () => baselineUpload(t)));
    results.download[side].push(await timed(side === 'client' ? () => clientGet(id) : () => baselineGet(t, id)));
  }
}

const mbps = (ms) => (OPS * SIZE) / (1 << 20) / (ms / 1000);
console.log(`wxmedia client vs hand-written fetch + FormData, ${OPS} x 1 MiB per round, median of ${ROUNDS} rounds, Node ${process.version}`);
console.log('operation   baseline MiB/s   client MiB/s   ratio (target >= 0.9)');
for (const op of ['upload', 'download']) {
  const b = mbps(median(results[op].baseline));
  const c = mbps(median(results[op].client));
  console.log(`${op.padEnd(10)}  ${b.toFixed(1).padStart(14)}   ${c.toFixed(1).padStart(12)}   ${(c / b).toFixed(2)}`);
}
const wasm = readFileSync(`${root}/pkg/wxmedia_bg.wasm`);
const gz = gzipSync(wasm, { level: 9 }).length;
console.log(`package wasm: ${(wasm.length / 1024).toFixed(1)} KiB, gzipped ${(gz / 1024).toFixed(1)} KiB (target <= 120 KB: ${(gz / 120000).toFixed(2)} of it)`);
