// Types of the wxmedia npm package in Node (the `node` condition): everything of common.d.ts,
// which every entry shares, plus the Node helpers of index.cjs. Shipped as index.d.cts (require)
// and index.d.mts (import). They need no @types/node: paths are `string | URL`.

import * as common from './common.js';
import type { MediaClientOptions, MediaFile, MediaType, UploadOptions, UploadResult, VideoLink } from './wxmedia.js';

export * from './common.js';

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
export declare class MediaClient extends common.MediaClient {
  constructor(options: MediaClientOptions);
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
