'use strict';
// The CommonJS entry of the npm package: wasm-pack's Node build (./wxmedia.js, which loads
// ./wxmedia_bg.wasm synchronously) plus the Node helpers. The ESM entry (index.mjs) re-exports
// this module, so `require` and `import` share one wasm instance and one set of classes.

const path = require('node:path');
const wasm = require('./wxmedia.js');
const node = require('./lib/node.cjs');

/**
 * The wasm client, plus what a Node program reaches for: uploading a file by path and saving a
 * download to a path.
 */
class MediaClient extends wasm.MediaClient {
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

module.exports = {
  ...wasm,
  MediaClient,
  openMedia: node.openMedia,
  saveMedia: node.saveMedia,
  WeChatError: node.errorClass('WeChatError', 'WECHAT'),
  MediaValidationError: node.errorClass('MediaValidationError'),
  TimeoutError: node.errorClass('TimeoutError', 'TIMEOUT'),
  NetworkError: node.errorClass('NetworkError', 'NETWORK'),
  AbortError: node.errorClass('AbortError', 'CANCELLED'),
};
