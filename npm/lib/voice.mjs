// Voice decoding for every entry of the package: decodeVoice() and MediaFile.prototype.wav().
// The decoders live in a wasm file of their own (voice_bg.wasm, built from voice/ in the
// repository), loaded on the first call, so callers who never decode voice never load them.
// Each entry passes `load`, which instantiates that wasm the way the entry loads the main one
// and resolves to its glue (with `decode(bytes, format)`). npm/assemble.mjs also writes this
// module as lib/voice.cjs for the Node entry.

import { makeError } from './errors.mjs';
import { lazy } from './lazy.mjs';

const FORMATS = new Set(['amr', 'speex']);
const OUTPUTS = new Set(['wav', 'mp3']);

async function toBytes(input) {
  if (input instanceof Uint8Array) return input;
  if (input instanceof ArrayBuffer) return new Uint8Array(input);
  if (ArrayBuffer.isView(input)) return new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
  if (typeof Blob === 'function' && input instanceof Blob) return new Uint8Array(await input.arrayBuffer());
  throw new TypeError('voice must be a Uint8Array, an ArrayBuffer or a Blob');
}

/**
 * decodeVoice and wav for an entry. `load()` instantiates voice_bg.wasm and returns its glue; it
 * is called once (again only if it failed).
 */
export function voiceApi(load) {
  const glue = lazy(load);

  /** WeChat voice (AMR-NB, or HD Speex with format 'speex') to a WAV file (or, with to 'mp3', an MP3). */
  async function decodeVoice(input, options) {
    if (options != null && typeof options !== 'object') throw new TypeError('decodeVoice options must be an object');
    const format = options == null ? undefined : options.format;
    if (format != null && !FORMATS.has(format)) {
      throw new TypeError(`option format must be 'amr' or 'speex', not ${JSON.stringify(format)}`);
    }
    const to = options == null ? undefined : options.to;
    if (to != null && !OUTPUTS.has(to)) {
      throw new TypeError(`option to must be 'wav' or 'mp3', not ${JSON.stringify(to)}`);
    }
    const bytes = await toBytes(input);
    const voice = await glue();
    try {
      return voice.decode(bytes, format == null ? undefined : format, to == null ? undefined : to);
    } catch (err) {
      const message = err && err.message ? err.message : String(err);
      throw makeError('MediaValidationError', 'BAD_VOICE', message);
    }
  }

  /**
   * A MediaFile's body read and decoded (`to`: 'wav' or 'mp3'). What is voice is the core's rule,
   * the same as the Worker's ?format=wav: the Content-Type first (speex, amr; an image or a video
   * is not voice), the bytes (#!AMR) where it says nothing (WeChat labels AMR text/plain at times).
   */
  async function rendition(file, to) {
    const contentType = String(file.contentType || '');
    const voice = await glue();
    if (voice.labelOf(contentType) === 'none') {
      throw makeError('MediaValidationError', 'NOT_VOICE', `${to}(): the media is ${contentType}, not voice`);
    }
    const bytes = new Uint8Array(await file.arrayBuffer());
    const format = voice.formatOf(contentType, bytes.subarray(0, 16));
    if (!format) {
      throw makeError('MediaValidationError', 'NOT_VOICE', `${to}(): the media (${contentType || 'unlabelled'}) is neither AMR nor Speex voice`);
    }
    return decodeVoice(bytes, { format, to });
  }

  /** MediaFile.prototype.wav: the voice as a WAV file. */
  function wav() {
    return rendition(this, 'wav');
  }

  /** MediaFile.prototype.mp3: the voice as an MP3. */
  function mp3() {
    return rendition(this, 'mp3');
  }

  return { decodeVoice, wav, mp3 };
}

/** Adds wav() and mp3() to the glue's MediaFile class (once). */
export function installWav(MediaFile, wav, mp3) {
  for (const [name, value] of [['wav', wav], ['mp3', mp3]]) {
    if (value && !Object.prototype.hasOwnProperty.call(MediaFile.prototype, name)) {
      Object.defineProperty(MediaFile.prototype, name, { value, writable: true, configurable: true });
    }
  }
}
