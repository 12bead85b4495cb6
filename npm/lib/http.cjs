'use strict';
// The Node entry's transport: a fetch-compatible function over node:http/https, which the Node
// MediaClient passes as its `fetch` option unless the caller gives one. Node's global fetch
// (undici) moves bytes markedly slower than node:http; this does only what the client needs, in
// the Fetch API's shapes (a Response whose body is a ReadableStream), so the wasm client cannot
// tell the difference:
//   - any method; a body given as FormData (multipart encoded here as WHATWG FormData encodes it,
//     with a Content-Length; a Blob part is streamed from its source, so a file-backed Blob is read
//     from disk as it is sent and memory stays flat), Blob, bytes, string, URLSearchParams or a
//     ReadableStream (chunked);
//   - the answer's body as a ReadableStream that reads from the socket only when read, with
//     backpressure; reading it whole (arrayBuffer(), blob(), text(), json()) before anyone has
//     touched the stream collects Node's Buffers directly, skipping the web stream;
//   - AbortSignal (the client's deadline and the caller's signal) at any point, body included;
//   - redirects: `manual` hands the 3xx back (what the client asks for), `error` rejects, and
//     `follow` follows at most 20 for GET/HEAD.
// Failures reject as fetch does: a TypeError('fetch failed', { cause }) for the network, the
// signal's reason for an abort, TypeError('terminated') for a body cut short.

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
  throw new TypeError('fetch: unsupported body');
}

/**
 * Writes the parts in order, then ends. A chunk read from a Blob or stream waits for 'drain' if
 * the socket is still full from the one before (memory stays flat); Buffers, already in memory
 * and mostly a few bytes of multipart framing, go straight on, so the last of them leaves with
 * the end instead of a round of the event loop later.
 */
async function writeParts(req, parts) {
  for (const part of parts) {
    if (Buffer.isBuffer(part)) {
      req.write(part);
      continue;
    }
    const reader = (part instanceof Blob ? part.stream() : part).getReader();
    let finished = false;
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        if (req.writableNeedDrain) await drained(req);
        if (req.destroyed) return;
        req.write(value);
      }
      finished = true;
    } finally {
      // A request that failed midway stops reading its source (a file's handle is let go).
      if (!finished) reader.cancel().catch(() => {});
    }
  }
  req.end();
}

/** Resolves once `req` can take more, or is gone. */
function drained(req) {
  return new Promise((resolve) => {
    const done = () => {
      req.off('drain', done);
      req.off('close', done);
      resolve();
    };
    req.on('drain', done);
    req.on('close', done);
  });
}

/**
 * How many bytes of an answer are read ahead of its reader; the socket pauses beyond that. Media
 * of the usual sizes (WeChat's images and voice mostly weigh far less) thus arrive whole before
 * the caller asks for them, so an arrayBuffer() does not wait on a paused socket; memory per
 * answer stays bounded all the same.
 */
const READ_AHEAD = 4 << 20;

/**
 * A Response over a node:http answer. The socket is read ahead of the body's reader by at most
 * READ_AHEAD bytes (memory stays flat whatever the answer's size). The body stream is made only
 * when asked for and hands those chunks on as it is read; a whole-body read (arrayBuffer(),
 * blob(), text(), json()) while nobody reads the stream takes Node's Buffers as they are.
 */
class NodeResponse extends Response {
  #res;
  #stream = null;
  #chunks = [];
  #size = 0;
  #limit = READ_AHEAD;
  #ended = false;
  #failure = null;
  #wake = null;
  /** The stream has been read from, cancelled or tee'd: whole-body reads go through it. */
  #streamed = false;
  /** clone() tee'd the stream: this side reads its branch. */
  #teed = false;
  #collected = false;

  constructor(res, init, signal) {
    // The body is this class's own (see `body`): Response itself holds none.
    super(null, init);
    this.#res = res;
    res.on('data', (chunk) => {
      this.#chunks.push(chunk);
      this.#size += chunk.length;
      if (this.#size >= this.#limit) res.pause();
      this.#notify();
    });
    res.on('end', () => {
      this.#ended = true;
      this.#notify();
    });
    res.on('close', () => {
      if (!res.complete && !this.#ended) {
        // Why the body ended short: the signal's reason if it fired, else a network failure.
        this.#failure = signal && signal.aborted ? abortError(signal) : new TypeError('terminated');
        this.#notify();
      }
    });
    res.on('error', () => {});
  }

  get body() {
    if (this.#stream === null) {
      this.#stream = new ReadableStream(
        {
          pull: (controller) => this.#pull(controller),
          cancel: () => {
            this.#streamed = true;
            this.#chunks = [];
            this.#res.destroy();
          },
        },
        { highWaterMark: 0 },
      );
    }
    return this.#stream;
  }

  get bodyUsed() {
    return this.#collected || this.#streamed;
  }

  #notify() {
    const wake = this.#wake;
    this.#wake = null;
    if (wake) wake();
  }

  /** Resolves on the next chunk, the end or a failure (at once if the socket is done). */
  #next() {
    if (this.#ended || this.#failure) return null;
    if (this.#size < this.#limit) this.#res.resume();
    return new Promise((resolve) => {
      this.#wake = resolve;
    });
  }

  async #pull(controller) {
    this.#streamed = true;
    while (this.#chunks.length === 0) {
      if (this.#failure) return controller.error(this.#failure);
      if (this.#ended) return controller.close();
      await this.#next();
    }
    const chunk = this.#chunks.shift();
    this.#size -= chunk.length;
    if (this.#size < this.#limit) this.#res.resume();
    controller.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
  }

  /** The whole body as a list of byte chunks; rejects like fetch if it was read already. */
  async #collect() {
    if (this.bodyUsed || (this.#stream !== null && this.#stream.locked)) {
      throw new TypeError('Body is unusable: Body has already been read');
    }
    this.#collected = true;
    if (this.#teed) {
      // Since clone(), the body is this side's branch of the tee.
      const reader = this.#stream.getReader();
      const chunks = [];
      for (let r = await reader.read(); !r.done; r = await reader.read()) chunks.push(r.value);
      return chunks;
    }
    if (this.#stream !== null) this.#stream.getReader(); // locked: nobody reads it a second time
    this.#limit = Infinity;
    while (!this.#ended && !this.#failure) await this.#next();
    if (this.#failure) throw this.#failure;
    return this.#chunks;
  }

  clone() {
    if (this.bodyUsed || this.body.locked) throw new TypeError('Response.clone: Body has already been consumed.');
    const [mine, theirs] = this.body.tee();
    this.#stream = mine;
    this.#teed = true;
    const copy = new Response(theirs, { status: this.status, statusText: this.statusText, headers: this.headers });
    Object.defineProperty(copy, 'url', { value: this.url });
    return copy;
  }

  async arrayBuffer() {
    const whole = Buffer.concat(await this.#collect());
    // A Buffer may be a view into a shared pool: hand back an ArrayBuffer of its own.
    return whole.byteOffset === 0 && whole.byteLength === whole.buffer.byteLength
      ? whole.buffer
      : whole.buffer.slice(whole.byteOffset, whole.byteOffset + whole.byteLength);
  }

  async bytes() {
    return new Uint8Array(await this.arrayBuffer());
  }

  async blob() {
    return new Blob(await this.#collect(), { type: this.headers.get('content-type') || '' });
  }

  async text() {
    return Buffer.concat(await this.#collect()).toString('utf8');
  }

  async json() {
    return JSON.parse(await this.text());
  }

  async formData() {
    return new Response(await this.blob(), { headers: this.headers }).formData();
  }
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
      try {
        resolve(answer(call, url, redirects, res, signal, done));
      } catch (err) {
        // What no Response can carry (a status outside 200-599, a malformed reason phrase or
        // header, an unparsable Location) is a network error, as it is for fetch: never a throw
        // from an event handler, which would take the process down.
        done();
        res.destroy();
        reject(new TypeError('fetch failed', { cause: err }));
      }
    });
    if (body) writeParts(req, body.parts).catch((err) => req.destroy(err));
    else req.end();
  });
}

/** The Response for an answer `res` to `call` (or the promise of the redirect's, when following). */
function answer(call, url, redirects, res, signal, done) {
  const { method } = call;
  const status = res.statusCode;
  if (REDIRECT.has(status) && call.redirect !== 'manual') {
    res.resume();
    done();
    if (call.redirect === 'error' || redirects >= 20 || !res.headers.location || !(method === 'GET' || method === 'HEAD')) {
      throw new Error('redirect');
    }
    return send(call, new URL(res.headers.location, url), redirects + 1);
  }
  const raw = res.rawHeaders;
  const pairs = [];
  for (let i = 0; i < raw.length; i += 2) pairs.push([raw[i], raw[i + 1]]);
  const init = { status, statusText: res.statusMessage, headers: pairs };
  let response;
  if (NULL_BODY.has(status) || method === 'HEAD') {
    response = new Response(null, init);
    res.resume();
  } else {
    response = new NodeResponse(res, init, signal);
  }
  res.on('close', done);
  Object.defineProperty(response, 'url', { value: url.href });
  return response;
}

/** fetch(input, init) over node:http/https. */
function nodeFetch(input, init) {
  let call;
  try {
    if (input instanceof Request && init === undefined) {
      call = { url: input.url, method: input.method, headers: Object.fromEntries(input.headers), body: encodeBody(input.body), signal: input.signal, redirect: input.redirect };
    } else {
      const i = init || {};
      const headers = {};
      for (const [k, v] of new Headers(i.headers)) headers[k] = v;
      call = { url: String(input instanceof Request ? input.url : input), method: (i.method || 'GET').toUpperCase(), headers, body: encodeBody(i.body), signal: i.signal, redirect: i.redirect || 'follow' };
    }
    return send(call, new URL(call.url), 0);
  } catch (err) {
    return Promise.reject(err);
  }
}

module.exports = { nodeFetch };
