// Benchmark: cache-hit downloads of a 100 KB image from the wxmedia Worker in workerd
// (wrangler dev), side by side with two baselines in the same run: a minimal JavaScript Worker
// answering from the same Cache API (the least any implementation must do) and one answering
// from memory (the runtime's ceiling). Prints requests/s and p99 latency of each and the ratios
// (target >= 0.9 of the Cache-API baseline), upstream calls per 1 000 hot requests (target <= 1),
// and the gzipped Worker wasm size (target <= 400 KB).
//
// Usage: node bench/worker.mjs   (after `make worker` and `cargo build -p wxmedia-emulator`)
import { readFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { startEmulator, startWorker, APPID, SECRET, API_KEY, ROOT } from '../tests/worker/harness.mjs';

const SIZE = 100 * 1024;
const REQUESTS = Number(process.env.BENCH_REQUESTS || 3000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY || 16);
const ROUNDS = Number(process.env.BENCH_ROUNDS || 3);

const emu = await startEmulator();
const token = await emu.token();
const bytes = new Uint8Array(SIZE).map((_, i) => (i * 31) & 0xff);
bytes.set([0xff, 0xd8, 0xff, 0xe0]);
const form = new FormData();
form.append('media', new Blob([bytes]), 'bench.jpg');
const up = await (await fetch(`${emu.url}/cgi-bin/media/upload?access_token=${token}&type=image`, { method: 'POST', body: form })).json();
const id = up.media_id;

// Our Worker, public downloads (no signature work: the baselines do none either).
const ours = await startWorker({
  name: 'bench',
  vars: { UPSTREAM_BASE: emu.url, WECHAT_APPID: APPID, DOWNLOAD_AUTH: 'public' },
  secrets: { WECHAT_SECRET: SECRET, API_KEYS: API_KEY },
});

async function startScript(name, main, vars) {
  const dir = path.join(ROOT, 'target/bench', name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'wrangler.toml'), [
    `name = "bench-${name}"`, `main = ${JSON.stringify(main)}`, 'compatibility_date = "2026-04-01"', '', '[vars]',
    ...Object.entries(vars).map(([k, v]) => `${k} = ${JSON.stringify(String(v))}`),
  ].join('\n') + '\n');
  const port = 20000 + Math.floor(Math.random() * 20000);
  const child = spawn(path.join(ROOT, 'node_modules/.bin/wrangler'),
    ['dev', '-c', path.join(dir, 'wrangler.toml'), '--ip', '127.0.0.1', '--port', String(port), '--persist-to', path.join(dir, 'state'), '--log-level', 'warn', '--show-interactive-dev-session=false'],
    { cwd: dir, stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, CLOUDFLARE_CF_FETCH_ENABLED: 'false', WRANGLER_SEND_METRICS: 'false' } });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    try { await (await fetch(url + '/warm')).arrayBuffer(); break; } catch { if (i > 300) throw new Error(`${name} did not start`); await new Promise((r) => setTimeout(r, 200)); }
  }
  return { url, stop: () => child.kill('SIGTERM') };
}
const here = path.join(ROOT, 'bench/baselines');
const cacheApi = await startScript('cache-api', path.join(here, 'cache-api.js'), { UPSTREAM_BASE: emu.url, TOKEN: token });
const memory = await startScript('memory', path.join(here, 'memory.js'), { SIZE });

const targets = [
  { name: 'wxmedia Worker', url: `${ours.url}/media/${id}` },
  { name: 'JS Worker, Cache API', url: `${cacheApi.url}/media/${id}` },
  { name: 'JS Worker, memory', url: `${memory.url}/media/${id}` },
];

async function load(url, n, concurrency) {
  const latencies = [];
  let next = 0;
  let bad = 0;
  const t0 = performance.now();
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < n) {
      next++;
      const s = performance.now();
      const r = await fetch(url);
      const b = await r.arrayBuffer();
      if (r.status !== 200 || b.byteLength !== SIZE) bad++;
      latencies.push(performance.now() - s);
    }
  }));
  const seconds = (performance.now() - t0) / 1000;
  latencies.sort((a, b) => a - b);
  return { rps: n / seconds, p99: latencies[Math.floor(latencies.length * 0.99)], bad };
}

// Warm every cache, then measure in alternating order.
for (const t of targets) await load(t.url, 50, 4);
const upstreamGets = async () => (await emu.requests('/cgi-bin/media/get')).length;
const results = Object.fromEntries(targets.map((t) => [t.name, []]));
let gets = 0; // upstream calls made while the wxmedia Worker was under load
for (let round = 0; round < ROUNDS; round++) {
  const order = round % 2 ? [...targets].reverse() : targets;
  for (const t of order) {
    const before = t === targets[0] ? await upstreamGets() : 0;
    results[t.name].push(await load(t.url, REQUESTS, CONCURRENCY));
    if (t === targets[0]) gets += (await upstreamGets()) - before;
  }
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const summary = Object.fromEntries(targets.map((t) => {
  const rs = results[t.name];
  return [t.name, { rps: median(rs.map((r) => r.rps)), p99: median(rs.map((r) => r.p99)), bad: rs.reduce((a, r) => a + r.bad, 0) }];
}));
const base = summary['JS Worker, Cache API'];
console.log(`cache-hit downloads of a ${SIZE / 1024} KB image, ${REQUESTS} requests x ${ROUNDS} rounds, ${CONCURRENCY} concurrent, wrangler dev ${process.version}`);
console.log('target                   req/s    p99 ms   req/s ratio to Cache-API baseline (target >= 0.9)   errors');
for (const [name, s] of Object.entries(summary)) {
  console.log(`${name.padEnd(22)} ${s.rps.toFixed(0).padStart(7)}  ${s.p99.toFixed(1).padStart(8)}   ${(s.rps / base.rps).toFixed(2).padStart(6)}                                              ${s.bad}`);
}
const hot = REQUESTS * ROUNDS;
console.log(`upstream calls during ${hot} hot requests to the wxmedia Worker: ${gets} (${(gets / hot * 1000).toFixed(2)} per 1000; target <= 1)`);
const wasm = readFileSync(path.join(ROOT, 'worker/build/index_bg.wasm'));
const gz = gzipSync(wasm, { level: 9 }).length;
console.log(`Worker wasm: ${(wasm.length / 1024).toFixed(1)} KiB, gzipped ${(gz / 1024).toFixed(1)} KiB (target <= 400 KB: ${(gz / 400000).toFixed(2)} of it)`);

await ours.stop();
cacheApi.stop();
memory.stop();
emu.stop();
process.exit(0);
