// The installed package against a hostile upstream (tests/worker/hostile.mjs): the call's timeout
// and the caller's signal keep applying while a body is read, a stalled download leaves nothing
// behind, and nothing that is not media is handed back as media.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

import { MediaClient } from 'wxmedia';

const hostile = await import(pathToFileURL(process.env.WXMEDIA_HOSTILE).href);
const { startHostile, HOSTILE_TOKEN } = hostile;
const SECRET = 'package-hostile-secret';
let up;
before(async () => { up = await startHostile({ secret: SECRET }); });
after(() => up?.stop());

const client = (opts = {}) => new MediaClient({ accessToken: HOSTILE_TOKEN, baseUrl: up.url, ...opts });

/**
 * A client, and one that has made a call already: its token is cached, so the Node entry sends
 * its downloads' first attempt itself (npm/index.cjs), and the call's deadline has no controller.
 */
async function clients(opts) {
  const warm = client(opts);
  await warm.get('okvideo');
  return [['a new client', client(opts)], ['a client with its token cached', warm]];
}

test('a body that stalls mid-way: arrayBuffer() rejects with a TimeoutError at the deadline', async () => {
  for (const [which, c] of await clients({ timeoutMs: 1500 })) {
    const started = Date.now();
    const file = await c.get('stall');
    assert.equal(file.kind, 'media');
    await assert.rejects(file.arrayBuffer(), (err) => {
      assert.equal(err.name, 'TimeoutError', `${which}: ${err.name}: ${err.message}`);
      assert.equal(err.code, 'TIMEOUT', `${which}: ${err.code}`);
      return true;
    });
    const took = Date.now() - started;
    assert.ok(took >= 1400 && took < 6000, `${which}: took ${took} ms`);
  }
});

test("the caller's signal aborts a body being read", async () => {
  for (const [which, c] of await clients({ timeoutMs: 30_000 })) {
    const ac = new AbortController();
    const file = await c.get('stall', { signal: ac.signal });
    setTimeout(() => ac.abort(), 200);
    await assert.rejects(file.arrayBuffer(), (err) => {
      assert.equal(err.name, 'AbortError', `${which}: ${err.name}: ${err.message}`);
      return true;
    });
  }
});

test('download() of a stalled body rejects at the deadline and leaves no file behind', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wxmedia-stall-'));
  const target = path.join(dir, 'stall.jpg');
  const started = Date.now();
  await assert.rejects(client({ timeoutMs: 1500 }).download('stall', target), (err) => {
    assert.equal(err.name, 'TimeoutError', `${err.name}: ${err.message}`);
    assert.equal(err.code, 'TIMEOUT');
    return true;
  });
  assert.ok(Date.now() - started < 6000);
  assert.deepEqual(fs.readdirSync(dir), [], 'a .part file was left behind');
});

test('truncated JSON, HTML, redirects, a status of 999 and untrusted video URLs are errors, never media', async () => {
  const c = client();
  for (const id of ['truncjson', 'truncjsonplain', 'redirect', 'status999', ...hostile.HOSTILE_VIDEOS]) {
    await assert.rejects(c.get(id), (err) => {
      assert.equal(err.name, 'NetworkError', `${id}: ${err.name}: ${err.message}`);
      return true;
    }, id);
  }
  assert.equal(up.trapHits(), 0, 'a redirect was followed');
  const video = await c.get('okvideo');
  assert.equal(video.kind, 'video');
  // WeChat's own shape, its CDN by public address: answered unchanged (and not fetched here).
  assert.deepEqual(await c.get('fieldvideo'), { kind: 'video', videoUrl: hostile.FIELD_VIDEO_URL });
});

test('an answer larger than WeChat serves for its type is a NetworkError (PARSE), never read whole', async () => {
  for (const [which, c] of await clients()) {
    for (const id of ['hugeimage', 'hugevoice']) {
      const rss = process.memoryUsage().rss;
      await assert.rejects(c.get(id), (err) => {
        assert.equal(err.name, 'NetworkError', `${which} ${id}: ${err.name}: ${err.message}`);
        assert.equal(err.code, 'PARSE');
        assert.match(err.message, /more than any media WeChat serves/);
        return true;
      });
      assert.ok(process.memoryUsage().rss - rss < 48 << 20, `${which} ${id}: the answer was read`);
    }
    // Without a declared length, it is counted as it is read, and refused past the limit.
    const file = await c.get('hugechunked');
    await assert.rejects(file.arrayBuffer(), (err) => {
      assert.equal(err.name, 'NetworkError', `${which}: ${err.name}: ${err.message}`);
      assert.equal(err.code, 'PARSE');
      return true;
    });
  }
});

test('an errmsg that echoes part of the token reaches the caller redacted', async () => {
  await assert.rejects(client().get('echopartial'), (err) => {
    const shown = `${err.message} ${err.errmsg} ${err.hint} ${JSON.stringify(err)}`;
    for (let i = 0; i + 10 <= HOSTILE_TOKEN.length; i++) {
      assert.ok(!shown.includes(HOSTILE_TOKEN.slice(i, i + 10)), shown);
    }
    assert.match(shown, /\[redacted\]/);
    return true;
  });
});

test('options are checked at the boundary: control characters in contentType, loose numbers, bad app ids', async () => {
  const c = client();
  const jpeg = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(2000, 1)]);
  for (const contentType of ['image/jpeg\r\nX-Injected: 1', 'image/jpeg\n', 'image/\u0000jpeg', 'image/jpég', '']) {
    await assert.rejects(c.upload('image', jpeg, { contentType }), TypeError, JSON.stringify(contentType));
  }
  for (const timeoutMs of [1.5, -1, 0, NaN]) {
    assert.throws(() => client({ timeoutMs }), TypeError, String(timeoutMs));
  }
  const { signMediaUrl } = await import('wxmedia');
  const base = { baseUrl: 'https://m.example.com', mediaId: 'abc', signingKey: 'k', now: 1000 };
  assert.match(signMediaUrl({ ...base, appId: 'wxA' }), /^https:\/\/m\.example\.com\/apps\/wxA\/media\/abc\?exp=4600&sig=/);
  for (const bad of [
    { appId: '' }, { appId: 'wx/../x' }, { appId: 'wx\nA' }, { appId: 'x'.repeat(65) }, { appId: 'wx测试' },
    { signingKey: '' }, { expiresIn: 1.5 }, { expiresIn: 0 }, { expiresIn: 604801 }, { now: 1e20 }, { now: -1 }, { now: 1.5 },
  ]) {
    assert.throws(() => signMediaUrl({ ...base, ...bad }), TypeError, JSON.stringify(bad));
  }
});

test('download() of a video does not follow a redirect from its URL', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wxmedia-redirect-'));
  const before = up.trapHits();
  await assert.rejects(client().download('redirectvideo', path.join(dir, 'v.mp4')), (err) => {
    assert.equal(err.name, 'NetworkError', `${err.name}: ${err.message}`);
    assert.equal(err.status, 302);
    return true;
  });
  assert.equal(up.trapHits(), before, 'the redirect was followed');
  assert.deepEqual(fs.readdirSync(dir), []);
});

test('an errmsg that echoes the token reaches the caller redacted', async () => {
  await assert.rejects(client().get('echotoken'), (err) => {
    assert.equal(err.errcode, 40007);
    const shown = `${err.message} ${err.errmsg} ${err.hint} ${JSON.stringify(err)}`;
    assert.ok(!shown.includes(HOSTILE_TOKEN), shown);
    return true;
  });
});

test('an upload answered with JSON that never ends is refused once past 64 KiB', async () => {
  const jpeg = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(2000, 1)]);
  const started = Date.now();
  await assert.rejects(client({ timeoutMs: 20_000 }).upload('image', jpeg, { filename: 'a.jpg' }), (err) => {
    assert.equal(err.name, 'NetworkError', `${err.name}: ${err.message}`);
    assert.equal(err.code, 'PARSE', err.message);
    assert.match(err.message, /more than 65536 bytes where JSON was expected/);
    return true;
  });
  assert.ok(Date.now() - started < 10_000, 'the client read on instead of stopping');
});
