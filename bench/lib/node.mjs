// What the Node benchmarks share (bench/client.mjs, bench/node-transport.mjs): the emulator's
// address, the app, a 1 MiB JPEG-looking file, WeChat's URLs, and the hand-written node:http
// client the others are measured against. Not a benchmark itself (scripts/bench runs bench/*.mjs).
import http from 'node:http';
import { fileURLToPath } from 'node:url';

export const root = fileURLToPath(new URL('../..', import.meta.url));
export const base = process.env.EMULATOR_URL;
if (!base) throw new Error('EMULATOR_URL is not set');
export const SIZE = 1 << 20;
export const APPID = 'wx0000000000000001';
export const SECRET = 'emulator-secret';

// A 1 MiB JPEG-looking file (JPEG magic, then filler).
export const bytes = new Uint8Array(SIZE);
for (let i = 0; i < SIZE; i++) bytes[i] = (i * 31) & 0xff;
bytes.set([0xff, 0xd8, 0xff, 0xe0]);
export const blob = new Blob([bytes], { type: 'image/jpeg' });

/** POSTs JSON to the emulator (its control API). */
export const post = (path, body) => fetch(`${base}${path}`, { method: 'POST', body: JSON.stringify(body ?? {}) });

/** A token, fetched once, as a careful hand-written client does. */
export async function stableToken() {
  const r = await fetch(`${base}/cgi-bin/stable_token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ grant_type: 'client_credential', appid: APPID, secret: SECRET, force_refresh: false }),
  });
  return (await r.json()).access_token;
}
export const uploadUrl = (token) => `${base}/cgi-bin/media/upload?access_token=${encodeURIComponent(token)}&type=image`;
export const getUrl = (token, id) =>
  `${base}/cgi-bin/media/get?access_token=${encodeURIComponent(token)}&media_id=${encodeURIComponent(id)}`;

// The multipart body of an upload of `bytes`, built by hand.
const boundary = '----wxmediabench';
const multipartHead = Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="media"; filename="bench.jpg"\r\nContent-Type: image/jpeg\r\n\r\n`);
const multipartTail = Buffer.from(`\r\n--${boundary}--\r\n`);
export const MULTIPART_TYPE = `multipart/form-data; boundary=${boundary}`;
export const multipartBody = () => Buffer.concat([multipartHead, bytes, multipartTail]);

/** Throws unless `json` is an upload's answer; its media id. */
export function mediaIdOf(json) {
  const id = json.media_id ?? json.mediaId;
  if (!id) throw new Error(JSON.stringify(json));
  return id;
}
/** Throws unless `length` is the file's. */
export function checkLength(length) {
  if (length !== SIZE) throw new Error(`got ${length} bytes`);
}

// A hand-written node:http client: one keep-alive agent, multipart built by hand, bodies in
// Buffers.
const agent = new http.Agent({ keepAlive: true });
function httpCall(url, { method = 'GET', headers = {}, body } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers, agent }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve(Buffer.concat(chunks)));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}
export async function httpUpload(token) {
  const body = multipartBody();
  const answer = await httpCall(uploadUrl(token), {
    method: 'POST',
    headers: { 'content-type': MULTIPART_TYPE, 'content-length': body.length },
    body,
  });
  return mediaIdOf(JSON.parse(answer));
}
export async function httpGet(token, id) {
  checkLength((await httpCall(getUrl(token, id))).length);
}
