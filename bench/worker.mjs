// Benchmark: cache-hit downloads from the wxmedia Worker, side by side with two baselines in the
// same run: a minimal JavaScript Worker answering from the same Cache API (the least any
// implementation must do), the same doing by hand the header work every wxmedia hit does (copy
// the cached headers, set ours, drop the cache's cf-cache-status), and one answering from memory
// (the runtime's ceiling).
//
// Like production: each Worker runs in plain workerd through Miniflare's API (no `wrangler dev`
// proxy in front, whose cost would hide the Worker's own), the emulator is the upstream, and the
// load comes from `wrk` (a Node load generator saturates before workerd does). Loopback only.
//
// Our Worker runs as deployed — the JS entry (worker/shell.mjs) answering plain hits from the
// wasm's plan — and, for the before/after comparison, as the Rust handler alone
// (worker/build/index.js, every request through workers-rs). Each with its memory tier (the
// default) and without (MEMORY_CACHE_BYTES=0: every hit a Cache API call, as most hits are in
// production, where a zone's isolates have not all seen a media); and the entry with signed URLs
// (an HMAC check per hit) and with an API key, beside the public hit.
//
// Load and Worker are kept apart (when the machine has two CPUs and `taskset`): every workerd
// process on the first CPU, `wrk` on the others, so each round measures the Worker rather than
// how the scheduler shared two cores between it and its load. Rounds are short and many, every
// target once per round in alternating order, and each ratio is taken within a round (a target
// against the baseline measured beside it) before its median over the rounds: the host's drift
// between rounds cancels out of the ratios.
//
// Prints per media size (100 KB and 1 MB): requests/s, p50/p99 (wrk), CPU time per hit (the
// workerd process's user+system time over the run, divided by the answers), the ratios to the
// baselines with their quartiles (targets: without memory tier >= 1.0x the Cache-API baseline,
// with memory tier >= 0.9x the memory baseline, signed and keyed hits within 10% of a public
// one), upstream calls during the load (target 0) and the gzipped Worker wasm size.
//
// Usage: node bench/worker.mjs (after `make worker` and `cargo build -p wxmedia-emulator`; `make
// bench` does both). BENCH_SECONDS (2), BENCH_ROUNDS (10), BENCH_CONNECTIONS (16), BENCH_THREADS
// (1 when load and Workers are apart, else 2) shape the load; BENCH_SIZES (100000,1000000) the
// media sizes in bytes; BENCH_APART=0 shares every CPU between them as before.
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import path from 'node:path';
import { startEmulator, APPID, SECRET, API_KEY, SIGNING_KEY, ROOT, ENTRY, HANDLER } from '../tests/worker/harness.mjs';
import { canKeepApart, cpuMs, pinServer, requireWrk, SERVER_CPUS, startScript, wrk } from './lib/workerd.mjs';

const APART = process.env.BENCH_APART !== '0' && (await canKeepApart());
const SECONDS = Number(process.env.BENCH_SECONDS || 2);
const ROUNDS = Number(process.env.BENCH_ROUNDS || 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS || 16);
const THREADS = Number(process.env.BENCH_THREADS || (APART ? 1 : 2));
const SIZES = (process.env.BENCH_SIZES || '100000,1000000').split(',').map(Number);

await requireWrk('bench/worker.mjs');

const emu = await startEmulator();
const token = await emu.token();
async function upload(size) {
  const bytes = new Uint8Array(size).map((_, i) => (i * 31) & 0xff);
  bytes.set([0xff, 0xd8, 0xff, 0xe0]);
  const form = new FormData();
  form.append('media', new Blob([bytes]), 'bench.jpg');
  const r = await fetch(`${emu.url}/cgi-bin/media/upload?access_token=${token}&type=image`, { method: 'POST', body: form });
  return (await r.json()).media_id;
}
const ids = Object.fromEntries(await Promise.all(SIZES.map(async (size) => [size, await upload(size)])));

const base = { UPSTREAM_BASE: emu.url, WECHAT_APPID: APPID, WECHAT_SECRET: SECRET, API_KEYS: API_KEY };
const dos = { durableObjects: { TOKENS: 'TokenHolder' } };
const noMemory = { MEMORY_CACHE_BYTES: '0' };
const servers = {
  shell: await startScript('wxmedia', ENTRY, { bindings: { ...base, DOWNLOAD_AUTH: 'public' }, ...dos }),
  shellNoMemory: await startScript('wxmedia-no-memory', ENTRY, { bindings: { ...base, DOWNLOAD_AUTH: 'public', ...noMemory }, ...dos }),
  shellSigned: await startScript('wxmedia-signed', ENTRY, { bindings: { ...base, DOWNLOAD_AUTH: 'signed', SIGNING_KEY, ...noMemory }, ...dos }),
  shellKey: await startScript('wxmedia-key', ENTRY, { bindings: { ...base, DOWNLOAD_AUTH: 'key', ...noMemory }, ...dos }),
  handler: await startScript('handler', HANDLER, { bindings: { ...base, DOWNLOAD_AUTH: 'public' }, ...dos }),
  handlerNoMemory: await startScript('handler-no-memory', HANDLER, { bindings: { ...base, DOWNLOAD_AUTH: 'public', ...noMemory }, ...dos }),
  cacheApi: await startScript('cache-api', path.join(ROOT, 'bench/baselines/cache-api.js'), { bindings: { UPSTREAM_BASE: emu.url, TOKEN: token } }),
  cacheApiHeaders: await startScript('cache-api-headers', path.join(ROOT, 'bench/baselines/cache-api-headers.js'), { bindings: { UPSTREAM_BASE: emu.url, TOKEN: token } }),
  cacheApiDeadline: await startScript('cache-api-deadline', path.join(ROOT, 'bench/baselines/cache-api-deadline.js'), { bindings: { UPSTREAM_BASE: emu.url, TOKEN: token } }),
};
if (APART) for (const s of Object.values(servers)) await pinServer(s.pid);

async function signedPath(id) {
  const r = await fetch(`${servers.shellSigned.url}/media/${id}/sign?expires_in=86400`, { method: 'POST', headers: { authorization: `Bearer ${API_KEY}` } });
  const { url } = await r.json();
  return new URL(url).pathname + new URL(url).search;
}

const load = (url, headers = []) => wrk(url, [`-t${THREADS}`, `-c${CONNECTIONS}`, `-d${SECONDS}s`, ...headers.flatMap((h) => ['-H', h])], { apart: APART });
const upstreamGets = async () => (await emu.requests('/cgi-bin/media/get')).length;
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

console.log(`cache-hit downloads: wrk -t${THREADS} -c${CONNECTIONS}, ${ROUNDS} rounds x ${SECONDS} s per target, workerd via Miniflare (no wrangler proxy), node ${process.version}; ${APART ? `Workers on CPU ${SERVER_CPUS}, wrk on the others` : 'Workers and wrk share every CPU'}`);
let gets = 0;
let hot = 0;
for (const size of SIZES) {
  const id = ids[size];
  // The memory baseline holds this size's bytes.
  const memory = await startScript(`memory-${size}`, path.join(ROOT, 'bench/baselines/memory.js'), { bindings: { SIZE: String(size) } });
  if (APART) await pinServer(memory.pid);
  const targets = [
    { name: 'wxmedia (entry), memory tier', server: servers.shell, path: `/media/${id}` },
    { name: 'wxmedia (entry), no memory', server: servers.shellNoMemory, path: `/media/${id}` },
    { name: 'wxmedia (entry), signed URL', server: servers.shellSigned, path: await signedPath(id) },
    { name: 'wxmedia (entry), API key', server: servers.shellKey, path: `/media/${id}`, headers: [`Authorization: Bearer ${API_KEY}`] },
    { name: 'before: handler, memory tier', server: servers.handler, path: `/media/${id}` },
    { name: 'before: handler, no memory', server: servers.handlerNoMemory, path: `/media/${id}` },
    { name: 'JS Worker, Cache API', server: servers.cacheApi, path: `/media/${id}` },
    { name: 'JS Worker, + same headers', server: servers.cacheApiHeaders, path: `/media/${id}` },
    { name: 'JS Worker, + headers, deadline', server: servers.cacheApiDeadline, path: `/media/${id}` },
    { name: 'JS Worker, memory', server: memory, path: `/media/${id}` },
  ];
  // Warm every cache, checking each answers the whole media.
  for (const t of targets) {
    for (let i = 0; i < 20; i++) {
      const headers = Object.fromEntries((t.headers || []).map((h) => h.split(': ')));
      const r = await fetch(`${t.server.url}${t.path}`, { headers });
      const b = new Uint8Array(await r.arrayBuffer());
      if (r.status !== 200 || b.byteLength !== size) throw new Error(`${t.name}: ${r.status}, ${b.byteLength} bytes`);
    }
  }
  const results = Object.fromEntries(targets.map((t) => [t.name, []]));
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 ? [...targets].reverse() : targets;
    for (const t of order) {
      const ours = t.name.startsWith('wxmedia') || t.name.startsWith('before');
      const before = ours ? await upstreamGets() : 0;
      const cpu = cpuMs(t.server.pid);
      const r = await load(`${t.server.url}${t.path}`, t.headers);
      r.cpuUs = ((cpuMs(t.server.pid) - cpu) * 1000) / Math.max(r.requests, 1);
      results[t.name].push(r);
      if (ours) { gets += (await upstreamGets()) - before; hot += r.requests; }
    }
  }
  const quartiles = (xs) => { const o = [...xs].sort((p, q) => p - q); return [o[Math.floor((o.length - 1) / 4)], o[Math.floor(o.length / 2)], o[Math.ceil((3 * (o.length - 1)) / 4)]]; };
  const cacheRounds = results['JS Worker, Cache API'];
  const memRounds = results['JS Worker, memory'];
  // A target's ratio to a baseline: round by round, then the median (and quartiles) of those.
  const within = (rs, base) => quartiles(rs.map((r, i) => r.rps / base[i].rps));
  const summary = Object.fromEntries(targets.map((t) => {
    const rs = results[t.name];
    return [t.name, {
      rps: median(rs.map((r) => r.rps)), p50: median(rs.map((r) => r.p50)), p99: median(rs.map((r) => r.p99)),
      cpu: median(rs.map((r) => r.cpuUs)), bad: rs.reduce((a, r) => a + r.bad, 0),
      vsCache: within(rs, cacheRounds), vsMem: within(rs, memRounds), rounds: rs,
    }];
  }));
  const q = ([lo, mid, hi]) => `${mid.toFixed(2)} (${lo.toFixed(2)}-${hi.toFixed(2)})`;
  console.log(`\n${(size / 1000).toFixed(0)} KB media (ratios: median of per-round ratios, quartiles in brackets)`);
  console.log('target                            req/s   p50 ms   p99 ms  CPU us/hit  vs JS Cache API     vs JS memory        errors');
  for (const [name, s] of Object.entries(summary)) {
    console.log(`${name.padEnd(32)} ${s.rps.toFixed(0).padStart(6)} ${s.p50.toFixed(2).padStart(8)} ${s.p99.toFixed(2).padStart(8)} ${s.cpu.toFixed(0).padStart(11)}  ${q(s.vsCache).padEnd(18)} ${q(s.vsMem).padEnd(18)} ${String(s.bad).padStart(6)}`);
  }
  const pub = summary['wxmedia (entry), no memory'];
  const mem = summary['wxmedia (entry), memory tier'];
  const vs = (a, b) => within(a.rounds, b.rounds)[1];
  console.log(`targets: no memory tier ${pub.vsCache[1].toFixed(2)}x the Cache-API baseline (>= 1.0: ${pub.vsCache[1] >= 1 ? 'met' : 'NOT met'}); memory tier ${mem.vsMem[1].toFixed(2)}x the memory baseline (>= 0.9: ${mem.vsMem[1] >= 0.9 ? 'met' : 'NOT met'}); signed ${vs(summary['wxmedia (entry), signed URL'], pub).toFixed(2)}x and keyed ${vs(summary['wxmedia (entry), API key'], pub).toFixed(2)}x a public hit (>= 0.9)`);
  console.log(`the same work by hand: no memory tier ${vs(pub, summary['JS Worker, + same headers']).toFixed(2)}x the JS Worker setting the same headers, ${vs(pub, summary['JS Worker, + headers, deadline']).toFixed(2)}x the one also giving its lookup a deadline`);
  console.log(`before -> after: no memory tier ${summary['before: handler, no memory'].vsCache[1].toFixed(2)}x -> ${pub.vsCache[1].toFixed(2)}x the Cache-API baseline; memory tier ${summary['before: handler, memory tier'].vsMem[1].toFixed(2)}x -> ${mem.vsMem[1].toFixed(2)}x the memory baseline`);
  await memory.stop();
}
console.log(`\nupstream calls during ${hot} hot requests to the wxmedia Workers: ${gets} (${(gets / Math.max(hot, 1) * 1000).toFixed(3)} per 1000; target 0)`);
const wasm = readFileSync(path.join(ROOT, 'worker/build/index_bg.wasm'));
const gz = gzipSync(wasm, { level: 9 }).length;
console.log(`Worker wasm: ${(wasm.length / 1024).toFixed(1)} KiB, gzipped ${(gz / 1024).toFixed(1)} KiB`);

for (const s of Object.values(servers)) await s.stop();
emu.stop();
process.exit(0);
