// Benchmark: what one hit plan costs (HitShell.plan, the wasm's decision the Worker's JS entry
// asks for on every request), in workerd: requests that each ask for N plans against requests
// that ask for none, the difference in workerd's CPU time per request divided by N. A public
// download of a plain URL, as most hits are. The plan is the part of a cache hit that is ours
// alone (bench/worker.mjs measures whole hits beside hand-written JavaScript).
//
// Usage: node bench/worker-plan.mjs (after `make worker`). BENCH_ROUNDS (3) rounds of
// BENCH_SECONDS (3) per kind of request; the median is printed. Workers and load are kept apart
// as in bench/worker.mjs when the machine allows.
import path from 'node:path';
import { APPID, SECRET, API_KEY, ROOT } from '../tests/worker/harness.mjs';
import { canKeepApart, cpuMs, pinServer, requireWrk, startScript, wrk } from './lib/workerd.mjs';

const ROUNDS = Number(process.env.BENCH_ROUNDS || 3);
const SECONDS = Number(process.env.BENCH_SECONDS || 3);
const N = 50;
await requireWrk('bench/worker-plan.mjs');
const apart = await canKeepApart();

const worker = await startScript('plan-loop', path.join(ROOT, 'bench/lib/plan-loop.mjs'), {
  bindings: {
    // Never called: a plan does no IO.
    UPSTREAM_BASE: 'http://127.0.0.1:9', WECHAT_APPID: APPID, WECHAT_SECRET: SECRET, API_KEYS: API_KEY,
    DOWNLOAD_AUTH: 'public', MEMORY_CACHE_BYTES: '0',
  },
  durableObjects: { TOKENS: 'TokenHolder' },
});
if (apart) await pinServer(worker.pid);
const url = `${worker.url}/media/MEDIA_abcdefghijklmnopqrstuvwxyz0123456789`;
// A plan, not -1: the request is one the entry would answer itself.
const probe = await (await fetch(url, { headers: { 'x-n': '1' } })).text();
if (!(Number(probe) >= 0)) throw new Error(`no plan for ${url}: ${probe}`);

const perRequest = { 0: [], [N]: [] };
for (let round = 0; round < ROUNDS; round++) {
  for (const n of [0, N]) {
    const cpu = cpuMs(worker.pid);
    const r = await wrk(url, ['-t1', '-c4', `-d${SECONDS}s`, '-H', `x-n: ${n}`], { apart });
    perRequest[n].push(((cpuMs(worker.pid) - cpu) * 1000) / r.requests);
  }
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
console.log(`workerd CPU per request: ${median(perRequest[0]).toFixed(1)} us with no plan, ${median(perRequest[N]).toFixed(1)} us with ${N}`);
console.log(`one hit plan: ${((median(perRequest[N]) - median(perRequest[0])) / N).toFixed(2)} us`);
await worker.stop();
process.exit(0);
