// Types of the wxmedia npm package: the wasm client's declarations (./wxmedia.js, written by
// wasm-pack from src/js.rs) and the Node helpers of index.cjs. Shipped as index.d.cts (require)
// and index.d.mts (import). They name only globals of Node 18+ and of the DOM library (Blob,
// ReadableStream, AbortSignal, URL), so they need no @types/node. wasm-bindgen's classes declare
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

/** How far a download has got. `total` is the announced length, or null. */
export interface TransferProgress {
  bytes: number;
  total: number | null;
}

/** Options of download(), downloadHdVoice() and saveMedia(). */
export interface SaveOptions {
  /** Aborts the call; the partial file is removed and the call rejects with an AbortError. */
  signal?: AbortSignal;
  /** Called as bytes arrive (first with bytes 0). */
  onProgress?: (progress: TransferProgress) => void;
}

/** What download(), downloadHdVoice() and saveMedia() resolve to. */
export interface SavedMedia {
  /** 'video' when WeChat answered with a video URL and the video was fetched from it. */
  kind: 'media' | 'video';
  /** Where the file was written (complete: it is renamed there only once every byte arrived). */
  path: string;
  /** Bytes written. */
  bytes: number;
  contentType: string | null;
  /** The filename WeChat gave, or null (always null for videos). */
  filename: string | null;
  /** For kind 'video': the URL the video was fetched from. */
  videoUrl?: string;
}

/** Options of openMedia(). */
export interface OpenMediaOptions {
  /** The Blob's type. */
  type?: string;
}

/** The client of WeChat's temporary-media API, with Node helpers for files. */
// upload/get/getHdVoice are declared again so that `options` is optional (wasm-bindgen declares
// it as a required `… | undefined`).
export declare class MediaClient extends wasm.MediaClient {
  constructor(options: MediaClientOptions);
  upload(type: MediaType, media: Blob | Uint8Array | ArrayBuffer, options?: UploadOptions): Promise<UploadResult>;
  get(mediaId: string, options?: GetOptions): Promise<MediaFile | VideoLink>;
  getHdVoice(mediaId: string, options?: GetOptions): Promise<MediaFile>;
  /**
   * Uploads the file at `path`, read from disk as it is sent (fs.openAsBlob). The filename sent
   * defaults to the file's base name. Rejects with Node's fs errors (ENOENT…) for a missing file.
   */
  uploadFile(type: MediaType, path: string | URL, options?: UploadOptions): Promise<UploadResult>;
  /**
   * Downloads media to `path` by streaming, through a temporary file renamed once complete.
   * For a video, WeChat's URL is fetched (it needs no token).
   */
  download(mediaId: string, path: string | URL, options?: SaveOptions): Promise<SavedMedia>;
  /** Downloads a JSSDK voice recording (speex) to `path`, like download(). */
  downloadHdVoice(mediaId: string, path: string | URL, options?: SaveOptions): Promise<SavedMedia>;
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

/**
 * A Blob backed by the file at `path`, for upload(). Uses fs.openAsBlob (Node 19.8+), so the
 * file is read as it is sent; without it, files of at most 20 MiB are read into memory and bigger
 * ones rejected with a MediaValidationError ('TOO_LARGE').
 */
export declare function openMedia(path: string | URL, options?: OpenMediaOptions): Promise<Blob>;

/**
 * Writes a MediaFile (or a video link, fetched) to `path` by streaming, through a temporary file
 * renamed once complete; on failure nothing is left at `path`.
 */
export declare function saveMedia(media: MediaFile | VideoLink, path: string | URL, options?: SaveOptions): Promise<SavedMedia>;

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
