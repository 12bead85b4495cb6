// Benchmark: the client's own work per download, without I/O. Three sides:
//   - client: get() with a `fetch` that answers at once with the same prepared answer (marked as
//     the Node transport is, so the client hands it its deadline as a timeout): a whole call
//     driven in the wasm, as every download goes without a token cached or with a `fetch` given;
//   - node entry: what the Node entry's get() does around its own request when a token is cached
//     (npm/index.cjs): its two calls into the wasm, for the URL and with the answer's head;
//   - hand-written: what any careful client does per call: builds the URL, arms and clears a
//     timer, calls the same transport and reads the three headers the client reads.
// Microseconds per call, median of rounds, in a hot loop: what the client adds to every call when
// the caches are warm (bench/node-phases.mjs shows it between real downloads).
//
// Usage: node bench/node-overhead.mjs   (scripts/bench runs it with the others)
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const require = createRequire(import.meta.url);
const { MediaClient } = require(`${root}/pkg/index.cjs`);
const glue = require(`${root}/pkg/wxmedia.cjs`);

const CALLS = Number(process.env.BENCH_OPS || 20000);
const ROUNDS = Number(process.env.BENCH_ROUNDS || 5);
const BASE = 'http://127.0.0.1:9';
const TOKEN = 'ACCESS_TOKEN_0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-_0123456789';
const ID = 'MEDIA_ID_0123456789abcdefghijklmnopqrstuvwxyz-_';

const answer = new Response(null, {
  status: 200,
  headers: { 'content-type': 'image/jpeg', 'content-length': '1048576', 'content-disposition': 'attachment; filename="a.jpg"' },
});
let last;
function transport(url, init) {
  last = init;
  return Promise.resolve(answer);
}
transport[Symbol.for('wxmedia.timeout')] = true;
const client = new MediaClient({ accessToken: TOKEN, baseUrl: BASE, fetch: transport });
// The Node entry's own client (its transport): a first get() caches the token, as the first real
// download would (the request fails at once: nothing listens on port 9).
const entry = new MediaClient({ accessToken: TOKEN, baseUrl: BASE, maxRetries: 1 });
await entry.get(ID).catch(() => {});
if (glue.__firstGetUrl(entry, ID, false) === undefined) throw new Error('the Node entry has no token cached');

const sides = {
  client: async () => {
    const file = await client.get(ID);
    if (!Array.isArray(last[Symbol.for('wxmedia.timeout')])) throw new Error('the client did not hand over its deadline');
    if (file.contentType !== 'image/jpeg' || file.contentLength !== 1048576) throw new Error('wrong answer');
  },
  'node entry': async () => {
    const url = glue.__firstGetUrl(entry, ID, false);
    const started = Date.now();
    const r = await transport(url);
    const file = glue.__firstGetMedia(entry, r, started, undefined);
    if (file.contentType !== 'image/jpeg' || file.contentLength !== 1048576) throw new Error('wrong answer');
  },
  'hand-written': async () => {
    const timer = setTimeout(() => {}, 60_000);
    timer.unref();
    const url = `${BASE}/cgi-bin/media/get?access_token=${encodeURIComponent(TOKEN)}&media_id=${encodeURIComponent(ID)}`;
    const r = await transport(url, { method: 'GET', redirect: 'manual' });
    const type = r.headers.get('content-type');
    const length = Number(r.headers.get('content-length'));
    r.headers.get('content-disposition');
    clearTimeout(timer);
    if (type !== 'image/jpeg' || length !== 1048576) throw new Error('wrong answer');
  },
};

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const us = Object.fromEntries(Object.keys(sides).map((side) => [side, []]));
for (let round = 0; round <= ROUNDS; round++) {
  for (const [side, call] of Object.entries(sides)) {
    const t0 = performance.now();
    for (let i = 0; i < CALLS; i++) await call();
    if (round > 0) us[side].push(((performance.now() - t0) * 1000) / CALLS); // round 0 warms up
  }
}
const c = median(us.client);
const e = median(us['node entry']);
const h = median(us['hand-written']);
console.log(`a download's own work with an answer at hand, ${CALLS} calls per side in each of ${ROUNDS} rounds, median µs per call, Node ${process.version}`);
console.log(`client ${c.toFixed(1)}   node entry ${e.toFixed(1)}   hand-written ${h.toFixed(1)}   client - hand-written ${(c - h).toFixed(1)} µs   node entry - hand-written ${(e - h).toFixed(1)} µs`);
