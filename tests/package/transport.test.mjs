// The Node entry's transport (lib/http.cjs, as installed) against a local node:http server: the
// headers of an answer, bodies gathered as they arrive or streamed, bodies cut short, and forms
// given as entries with a bytes part. The client's use of it is tested through the emulator by
// the other suites; this pins what the transport itself promises: the timeout it takes from the
// client in place of an AbortSignal of the client's included, and nodeGet's answers (what the
// Node entry's downloads send their first attempt with).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const { nodeFetch, nodeGet } = require(path.join(path.dirname(fileURLToPath(import.meta.resolve('wxmedia'))), 'lib/http.cjs'));

// What the transport is marked with, and the key the client hands it its deadline under.
const TIMEOUT = Symbol.for('wxmedia.timeout');

const SMALL = Buffer.alloc(300_000);
for (let i = 0; i < SMALL.length; i++) SMALL[i] = (i * 7) & 0xff;
const LARGE = Buffer.alloc(5 << 20, 0x42); // past the 4 MiB an answer is gathered up to

let server;
let base;
const received = [];
before(async () => {
  server = http.createServer(async (req, res) => {
    const chunks = [];
    for await (const c of req) chunks.push(c);
    const url = new URL(req.url, 'http://x');
    switch (url.pathname) {
      case '/headers':
        res.writeHead(200, [
          ['Content-Type', 'text/plain'],
          ['X-Twice', 'a'],
          ['x-twice', 'b'],
          ['Set-Cookie', 'one=1'],
          ['Set-Cookie', 'two=2'],
          ['Content-Length', '2'],
        ]);
        return res.end('ok');
      case '/small':
        res.writeHead(200, { 'content-length': SMALL.length });
        // In pieces, so the answer arrives in several chunks.
        for (let at = 0; at < SMALL.length; at += 50_000) res.write(SMALL.subarray(at, at + 50_000));
        return res.end();
      case '/large':
        res.writeHead(200, { 'content-length': LARGE.length });
        return res.end(LARGE);
      case '/short':
        res.writeHead(200, { 'content-length': SMALL.length });
        res.write(SMALL.subarray(0, 1000));
        return setTimeout(() => res.socket.destroy(), 50);
      case '/status999':
        res.writeHead(999, { 'content-length': 2 });
        return res.end('no');
      case '/stall-head':
        return setTimeout(() => res.end('late'), 1000);
      case '/stall-body':
        res.writeHead(200, { 'content-length': SMALL.length });
        res.write(SMALL.subarray(0, 1000));
        return setTimeout(() => res.end(SMALL.subarray(1000)), 1000);
      case '/form':
        received.push({ type: req.headers['content-type'], length: req.headers['content-length'], body: Buffer.concat(chunks) });
        res.writeHead(200, { 'content-type': 'application/json' });
        return res.end('{"ok":true}');
      default:
        res.writeHead(404);
        return res.end();
    }
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${server.address().port}`;
});
after(() => server.close());

test("an answer's headers read as a Headers built from them would, and cannot be changed", async () => {
  const r = await nodeFetch(`${base}/headers`);
  assert.ok(r instanceof Response);
  assert.ok(r.headers instanceof Headers);
  const raw = [['Content-Type', 'text/plain'], ['X-Twice', 'a'], ['x-twice', 'b'], ['Set-Cookie', 'one=1'], ['Set-Cookie', 'two=2'], ['Content-Length', '2']];
  const expected = new Headers(raw);
  for (const name of ['content-type', 'CONTENT-TYPE', 'x-twice', 'set-cookie', 'content-length', 'absent']) {
    assert.equal(r.headers.get(name), expected.get(name), name);
    assert.equal(r.headers.has(name), expected.has(name), name);
  }
  assert.equal(r.headers.get('x-twice'), 'a, b');
  assert.deepEqual([...r.headers.entries()].filter(([k]) => k !== 'date' && k !== 'connection' && k !== 'keep-alive'), [...expected]);
  assert.deepEqual(r.headers.getSetCookie(), ['one=1', 'two=2']);
  const seen = [];
  r.headers.forEach((value, key, headers) => {
    assert.equal(headers, r.headers);
    seen.push(key);
  });
  assert.ok(seen.includes('x-twice'));
  assert.throws(() => r.headers.set('x-new', '1'), TypeError);
  assert.throws(() => r.headers.append('x-new', '1'), TypeError);
  assert.throws(() => r.headers.delete('x-twice'), TypeError);
  assert.equal(await r.text(), 'ok');
});

test("nodeGet's answer is Response-shaped, not a Response: status, headers, body, read once", async () => {
  const r = await nodeGet(`${base}/headers`, undefined, null);
  assert.ok(!(r instanceof Response));
  assert.equal(r.status, 200);
  assert.equal(r.statusText, 'OK');
  assert.equal(r.headers.get('X-TWICE'), 'a, b');
  assert.equal(r.headers.has('content-type'), true);
  assert.equal(r.headers.get('absent'), null);
  assert.equal(r.bodyUsed, false);
  assert.equal(await r.text(), 'ok');
  assert.equal(r.bodyUsed, true);
  await assert.rejects(r.arrayBuffer(), (err) => err instanceof TypeError && /already been read/.test(err.message));
  const small = await nodeGet(`${base}/small`, undefined, null);
  const chunks = [];
  for await (const c of small.body) chunks.push(c);
  assert.ok(Buffer.concat(chunks).equals(SMALL));
  // What no Response can carry fails as fetch does, through either function.
  for (const send of [nodeFetch, (url) => nodeGet(url, undefined, null)]) {
    await assert.rejects(send(`${base}/status999`), (err) => err instanceof TypeError && err.message === 'fetch failed' && err.cause instanceof RangeError);
  }
});

test('a body of known length is whole whether read at once, as a Blob or as a stream', async () => {
  const whole = await (await nodeFetch(`${base}/small`)).arrayBuffer();
  assert.equal(whole.byteLength, SMALL.length);
  assert.ok(Buffer.from(whole).equals(SMALL));
  const blob = await (await nodeFetch(`${base}/small`)).blob();
  assert.ok(Buffer.from(await blob.arrayBuffer()).equals(SMALL));
  const streamed = [];
  for await (const chunk of (await nodeFetch(`${base}/small`)).body) streamed.push(chunk);
  assert.ok(Buffer.concat(streamed).equals(SMALL));
  const large = await (await nodeFetch(`${base}/large`)).arrayBuffer();
  assert.equal(large.byteLength, LARGE.length);
  assert.ok(Buffer.from(large).equals(LARGE));
});

test('a body cut short of its length rejects, read at once or as a stream', async () => {
  await assert.rejects((await nodeFetch(`${base}/short`)).arrayBuffer(), (err) => err instanceof TypeError && err.message === 'terminated');
  const reader = (await nodeFetch(`${base}/short`)).body.getReader();
  await assert.rejects(async () => {
    for (;;) if ((await reader.read()).done) break;
  }, (err) => err instanceof TypeError);
});

test('a form given as entries with a bytes part is sent as FormData would send it', async () => {
  received.length = 0;
  const backing = Buffer.alloc(SMALL.length + 20, 0xee);
  SMALL.copy(backing, 10);
  const data = new Uint8Array(backing.buffer, backing.byteOffset + 10, SMALL.length);
  const r = await nodeFetch(`${base}/form`, {
    method: 'POST',
    body: [['media', { name: 'a "quoted"\nname.jpg', type: 'image/jpeg', data }]],
  });
  assert.deepEqual(await r.json(), { ok: true });
  assert.equal(nodeFetch[Symbol.for('wxmedia.formParts')], true);
  const [{ type, length, body }] = received;
  assert.equal(Number(length), body.length);
  // The same form as FormData, through the same transport, is byte for byte the same but for
  // the boundary.
  const form = await new Response(body, { headers: { 'content-type': type } }).formData();
  const media = form.get('media');
  assert.equal(media.name, 'a "quoted"\nname.jpg'); // escaped on the wire, as FormData does
  assert.equal(media.type, 'image/jpeg');
  assert.ok(Buffer.from(await media.arrayBuffer()).equals(SMALL));
  const fd = new FormData();
  fd.append('media', new Blob([SMALL], { type: 'image/jpeg' }), 'a "quoted"\nname.jpg');
  await (await nodeFetch(`${base}/form`, { method: 'POST', body: fd })).json();
  const [, viaFormData] = received;
  const boundary = (t) => t.slice(t.indexOf('boundary=') + 9);
  assert.ok(viaFormData.body.equals(Buffer.from(body.toString('latin1').replaceAll(boundary(type), boundary(viaFormData.type)), 'latin1')));
});

test("a timeout handed over under Symbol.for('wxmedia.timeout') fails the request, or the body's read, with its reason", async () => {
  assert.equal(nodeFetch[TIMEOUT], true);
  const reason = new Error('the call timed out');
  reason.name = 'TimeoutError';
  const started = performance.now();
  await assert.rejects(nodeFetch(`${base}/stall-head`, { [TIMEOUT]: [100, reason] }), (err) => err === reason);
  const waited = performance.now() - started;
  assert.ok(waited >= 95 && waited < 900, String(waited));
  // After the head: the body's read fails with it, read whole or as a stream.
  const r = await nodeFetch(`${base}/stall-body`, { [TIMEOUT]: [150, reason] });
  assert.equal(r.status, 200);
  await assert.rejects(r.arrayBuffer(), (err) => err === reason);
  const reader = (await nodeFetch(`${base}/stall-body`, { [TIMEOUT]: [150, reason] })).body.getReader();
  await assert.rejects(async () => {
    for (;;) if ((await reader.read()).done) break;
  }, (err) => err === reason);
  // An answer that came whole in time is not cut later, and the caller's signal still aborts.
  const quick = await nodeFetch(`${base}/small`, { [TIMEOUT]: [150, reason] });
  await new Promise((resolve) => setTimeout(resolve, 300));
  assert.ok(Buffer.from(await quick.arrayBuffer()).equals(SMALL));
  const controller = new AbortController();
  const pending = nodeFetch(`${base}/stall-head`, { signal: controller.signal, [TIMEOUT]: [5000, reason] });
  controller.abort();
  await assert.rejects(pending, (err) => err.name === 'AbortError');
});

test('requests in flight each fail at their own deadline, sent in any order, whatever ends in between', async () => {
  // One timer watches every deadline: a later request with an earlier deadline re-arms it, one
  // that ends leaves it, and one that fires goes on to the next.
  const started = performance.now();
  const reasons = [];
  const at = {};
  const calls = [700, 250, 450, 100].map((ms) => {
    const reason = new Error(`after ${ms}`);
    reasons.push(reason);
    return nodeGet(`${base}/stall-head`, undefined, [ms, reason]).then(
      () => assert.fail(`${ms}: answered`),
      (err) => {
        assert.equal(err, reason, `${ms}: ${err && err.message}`);
        at[ms] = performance.now() - started;
      },
    );
  });
  const quick = await nodeGet(`${base}/headers`, undefined, [150, new Error('too late')]);
  assert.equal(await quick.text(), 'ok');
  await Promise.all(calls);
  for (const ms of [100, 250, 450, 700]) assert.ok(at[ms] >= ms - 5 && at[ms] < ms + 400, `${ms}: failed after ${at[ms]} ms`);
  assert.ok(at[100] < at[250] && at[250] < at[450] && at[450] < at[700], JSON.stringify(at));
});

test('a deadline or an abort that comes before the request has a connection ends it then', async () => {
  // A TCP server that takes connections and never answers a TLS handshake: an https request to it
  // never gets a connection to be sent on (undici's own connect timeout is 10 s).
  const sockets = new Set();
  const silent = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
  });
  await new Promise((resolve) => silent.listen(0, '127.0.0.1', resolve));
  const url = `https://127.0.0.1:${silent.address().port}/`;
  try {
    const reason = new Error('the call timed out');
    let started = performance.now();
    await assert.rejects(nodeGet(url, undefined, [150, reason]), (err) => err === reason);
    let waited = performance.now() - started;
    assert.ok(waited >= 145 && waited < 1000, String(waited));
    const controller = new AbortController();
    started = performance.now();
    const pending = nodeFetch(url, { signal: controller.signal, [TIMEOUT]: [5000, reason] });
    setTimeout(() => controller.abort(), 100);
    await assert.rejects(pending, (err) => err.name === 'AbortError');
    waited = performance.now() - started;
    assert.ok(waited >= 95 && waited < 1000, String(waited));
    assert.ok(sockets.size >= 2, 'both requests were connecting');
  } finally {
    for (const socket of sockets) socket.destroy();
    silent.close();
  }
});
