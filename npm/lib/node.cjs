'use strict';
// Node helpers around the wasm client: files in by path (a file-backed Blob, never read into
// memory) and downloads out to a path by streaming (a temporary name, renamed once complete).
// Nothing here sees the access token. Only the Node entry (index.cjs) and the CLI load it.

const fs = require('node:fs');
const fsp = require('node:fs/promises');
const path = require('node:path');
const crypto = require('node:crypto');
const { Readable } = require('node:stream');
const { pipeline } = require('node:stream/promises');
const { fileURLToPath } = require('node:url');
const { makeError, errorClass } = require('./errors.cjs');

/** Without fs.openAsBlob, files up to this size are read into memory; bigger ones are refused. */
const FALLBACK_MAX_BYTES = 20 * 1024 * 1024;

function toPath(p, what) {
  if (p instanceof URL) return fileURLToPath(p);
  if (typeof p === 'string' && p.length > 0) return p;
  throw new TypeError(`${what} must be a non-empty string or a file: URL`);
}

/**
 * A Blob backed by the file at `file`. With `fs.openAsBlob` (Node 19.8 and later) the bytes are
 * read from disk only as the upload sends them. Where it is missing, files of at most 20 MiB
 * (more than WeChat takes for any type) are read into memory, and bigger ones are refused.
 */
async function openMedia(file, options) {
  const p = toPath(file, 'path');
  const stat = await fsp.stat(p);
  if (!stat.isFile()) {
    throw Object.assign(new Error(`EISDIR: not a regular file, open '${p}'`), {
      code: 'EISDIR',
      syscall: 'open',
      path: p,
    });
  }
  const type = options && typeof options.type === 'string' ? options.type : undefined;
  if (typeof fs.openAsBlob === 'function') {
    return fs.openAsBlob(p, type ? { type } : undefined);
  }
  if (stat.size > FALLBACK_MAX_BYTES) {
    throw makeError(
      'MediaValidationError',
      'TOO_LARGE',
      `${path.basename(p)} is ${stat.size} bytes; without fs.openAsBlob (Node 19.8+) files over ` +
        `${FALLBACK_MAX_BYTES} bytes are not read into memory, and WeChat would refuse them anyway`,
    );
  }
  return new Blob([await fsp.readFile(p)], type ? { type } : undefined);
}

/** A name for the partial download next to `target`, unlikely to collide and clearly partial. */
function tempNameFor(target) {
  const dir = path.dirname(target);
  const rand = crypto.randomBytes(6).toString('hex');
  return path.join(dir, `.${path.basename(target)}.${process.pid}.${rand}.part`);
}

function isFsError(err) {
  return err != null && typeof err === 'object' && typeof err.syscall === 'string';
}

function isNamed(err, name) {
  return err != null && typeof err === 'object' && err.name === name;
}

/** The failure of reading a download, as the client's NetworkError (or the caller's abort). */
function readError(err, signal) {
  if (signal && signal.aborted) {
    // The same shape as the client's own AbortError (Node's stream one has code ABORT_ERR).
    return isNamed(err, 'AbortError') && err.code === 'CANCELLED'
      ? err
      : makeError('AbortError', 'CANCELLED', 'the operation was cancelled');
  }
  if (isFsError(err)) return err;
  if (isNamed(err, 'NetworkError') || isNamed(err, 'TimeoutError') || isNamed(err, 'AbortError')) return err;
  const reason = err && err.message ? err.message : String(err);
  return makeError('NetworkError', 'NETWORK', `reading the download failed: ${reason}`);
}

/**
 * Resolves the source of bytes for `media`: a MediaFile's body, or a video link's URL fetched
 * with the global fetch (WeChat's video URLs carry no token).
 */
async function sourceOf(media, signal) {
  if (media != null && media.kind === 'video' && typeof media.videoUrl === 'string') {
    let res;
    try {
      // Not followed: a redirect could lead anywhere, past the client's check of the URL.
      res = await fetch(media.videoUrl, { signal, redirect: 'manual' });
    } catch (err) {
      throw readError(err, signal);
    }
    if (!res.ok || !res.body) {
      if (res.body) await res.body.cancel().catch(() => {});
      throw makeError('NetworkError', 'HTTP', `the video URL answered HTTP ${res.status}`, { status: res.status });
    }
    const length = res.headers.get('content-length');
    return {
      kind: 'video',
      body: res.body,
      contentType: res.headers.get('content-type'),
      filename: null,
      total: length != null && /^\d+$/.test(length) ? Number(length) : null,
      videoUrl: media.videoUrl,
    };
  }
  if (media != null && media.kind === 'media') {
    const body = media.body;
    if (!body || media.bodyUsed) throw new TypeError('the MediaFile body has already been read');
    return {
      kind: 'media',
      body,
      contentType: media.contentType ?? null,
      filename: media.filename ?? null,
      total: typeof media.contentLength === 'number' ? media.contentLength : null,
    };
  }
  throw new TypeError('media must be a MediaFile or a { kind: "video", videoUrl } link');
}

/** Counts bytes as they pass and reports them to `onProgress`. */
function counter(state, total, onProgress) {
  return async function* count(source) {
    for await (const chunk of source) {
      state.bytes += chunk.length;
      if (onProgress) onProgress({ bytes: state.bytes, total });
      yield chunk;
    }
  };
}

/**
 * Streams `src` (from sourceOf) into `dest`, a Writable; checks that the announced length arrived.
 */
async function pump(src, dest, options) {
  const signal = options && options.signal;
  const onProgress = options && typeof options.onProgress === 'function' ? options.onProgress : null;
  const state = { bytes: 0 };
  if (onProgress) onProgress({ bytes: 0, total: src.total });
  try {
    await pipeline(Readable.fromWeb(src.body), counter(state, src.total, onProgress), dest, signal ? { signal } : {});
  } catch (err) {
    throw readError(err, signal);
  }
  if (src.total != null && state.bytes !== src.total) {
    throw makeError(
      'NetworkError',
      'NETWORK',
      `the download ended after ${state.bytes} of ${src.total} bytes`,
    );
  }
  return state.bytes;
}

/**
 * Writes what `fetchMedia()` resolves to (a MediaFile or a video link) to `target`: into a
 * temporary file next to it, renamed to `target` only once every byte has arrived. On any failure
 * the temporary file is removed, so a file at `target` is always complete. The temporary file is
 * created before `fetchMedia` is called, so an unwritable target costs no request.
 */
async function saveTo(target, fetchMedia, options, nameFor) {
  const signal = options && options.signal;
  // With `nameFor` (the CLI's `-o DIR`), `target` is a directory and the name comes from the answer.
  const first = toPath(target, 'path');
  const tmp = tempNameFor(nameFor ? path.join(first, 'download') : first);
  await (await fsp.open(tmp, 'wx', 0o666)).close();
  let src = null;
  try {
    const media = await fetchMedia();
    src = await sourceOf(media, signal);
    const file = nameFor ? path.join(first, nameFor(src)) : first;
    const bytes = await pump(src, fs.createWriteStream(tmp, { flags: 'w' }), options);
    await fsp.rename(tmp, file);
    const out = { kind: src.kind, path: file, bytes, contentType: src.contentType, filename: src.filename };
    if (src.kind === 'video') out.videoUrl = src.videoUrl;
    return out;
  } catch (err) {
    await fsp.rm(tmp, { force: true }).catch(() => {});
    if (src && src.body && !src.body.locked) await src.body.cancel().catch(() => {});
    throw err;
  }
}

/** Saves a MediaFile (or a video link, fetched) to a path; see saveTo. */
function saveMedia(media, target, options) {
  return saveTo(target, async () => media, options);
}

module.exports = {
  FALLBACK_MAX_BYTES,
  makeError,
  toPath,
  openMedia,
  saveTo,
  saveMedia,
  sourceOf,
  pump,
  readError,
  isFsError,
  errorClass,
};
