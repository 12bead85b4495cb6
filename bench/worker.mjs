// Benchmark: cache-hit downloads of a 100 KB image from the wxmedia Worker, side by side with two
// baselines in the same run: a minimal JavaScript Worker answering from the same Cache API (the
// least any implementation must do) and one answering from memory (the runtime's ceiling).
//
// Like production: each Worker runs in plain workerd through Miniflare's API (no `wrangler dev`
// proxy in front, whose cost would hide the Worker's own), the emulator is the upstream, and the
// load comes from `wrk` (a Node load generator saturates before workerd does). Loopback only.
// Prints requests/s and p99 latency of each, the ratio to the Cache-API baseline (target >= 1.0),
// upstream calls per 1 000 hot requests to our Worker (target 0) and the gzipped Worker wasm size.
// Our Worker runs twice: as configured by default (its memory tier answers the hits) and with
// MEMORY_CACHE_BYTES=0 (every hit from the Cache API). The gap between our Worker and the memory
// baseline bounds what any lighter entry (less wasm-bindgen glue per request) could still buy.
//
// Usage: node bench/worker.mjs   (after `make worker` and `cargo build -p wxmedia-emulator`;
// `make bench` does both). BENCH_SECONDS (5), BENCH_ROUNDS (3), BENCH_CONNECTIONS (16),
// BENCH_THREADS (2) shape the load.
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import path from 'node:path';
import { startEmulator, APPID, SECRET, API_KEY, ROOT } from '../tests/worker/harness.mjs';
import { requireWrk, startScript, wrk } from './lib/workerd.mjs';

const SIZE = 100 * 1024;
const SECONDS = Number(process.env.BENCH_SECONDS || 5);
const ROUNDS = Number(process.env.BENCH_ROUNDS || 3);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS || 16);
const THREADS = Number(process.env.BENCH_THREADS || 2);

await requireWrk('bench/worker.mjs');

const emu = await startEmulator();
const token = await emu.token();
const bytes = new Uint8Array(SIZE).map((_, i) => (i * 31) & 0xff);
bytes.set([0xff, 0xd8, 0xff, 0xe0]);
const form = new FormData();
form.append('media', new Blob([bytes]), 'bench.jpg');
const up = await (await fetch(`${emu.url}/cgi-bin/media/upload?access_token=${token}&type=image`, { method: 'POST', body: form })).json();
const id = up.media_id;

const here = path.join(ROOT, 'bench/baselines');
// Our Worker, public downloads (no signature work: the baselines do none either).
const ours = await startScript('wxmedia', path.join(ROOT, 'worker/build/index.js'), {
  bindings: { UPSTREAM_BASE: emu.url, WECHAT_APPID: APPID, DOWNLOAD_AUTH: 'public', WECHAT_SECRET: SECRET, API_KEYS: API_KEY },
  durableObjects: { TOKENS: 'TokenHolder' },
});
// The same Worker without its memory tier: every hit a Cache API call, as before memory.rs.
const oursNoMemory = await startScript('wxmedia-no-memory', path.join(ROOT, 'worker/build/index.js'), {
  bindings: { UPSTREAM_BASE: emu.url, WECHAT_APPID: APPID, DOWNLOAD_AUTH: 'public', WECHAT_SECRET: SECRET, API_KEYS: API_KEY, MEMORY_CACHE_BYTES: '0' },
  durableObjects: { TOKENS: 'TokenHolder' },
});
const cacheApi = await startScript('cache-api', path.join(here, 'cache-api.js'), { bindings: { UPSTREAM_BASE: emu.url, TOKEN: token } });
const memory = await startScript('memory', path.join(here, 'memory.js'), { bindings: { SIZE: String(SIZE) } });

const targets = [
  { name: 'wxmedia Worker', url: `${ours.url}/media/${id}`, server: ours },
  { name: 'wxmedia, no memory tier', url: `${oursNoMemory.url}/media/${id}`, server: oursNoMemory },
  { name: 'JS Worker, Cache API', url: `${cacheApi.url}/media/${id}`, server: cacheApi },
  { name: 'JS Worker, memory', url: `${memory.url}/media/${id}`, server: memory },
];

const load = (url) => wrk(url, [`-t${THREADS}`, `-c${CONNECTIONS}`, `-d${SECONDS}s`]);

// Warm every cache, checking each answers the whole image.
for (const t of targets) {
  for (let i = 0; i < 20; i++) {
    const r = await fetch(t.url);
    const b = new Uint8Array(await r.arrayBuffer());
    if (r.status !== 200 || b.byteLength !== SIZE) throw new Error(`${t.name}: ${r.status}, ${b.byteLength} bytes`);
  }
}
const upstreamGets = async () => (await emu.requests('/cgi-bin/media/get')).length;
const results = Object.fromEntries(targets.map((t) => [t.name, []]));
let gets = 0; // upstream calls made while the wxmedia Worker was under load
let hot = 0; // requests the wxmedia Worker answered under load
for (let round = 0; round < ROUNDS; round++) {
  const order = round % 2 ? [...targets].reverse() : targets;
  for (const t of order) {
    const before = t === targets[0] ? await upstreamGets() : 0;
    const r = await load(t.url);
    results[t.name].push(r);
    if (t === targets[0]) { gets += (await upstreamGets()) - before; hot += r.requests; }
  }
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const summary = Object.fromEntries(targets.map((t) => {
  const rs = results[t.name];
  return [t.name, { rps: median(rs.map((r) => r.rps)), p99: median(rs.map((r) => r.p99)), bad: rs.reduce((a, r) => a + r.bad, 0), all: rs.map((r) => r.rps.toFixed(0)).join('/') }];
}));
const base = summary['JS Worker, Cache API'];
console.log(`cache-hit downloads of a ${SIZE / 1024} KB image: wrk -t${THREADS} -c${CONNECTIONS}, ${ROUNDS} rounds x ${SECONDS} s, workerd via Miniflare (no wrangler proxy), node ${process.version}`);
console.log('target                     req/s (median; rounds)      p99 ms   ratio to Cache-API baseline   errors');
for (const [name, s] of Object.entries(summary)) {
  console.log(`${name.padEnd(24)} ${s.rps.toFixed(0).padStart(7)} (${s.all.padEnd(17)})  ${s.p99.toFixed(2).padStart(8)}   ${(s.rps / base.rps).toFixed(2).padStart(6)}                        ${s.bad}`);
}
console.log(`upstream calls during ${hot} hot requests to the wxmedia Worker: ${gets} (${(gets / Math.max(hot, 1) * 1000).toFixed(3)} per 1000; target 0)`);
const wasm = readFileSync(path.join(ROOT, 'worker/build/index_bg.wasm'));
const gz = gzipSync(wasm, { level: 9 }).length;
console.log(`Worker wasm: ${(wasm.length / 1024).toFixed(1)} KiB, gzipped ${(gz / 1024).toFixed(1)} KiB`);

for (const t of targets) await t.server.stop();
emu.stop();
process.exit(0);
