// Where a cache hit's CPU goes: the Worker's entry (worker/shell.mjs, or another script given as
// the argument) in plain workerd through Miniflare's API, under `wrk` for BENCH_SECONDS (5), with
// V8's sampling profiler attached through workerd's inspector. Prints self time per function, per
// hit (sampling inflates every figure alike: read the shares, not the microseconds). 100 KB image,
// public downloads, MEMORY_CACHE_BYTES from the environment (0 by default: every hit a Cache API
// lookup, as bench/worker.mjs's "no memory" row).
//
// Usage: node bench/worker-profile.mjs [script]   (after `make worker` and `cargo build -p
// wxmedia-emulator`)
import path from 'node:path';
import { Miniflare } from 'miniflare';
import WebSocket from 'ws';
import { startEmulator, APPID, SECRET, API_KEY, ROOT, ENTRY } from '../tests/worker/harness.mjs';
import { requireWrk, wrk } from './lib/workerd.mjs';

const SECONDS = Number(process.env.BENCH_SECONDS || 5);
const INSPECTOR_PORT = 9339;
await requireWrk('bench/worker-profile.mjs');

const emu = await startEmulator();
const token = await emu.token();
const bytes = new Uint8Array(100_000).map((_, i) => (i * 31) & 0xff);
bytes.set([0xff, 0xd8, 0xff, 0xe0]);
const form = new FormData();
form.append('media', new Blob([bytes]), 'bench.jpg');
const up = await fetch(`${emu.url}/cgi-bin/media/upload?access_token=${token}&type=image`, { method: 'POST', body: form });
const id = (await up.json()).media_id;

const mf = new Miniflare({
  name: 'profile', scriptPath: path.resolve(process.argv[2] || ENTRY), modules: true, modulesRoot: ROOT,
  modulesRules: [{ type: 'CompiledWasm', include: ['**/*.wasm'] }, { type: 'ESModule', include: ['**/*.js', '**/*.mjs'] }],
  compatibilityDate: '2026-04-01',
  bindings: { UPSTREAM_BASE: emu.url, WECHAT_APPID: APPID, WECHAT_SECRET: SECRET, API_KEYS: API_KEY, DOWNLOAD_AUTH: 'public', MEMORY_CACHE_BYTES: process.env.MEMORY_CACHE_BYTES || '0', TOKEN: token },
  durableObjects: { TOKENS: 'TokenHolder' }, inspectorPort: INSPECTOR_PORT, host: '127.0.0.1', port: 0,
});
const url = (await mf.ready).toString().replace(/\/$/, '');
for (let i = 0; i < 10; i++) {
  const r = await fetch(`${url}/media/${id}`);
  if (r.status !== 200 || (await r.arrayBuffer()).byteLength !== bytes.length) throw new Error(`warm-up: ${r.status}`);
}

// The Worker's own isolate is the inspector's first target.
const [target] = await (await fetch(`http://127.0.0.1:${INSPECTOR_PORT}/json`)).json();
const ws = new WebSocket(target.webSocketDebuggerUrl);
await new Promise((resolve) => ws.on('open', resolve));
let next = 0;
const pending = new Map();
ws.on('message', (m) => {
  const d = JSON.parse(m);
  pending.get(d.id)?.(d);
  pending.delete(d.id);
});
const call = (method, params = {}) => new Promise((resolve) => {
  const n = ++next;
  pending.set(n, resolve);
  ws.send(JSON.stringify({ id: n, method, params }));
});
await call('Profiler.enable');
await call('Profiler.setSamplingInterval', { interval: 100 });
await call('Profiler.start');
const load = await wrk(`${url}/media/${id}`, ['-t2', '-c16', `-d${SECONDS}s`]);
const { result: { profile } } = await call('Profiler.stop');

const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
const self = new Map();
let total = 0;
profile.samples.forEach((sample, i) => {
  const { functionName, url: file, lineNumber } = nodes.get(sample).callFrame;
  const key = `${functionName || '(anonymous)'} ${path.basename(file || '')}:${lineNumber}`;
  const us = profile.timeDeltas[i] || 0;
  self.set(key, (self.get(key) || 0) + us);
  total += us;
});
console.log(`${load.requests} hits, ${load.rps.toFixed(0)}/s under the profiler; sampled ${(total / 1000).toFixed(0)} ms`);
for (const [key, us] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 30)) {
  console.log(`${(us / load.requests).toFixed(1).padStart(7)} us/hit ${(100 * us / total).toFixed(1).padStart(5)}%  ${key}`);
}
ws.close();
await mf.dispose();
emu.stop();
process.exit(0);
