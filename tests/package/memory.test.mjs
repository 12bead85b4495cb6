// The installed package's Node entry streams: saving a download to a file, reading a MediaFile's
// body as a stream and uploading a file by path each hold a bounded amount of memory whatever the
// media's size. The upstream is a node:http server in this process that serves (or swallows)
// 256 MiB of media, far more than the bound, so a transport that buffered the body would show.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';

import { MediaClient } from 'wxmedia';

const SIZE = 256 << 20;
// What the process may hold beyond its baseline while moving SIZE bytes.
const BOUND = 64 << 20;
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

/** Runs `work` while sampling memory; resolves to its result and the peak growth in bytes. */
async function peakWhile(work) {
  globalThis.gc?.();
  const start = process.memoryUsage();
  let peak = 0;
  const sample = () => {
    const now = process.memoryUsage();
    peak = Math.max(peak, now.arrayBuffers - start.arrayBuffers, now.rss - start.rss);
  };
  const timer = setInterval(sample, 5);
  try {
    const result = await work();
    sample();
    return { result, peak };
  } finally {
    clearInterval(timer);
  }
}

const mib = (n) => `${(n / (1 << 20)).toFixed(1)} MiB`;

test('download() of 256 MiB to a file holds a bounded amount of memory', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wxmedia-memory-'));
  try {
    const target = path.join(dir, 'big.jpg');
    const { result, peak } = await peakWhile(() => client().download('big', target));
    assert.equal(result.bytes, SIZE);
    assert.equal(fs.statSync(target).size, SIZE);
    console.log(`download to a file: ${mib(SIZE)} moved, peak growth ${mib(peak)}`);
    assert.ok(peak < BOUND, `memory grew by ${mib(peak)} while saving ${mib(SIZE)}`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("reading a MediaFile's body as a stream holds a bounded amount of memory", async () => {
  const { result, peak } = await peakWhile(async () => {
    const file = await client().get('big');
    assert.equal(file.contentLength, SIZE);
    let bytes = 0;
    for await (const chunk of file.body) bytes += chunk.byteLength;
    return bytes;
  });
  assert.equal(result, SIZE);
  console.log(`body stream: ${mib(SIZE)} read, peak growth ${mib(peak)}`);
  assert.ok(peak < BOUND, `memory grew by ${mib(peak)} while streaming ${mib(SIZE)}`);
});

test('uploadFile() of a 256 MiB file holds a bounded amount of memory', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wxmedia-memory-'));
  try {
    const file = path.join(dir, 'big.jpg');
    // A sparse file: 256 MiB to read, next to nothing on disk.
    fs.writeFileSync(file, CHUNK.subarray(0, 4));
    fs.truncateSync(file, SIZE);
    const { result, peak } = await peakWhile(() => client().uploadFile('image', file));
    assert.equal(result.mediaId, 'big-media-id');
    assert.ok(uploaded > SIZE, `the upstream received ${uploaded} bytes`);
    console.log(`uploadFile: ${mib(SIZE)} sent, peak growth ${mib(peak)}`);
    assert.ok(peak < BOUND, `memory grew by ${mib(peak)} while uploading ${mib(SIZE)}`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
