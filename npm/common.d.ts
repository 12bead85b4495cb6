// Types of the wxmedia npm package that every entry shares (Node, Workers, browsers, Deno, Bun):
// the wasm client's declarations (./wxmedia.js, written by wasm-pack from src/js/), with
// MediaClient and validateMedia declared again so that optional options are optional, and the
// error classes of lib/errors.mjs. They name only ES and DOM globals (Blob, ReadableStream,
// AbortSignal, URL), so they need no @types/node. wasm-bindgen's classes declare
// [Symbol.dispose] (for `using`), hence the reference to that library (TypeScript 5.2+).

/// <reference lib="esnext.disposable" />

import * as wasm from './wxmedia.js';
import type {
  GetOptions,
  MediaClientOptions,
  MediaFile,
  MediaType,
  UploadOptions,
  UploadResult,
  ValidatedMedia,
  VideoLink,
} from './wxmedia.js';

export * from './wxmedia.js';

/** The client of WeChat's temporary-media API. */
// upload/get/getHdVoice are declared again so that `options` is optional (wasm-bindgen declares
// it as a required `… | undefined`).
export declare class MediaClient extends wasm.MediaClient {
  constructor(options: MediaClientOptions);
  upload(type: MediaType, media: Blob | Uint8Array | ArrayBuffer, options?: UploadOptions): Promise<UploadResult>;
  get(mediaId: string, options?: GetOptions): Promise<MediaFile | VideoLink>;
  getHdVoice(mediaId: string, options?: GetOptions): Promise<MediaFile>;
  /**
   * Uploads voice as WeChat takes it, from whatever you have: AMR or MP3 bytes go as they are;
   * WAV bytes and `{ pcm, sampleRate, channels }` are encoded to AMR-NB (`mode`, default MR122)
   * in the voice wasm first (loaded on the first call). Voice over `maxSeconds` (60) or
   * `maxBytes` (2 MiB) is cut on frame boundaries (splitVoice()) and each part uploaded in order
   * as type voice; with `split: false` it is refused instead ('TOO_LONG' / 'TOO_LARGE', with
   * `seconds` and `limit`), before anything is sent. Resolves to one answer per part. Rejects
   * like encodeVoice() and upload(); a part that fails rejects with upload()'s error, carrying
   * `uploaded`: the answers of the parts uploaded before it.
   */
  uploadVoice(input: Uint8Array | ArrayBuffer | Blob | PcmInput, options?: UploadVoiceOptions): Promise<VoiceUploadResult[]>;
}

/** Options of MediaClient.uploadVoice(). */
export interface UploadVoiceOptions {
  /** The AMR-NB mode audio is encoded in, 0 (MR475) to 7 (MR122, the default). */
  mode?: 0 | 1 | 2 | 3 | 4 | 5 | 6 | 7;
  /** AMR-NB discontinuous transmission when encoding (default false; see EncodeVoiceOptions). */
  dtx?: boolean;
  /** Upload voice over the limits as several parts (default true); false refuses it. */
  split?: boolean;
  /** The longest part, in seconds. Default 60 (WeChat's limit for voice). */
  maxSeconds?: number;
  /** The largest part, in bytes. Default 2 MiB (WeChat's limit for voice). */
  maxBytes?: number;
  /** The name sent (its extension follows the format); parts are named NAME-1, NAME-2… Default 'voice'. */
  filename?: string;
  /** Aborts the upload of the part in flight; the parts after it are not sent. */
  signal?: AbortSignal;
}

/** One part of MediaClient.uploadVoice(): upload()'s answer and what was sent. */
export interface VoiceUploadResult extends UploadResult {
  type: 'voice';
  /** What was uploaded: 'amr' (encoded here, or AMR given) or 'mp3' (given). */
  format: 'amr' | 'mp3';
  /** How long this part plays. */
  seconds: number;
  /** Its size in bytes. */
  size: number;
  /** Whether the input was encoded to AMR (WAV or PCM input). */
  encoded: boolean;
  /** This part's index (from 0), and how many parts the voice was cut into. */
  part: number;
  parts: number;
}

/**
 * Checks media as upload() would, without sending anything: resolves to what would be sent, or
 * rejects with a MediaValidationError. Only the first bytes are read. (Declared here again so
 * that `options` is optional: wasm-bindgen declares it as required `… | undefined`.)
 */
export declare function validateMedia(
  type: MediaType,
  media: Blob | Uint8Array | ArrayBuffer,
  options?: { filename?: string; limits?: MediaClientOptions['limits'] },
): Promise<ValidatedMedia>;

/** Options of decodeVoice(). */
export interface DecodeVoiceOptions {
  /**
   * 'amr' (AMR-NB, `#!AMR`, from get()) or 'speex' (WeChat HD voice, from getHdVoice(): it has
   * no header, so give it). Default: detected from the bytes.
   */
  format?: 'amr' | 'speex';
  /** 'wav' (default): 16-bit mono PCM; 'mp3': MP3 at a speech bitrate, about a tenth of the WAV. */
  to?: 'wav' | 'mp3';
}

/**
 * Decodes WeChat voice to a WAV file (16-bit mono PCM: 8 kHz for AMR, 16 kHz for HD Speex), or
 * with `to: 'mp3'` to an MP3 (24 kbit/s at 8 kHz, 32 kbit/s at 16 kHz).
 * The decoders are a wasm file of their own, loaded on the first call. Rejects with a
 * MediaValidationError (code 'BAD_VOICE') for corrupt or unrecognised input, and a TypeError
 * for bad arguments.
 */
export declare function decodeVoice(
  voice: Uint8Array | ArrayBuffer | Blob,
  options?: DecodeVoiceOptions,
): Promise<Uint8Array>;

/** Audio for encodeVoice(): interleaved PCM samples (Float32Array nominally in -1..1). */
export interface PcmInput {
  pcm: Int16Array | Float32Array;
  /** Samples per second per channel (1000–384000 Hz). */
  sampleRate: number;
  /** Interleaved channels, averaged to mono (1–8; default 1). */
  channels?: number;
}

/** Options of encodeVoice(). */
export interface EncodeVoiceOptions {
  /**
   * 'mp3': MPEG Layer III, mono, 16 kHz for input at 16 kHz and up (else 8 kHz), constant
   * bitrate. 'amr': AMR-NB at 8 kHz (WeChat's voice format), bit-exact with opencore-amrnb's
   * encoder on 8 kHz input (with `dtx: true`, what `sox -t amr-nb -C MODE` writes).
   */
  to: 'mp3' | 'amr';
  /** MP3 bitrate in kbit/s (8–64 in steps of 8). Default: 24 at 8 kHz, 32 at 16 kHz. */
  bitrate?: 8 | 16 | 24 | 32 | 40 | 48 | 56 | 64;
  /** AMR-NB mode, 0 (MR475, 4.75 kbit/s) to 7 (MR122, 12.2 kbit/s, the default). */
  mode?: 0 | 1 | 2 | 3 | 4 | 5 | 6 | 7;
  /**
   * AMR-NB discontinuous transmission (default false): pauses become SID and NO_DATA frames, a
   * smaller file. With it the file is byte for byte what `sox -t amr-nb -C MODE` (opencore-amrnb,
   * which always encodes with DTX) writes for 8 kHz input; without it, what opencore writes with
   * DTX off.
   */
  dtx?: boolean;
}

/**
 * Encodes audio — WAV bytes (PCM 8/16/24/32-bit or float, any rate, mono or stereo,
 * WAVE_FORMAT_EXTENSIBLE too) or raw PCM — to voice WeChat accepts, mixed to mono and resampled
 * in the voice wasm (loaded on the first call). Rejects with a MediaValidationError: 'BAD_AUDIO'
 * (a WAV cut short, sizes past its end, zero channels, an impossible rate), 'UNSUPPORTED_AUDIO'
 * (ADPCM, A-law, RF64, more than 8 channels), 'TOO_LONG' (over 10 minutes); a TypeError for bad
 * arguments.
 */
export declare function encodeVoice(
  input: Uint8Array | ArrayBuffer | Blob | PcmInput,
  options: EncodeVoiceOptions,
): Promise<Uint8Array>;

/** Options of splitVoice(). */
export interface SplitVoiceOptions {
  /** The longest part, in seconds. Default 60 (WeChat's limit for voice). */
  maxSeconds?: number;
  /** The largest part, in bytes. Default 2 MiB (WeChat's limit for voice). */
  maxBytes?: number;
}

/**
 * Splits AMR (`#!AMR`) or MP3 bytes into parts within `maxSeconds` and `maxBytes`, cut on frame
 * boundaries: every frame in exactly one part, in order, each AMR part with its own header (MP3
 * ID3 tags and the Xing/LAME frame go into no part). Rejects with a MediaValidationError:
 * 'BAD_VOICE' for input that is neither or is corrupt, 'BAD_OPTION' when a limit is smaller than
 * one frame.
 */
export declare function splitVoice(
  voice: Uint8Array | ArrayBuffer | Blob,
  options?: SplitVoiceOptions,
): Promise<Uint8Array[]>;

declare module './wxmedia.js' {
  interface MediaFile {
    /**
     * Reads the body and decodes the voice to a WAV file (see decodeVoice): HD Speex when the
     * Content-Type says speex (getHdVoice()), AMR when the bytes start with `#!AMR`. Rejects
     * with a MediaValidationError: 'NOT_VOICE' for other media, 'BAD_VOICE' for corrupt voice.
     */
    wav(): Promise<Uint8Array>;
    /** The same, encoded to MP3 (see decodeVoice's `to: 'mp3'`). */
    mp3(): Promise<Uint8Array>;
  }
}

/**
 * The class of the client's errors named E['name']. The client throws plain Errors with a name
 * and a code (that is what crosses from wasm), so `instanceof` goes by the name: any Error named
 * E['name'] is an instance, and `err instanceof WeChatError` narrows `err` to WeChatError. The
 * constructor makes such an Error, for tests of code that handles them.
 */
export interface ErrorClass<E extends Error> {
  new (message?: string, properties?: Partial<Omit<E, 'name'>>): E;
  readonly prototype: E;
  /** The same test as instanceof. */
  is(value: unknown): value is E;
  [Symbol.hasInstance](value: unknown): value is E;
}

/** The operation was cancelled through its AbortSignal. */
export interface AbortError extends Error {
  name: 'AbortError';
}

export type WeChatError = wasm.WeChatError;
export type MediaValidationError = wasm.MediaValidationError;
export type TimeoutError = wasm.TimeoutError;
export type NetworkError = wasm.NetworkError;

export declare const WeChatError: ErrorClass<wasm.WeChatError>;
export declare const MediaValidationError: ErrorClass<wasm.MediaValidationError>;
export declare const TimeoutError: ErrorClass<wasm.TimeoutError>;
export declare const NetworkError: ErrorClass<wasm.NetworkError>;
export declare const AbortError: ErrorClass<AbortError>;

// ---- message push ---------------------------------------------------------------------------

/** A push could not be handled: its `code` says why. */
export interface PushError extends Error {
  name: 'PushError';
  code:
    | 'BAD_SIGNATURE'
    | 'STALE'
    | 'TOO_LARGE'
    | 'ENTITY'
    | 'MALFORMED'
    | 'BAD_BASE64'
    | 'BAD_PADDING'
    | 'WRONG_APPID'
    | 'BAD_KEY'
    | 'NO_KEY';
}
export declare const PushError: ErrorClass<PushError>;

/** What signs a push: the server configuration's Token, and the query's timestamp and nonce. */
export interface SignatureParts {
  token: string;
  timestamp: string;
  nonce: string;
  /** Safe mode's `Encrypt` value, for `msg_signature`. */
  encrypt?: string;
}

/**
 * Whether `signature` is WeChat's SHA-1 over the Token, timestamp and nonce (and `encrypt`, for
 * `msg_signature`), compared in constant time.
 */
export declare function verifySignature(signature: string, parts: SignatureParts): Promise<boolean>;

/** Options of openMessage(). */
export interface OpenMessageOptions {
  /** The push's query (`signature`, `timestamp`, `nonce`, `encrypt_type`, `msg_signature`, `openid`). */
  query: URLSearchParams | Record<string, string>;
  /** The POST body as received. */
  body: string | Uint8Array;
  /** The Token of the account's server configuration. */
  token: string;
  /** The 43-character EncodingAESKey, for safe and compatible mode. */
  aesKey?: string;
  /** The account's app id: a decrypted message must name it. */
  appId: string;
  /** The clock in seconds (default: now); a timestamp more than 300 s off is STALE. */
  now?: number;
}

/** A verified push. */
export interface PushMessage {
  /** The message's XML in plaintext (decrypted in safe and compatible mode). */
  xml: string;
  mode: 'plain' | 'safe' | 'compat';
  /** Its fields by name (`MsgType`, `MediaId`, nested ones as `ScanCodeInfo/ScanType`). */
  fields: Record<string, string>;
  msgType: string | null;
  /** A string: MsgIds exceed 2^53. */
  msgId: string | null;
  fromUser: string | null;
  createTime: number | null;
  /** The media ids of an image, voice, video or shortvideo message. */
  media: { mediaId: string; role: 'media' | 'thumb' | 'media16k' }[];
  /** What a redelivery of this message is known by (MsgId, or fan + time + event). */
  dedupeKey: string;
}

/**
 * Verifies a push (signature first, then the timestamp, then the XML, decrypted in safe mode
 * with the app id checked) and reads it. Rejects with a PushError for each way a push can be bad.
 */
export declare function openMessage(options: OpenMessageOptions): Promise<PushMessage>;

/** A passive reply sealed in WeChat's envelope (`<xml><Encrypt/><MsgSignature/><TimeStamp/><Nonce/></xml>`). */
export declare function sealReply(
  xml: string,
  options: { token: string; aesKey: string; appId: string; timestamp?: string; nonce?: string },
): Promise<string>;
