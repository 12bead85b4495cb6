// Benchmark: when each step of a 1 MiB download happens, for the client and for the Node
// transport called directly with the client's init (an AbortSignal with a timer, redirect:
// 'manual'), the two taking turns with a hand-written node:http download between them, against
// the emulator on loopback. Milliseconds from the start of the call (median of each point):
//   fetch     the transport is called            sent      the request is written
//   response  undici has the answer's head       resolved  the transport's promise settles
//   got       the call hands back the answer     end       the last byte of the body is in
//   done      the body is read whole (arrayBuffer())
// The difference between the two rows is the client's own work: before it sends, between the
// head and its answer, and during the body (the same thread also takes the body in). The steps
// inside the transport are timed from undici's diagnostics channels; nothing else is changed.
// bench/node-transport.mjs gives the totals of each layer; bench/client.mjs compares the client
// with its peers.
//
// Usage: EMULATOR_URL=http://127.0.0.1:PORT node bench/node-phases.mjs   (scripts/bench does this)
import diagnostics from 'node:diagnostics_channel';
import { createRequire } from 'node:module';
import { APPID, SECRET, base, bytes, checkLength, getUrl, httpGet, post, root } from './lib/node.mjs';

const require = createRequire(import.meta.url);
const { MediaClient } = require(`${root}/pkg/index.cjs`);
const { nodeFetch } = require(`${root}/pkg/lib/http.cjs`);

const CALLS = Number(process.env.BENCH_OPS || 100);
const ROUNDS = Number(process.env.BENCH_ROUNDS || 6);

let at = {};
const stamp = (name) => {
  at[name] = performance.now();
};
// (Node's own fetch publishes on these channels too: nothing timed here calls it.)
diagnostics.subscribe('undici:client:sendHeaders', () => stamp('sent'));
diagnostics.subscribe('undici:request:headers', () => stamp('response'));
diagnostics.subscribe('undici:request:trailers', () => stamp('end'));

// The client's transport, the same function, stamped where it is called and where it settles.
let token;
function transport(url, init) {
  stamp('fetch');
  token = new URL(url).searchParams.get('access_token') || token;
  const answer = nodeFetch(url, init);
  answer.then(() => stamp('resolved'), () => {});
  return answer;
}
transport[Symbol.for('wxmedia.formParts')] = true;
const client = new MediaClient({ appId: APPID, appSecret: SECRET, baseUrl: base, fetch: transport });
const buffer = Buffer.from(bytes);

const sides = {
  client: async (id) => {
    const file = await client.get(id);
    stamp('got');
    checkLength((await file.arrayBuffer()).byteLength);
  },
  'transport+init': async (id) => {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), 60_000);
    timer.unref();
    const answer = await transport(getUrl(token, id), { method: 'GET', signal: controller.signal, redirect: 'manual' });
    stamp('got');
    checkLength((await answer.arrayBuffer()).byteLength);
    clearTimeout(timer);
  },
};
const POINTS = ['fetch', 'sent', 'response', 'resolved', 'got', 'end', 'done'];
const rows = { client: [], 'transport+init': [] };
for (let round = 0; round < ROUNDS; round++) {
  await post('/_emulator/reset');
  const { mediaId } = await client.upload('image', buffer, { filename: 'bench.jpg' }); // renews the token
  for (let i = 0; i < CALLS; i++) {
    for (const side of Object.keys(sides)) {
      await httpGet(token, mediaId); // the caches see other work between calls, as in a server
      at = {};
      const t0 = performance.now();
      await sides[side](mediaId);
      stamp('done');
      rows[side].push(Object.fromEntries(POINTS.map((p) => [p, at[p] - t0])));
    }
  }
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
console.log(`1 MiB downloads, ${CALLS} per side in each of ${ROUNDS} rounds: median ms from the call's start, Node ${process.version}`);
console.log(`${''.padEnd(16)}${POINTS.map((p) => p.padStart(9)).join('')}`);
const m = {};
for (const [side, list] of Object.entries(rows)) {
  m[side] = Object.fromEntries(POINTS.map((p) => [p, median(list.map((r) => r[p]))]));
  console.log(`${side.padEnd(16)}${POINTS.map((p) => m[side][p].toFixed(3).padStart(9)).join('')}`);
}
const d = (p) => m.client[p] - m['transport+init'][p];
console.log(
  `client's own work: before sending ${d('fetch').toFixed(3)} ms, head to answer ${(m.client.got - m.client.resolved).toFixed(3)} ms, ` +
    `body ${(m.client.end - m.client.response - (m['transport+init'].end - m['transport+init'].response)).toFixed(3)} ms longer, in all ${d('done').toFixed(3)} ms`,
);
