'use strict';
// Prototype (not shipped): a fetch-compatible transport for Node over node:http/https, for the
// Node entry to pass as MediaClient's `fetch` option once the wasm client takes one. It keeps the
// Fetch API shapes the client expects (a Response with a ReadableStream body) and does only what
// the client needs: any method; bodies given as FormData (multipart encoded here, with a
// Content-Length, Blobs streamed, so a file-backed Blob is read from disk as it is sent), Blob,
// bytes, string or stream (chunked); response bodies streamed with backpressure; AbortSignal;
// redirects followed for GET/HEAD. Given a Request whose body is a stream (what the client passes
// to the global fetch today), the length is unknown and the body goes chunked.
// bench/client.mjs measures it (WXMEDIA_BENCH_FETCH=http).

const crypto = require('node:crypto');
const http = require('node:http');
const https = require('node:https');

const agents = {
  'http:': new http.Agent({ keepAlive: true }),
  'https:': new https.Agent({ keepAlive: true }),
};
const modules = { 'http:': http, 'https:': https };
const NULL_BODY = new Set([101, 204, 205, 304]);
const REDIRECT = new Set([301, 302, 303, 307, 308]);
const CRLF = Buffer.from('\r\n');

function abortError(signal) {
  const reason = signal && signal.reason;
  if (reason instanceof Error) return reason;
  return new DOMException('This operation was aborted', 'AbortError');
}

/** multipart/form-data of `form`, as WHATWG FormData encodes it: parts (Buffers, Blobs) and the length. */
function multipart(form) {
  const boundary = `----wxmedia${crypto.randomBytes(12).toString('hex')}`;
  const esc = (s) => s.replace(/\r/g, '%0D').replace(/\n/g, '%0A').replace(/"/g, '%22');
  const parts = [];
  let length = 0;
  const push = (part, size) => {
    parts.push(part);
    length += size;
  };
  for (const [name, value] of form) {
    let head = `--${boundary}\r\nContent-Disposition: form-data; name="${esc(name)}"`;
    if (typeof value === 'string') {
      const b = Buffer.from(`${head}\r\n\r\n${value.replace(/\r\n|\r|\n/g, '\r\n')}\r\n`);
      push(b, b.length);
    } else {
      head += `; filename="${esc(value.name || 'blob')}"\r\nContent-Type: ${value.type || 'application/octet-stream'}\r\n\r\n`;
      const b = Buffer.from(head);
      push(b, b.length);
      push(value, value.size);
      push(CRLF, 2);
    }
  }
  const tail = Buffer.from(`--${boundary}--\r\n`);
  push(tail, tail.length);
  return { contentType: `multipart/form-data; boundary=${boundary}`, parts, length };
}

/** The body of init as { parts, length (or null: chunked), contentType (default) }. */
function encodeBody(body) {
  if (body == null) return null;
  if (typeof body === 'string') return { parts: [Buffer.from(body)], length: Buffer.byteLength(body), contentType: 'text/plain;charset=UTF-8' };
  if (body instanceof FormData) return multipart(body);
  if (body instanceof Blob) return { parts: [body], length: body.size, contentType: body.type || null };
  if (body instanceof ArrayBuffer) return { parts: [Buffer.from(body)], length: body.byteLength, contentType: null };
  if (ArrayBuffer.isView(body)) {
    const b = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
    return { parts: [b], length: b.length, contentType: null };
  }
  if (body instanceof URLSearchParams) {
    const b = Buffer.from(body.toString());
    return { parts: [b], length: b.length, contentType: 'application/x-www-form-urlencoded;charset=UTF-8' };
  }
  if (typeof body.getReader === 'function') return { parts: [body], length: null, contentType: null };
  throw new TypeError('nodeFetch: unsupported body');
}

async function writeParts(req, parts) {
  const write = (chunk) => (req.write(chunk) ? null : new Promise((r) => req.once('drain', r)));
  for (const part of parts) {
    if (Buffer.isBuffer(part)) {
      await write(part);
      continue;
    }
    const reader = (part instanceof Blob ? part.stream() : part).getReader();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      await write(value);
    }
  }
  req.end();
}

/** The response body as a web ReadableStream, pausing the socket when the reader falls behind. */
function bodyStream(res) {
  return new ReadableStream(
    {
      start(controller) {
        res.on('data', (chunk) => {
          controller.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
          if (controller.desiredSize <= 0) res.pause();
        });
        res.on('end', () => controller.close());
        res.on('error', (err) => controller.error(new TypeError('terminated', { cause: err })));
        res.on('aborted', () => controller.error(new TypeError('terminated')));
      },
      pull() {
        res.resume();
      },
      cancel() {
        res.destroy();
      },
    },
    { highWaterMark: 4 },
  );
}

function send(call, url, redirects) {
  const mod = modules[url.protocol];
  if (!mod) return Promise.reject(new TypeError(`fetch failed: unsupported protocol ${url.protocol}`));
  const { method, signal } = call;
  if (signal && signal.aborted) return Promise.reject(abortError(signal));
  const headers = { ...call.headers };
  const body = call.body;
  if (body) {
    if (body.contentType && headers['content-type'] === undefined) headers['content-type'] = body.contentType;
    if (body.length != null) headers['content-length'] = String(body.length);
    else headers['transfer-encoding'] = 'chunked';
  }
  return new Promise((resolve, reject) => {
    const req = mod.request(url, { method, headers, agent: agents[url.protocol] });
    const onAbort = () => req.destroy(abortError(signal));
    if (signal) signal.addEventListener('abort', onAbort, { once: true });
    const done = () => signal && signal.removeEventListener('abort', onAbort);
    req.on('error', (err) => {
      done();
      reject(signal && signal.aborted ? abortError(signal) : new TypeError('fetch failed', { cause: err }));
    });
    req.on('response', (res) => {
      const status = res.statusCode;
      if (REDIRECT.has(status) && res.headers.location && call.redirect !== 'manual' && (method === 'GET' || method === 'HEAD')) {
        res.resume();
        done();
        if (redirects >= 20 || call.redirect === 'error') reject(new TypeError('fetch failed: redirect'));
        else resolve(send(call, new URL(res.headers.location, url), redirects + 1));
        return;
      }
      const out = new Headers();
      const raw = res.rawHeaders;
      for (let i = 0; i < raw.length; i += 2) out.append(raw[i], raw[i + 1]);
      res.on('close', done);
      const nullBody = NULL_BODY.has(status) || method === 'HEAD';
      if (nullBody) res.resume();
      const response = new Response(nullBody ? null : bodyStream(res), { status, statusText: res.statusMessage, headers: out });
      Object.defineProperty(response, 'url', { value: url.href });
      resolve(response);
    });
    if (body) writeParts(req, body.parts).catch((err) => req.destroy(err));
    else req.end();
  });
}

/** fetch(input, init) over node:http/https. */
function nodeFetch(input, init) {
  let call;
  if (input instanceof Request && init === undefined) {
    call = { url: input.url, method: input.method, headers: Object.fromEntries(input.headers), body: encodeBody(input.body), signal: input.signal, redirect: input.redirect };
  } else {
    const i = init || {};
    const headers = {};
    for (const [k, v] of new Headers(i.headers)) headers[k] = v;
    call = { url: String(input instanceof Request ? input.url : input), method: (i.method || 'GET').toUpperCase(), headers, body: encodeBody(i.body), signal: i.signal, redirect: i.redirect };
  }
  return send(call, new URL(call.url), 0);
}

module.exports = { nodeFetch };
