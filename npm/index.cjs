'use strict';
// The Node entry of the npm package (the `node` + `require` condition): the wasm-bindgen glue as
// CommonJS (./wxmedia.cjs), instantiated synchronously from ./wxmedia_bg.wasm read with fs, plus
// the Node helpers. The ESM Node entry (index.mjs) re-exports this module, so `require` and
// `import` share one wasm instance and one set of classes.

const fs = require('node:fs');
const path = require('node:path');
const glue = require('./wxmedia.cjs');
const api = require('./lib/api.cjs');
const errors = require('./lib/errors.cjs');
const node = require('./lib/node.cjs');
const { nodeFetch, nodeGet } = require('./lib/http.cjs');
const voice = require('./lib/voice.cjs');

glue.initSync({ module: fs.readFileSync(path.join(__dirname, 'wxmedia_bg.wasm')) });

// The voice codecs: their own wasm, read and instantiated on the first decodeVoice()/wav()/encodeVoice()/splitVoice()/uploadVoice().
const { decodeVoice, wav, mp3, encodeVoice, splitVoice, uploadVoice } = voice.voiceApi(() => {
  const voiceGlue = require('./voice.cjs');
  voiceGlue.initSync({ module: fs.readFileSync(path.join(__dirname, 'voice_bg.wasm')) });
  return voiceGlue;
});
voice.installWav(api.MediaFile, wav, mp3);
// MediaClient.uploadVoice(): encodes (in the voice wasm) and splits, then upload()s each part.
voice.installUploadVoice(api.MediaClient, uploadVoice);
// Message push (verifySignature(), openMessage(), sealReply()): its own wasm, read on first use.
const { verifySignature, openMessage, sealReply } = require('./lib/push.cjs').pushApi(() => {
  const pushGlue = require('./push.cjs');
  pushGlue.initSync({ module: fs.readFileSync(path.join(__dirname, 'push_bg.wasm')) });
  return pushGlue;
});

// What the client's deadline rejects with, in a transport that takes timeouts (lib/http.cjs).
const TIMEOUT_REASON = glue.__timeoutReason();

/**
 * The wasm client, plus what a Node program reaches for: uploading a file by path and saving a
 * download to a path. Its requests go over undici's dispatcher (lib/http.cjs), which moves bytes
 * faster than Node's global fetch, unless `options.fetch` names another transport.
 */
class MediaClient extends api.MediaClient {
  /** The media timeout (ms) when this client sends over lib/http.cjs, else 0 (see #first). */
  #timeout = 0;
  /** Downloads sent by #first whose answer has not been handed to the wasm yet. */
  #sent = 0;
  /** free() was called while some were: the client is freed once the last is handed over. */
  #freeLater = false;

  constructor(options) {
    const own = options !== null && typeof options === 'object' && options.fetch == null;
    super(own ? Object.create(options, { fetch: { value: nodeFetch, enumerable: true } }) : options);
    if (own) this.#timeout = glue.__timeoutOf(this);
  }

  get(mediaId, options) {
    return this.#first(mediaId, options, false) || super.get(mediaId, options);
  }

  getHdVoice(mediaId, options) {
    return this.#first(mediaId, options, true) || super.getHdVoice(mediaId, options);
  }

  /**
   * Frees the client's wasm memory, as the wasm class's free() does; a download whose first
   * attempt is in flight still ends as it would have (the client is freed once its answer is
   * handed over), as calls driven in the wasm, which hold the client, do.
   */
  free() {
    if (this.#sent > 0) this.#freeLater = true;
    else super.free();
  }

  /**
   * A download whose first attempt can go out at once (this client's own transport, a valid id,
   * a token cached, no signal or one not aborted): it goes straight to the transport (nodeGet),
   * bounded by the media timeout and the signal, and its answer goes back to the wasm, which
   * hands back media at once, or goes on from there as get() would (an error, a retry, a token
   * refresh, a video).
   * A download that answers media thus costs two calls into the wasm, and no task, request object
   * or timer of the client's. Else null: get() itself makes the call.
   */
  #first(mediaId, options, hd) {
    if (this.#timeout === 0 || this.#freeLater || typeof mediaId !== 'string') return null;
    let signal;
    try {
      signal = options == null ? undefined : options.signal;
    } catch {
      return null; // get() rejects with what the getter threw
    }
    if (signal == null) signal = undefined;
    else if (!(signal instanceof AbortSignal) || signal.aborted) return null;
    const url = glue.__firstGetUrl(this, mediaId, hd);
    if (url === undefined) return null;
    const started = Date.now();
    this.#sent += 1;
    // The answer (`ok`) or the failure goes to the wasm: media at once, else a call that holds
    // the client from there on. Either way a free() asked for meanwhile can then go ahead.
    const handOver = (answer, ok) => {
      try {
        return (
          (ok && glue.__firstGetMedia(this, answer, started, signal)) ||
          glue.__getAfter(this, mediaId, hd, url, started, signal, answer, ok)
        );
      } finally {
        this.#sent -= 1;
        if (this.#sent === 0 && this.#freeLater) {
          this.#freeLater = false;
          super.free();
        }
      }
    };
    return nodeGet(url, signal, [this.#timeout, TIMEOUT_REASON]).then(
      (answer) => handOver(answer, true),
      (err) => handOver(err, false),
    );
  }

  /** Uploads the file at `file` without reading it into memory (fs.openAsBlob). */
  async uploadFile(type, file, options) {
    const p = node.toPath(file, 'path');
    const blob = await node.openMedia(p);
    const opts = Object.assign({}, options);
    if (opts.filename == null) opts.filename = path.basename(p);
    return this.upload(type, blob, opts);
  }

  /**
   * Downloads media to `file` (a video's URL is fetched too). Writes a temporary file next to it
   * and renames it once complete; a failed download leaves nothing behind.
   */
  download(mediaId, file, options) {
    const signal = options && options.signal;
    return node.saveTo(file, () => this.get(mediaId, signal ? { signal } : undefined), options);
  }

  /** Downloads a JSSDK voice recording as speex to `file`, like download(). */
  downloadHdVoice(mediaId, file, options) {
    const signal = options && options.signal;
    return node.saveTo(file, () => this.getHdVoice(mediaId, signal ? { signal } : undefined), options);
  }
}

// The wasm class's [Symbol.dispose] is its free(): this class's, here.
if (Symbol.dispose) MediaClient.prototype[Symbol.dispose] = MediaClient.prototype.free;

module.exports = {
  ...api,
  MediaClient,
  openMedia: node.openMedia,
  saveMedia: node.saveMedia,
  decodeVoice,
  encodeVoice,
  splitVoice,
  verifySignature,
  openMessage,
  sealReply,
  PushError: errors.PushError,
  WeChatError: errors.WeChatError,
  MediaValidationError: errors.MediaValidationError,
  TimeoutError: errors.TimeoutError,
  NetworkError: errors.NetworkError,
  AbortError: errors.AbortError,
};
