// The Node entry's downloads, from the installed package against the emulator: with a token
// cached, get() and getHdVoice() send their first attempt themselves (lib/http.cjs) and hand the
// answer to the wasm, which sorts it by get()'s rules and goes on from there. Each test checks
// that this path answers, fails, retries, refreshes and times out exactly as a call that fetches
// its token first does.

import { test, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import diagnostics_channel from 'node:diagnostics_channel';

import { MediaClient, MediaFile, WeChatError, NetworkError, MediaValidationError, TimeoutError } from 'wxmedia';
import h from './helpers.cjs';

beforeEach(h.reset);

// Which of the transport's functions sent each request, read from the stack undici publishes its
// `create` channel on: `nodeGet` is the Node entry's own first attempt, `nodeFetch` a request the
// wasm makes (and `other` Node's own fetch, which the helpers use).
const senders = [];
diagnostics_channel.subscribe('undici:request:create', () => {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = Infinity;
  const { stack } = new Error();
  Error.stackTraceLimit = limit;
  senders.push(/\bat nodeGet\b/.test(stack) ? 'nodeGet' : /\bat nodeFetch\b/.test(stack) ? 'nodeFetch' : 'other');
});

/**
 * Calls `call` (a get() or getHdVoice()) and checks that the path under test is the one taken: it
 * sent its first attempt itself, from within the call. Returns what the call returned.
 */
function sentItself(call) {
  const from = senders.length;
  const promise = call();
  assert.deepEqual(senders.slice(from), ['nodeGet'], 'the Node entry sent this download itself');
  return promise;
}

const GET = '/cgi-bin/media/get';
const client = (opts = {}) =>
  new MediaClient({ appId: h.APPID, appSecret: h.SECRET, baseUrl: h.EMU, videoHosts: [h.CDN_HOST], ...opts });
const gets = async (p = GET) => (await h.requests(p)).length;
/** Uploads `bytes` as `type` with a client of its own; the media id. */
async function uploaded(type, bytes, filename) {
  return (await client().upload(type, bytes, { filename })).mediaId;
}
/** What a test compares of a MediaFile: its metadata and its bytes. */
async function described(file) {
  assert.ok(file instanceof MediaFile);
  return {
    kind: file.kind,
    contentType: file.contentType,
    filename: file.filename,
    contentLength: file.contentLength,
    bytes: Buffer.from(await file.arrayBuffer()).toString('hex'),
  };
}

test('with a token cached, media, HD voice and videos answer as they do when the token is fetched first', async () => {
  const jpeg = h.jpeg(300_000);
  const image = await uploaded('image', jpeg, 'a.jpg');
  const voice = await uploaded('voice', h.amr(), 'a.amr');
  const video = await uploaded('video', h.mp4(), 'a.mp4');
  for (const [name, call] of [
    ['get', (c) => c.get(image)],
    ['getHdVoice', (c) => c.getHdVoice(voice)],
  ]) {
    const cold = client();
    const first = await described(await call(cold));
    const tokenCalls = await gets('/cgi-bin/stable_token');
    const again = await described(await sentItself(() => call(cold)));
    assert.equal(await gets('/cgi-bin/stable_token'), tokenCalls, `${name}: the second call used the cached token`);
    assert.deepEqual(again, first, name);
  }
  assert.ok(Buffer.from((await described(await client().get(image))).bytes, 'hex').equals(jpeg));
  const c = client();
  const link = await c.get(video);
  assert.deepEqual(await sentItself(() => c.get(video)), link);
  assert.equal(link.kind, 'video');
  // Every download went out the same way: the same path and query names, one request each.
  const sent = await h.requests(GET);
  assert.equal(sent.length, 5);
  for (const r of sent) assert.deepEqual(Object.keys(r.query).sort(), ['access_token', 'media_id']);
});

test('with a token cached, a token WeChat revoked is refreshed once and the download goes on', async () => {
  const id = await uploaded('image', h.jpeg(), 'a.jpg');
  const c = client();
  await (await c.get(id)).arrayBuffer();
  const before = await h.tokensSeen();
  await h.control('POST', '/_emulator/tokens/revoke', {});
  const file = await sentItself(() => c.get(id));
  assert.ok(Buffer.from(await file.arrayBuffer()).equals(h.jpeg()));
  const sent = await h.requests(GET);
  assert.equal(sent.length, 3, 'the revoked token once, then the new one');
  assert.equal(sent[1].query.access_token, sent[0].query.access_token);
  assert.notEqual(sent[2].query.access_token, sent[1].query.access_token);
  assert.equal((await h.tokensSeen()).length, before.length + 1);
});

test('with a token cached, a transient failure is retried and an error that is not is reported at once', async () => {
  const id = await uploaded('image', h.jpeg(), 'a.jpg');
  const c = client();
  await (await c.get(id)).arrayBuffer();
  await h.fault({ path: GET, status: 502 });
  await h.fault({ path: GET, errcode: -1 });
  assert.ok(Buffer.from(await (await sentItself(() => c.get(id))).arrayBuffer()).equals(h.jpeg()));
  assert.equal(await gets(), 4, 'the 502 and the -1 were retried');
  await h.fault({ path: GET, status: 502, count: 5 });
  await assert.rejects(sentItself(() => c.get(id)), (err) => err instanceof NetworkError && err.code === 'HTTP' && err.status === 502);
  assert.equal(await gets(), 7, 'three attempts, no more');
  await h.control('DELETE', '/_emulator/faults');
  await assert.rejects(sentItself(() => c.get('no-such-media')), (err) => err instanceof WeChatError && err.errcode === 40007);
  assert.equal(await gets(), 8, 'an unknown id is not retried');
  // A body cut short is the reader's failure, as before.
  await h.fault({ path: GET, truncate: true });
  const file = await sentItself(() => c.get(id));
  await assert.rejects(file.arrayBuffer(), (err) => err instanceof NetworkError);
});

test('with a token cached, the timeout bounds the first attempt and the signal aborts it', async () => {
  const id = await uploaded('image', h.jpeg(), 'a.jpg');
  const c = client({ timeoutMs: 800 });
  await (await c.get(id)).arrayBuffer();
  await h.fault({ path: GET, delay_ms: 3000 });
  let started = Date.now();
  await assert.rejects(sentItself(() => c.get(id)), (err) => err instanceof TimeoutError && err.code === 'TIMEOUT');
  let took = Date.now() - started;
  assert.ok(took >= 700 && took < 2500, `took ${took} ms`);
  await h.fault({ path: GET, delay_ms: 3000 });
  const ac = new AbortController();
  setTimeout(() => ac.abort(), 100);
  started = Date.now();
  await assert.rejects(sentItself(() => c.get(id, { signal: ac.signal })), (err) => err.name === 'AbortError');
  took = Date.now() - started;
  assert.ok(took < 700, `took ${took} ms`);
  // An aborted signal sends nothing.
  const sent = await gets();
  await assert.rejects(c.get(id, { signal: AbortSignal.abort() }), (err) => err.name === 'AbortError');
  assert.equal(await gets(), sent);
});

test('with a token cached, a bad id or option is refused before anything is sent', async () => {
  const id = await uploaded('image', h.jpeg(), 'a.jpg');
  const c = client();
  await (await c.get(id)).arrayBuffer();
  await (await sentItself(() => c.get(id))).arrayBuffer();
  const sent = await gets();
  await assert.rejects(c.get(''), (err) => err instanceof MediaValidationError && err.code === 'BAD_MEDIA_ID');
  await assert.rejects(c.get('a b'), (err) => err instanceof MediaValidationError);
  await assert.rejects(c.get(42), TypeError);
  await assert.rejects(c.get(id, { signal: 'soon' }), TypeError);
  await assert.rejects(c.getHdVoice(id, { signal: {} }), TypeError);
  assert.equal(await gets(), sent);
  assert.equal(await gets('/cgi-bin/media/get/jssdk'), 0);
});

test('with a token cached, a download in flight when the client is freed still ends as it would have', async () => {
  const id = await uploaded('image', h.jpeg(), 'a.jpg');
  for (const free of ['free', Symbol.dispose]) {
    const c = client();
    await (await c.get(id)).arrayBuffer();
    await h.fault({ path: GET, delay_ms: 200 });
    const media = sentItself(() => c.get(id));
    const failing = assert.rejects(sentItself(() => c.get('no-such-media')), (err) => err instanceof WeChatError && err.errcode === 40007, String(free));
    c[free]();
    assert.ok(Buffer.from(await (await media).arrayBuffer()).equals(h.jpeg()), String(free));
    await failing;
    // Once they are over, the client is freed.
    assert.throws(() => c.get(id), /null pointer/);
  }
});
