'use strict';
// The Node entry's transport: `fetch(url, init)` over undici's dispatcher (undici is the HTTP
// client Node's own fetch is built on; its low-level `dispatch` API skips the Fetch machinery and
// moves bytes markedly faster than Node's global fetch; it downloads faster than node:http and
// uploads about as fast: bench/node-transport.mjs), which the Node MediaClient passes as its
// `fetch` option unless the caller gives one. This does what the client asks of fetch, in the
// Fetch API's shapes (a Response whose body is a ReadableStream), and nothing more:
//   - any method; a body given as FormData (multipart encoded here as WHATWG FormData encodes it,
//     with a Content-Length; a Blob part is streamed from its source, so a file-backed Blob is read
//     from disk as it is sent and memory stays flat) or as bytes;
//   - a form given as the entries a FormData iterates in, with a file part's bytes in `data`:
//     `[[name, { name: filename, type, data: Uint8Array }]]`. The client sends bytes it was
//     handed that way to a transport marked with Symbol.for('wxmedia.formParts') (as this one is),
//     so they go out as they are: no copy into a Blob, no reading it back;
//   - the answer's body as a ReadableStream that reads from the socket only when read, with
//     backpressure; reading it whole (arrayBuffer(), blob(), text(), json()) before anyone has
//     touched the stream takes the bytes as they came, skipping the web stream;
//   - AbortSignal (the caller's signal) at any point, body included; and the client's deadline
//     without one: marked with Symbol.for('wxmedia.timeout'), this transport is handed
//     `[ms, reason]` under that key, and after `ms` the request, or the reading of its answer's
//     body, fails with `reason`. A call then makes no AbortController and no listener, which in
//     Node cost more than the rest of the transport's own work on a small download;
//   - redirects are handed back as they are, never followed: the client asks for
//     `redirect: 'manual'` and treats a 3xx as an upstream error.
// nodeGet(url, signal, timeout) sends a plain GET the same way and resolves to the answer without
// wrapping it in a Response (see NodeAnswer): the Node entry's downloads use it.
// Failures reject as fetch does: a TypeError('fetch failed', { cause }) for the network, the
// signal's reason for an abort, TypeError('terminated') for a body cut short.

const crypto = require('node:crypto');
const { Agent } = require('undici');

/**
 * Every request's connections: kept alive per origin. Neither of undici's own inactivity
 * timeouts applies: a call is bounded by its deadline and signal as a whole (see watch).
 */
const dispatcher = new Agent({ headersTimeout: 0, bodyTimeout: 0 });
const NULL_BODY = new Set([101, 204, 205, 304]);
const CRLF = Buffer.from('\r\n');
const TIMEOUT = Symbol.for('wxmedia.timeout');

/** The bytes of a view (a Buffer, a Uint8Array, any ArrayBufferView) as a Buffer, not copied. */
const asBuffer = (view) => Buffer.from(view.buffer, view.byteOffset, view.byteLength);

function abortError(signal) {
  const reason = signal && signal.reason;
  if (reason instanceof Error) return reason;
  return new DOMException('This operation was aborted', 'AbortError');
}

/**
 * multipart/form-data of `form` (a FormData, or its entries with bytes parts), as WHATWG FormData
 * encodes it: parts (Buffers, Blobs) and the length.
 */
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
      if (value.data !== undefined) {
        push(asBuffer(value.data), value.data.byteLength);
      } else {
        push(value, value.size);
      }
      push(CRLF, 2);
    }
  }
  const tail = Buffer.from(`--${boundary}--\r\n`);
  push(tail, tail.length);
  return { contentType: `multipart/form-data; boundary=${boundary}`, parts, length };
}

/** The body of init (what the client sends: a form or bytes) as { parts, length, contentType }. */
function encodeBody(body) {
  if (body == null) return null;
  if (body instanceof FormData || Array.isArray(body)) return multipart(body);
  if (ArrayBuffer.isView(body)) {
    const b = asBuffer(body);
    return { parts: [b], length: b.length, contentType: null };
  }
  throw new TypeError('fetch: the body must be FormData, form entries or bytes');
}

/**
 * The parts as undici sends a body of several: Buffers as they are (the caller's bytes are not
 * copied), a Blob read as it is sent. undici waits for the socket to drain between chunks, so
 * memory stays flat, and a request that fails midway ends the iteration, which lets go of the
 * Blob's source (a file's handle included).
 */
async function* partsBody(parts) {
  for (const part of parts) {
    if (Buffer.isBuffer(part)) yield part;
    else yield* part.stream();
  }
}

/**
 * An answer's headers as undici hands them (names in lowercase, a repeated header's values in a
 * list, each value as the bytes that came, one char per byte), read as a Headers made from them
 * would read: `get` joins a list with ", ". Nothing is copied or validated once more (undici's
 * parser has).
 */
class AnswerFields {
  constructor(fields) {
    this.fields = fields;
  }

  get(name) {
    const value = this.fields[String(name).toLowerCase()];
    if (value === undefined) return null;
    return typeof value === 'string' ? value : value.join(', ');
  }

  has(name) {
    return this.get(name) !== null;
  }

  /** The headers as the pairs a Headers is made from. */
  pairs() {
    const pairs = [];
    for (const name of Object.keys(this.fields)) {
      const value = this.fields[name];
      if (typeof value === 'string') pairs.push([name, value]);
      else for (const v of value) pairs.push([name, v]);
    }
    return pairs;
  }
}

/**
 * An answer's headers as a read-only Headers (what nodeFetch's Response has): `get` and `has`
 * read undici's fields (AnswerFields); anything else (iteration, getSetCookie) goes to a Headers
 * made from them on first use. Changing them throws, as for any answer's headers.
 */
class AnswerHeaders extends Headers {
  #fields;
  #full = null;

  constructor(fields) {
    super();
    this.#fields = fields;
  }

  get(name) {
    return this.#fields.get(name);
  }

  has(name) {
    return this.#fields.has(name);
  }

  #all() {
    if (this.#full === null) this.#full = new Headers(this.#fields.pairs());
    return this.#full;
  }

  getSetCookie() {
    return this.#all().getSetCookie();
  }

  entries() {
    return this.#all().entries();
  }

  keys() {
    return this.#all().keys();
  }

  values() {
    return this.#all().values();
  }

  forEach(callback, thisArg) {
    this.#all().forEach((value, key) => callback.call(thisArg, value, key, this));
  }

  [Symbol.iterator]() {
    return this.#all()[Symbol.iterator]();
  }

  append() {
    throw new TypeError('immutable');
  }

  set() {
    throw new TypeError('immutable');
  }

  delete() {
    throw new TypeError('immutable');
  }
}

/**
 * How many bytes of an answer are read ahead of its reader; the socket pauses beyond that. Media
 * of the usual sizes (WeChat's images and voice mostly weigh far less) thus arrive whole before
 * the caller asks for them, so an arrayBuffer() does not wait on a paused socket; memory per
 * answer stays bounded all the same.
 */
const READ_AHEAD = 4 << 20;

/**
 * An answer in the shape of a Response, less what nothing here reads (`url`, `type`,
 * `clone()`…): `status`, `statusText`, `headers.get()`/`has()`, `body`, `bodyUsed`,
 * `arrayBuffer()`, `blob()`, `text()` and `json()`. What nodeGet resolves to (for an answer with
 * a body); nodeFetch wraps it in a Response (NodeResponse). Making neither a Response nor a
 * Headers per answer is most of what nodeGet saves.
 *
 * The socket is read ahead of the body's reader by at most READ_AHEAD bytes (memory stays flat
 * whatever the answer's size). The body stream is made only when asked for and hands those chunks
 * on as it is read; a whole-body read (arrayBuffer(), blob(), text(), json()) while nobody reads
 * the stream takes the chunks as they came.
 *
 * An answer that declares a Content-Length of at most READ_AHEAD is gathered into one buffer of
 * that size as it arrives, so a whole-body read finds it ready and copies nothing at the end; the
 * stream hands on views of it. Once read, the answer lets go of its bytes.
 */
class NodeAnswer {
  /**
   * Where the bytes come from: `resume()` (after `chunk()` asked for a pause) and `destroy()`
   * (the request's).
   */
  #source;
  #stream = null;
  /** Chunks received and not handed on, when they are not gathered in `#whole`. */
  #chunks = [];
  /** Bytes received and not handed on (to the stream, or to a whole-body read). */
  #size = 0;
  #limit = READ_AHEAD;
  #ended = false;
  #failure = null;
  #wake = null;
  /** The body has been read (whole, or from its stream) or cancelled. */
  #used = false;
  /**
   * The buffer a body of known, small length is gathered into, how much of it is filled and how
   * much of that the stream has handed on.
   */
  #whole = null;
  #filled = 0;
  #taken = 0;

  /** An answer with `status`, `statusText` and `headers` (`get`, `has`), its body from `source`. */
  constructor(status, statusText, headers, source) {
    this.#source = source;
    this.status = status;
    this.statusText = statusText;
    this.headers = headers;
    const declared = headers.get('content-length');
    if (declared !== null && /^[0-9]{1,8}$/.test(declared) && Number(declared) <= READ_AHEAD) {
      this.#whole = Buffer.allocUnsafeSlow(Number(declared));
    }
  }

  /** The next bytes of the body; false when the source should pause until `resume()`. */
  chunk(chunk) {
    const whole = this.#whole;
    if (whole !== null && this.#filled + chunk.length <= whole.length) {
      whole.set(chunk, this.#filled);
      this.#filled += chunk.length;
    } else {
      if (whole !== null) {
        // More than declared (the parser cuts it): the chunks as they come from here on.
        if (this.#filled > this.#taken) this.#chunks.push(whole.subarray(this.#taken, this.#filled));
        this.#whole = null;
      }
      this.#chunks.push(chunk);
    }
    this.#size += chunk.length;
    // A whole-body read (no limit) waits for the end alone, not chunk by chunk.
    if (this.#limit !== Infinity) this.#notify();
    return this.#size < this.#limit;
  }

  /** The body is complete. */
  end() {
    this.#ended = true;
    this.#notify();
  }

  /** The body ended short, with `failure`. */
  fail(failure) {
    if (this.#ended || this.#failure) return;
    this.#failure = failure;
    this.#notify();
  }

  get body() {
    if (this.#stream === null) {
      this.#stream = new ReadableStream(
        {
          pull: (controller) => this.#pull(controller),
          cancel: () => {
            this.#used = true;
            this.#chunks = [];
            this.#whole = null;
            this.#source.destroy();
          },
        },
        { highWaterMark: 0 },
      );
    }
    return this.#stream;
  }

  get bodyUsed() {
    return this.#used;
  }

  #notify() {
    const wake = this.#wake;
    this.#wake = null;
    if (wake) wake();
  }

  /** Resolves on the next chunk, the end or a failure (at once if the socket is done). */
  #next() {
    if (this.#ended || this.#failure) return null;
    if (this.#size < this.#limit) this.#source.resume();
    return new Promise((resolve) => {
      this.#wake = resolve;
    });
  }

  /** The next bytes received and not handed on yet, or null. */
  #take() {
    let chunk = null;
    const whole = this.#whole;
    if (whole !== null) {
      if (this.#filled > this.#taken) {
        chunk = whole.subarray(this.#taken, this.#filled);
        this.#taken = this.#filled;
      }
    } else if (this.#chunks.length > 0) {
      chunk = this.#chunks.shift();
    }
    if (chunk !== null) {
      this.#size -= chunk.length;
      if (this.#size < this.#limit) this.#source.resume();
    }
    return chunk;
  }

  async #pull(controller) {
    this.#used = true;
    for (;;) {
      const chunk = this.#take();
      if (chunk !== null) {
        controller.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
        return;
      }
      if (this.#failure) return controller.error(this.#failure);
      if (this.#ended) {
        this.#whole = null;
        return controller.close();
      }
      await this.#next();
    }
  }

  /** The whole body in one Buffer (the gathered one, else the chunks joined); rejects like fetch if it was read already. */
  async #bytes() {
    if (this.bodyUsed || (this.#stream !== null && this.#stream.locked)) {
      throw new TypeError('Body is unusable: Body has already been read');
    }
    this.#used = true;
    if (this.#stream !== null) this.#stream.getReader(); // locked: nobody reads it a second time
    this.#limit = Infinity;
    while (!this.#ended && !this.#failure) await this.#next();
    if (this.#failure) throw this.#failure;
    const whole = this.#whole;
    const chunks = this.#chunks;
    this.#whole = null;
    this.#chunks = [];
    this.#size = 0;
    // (A view of all of `whole` once it is filled: arrayBuffer() then hands back its ArrayBuffer.)
    return whole === null ? Buffer.concat(chunks) : whole.subarray(0, this.#filled);
  }

  async arrayBuffer() {
    const whole = await this.#bytes();
    // A Buffer may be a view into a shared pool: hand back an ArrayBuffer of its own.
    return whole.byteOffset === 0 && whole.byteLength === whole.buffer.byteLength
      ? whole.buffer
      : whole.buffer.slice(whole.byteOffset, whole.byteOffset + whole.byteLength);
  }

  async blob() {
    return new Blob([await this.#bytes()], { type: this.headers.get('content-type') || '' });
  }

  async text() {
    return (await this.#bytes()).toString('utf8');
  }

  async json() {
    return JSON.parse(await this.text());
  }
}

/**
 * A NodeAnswer as a Response (what nodeFetch resolves to): the body, status and headers are the
 * answer's (Response itself holds none of them), and its headers a read-only Headers over the
 * answer's.
 */
class NodeResponse extends Response {
  #answer;
  #headers;

  constructor(answer) {
    super(null, { status: answer.status, statusText: answer.statusText });
    this.#answer = answer;
    this.#headers = new AnswerHeaders(answer.headers);
  }

  get body() {
    return this.#answer.body;
  }

  get bodyUsed() {
    return this.#answer.bodyUsed;
  }

  get headers() {
    return this.#headers;
  }

  get status() {
    return this.#answer.status;
  }

  clone() {
    // Nothing in the client clones an answer; Response's own clone() would copy an empty body.
    throw new TypeError('an answer of the Node transport cannot be cloned');
  }

  arrayBuffer() {
    return this.#answer.arrayBuffer();
  }

  blob() {
    return this.#answer.blob();
  }

  text() {
    return this.#answer.text();
  }

  json() {
    return this.#answer.json();
  }
}

/**
 * The deadlines of the requests in flight, watched by one timer for all of them instead of a
 * setTimeout and clearTimeout per request (which cost more than the rest of a small download's
 * bookkeeping here). The timer is armed for the earliest deadline; a request that ends only
 * leaves the set, so with one timeout for every call (the client's) the timer is re-armed about
 * once per timeout's length, not per request. It is unref'd: a request in flight keeps the
 * process alive through its socket, not through this.
 */
const deadlines = new Set();
let watchTimer = null;
let watchAt = Infinity;

/** Calls `exchange.stop(reason)` at `at` (performance.now() time) unless `unwatch(entry)` comes first. */
function watch(at, exchange, reason) {
  const entry = { at, exchange, reason };
  deadlines.add(entry);
  if (at < watchAt) armWatch(at);
  return entry;
}

function unwatch(entry) {
  deadlines.delete(entry);
}

/**
 * The timer fires at most once per WATCH_MS: deadlines that fall close together are served by one
 * scan of the set (many requests timing out at once cost a scan per WATCH_MS, not per request),
 * at most WATCH_MS late.
 */
const WATCH_MS = 10;

function armWatch(at) {
  if (watchTimer !== null) clearTimeout(watchTimer);
  watchAt = at;
  watchTimer = setTimeout(fireWatch, Math.max(0, Math.ceil(at - performance.now())));
  watchTimer.unref();
}

function fireWatch() {
  watchTimer = null;
  watchAt = Infinity;
  const now = performance.now();
  let next = Infinity;
  const due = [];
  for (const entry of deadlines) {
    if (entry.at <= now) due.push(entry);
    else if (entry.at < next) next = entry.at;
  }
  for (const entry of due) deadlines.delete(entry);
  if (next !== Infinity) armWatch(Math.max(next, now + WATCH_MS));
  for (const entry of due) entry.exchange.stop(entry.reason);
}

/**
 * One request in flight, as undici's dispatcher drives it (this is its handler): it resolves to
 * the answer once the head has come, and feeds the answer's body from there on. `stop(reason)`
 * (the deadline's or the signal's) ends it at any point: before the head the request rejects with
 * the reason at once, after it the body's read fails with it.
 */
class Exchange {
  constructor(call, resolve, reject) {
    this.call = call;
    this.resolve = resolve;
    this.reject = reject;
    /** undici's handle on the request (pause, resume, abort), once it is on a connection. */
    this.controller = null;
    /** Why the request was stopped, once it has been. */
    this.stopped = null;
    /** The answer, once its head has come (null for an answer without a body). */
    this.answer = null;
    /** The promise has been resolved or rejected. */
    this.settled = false;
    this.deadline = null;
    this.onAbort = null;
  }

  stop(reason) {
    if (this.stopped !== null) return;
    this.stopped = reason;
    // (A request still waiting for a connection is aborted as soon as it has one.)
    if (this.controller !== null) this.controller.abort(reason);
    if (!this.settled) this.fail(reason);
  }

  /** The request is over: the deadline and the signal no longer apply. */
  done() {
    const { signal } = this.call;
    if (this.onAbort !== null) {
      signal.removeEventListener('abort', this.onAbort);
      this.onAbort = null;
    }
    if (this.deadline !== null) {
      unwatch(this.deadline);
      this.deadline = null;
    }
  }

  fail(err) {
    this.settled = true;
    this.done();
    this.reject(err);
  }

  onRequestStart(controller) {
    this.controller = controller;
    if (this.stopped !== null) controller.abort(this.stopped);
  }

  onResponseStart(controller, status, fields, statusText) {
    // (1xx answers are informational: the answer is the one that follows.)
    if (status < 200 || this.settled) return;
    try {
      this.settled = true;
      this.resolve(answerOf(this, controller, status, statusText || '', new AnswerFields(fields)));
    } catch (err) {
      // What no Response can carry (a status outside 200-599, a malformed reason phrase) is a
      // network error, as it is for fetch. (`this.answer` is still null: answerOf sets it last.)
      controller.abort(err);
      this.fail(new TypeError('fetch failed', { cause: err }));
    }
  }

  onResponseData(controller, chunk) {
    if (this.answer !== null && !this.answer.chunk(chunk)) controller.pause();
  }

  onResponseEnd() {
    this.done();
    if (this.answer !== null) this.answer.end();
  }

  onResponseError(controller, err) {
    this.done();
    if (!this.settled) this.fail(this.stopped || new TypeError('fetch failed', { cause: err }));
    // Why the body ended short: the timeout's or the signal's reason, else a network failure.
    else if (this.answer !== null) this.answer.fail(this.stopped || new TypeError('terminated'));
  }
}

/**
 * The answer with this head to `exchange`'s request: a Response, or for `call.plain` the
 * NodeAnswer itself (an answer without a body, to HEAD or with status 101, 204, 205 or 304, is a
 * plain Response either way).
 */
function answerOf(exchange, controller, status, statusText, fields) {
  const { call } = exchange;
  if (NULL_BODY.has(status) || call.method === 'HEAD') {
    return new Response(null, { status, statusText, headers: fields.pairs() });
  }
  // Like a Response, an answer has a status from 200 to 599 (else fetch fails).
  if (!(status >= 200 && status <= 599)) throw new RangeError(`status ${status} is outside 200-599`);
  const source = {
    resume: () => controller.resume(),
    destroy: () => controller.abort(new DOMException('The body was cancelled', 'AbortError')),
  };
  const answer = new NodeAnswer(status, statusText, fields, source);
  // (A NodeResponse checks the reason phrase: one it refuses fails the request, not the body.)
  const response = call.plain ? answer : new NodeResponse(answer);
  exchange.answer = answer;
  return response;
}

function send(call, url) {
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return Promise.reject(new TypeError(`fetch failed: unsupported protocol ${url.protocol}`));
  }
  const { method, headers, body, signal, timeout } = call; // (`headers`: made by nodeFetch for this call)
  if (signal && signal.aborted) return Promise.reject(abortError(signal));
  if (body) {
    if (body.contentType && headers['content-type'] === undefined) headers['content-type'] = body.contentType;
    headers['content-length'] = String(body.length);
  }
  return new Promise((resolve, reject) => {
    const exchange = new Exchange(call, resolve, reject);
    if (signal) {
      exchange.onAbort = () => exchange.stop(abortError(signal));
      signal.addEventListener('abort', exchange.onAbort, { once: true });
    }
    if (timeout) exchange.deadline = watch(performance.now() + timeout[0], exchange, timeout[1]);
    let sent = null;
    if (body) sent = body.parts.length === 1 && Buffer.isBuffer(body.parts[0]) ? body.parts[0] : partsBody(body.parts);
    try {
      dispatcher.dispatch({ origin: url.origin, path: url.pathname + url.search, method, headers, body: sent }, exchange);
    } catch (err) {
      exchange.fail(new TypeError('fetch failed', { cause: err }));
    }
  });
}

/** fetch(url, init) over undici, as the client calls it. */
function nodeFetch(url, init) {
  try {
    const i = init || {};
    const headers = {};
    if (i.headers != null) for (const [k, v] of new Headers(i.headers)) headers[k] = v;
    const timeout = i[TIMEOUT];
    const call = {
      method: (i.method || 'GET').toUpperCase(),
      headers,
      body: encodeBody(i.body),
      signal: i.signal,
      timeout: Array.isArray(timeout) && timeout[0] >= 0 ? timeout : null,
      plain: false,
    };
    return send(call, new URL(url));
  } catch (err) {
    return Promise.reject(err);
  }
}

/**
 * A plain GET of `url`, as nodeFetch(url, { signal, [Symbol.for('wxmedia.timeout')]: timeout })
 * sends it, without the init, resolving to the answer as a NodeAnswer (Response-shaped, not a
 * Response): the Node entry's downloads send their first attempt with it.
 */
function nodeGet(url, signal, timeout) {
  try {
    return send({ method: 'GET', headers: {}, body: null, signal, timeout, plain: true }, new URL(url));
  } catch (err) {
    return Promise.reject(err);
  }
}

// The client hands this transport forms as entries with bytes parts, and its deadline as a
// timeout (see the top).
nodeFetch[Symbol.for('wxmedia.formParts')] = true;
nodeFetch[TIMEOUT] = true;

module.exports = { nodeFetch, nodeGet };
