// The package outside Node (a Worker, a browser, Deno, Bun): the shared API of web.d.mts.
// types.test.mjs checks it with tsc --noEmit under each of those export conditions.
import {
  AbortError,
  MediaClient,
  MediaFile,
  MediaValidationError,
  NetworkError,
  TimeoutError,
  WeChatError,
  inferMediaType,
  signMediaUrl,
  validateMedia,
  type ErrorClass,
  type MediaClientOptions,
  type MediaType,
  type UploadResult,
  type ValidatedMedia,
  type VideoLink,
} from 'wxmedia';

/** A browser page holds a Worker API key, given as the access token; never the app secret. */
const options: MediaClientOptions = { baseUrl: 'https://media.example.com', accessToken: 'api-key' };
const client = new MediaClient(options);

export async function roundTrip(file: Blob): Promise<Uint8Array | string | null> {
  const type: MediaType | null = await inferMediaType(file);
  if (type === null) return null;
  const checked: ValidatedMedia = await validateMedia(type, file);
  try {
    const up: UploadResult = await client.upload(type, file, { filename: checked.filename });
    const got: MediaFile | VideoLink = await client.get(up.mediaId);
    if (got.kind === 'video') return got.videoUrl;
    const body: ReadableStream<Uint8Array> | undefined = got.body;
    void body;
    return new Uint8Array(await got.arrayBuffer());
  } catch (err) {
    if (err instanceof WeChatError) return `${err.code} ${err.errcode}`;
    if (err instanceof MediaValidationError) return err.code;
    if (TimeoutError.is(err) || NetworkError.is(err) || err instanceof AbortError) return err.name;
    throw err;
  }
}

const guard: ErrorClass<WeChatError> = WeChatError;
export const signed: string = signMediaUrl({ baseUrl: 'https://m.example.com', mediaId: 'x', signingKey: 'k' });
export const made: WeChatError = new guard('x', { errcode: 40007 });
