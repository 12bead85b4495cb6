// Voice for every entry of the package: decodeVoice(), MediaFile.prototype.wav()/mp3(),
// encodeVoice() and splitVoice(). The codecs live in a wasm file of their own (voice_bg.wasm,
// built from codecs/wasm/ in the repository), loaded on the first call, so callers who never
// touch voice never load them. Each entry passes `load`, which instantiates that wasm the way the
// entry loads the main one and resolves to its glue (with `decode`, `encodeWav`, `encodePcm16`,
// `encodePcmFloat`, `split`, `measure`). MediaClient.prototype.uploadVoice() is installed from
// here too, so encoding for an upload happens in the voice wasm and the core wasm knows nothing
// of it: it only uploads the parts (through the client's own upload()). The wasm refuses with Errors carrying a `code`; they become
// MediaValidationErrors with that code. npm/assemble.mjs also writes this module as
// lib/voice.cjs for the Node entry.

import { makeError } from './errors.mjs';
import { lazy } from './lazy.mjs';

const FORMATS = new Set(['amr', 'speex']);
const OUTPUTS = new Set(['wav', 'mp3']);
const ENCODINGS = new Set(['mp3', 'amr']);
const MP3_KBPS = [8, 16, 24, 32, 40, 48, 56, 64];
/** The most input bytes encodeVoice() copies into the wasm (10 minutes of 48 kHz stereo float is 230 MB). */
const MAX_ENCODE_INPUT_BYTES = 256 * 1024 * 1024;
/** WeChat's limits on one voice: the defaults of splitVoice(). */
const DEFAULT_MAX_SECONDS = 60;
const DEFAULT_MAX_BYTES = 2 * 1024 * 1024;
/** How WAV files start (RF64, BW64 and RIFX ones are refused by the wasm, by name). */
const WAV_MAGIC = ['RIFF', 'RF64', 'BW64', 'RIFX'];
/** The AMR-NB mode uploadVoice() encodes in: 7, MR122 (12.2 kbit/s), what WeChat records. */
const DEFAULT_AMR_MODE = 7;

/** A refusal thrown by the wasm (an Error with a code) as a MediaValidationError. */
function refused(err, fallbackCode) {
  if (err instanceof Error && typeof err.code === 'string') return makeError('MediaValidationError', err.code, err.message);
  if (err instanceof Error && fallbackCode) return makeError('MediaValidationError', fallbackCode, err.message);
  return err;
}

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

  /**
   * Audio encoded to voice WeChat takes: `input` is WAV bytes (PCM 8/16/24/32-bit or float, any
   * rate, mono or stereo) or `{ pcm: Int16Array | Float32Array, sampleRate, channels = 1 }`
   * (interleaved); `to` 'mp3' (mono, 8 or 16 kHz, `bitrate` kbit/s) or 'amr' (AMR-NB, 8 kHz,
   * `mode` 0–7, `dtx` off unless asked). Mixed to mono and resampled in the wasm.
   */
  async function encodeVoice(input, options) {
    if (options == null || typeof options !== 'object') throw new TypeError("encodeVoice needs options: { to: 'mp3' | 'amr' }");
    const { to, bitrate, mode, dtx } = options;
    if (!ENCODINGS.has(to)) throw new TypeError(`option to must be 'mp3' or 'amr', not ${JSON.stringify(to)}`);
    if (bitrate != null && (to !== 'mp3' || !MP3_KBPS.includes(bitrate))) {
      throw new TypeError(`option bitrate is for to: 'mp3', one of ${MP3_KBPS.join(', ')} (kbit/s), not ${JSON.stringify(bitrate)}`);
    }
    if (mode != null && (to !== 'amr' || !Number.isInteger(mode) || mode < 0 || mode > 7)) {
      throw new TypeError(`option mode is for to: 'amr', an integer 0-7 (7: MR122), not ${JSON.stringify(mode)}`);
    }
    if (dtx != null && (to !== 'amr' || typeof dtx !== 'boolean')) {
      throw new TypeError(`option dtx is for to: 'amr', a boolean, not ${JSON.stringify(dtx)}`);
    }
    let call;
    if (input != null && typeof input === 'object' && 'pcm' in input) {
      const { pcm, sampleRate, channels = 1 } = input;
      const kind = pcm instanceof Int16Array ? 'encodePcm16' : pcm instanceof Float32Array ? 'encodePcmFloat' : null;
      if (!kind) throw new TypeError('pcm must be an Int16Array or a Float32Array');
      if (!Number.isInteger(sampleRate) || sampleRate < 0 || sampleRate > 0xffffffff) {
        throw new TypeError(`sampleRate must be an integer number of Hz, not ${JSON.stringify(sampleRate)}`);
      }
      if (!Number.isInteger(channels) || channels < 0 || channels > 0xffff) {
        throw new TypeError(`channels must be an integer, not ${JSON.stringify(channels)}`);
      }
      if (pcm.byteLength > MAX_ENCODE_INPUT_BYTES) {
        throw makeError('MediaValidationError', 'TOO_LONG', `audio: ${pcm.byteLength} bytes of PCM is more than the ${MAX_ENCODE_INPUT_BYTES} accepted`);
      }
      call = (voice) => voice[kind](pcm, sampleRate, channels, to, bitrate ?? undefined, mode ?? undefined, dtx ?? undefined);
    } else {
      let bytes;
      try {
        bytes = await toBytes(input);
      } catch {
        throw new TypeError('encodeVoice input must be WAV bytes (a Uint8Array, an ArrayBuffer or a Blob) or { pcm, sampleRate, channels }');
      }
      if (bytes.byteLength > MAX_ENCODE_INPUT_BYTES) {
        throw makeError('MediaValidationError', 'TOO_LONG', `audio: ${bytes.byteLength} bytes of WAV is more than the ${MAX_ENCODE_INPUT_BYTES} accepted`);
      }
      call = (voice) => voice.encodeWav(bytes, to, bitrate ?? undefined, mode ?? undefined, dtx ?? undefined);
    }
    const voice = await glue();
    try {
      return call(voice);
    } catch (err) {
      throw refused(err);
    }
  }

  /**
   * AMR (`#!AMR`) or MP3 bytes split into parts of at most `maxSeconds` (60) and `maxBytes`
   * (2 MiB) each, cut on frame boundaries: every frame in exactly one part, each AMR part with
   * its own `#!AMR` header.
   */
  async function splitVoice(input, options) {
    if (options != null && typeof options !== 'object') throw new TypeError('splitVoice options must be an object');
    const maxSeconds = options?.maxSeconds ?? DEFAULT_MAX_SECONDS;
    const maxBytes = options?.maxBytes ?? DEFAULT_MAX_BYTES;
    if (typeof maxSeconds !== 'number' || !(maxSeconds > 0) || !Number.isFinite(maxSeconds)) {
      throw new TypeError(`option maxSeconds must be a positive number, not ${JSON.stringify(maxSeconds)}`);
    }
    if (!Number.isSafeInteger(maxBytes) || maxBytes <= 0) {
      throw new TypeError(`option maxBytes must be a positive integer, not ${JSON.stringify(maxBytes)}`);
    }
    const bytes = await toBytes(input);
    const voice = await glue();
    try {
      return voice.split(bytes, maxSeconds, maxBytes);
    } catch (err) {
      throw refused(err);
    }
  }

  /** What AMR or MP3 bytes are and how long they play (`{ format, seconds }`), or undefined. */
  async function measure(bytes) {
    const voice = await glue();
    try {
      return voice.measure(bytes);
    } catch (err) {
      throw refused(err, 'BAD_VOICE');
    }
  }

  /**
   * MediaClient.prototype.uploadVoice: voice WeChat takes, from whatever the caller has. AMR and
   * MP3 bytes go as they are; WAV bytes and `{ pcm, sampleRate, channels }` are encoded to AMR-NB
   * (`mode`, default 7: MR122) first. Voice longer than `maxSeconds` (60) or larger than
   * `maxBytes` (2 MiB) is cut on frame boundaries by splitVoice() (or, with `split: false`,
   * refused with 'TOO_LONG' / 'TOO_LARGE' before anything is sent), and each part is uploaded in
   * order as type voice through upload(). Resolves to one upload answer per part, with the part's
   * `format`, `seconds`, `size`, whether it was `encoded`, its `part` index and the `parts` count.
   * A failed part rejects with the error of upload(), carrying `uploaded`: the answers of the
   * parts uploaded before it.
   */
  async function uploadVoice(input, options) {
    if (options != null && typeof options !== 'object') throw new TypeError('uploadVoice options must be an object');
    const o = options ?? {};
    const mode = o.mode ?? DEFAULT_AMR_MODE;
    if (!Number.isInteger(mode) || mode < 0 || mode > 7) {
      throw new TypeError(`option mode must be an integer 0-7 (7: MR122), not ${JSON.stringify(o.mode)}`);
    }
    const dtx = o.dtx ?? false;
    if (typeof dtx !== 'boolean') throw new TypeError(`option dtx must be a boolean, not ${JSON.stringify(o.dtx)}`);
    const split = o.split ?? true;
    if (typeof split !== 'boolean') throw new TypeError(`option split must be a boolean, not ${JSON.stringify(o.split)}`);
    const maxSeconds = o.maxSeconds ?? DEFAULT_MAX_SECONDS;
    const maxBytes = o.maxBytes ?? DEFAULT_MAX_BYTES;
    if (typeof maxSeconds !== 'number' || !(maxSeconds > 0) || !Number.isFinite(maxSeconds)) {
      throw new TypeError(`option maxSeconds must be a positive number, not ${JSON.stringify(o.maxSeconds)}`);
    }
    if (!Number.isSafeInteger(maxBytes) || maxBytes <= 0) {
      throw new TypeError(`option maxBytes must be a positive integer, not ${JSON.stringify(o.maxBytes)}`);
    }
    if (o.filename != null && typeof o.filename !== 'string') throw new TypeError('option filename must be a string');

    let bytes;
    let info;
    let encoded = false;
    if (input != null && typeof input === 'object' && 'pcm' in input) {
      bytes = await encodeVoice(input, { to: 'amr', mode, dtx });
      encoded = true;
    } else {
      try {
        bytes = await toBytes(input);
      } catch {
        throw new TypeError('uploadVoice input must be AMR, MP3 or WAV bytes (a Uint8Array, an ArrayBuffer or a Blob) or { pcm, sampleRate, channels }');
      }
      // A WAV file (RIFF, or RF64/RIFX, which encodeVoice() refuses by name) is audio WeChat
      // would refuse: encoded. Anything else must be AMR or MP3.
      if (WAV_MAGIC.includes(String.fromCharCode(...bytes.subarray(0, 4)))) {
        bytes = await encodeVoice(bytes, { to: 'amr', mode, dtx });
        encoded = true;
      } else {
        info = await measure(bytes);
        if (!info) {
          throw makeError('MediaValidationError', 'BAD_FORMAT', 'voice must be AMR, MP3 or WAV (or { pcm, sampleRate }): these bytes are none of them');
        }
      }
    }
    if (encoded) info = await measure(bytes);
    if (!(info.seconds > 0)) throw makeError('MediaValidationError', 'EMPTY', 'voice: no audio to upload');

    let parts;
    if (info.seconds <= maxSeconds + 1e-9 && bytes.length <= maxBytes) {
      parts = [bytes];
    } else if (!split) {
      const seconds = Math.round(info.seconds * 100) / 100;
      if (info.seconds > maxSeconds + 1e-9) {
        throw makeError(
          'MediaValidationError',
          'TOO_LONG',
          `voice: ${seconds} s is longer than the ${maxSeconds} s WeChat takes in one voice (split it into parts: split: true)`,
          { seconds, limit: maxSeconds },
        );
      }
      throw makeError(
        'MediaValidationError',
        'TOO_LARGE',
        `voice: ${bytes.length} bytes is more than the ${maxBytes} WeChat takes in one voice (split it into parts: split: true)`,
        { seconds, size: bytes.length, limit: maxBytes },
      );
    } else {
      parts = await splitVoice(bytes, { maxSeconds, maxBytes });
    }

    const ext = `.${info.format}`;
    const stem = o.filename != null ? o.filename.replace(/\.[^./\\]*$/, '') || 'voice' : 'voice';
    const uploaded = [];
    for (let i = 0; i < parts.length; i++) {
      const part = parts[i];
      const filename = parts.length === 1 ? `${stem}${ext}` : `${stem}-${i + 1}${ext}`;
      let answer;
      try {
        answer = await this.upload('voice', part, o.signal != null ? { filename, signal: o.signal } : { filename });
      } catch (err) {
        if (err !== null && typeof err === 'object') {
          try {
            err.uploaded = uploaded.slice();
          } catch {
            // a frozen error goes as it is
          }
        }
        throw err;
      }
      const seconds = parts.length === 1 ? info.seconds : (await measure(part)).seconds;
      uploaded.push({
        ...answer,
        format: info.format,
        seconds: Math.round(seconds * 1000) / 1000,
        size: part.length,
        encoded,
        part: i,
        parts: parts.length,
      });
    }
    return uploaded;
  }

  return { decodeVoice, wav, mp3, encodeVoice, splitVoice, uploadVoice };
}

/** Adds uploadVoice() to the glue's MediaClient class (once). */
export function installUploadVoice(MediaClient, uploadVoice) {
  if (uploadVoice && !Object.prototype.hasOwnProperty.call(MediaClient.prototype, 'uploadVoice')) {
    Object.defineProperty(MediaClient.prototype, 'uploadVoice', { value: uploadVoice, writable: true, configurable: true });
  }
}

/** Adds wav() and mp3() to the glue's MediaFile class (once). */
export function installWav(MediaFile, wav, mp3) {
  for (const [name, value] of [['wav', wav], ['mp3', mp3]]) {
    if (value && !Object.prototype.hasOwnProperty.call(MediaFile.prototype, name)) {
      Object.defineProperty(MediaFile.prototype, name, { value, writable: true, configurable: true });
    }
  }
}
