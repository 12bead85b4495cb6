// Benchmark: the wxmedia client (wasm, Node) against baselines doing the same calls, side by
// side in one run, against the emulator on loopback: hand-written fetch + FormData (target ratio
// >= 0.9), a hand-written node:http client (target >= 0.9) and co-wechat-api 3.11, which uses
// node:http through httpx (target >= 1.0). Prints the throughput of each and the ratios, and the
// gzipped size of the package's wasm (target <= 120 KB). `client` is the package's Node entry as a
// user gets it (its transport over undici, npm/lib/http.cjs); `client/fetch` is the same client
// given Node's global fetch (undici) as its `fetch` option, for comparison.
//
// Usage: EMULATOR_URL=http://127.0.0.1:PORT node bench/client.mjs   (scripts/bench does this)
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import {
  APPID, SECRET, SIZE, base, blob, bytes, checkLength, getUrl, httpGet, httpUpload, mediaIdOf, post, root, stableToken, uploadUrl,
} from './lib/node.mjs';

const require = createRequire(import.meta.url);
const { MediaClient } = require(`${root}/pkg/index.cjs`);
const WechatAPI = require('co-wechat-api');

const OPS = Number(process.env.BENCH_OPS || 20);
const ROUNDS = Number(process.env.BENCH_ROUNDS || 5);

// The baseline: what a careful hand-written fetch client does, with a token fetched once.
const baselineToken = stableToken;
async function baselineUpload(token) {
  const form = new FormData();
  form.append('media', blob, 'bench.jpg');
  const r = await fetch(uploadUrl(token), { method: 'POST', body: form });
  return mediaIdOf(await r.json());
}
async function baselineGet(token, id) {
  const r = await fetch(getUrl(token, id));
  checkLength((await r.arrayBuffer()).byteLength);
}

// co-wechat-api 3.11 (node:http through httpx), pointed at the emulator, classic tokens.
const co = new WechatAPI(APPID, SECRET);
co.prefix = `${base}/cgi-bin/`;
const buffer = Buffer.from(bytes);
async function coUpload() {
  return mediaIdOf(await co.uploadMedia(buffer, 'image', 'bench.jpg', 'image/jpeg'));
}
async function coGet(id) {
  checkLength((await co.getMedia(id)).length);
}

const client = new MediaClient({ appId: APPID, appSecret: SECRET, baseUrl: base });
const undiciClient = new MediaClient({ appId: APPID, appSecret: SECRET, baseUrl: base, fetch: globalThis.fetch });
// The clients get the Buffer co-wechat-api gets (bench/node-transport.mjs times a Blob too).
async function clientUpload(c = client) {
  return (await c.upload('image', buffer, { filename: 'bench.jpg' })).mediaId;
}
async function clientGet(id, c = client) {
  checkLength((await (await c.get(id)).arrayBuffer()).byteLength);
}

/** Milliseconds that one call of `fn` takes. */
async function timed(fn) {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

await post('/_emulator/reset');
const token = await baselineToken();
const ids = [await baselineUpload(token)];
await baselineGet(token, ids[0]); // warm up every path
await clientGet(await clientUpload());
await clientGet(await clientUpload(undiciClient), undiciClient);
await httpGet(token, await httpUpload(token));
await coGet(await coUpload());

const SIDES = ['fetch', 'http', 'co-wechat-api', 'client/fetch', 'client'];
const results = { upload: {}, download: {} };
for (const op of Object.keys(results)) for (const side of SIDES) results[op][side] = [];
for (let round = 0; round < ROUNDS; round++) {
  await post('/_emulator/reset');
  const t = await baselineToken();
  const id = await baselineUpload(t);
  co.store = null; // the emulator forgot its tokens
  const coId = await coUpload();
  // The clients' cached tokens died with the reset too: let them renew outside the timing, as
  // co-wechat-api and the baselines did above.
  await clientUpload();
  await clientUpload(undiciClient);
  const calls = {
    fetch: [() => baselineUpload(t), () => baselineGet(t, id)],
    http: [() => httpUpload(t), () => httpGet(t, id)],
    'co-wechat-api': [coUpload, () => coGet(coId)],
    'client/fetch': [() => clientUpload(undiciClient), () => clientGet(id, undiciClient)],
    client: [() => clientUpload(), () => clientGet(id)],
  };
  // The sides take turns call by call (the first of each turn rotating), so a drift in the
  // machine or the emulator over the round falls on every side alike.
  for (const [k, op] of ['upload', 'download'].entries()) {
    for (let i = 0; i < OPS; i++) {
      for (let j = 0; j < SIDES.length; j++) {
        const side = SIDES[(i + j + round) % SIDES.length];
        results[op][side].push(await timed(calls[side][k]));
      }
    }
  }
}

// Throughput from the median call.
const mbps = (ms) => SIZE / (1 << 20) / (ms / 1000);
console.log(`wxmedia client (Node entry, its undici transport) vs baselines, 1 MiB calls taking turns, ${OPS} per side in each of ${ROUNDS} rounds, median call, Node ${process.version}`);
console.log('MiB/s       fetch    http   co-wechat-api   client/fetch   client   client/fetch-baseline (>=0.9)   client/http (>=0.9)   client/co (>=1.0)');
for (const op of ['upload', 'download']) {
  const m = Object.fromEntries(SIDES.map((side) => [side, mbps(median(results[op][side]))]));
  console.log(
    `${op.padEnd(10)} ${m.fetch.toFixed(1).padStart(6)}  ${m.http.toFixed(1).padStart(6)}  ${m['co-wechat-api'].toFixed(1).padStart(14)}  ${m['client/fetch'].toFixed(1).padStart(13)}  ${m.client.toFixed(1).padStart(7)}` +
      `   ${(m.client / m.fetch).toFixed(2).padStart(29)}   ${(m.client / m.http).toFixed(2).padStart(19)}   ${(m.client / m['co-wechat-api']).toFixed(2).padStart(17)}`,
  );
}
// The same ratios paired by turn: in each turn every side makes one call, close in time, so the
// median over turns of (the other side's time / the client's) cancels what drifts between turns
// (the machine's other work, a garbage collection of the whole heap, the emulator). With two
// cores shared by the emulator, Node and its GC threads, the ratios of the medians above move by
// 0.1 or more from run to run; these moved somewhat less in the runs here.
console.log('paired by turn, median of per-turn ratios   client/fetch-baseline   client/http   client/co');
for (const op of ['upload', 'download']) {
  const r = results[op];
  const paired = (side) => median(r.client.map((t, n) => r[side][n] / t)).toFixed(2);
  console.log(`${op.padEnd(10)} ${''.padStart(32)} ${paired('fetch').padStart(21)}   ${paired('http').padStart(11)}   ${paired('co-wechat-api').padStart(9)}`);
}
const wasm = readFileSync(`${root}/pkg/wxmedia_bg.wasm`);
const gz = gzipSync(wasm, { level: 9 }).length;
console.log(`package wasm: ${(wasm.length / 1024).toFixed(1)} KiB, gzipped ${(gz / 1024).toFixed(1)} KiB (target <= 120 KB: ${(gz / 120000).toFixed(2)} of it)`);
