// A hostile upstream: speaks enough of WeChat's API to hand out a token, then answers each
// media id with a scripted misbehaviour (truncated JSON, HTML, empty attachments, redirects, a
// status outside 200-599, untrusted video URLs, echoed secrets, stalls mid-body), and any upload
// with JSON that never ends. It counts the calls per media id, so a test can tell whether an
// answer was cached. Loopback only.
import { createServer } from 'node:http';
import { once } from 'node:events';

export const HOSTILE_TOKEN = 'HOSTILE-TOKEN-0123456789abcdefghijklmnopqrstuvwxyz';

/** A video URL as WeChat sends it in the field (../shared/upstream-api.md §3). */
export const FIELD_VIDEO_URL =
  'http://203.205.137.89/vweixinp.tc.qq.com/1007_9368551e5f9f412eb6bc703719e42a97.f10.mp4?vkey=5493A3B1C2D3&sha=0&save=1';

/** Video URLs every client must refuse (the ids above that answer them). */
export const HOSTILE_VIDEOS = ['jsvideo', 'datavideo', 'evilvideo', 'crlfvideo', 'portvideo', 'metavideo',
  'hexvideo', 'decvideo', 'octvideo', 'mappedvideo', 'privatevideo', 'pathvideo'];

/** 12 MiB that start like a JPEG. */
const HUGE = Buffer.alloc(12 << 20, 7);
HUGE.set([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10]);

const JPEG = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10]), Buffer.alloc(1994, 7)]);

/** What each media id answers; `secret` is the app secret the Worker was given. */
function script(id, { secret, baseUrl, trap }) {
  const json = (body, type = 'application/json') => ({ status: 200, headers: { 'content-type': type }, body: Buffer.from(body) });
  switch (id) {
    case 'good':
      return { status: 200, headers: { 'content-type': 'image/jpeg', 'content-disposition': 'attachment; filename="good.jpg"' }, body: JPEG };
    case 'truncjson':
      return json('{"errcode": 4000');
    case 'truncjsonplain':
      return json('{"errcode": 40007, "errm', 'text/plain');
    case 'html':
      return { status: 200, headers: { 'content-type': 'text/html; charset=utf-8' }, body: Buffer.from('<html><body><h1>502 Bad Gateway</h1></body></html>') };
    case 'emptyattachment':
      return { status: 200, headers: { 'content-type': 'image/jpeg', 'content-disposition': 'attachment; filename="e.jpg"' }, body: Buffer.alloc(0) };
    case 'junkjpeg':
      return { status: 200, headers: { 'content-type': 'image/jpeg' }, body: Buffer.from('this is not a jpeg at all, just words') };
    case 'status999':
      // A status no Response can carry (fetch rejects it; a client must not crash on it).
      return { status: 999, headers: { 'content-type': 'image/jpeg' }, body: JPEG };
    case 'redirect':
      return { status: 302, headers: { location: `${trap}/x.jpg` }, body: Buffer.alloc(0) };
    case 'jsvideo':
      return json('{"video_url":"javascript:alert(document.cookie)"}');
    case 'datavideo':
      return json('{"video_url":"data:text/html,<script>alert(1)</script>"}');
    case 'evilvideo':
      return json('{"video_url":"http://evil.example/steal.mp4"}');
    case 'crlfvideo':
      return json('{"video_url":"http://vweixinp.tc.qq.com/v.mp4\\r\\nSet-Cookie: pwned=1"}');
    case 'okvideo':
      return json(`{"video_url":"${baseUrl}/video/ok.mp4"}`);
    case 'redirectvideo':
      // The upstream's own URL (trusted), which answers a redirect to the trap.
      return json(`{"video_url":"${baseUrl}/video/redirect.mp4"}`);
    case 'fieldvideo':
      // WeChat's own shape: its CDN by public address, the CDN's domain as the first segment.
      return json(`{"video_url":"${FIELD_VIDEO_URL}"}`);
    // Internal addresses in the field's shape, in the spellings a fetch reads as the same address.
    case 'portvideo':
      // The upstream's own host, another port (the trap): not the upstream.
      return json(`{"video_url":"${trap}/vweixinp.tc.qq.com/1007_x.f10.mp4?vkey=1"}`);
    case 'metavideo':
      return json('{"video_url":"http://169.254.169.254/vweixinp.tc.qq.com/latest/meta-data"}');
    case 'hexvideo':
      return json('{"video_url":"http://0x7f.1/vweixinp.tc.qq.com/1007_x.f10.mp4"}');
    case 'decvideo':
      return json('{"video_url":"http://2130706433/vweixinp.tc.qq.com/1007_x.f10.mp4"}');
    case 'octvideo':
      return json('{"video_url":"http://0177.0.0.1/vweixinp.tc.qq.com/1007_x.f10.mp4"}');
    case 'mappedvideo':
      return json('{"video_url":"http://[::ffff:7f00:1]/vweixinp.tc.qq.com/1007_x.f10.mp4"}');
    case 'privatevideo':
      return json('{"video_url":"http://10.0.0.1/vweixinp.tc.qq.com/1007_x.f10.mp4"}');
    case 'pathvideo':
      // A public address whose path does not start with WeChat's CDN domain.
      return json('{"video_url":"http://203.205.137.89/evil.example/x.mp4"}');
    case 'echotoken':
      return json(`{"errcode":40007,"errmsg":"invalid media_id ${HOSTILE_TOKEN} hint: [${HOSTILE_TOKEN}]"}`);
    case 'echopartial':
      // Parts of the token: its first 40 characters, and a run from its middle.
      return json(`{"errcode":40001,"errmsg":"invalid credential, access_token is ${HOSTILE_TOKEN.slice(0, 40)}… hint: [${HOSTILE_TOKEN.slice(12, 30)}]"}`);
    case 'echopartialsecret':
      return json(`{"errcode":-1,"errmsg":"system error for ${secret.slice(0, 12)}"}`);
    case 'hugeimage':
      // An "image" far past WeChat's 10 MiB, with its length declared.
      return { status: 200, headers: { 'content-type': 'image/jpeg', 'content-disposition': 'attachment; filename="huge.jpg"' }, body: HUGE };
    case 'hugevoice':
      // A "voice" past WeChat's 2 MiB (+ margin), but under an image's limit.
      return { status: 200, headers: { 'content-type': 'audio/amr', 'content-disposition': 'attachment; filename="huge.amr"' }, body: HUGE.subarray(0, 4 << 20) };
    case 'echosecret':
      return json(`{"errcode":-1,"errmsg":"system error for secret ${secret} rid: ${secret}"}`);
    default:
      return json('{"errcode":40007,"errmsg":"invalid media_id"}');
  }
}

/**
 * Starts the hostile upstream on a free loopback port. `secret` is echoed by `echosecret`.
 * Returns { url, calls(id), trapHits(), stop() }.
 */
export async function startHostile({ secret }) {
  const calls = new Map();
  let trapHits = 0;
  const trap = createServer((req, res) => { trapHits++; res.end('trap'); });
  trap.listen(0, '127.0.0.1');
  await once(trap, 'listening');
  const trapUrl = `http://127.0.0.1:${trap.address().port}`;
  const server = createServer(async (req, res) => {
    const url = new URL(req.url, 'http://x');
    for await (const _ of req) { /* drain */ }
    if (url.pathname === '/cgi-bin/stable_token' || url.pathname === '/cgi-bin/token') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ access_token: HOSTILE_TOKEN, expires_in: 7200 }));
      return;
    }
    if (url.pathname === '/cgi-bin/media/upload') {
      // JSON that never ends, without a Content-Length: a client must stop reading at its limit.
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"type":"image","media_id":"');
      const chunk = 'x'.repeat(16 * 1024);
      const more = () => {
        while (!res.destroyed && res.write(chunk));
        if (!res.destroyed) res.once('drain', more);
      };
      res.on('close', () => res.off('drain', more));
      more();
      return;
    }
    if (url.pathname === '/cgi-bin/media/get' || url.pathname === '/cgi-bin/media/get/jssdk') {
      const id = url.searchParams.get('media_id') ?? '';
      calls.set(id, (calls.get(id) ?? 0) + 1);
      if (id === 'hugechunked') {
        // 12 MiB of "image" without a length: a reader must count as it goes.
        res.writeHead(200, { 'content-type': 'image/jpeg', 'content-disposition': 'attachment; filename="c.jpg"' });
        let sent = 0;
        const more = () => {
          while (!res.destroyed && sent < HUGE.length) {
            const chunk = HUGE.subarray(sent, sent + 65536);
            sent += chunk.length;
            if (!res.write(chunk)) return res.once('drain', more);
          }
          if (!res.destroyed) res.end();
        };
        res.on('close', () => res.off('drain', more));
        more();
        return;
      }
      if (id === 'stall') {
        // Headers and 2 000 of 60 000 bytes, then nothing until the client gives up.
        res.writeHead(200, { 'content-type': 'image/jpeg', 'content-disposition': 'attachment; filename="s.jpg"', 'content-length': '60000' });
        res.write(JPEG);
        req.socket.on('close', () => res.destroy());
        return;
      }
      const answer = script(id, { secret, baseUrl: `http://127.0.0.1:${server.address().port}`, trap: trapUrl });
      res.writeHead(answer.status, { ...answer.headers, 'content-length': String(answer.body.length) });
      res.end(answer.body);
      return;
    }
    if (url.pathname === '/video/redirect.mp4') {
      res.writeHead(302, { location: `${trapUrl}/elsewhere.mp4` });
      res.end();
      return;
    }
    res.writeHead(404);
    res.end();
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    calls: (id) => calls.get(id) ?? 0,
    trapHits: () => trapHits,
    stop() {
      server.closeAllConnections?.();
      server.close();
      trap.close();
    },
  };
}
