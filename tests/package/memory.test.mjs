// The installed package's Node entry streams: saving a download to a file, reading a MediaFile's
// body as a stream and uploading a file by path each hold a bounded amount of memory whatever the
// media's size. The upstream is a node:http server in this process that serves (or swallows)
// 256 MiB of media, far more than the bounds, so a transport that buffered the body would show.
//
// Two measures, sampled every 5 ms:
// - what the process holds in JavaScript (its heap and its buffers), at most LIVE_BOUND. Freed
//   buffers are only given back when V8 collects, which it puts off until about 64 MiB of them
//   pile up (its external-memory soft limit); so a full collection is forced whenever a sample
//   finds COLLECT_AT held, and only what stays held beyond that (or piles up between samples
//   faster than the timer fires) can reach the bound.
// - the resident set, at most RSS_BOUND (half the media): looser, as the allocator keeps what the
//   garbage above took, but it also sees memory outside JavaScript's view.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import v8 from 'node:v8';
import vm from 'node:vm';

import { MediaClient } from 'wxmedia';

const SIZE = 256 << 20;
// What the process may hold beyond its baseline while moving SIZE bytes: live in JavaScript (the
// transport reads 4 MiB ahead at most), and resident.
const LIVE_BOUND = 32 << 20;
const COLLECT_AT = 8 << 20;
const RSS_BOUND = SIZE / 2;
const CHUNK = Buffer.alloc(64 << 10, 0x5a);
CHUNK.set([0xff, 0xd8, 0xff, 0xe0]);

let server;
let base;
let uploaded = 0;
before(async () => {
  server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://x');
    if (url.searchParams.get('access_token') !== 'memory-token') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"errcode":40001,"errmsg":"invalid credential"}');
      return;
    }
    if (req.method === 'POST' && url.pathname === '/cgi-bin/media/upload') {
      uploaded = 0;
      req.on('data', (c) => { uploaded += c.length; });
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ type: 'image', media_id: 'big-media-id', created_at: 1700000000 }));
      });
      return;
    }
    if (req.method === 'GET' && url.pathname === '/cgi-bin/media/get') {
      res.writeHead(200, { 'content-type': 'image/jpeg', 'content-length': SIZE });
      let sent = 0;
      const more = () => {
        while (sent < SIZE) {
          sent += CHUNK.length;
          if (!res.write(CHUNK)) return void res.once('drain', more);
        }
        res.end();
      };
      more();
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${server.address().port}`;
});
after(() => server?.close());

const client = () => new MediaClient({ accessToken: 'memory-token', baseUrl: base, limits: { image: SIZE * 2 } });

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc');

/**
 * Runs `work` while sampling memory; resolves to its result and the peak growth, in bytes, of what
 * is held in JavaScript (`live`) and of the resident set (`rss`).
 */
async function peakWhile(work) {
  gc();
  const start = process.memoryUsage();
  const held = (now) => now.heapUsed - start.heapUsed + now.arrayBuffers - start.arrayBuffers;
  let live = 0;
  let rss = 0;
  let collections = 0;
  const sample = () => {
    const now = process.memoryUsage();
    rss = Math.max(rss, now.rss - start.rss);
    live = Math.max(live, held(now));
    if (held(now) >= COLLECT_AT) {
      gc();
      collections += 1;
    }
  };
  const timer = setInterval(sample, 5);
  try {
    const result = await work();
    sample();
    return { result, live, rss, collections };
  } finally {
    clearInterval(timer);
  }
}

const mib = (n) => `${(n / (1 << 20)).toFixed(1)} MiB`;

/** Logs the peaks of `what` and checks them against the bounds. */
function checkPeaks(what, { live, rss, collections }) {
  console.log(`${what}: ${mib(SIZE)}; peak growth ${mib(live)} held, ${mib(rss)} resident (${collections} collections forced)`);
  assert.ok(live < LIVE_BOUND, `${what}: ${mib(live)} held in JavaScript`);
  assert.ok(rss < RSS_BOUND, `${what}: the resident set grew by ${mib(rss)}`);
}

test('download() of 256 MiB to a file holds a bounded amount of memory', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wxmedia-memory-'));
  try {
    const target = path.join(dir, 'big.jpg');
    const { result, ...peaks } = await peakWhile(() => client().download('big', target));
    assert.equal(result.bytes, SIZE);
    assert.equal(fs.statSync(target).size, SIZE);
    checkPeaks('download to a file', peaks);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("reading a MediaFile's body as a stream holds a bounded amount of memory", async () => {
  const { result, ...peaks } = await peakWhile(async () => {
    const file = await client().get('big');
    assert.equal(file.contentLength, SIZE);
    let bytes = 0;
    for await (const chunk of file.body) bytes += chunk.byteLength;
    return bytes;
  });
  assert.equal(result, SIZE);
  checkPeaks('body stream', peaks);
});

test('uploadFile() of a 256 MiB file holds a bounded amount of memory', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wxmedia-memory-'));
  try {
    const file = path.join(dir, 'big.jpg');
    // A sparse file: 256 MiB to read, next to nothing on disk.
    fs.writeFileSync(file, CHUNK.subarray(0, 4));
    fs.truncateSync(file, SIZE);
    const { result, ...peaks } = await peakWhile(() => client().uploadFile('image', file));
    assert.equal(result.mediaId, 'big-media-id');
    assert.ok(uploaded > SIZE, `the upstream received ${uploaded} bytes`);
    checkPeaks('uploadFile', peaks);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
