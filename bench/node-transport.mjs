// Benchmark: where a Node call's time goes, layer by layer, against the emulator on loopback.
// The same 1 MiB upload and download through
//   - http:            a hand-written node:http client (Buffers in, Buffers out);
//   - transport:       the Node entry's transport (pkg/lib/http.cjs) called directly: downloads
//                      bare, uploads with the multipart body built by hand in one Buffer;
//   - transport+init:  the same, called as the client calls it: downloads with the client's init
//                      (an AbortSignal, redirect: 'manual'), uploads with the form as entries
//                      whose part holds the bytes (what the client hands this transport);
//   - client:          the package's MediaClient (Node entry), given the bytes as a Buffer;
//   - client/blob:     uploads only: the client given the same bytes in a Blob (which Node must
//                      read back before it can send it).
// The sides take turns call by call; prints the median call of each, in milliseconds, and what
// each layer adds to the one before it. bench/client.mjs compares the client with its peers.
//
// Usage: EMULATOR_URL=http://127.0.0.1:PORT node bench/node-transport.mjs   (scripts/bench does this)
import { createRequire } from 'node:module';
import {
  APPID, SECRET, base, blob, bytes, checkLength, getUrl, httpGet, httpUpload, mediaIdOf, multipartBody, MULTIPART_TYPE, post, root, stableToken, uploadUrl,
} from './lib/node.mjs';

const require = createRequire(import.meta.url);
const { MediaClient } = require(`${root}/pkg/index.cjs`);
const { nodeFetch } = require(`${root}/pkg/lib/http.cjs`);

const CALLS = Number(process.env.BENCH_OPS || 20);
const ROUNDS = Number(process.env.BENCH_ROUNDS || 8);

const client = new MediaClient({ appId: APPID, appSecret: SECRET, baseUrl: base });
const buffer = Buffer.from(bytes);
const clientInit = () => ({ method: 'GET', signal: new AbortController().signal, redirect: 'manual' });
const json = async (response) => JSON.parse(Buffer.from(await response.arrayBuffer()));

const SIDES = { upload: ['http', 'transport', 'transport+init', 'client', 'client/blob'], download: ['http', 'transport', 'transport+init', 'client'] };
function callsFor(token, id) {
  return {
    upload: {
      http: () => httpUpload(token),
      transport: async () =>
        mediaIdOf(await json(await nodeFetch(uploadUrl(token), { method: 'POST', headers: { 'content-type': MULTIPART_TYPE }, body: multipartBody() }))),
      'transport+init': async () => {
        const form = [['media', { name: 'bench.jpg', type: 'image/jpeg', data: buffer }]];
        return mediaIdOf(await json(await nodeFetch(uploadUrl(token), { method: 'POST', body: form, signal: new AbortController().signal, redirect: 'manual' })));
      },
      client: async () => mediaIdOf(await client.upload('image', buffer, { filename: 'bench.jpg' })),
      'client/blob': async () => mediaIdOf(await client.upload('image', blob, { filename: 'bench.jpg' })),
    },
    download: {
      http: () => httpGet(token, id),
      transport: async () => checkLength((await (await nodeFetch(getUrl(token, id))).arrayBuffer()).byteLength),
      'transport+init': async () => checkLength((await (await nodeFetch(getUrl(token, id), clientInit())).arrayBuffer()).byteLength),
      client: async () => checkLength((await (await client.get(id)).arrayBuffer()).byteLength),
    },
  };
}

const results = { upload: {}, download: {} };
for (const op of Object.keys(results)) for (const side of SIDES[op]) results[op][side] = [];
for (let round = 0; round < ROUNDS; round++) {
  await post('/_emulator/reset');
  const token = await stableToken();
  // The client's cached token died with the reset: it renews it here, outside the timing.
  const { mediaId } = await client.upload('image', blob, { filename: 'bench.jpg' });
  const calls = callsFor(token, mediaId);
  for (const op of Object.keys(results)) {
    for (let i = 0; i < CALLS; i++) {
      const sides = SIDES[op];
      for (let j = 0; j < sides.length; j++) {
        const side = sides[(i + j + round) % sides.length];
        const t0 = performance.now();
        await calls[op][side]();
        results[op][side].push(performance.now() - t0);
      }
    }
  }
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
console.log(`1 MiB calls, the layers taking turns, ${CALLS} per side in each of ${ROUNDS} rounds: median call (ms), Node ${process.version}`);
console.log('            http   transport   transport+init   client   client/blob   | transport-http   init   client-(transport+init)   client/http');
for (const op of Object.keys(results)) {
  const m = Object.fromEntries(SIDES[op].map((side) => [side, median(results[op][side])]));
  const f = (x, w) => (x === undefined || Number.isNaN(x) ? '-' : x.toFixed(3)).padStart(w);
  console.log(
    `${op.padEnd(10)} ${f(m.http, 6)}  ${f(m.transport, 10)}  ${f(m['transport+init'], 15)}  ${f(m.client, 7)}  ${f(m['client/blob'], 12)}   |` +
      ` ${f(m.transport - m.http, 14)}  ${f(m['transport+init'] - m.transport, 5)}  ${f(m.client - m['transport+init'], 24)}  ${(m.http / m.client).toFixed(2).padStart(12)}`,
  );
}
