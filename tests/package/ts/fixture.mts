// Uses every type and value the package exports, as an ES module. types.test.mjs checks it with
// tsc --noEmit (node16, nodenext, bundler), then compiles it and runs it against the emulator:
// the declarations must say what the code does. No @types/node: only DOM and ES globals.

import {
  AbortError,
  MediaClient,
  MediaFile,
  MediaValidationError,
  NetworkError,
  PushError,
  TimeoutError,
  WeChatError,
  decodeVoice,
  encodeVoice,
  inferMediaType,
  openMedia,
  openMessage,
  saveMedia,
  sealReply,
  signMediaUrl,
  splitVoice,
  validateMedia,
  verifySignature,
  type DecodeVoiceOptions,
  type EncodeVoiceOptions,
  type PcmInput,
  type SplitVoiceOptions,
  type OpenMessageOptions,
  type PushMessage,
  type SignatureParts,
  type ErrorClass,
  type GetOptions,
  type MediaClientOptions,
  type MediaType,
  type OpenMediaOptions,
  type SaveOptions,
  type SavedMedia,
  type SignMediaUrlOptions,
  type TransferProgress,
  type UploadOptions,
  type UploadResult,
  type UploadVoiceOptions,
  type ValidatedMedia,
  type VoiceUploadResult,
  type VideoLink,
} from 'wxmedia';

declare const process: { env: Record<string, string | undefined>; exitCode: number | undefined };

function check(ok: boolean, what: string): asserts ok {
  if (!ok) throw new Error(`fixture: ${what}`);
}

/** What a caller does with the typed errors: each branch narrows to its own fields. */
export function describe(err: unknown): string {
  if (err instanceof WeChatError) {
    const code: number = err.errcode;
    const msg: string = err.errmsg;
    const hint: string | null = err.hint;
    const rid: string | null = err.rid;
    const what: string | null = err.description;
    const tag: 'WECHAT' = err.code;
    return `${tag} ${code} ${msg} ${hint ?? ''} ${rid ?? ''} ${what ?? ''}`;
  }
  if (err instanceof MediaValidationError) {
    const code:
      | 'TOO_LARGE' | 'BAD_FORMAT' | 'EMPTY' | 'BAD_TYPE' | 'BAD_MEDIA_ID' | 'BAD_VOICE' | 'NOT_VOICE'
      | 'BAD_AUDIO' | 'UNSUPPORTED_AUDIO' | 'TOO_LONG' | 'BAD_OPTION' = err.code;
    return code;
  }
  if (err instanceof TimeoutError) {
    const code: 'TIMEOUT' = err.code;
    return code;
  }
  if (NetworkError.is(err)) {
    const status: number | undefined = err.status;
    const code: 'NETWORK' | 'HTTP' | 'PARSE' = err.code;
    return `${code} ${status ?? ''}`;
  }
  if (err instanceof AbortError) {
    const name: 'AbortError' = err.name;
    return name;
  }
  return String(err);
}

const jpeg = new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 0, 0x10, 0x4a, 0x46, 0x49, 0x46, 0, 1, 7, 7, 0xff, 0xd9]);
// '#!AMR\n' and three whole 20 ms frames of mode 7 (a header byte 0x3c and 31 bytes each).
const amr = new Uint8Array([0x23, 0x21, 0x41, 0x4d, 0x52, 0x0a, ...Array.from({ length: 3 * 32 }, (_, i) => (i % 32 === 0 ? 0x3c : 0x55))]);

async function main(): Promise<void> {
  const baseUrl = process.env.EMULATOR_URL;
  const dir = process.env.FIXTURE_DIR;
  check(baseUrl !== undefined && dir !== undefined, 'EMULATOR_URL and FIXTURE_DIR are set');

  const options: MediaClientOptions = {
    appId: 'wx0000000000000001',
    appSecret: 'emulator-secret',
    tokenMode: 'stable',
    baseUrl,
    timeoutMs: 20_000,
    tokenTimeoutMs: 5_000,
    maxRetries: 2,
    limits: { image: 10 * 1024 * 1024, thumb: 64 * 1024 },
  };
  const client = new MediaClient(options);
  const withToken = new MediaClient({ accessToken: await client.accessToken(), baseUrl });
  const withProvider = new MediaClient({ getAccessToken: () => client.accessToken(), baseUrl });

  const types: MediaType[] = ['image', 'voice', 'video', 'thumb'];
  check(types.length === 4, 'four media types');

  const uploadOptions: UploadOptions = { filename: 'photo.jpg', contentType: 'image/jpeg', signal: new AbortController().signal };
  const up: UploadResult = await client.upload('image', jpeg, uploadOptions);
  const again: UploadResult = await withToken.upload('image', new Blob([jpeg]));
  check(up.type === 'image' && typeof again.createdAt === 'number', 'uploads resolve to UploadResult');

  const getOptions: GetOptions = { signal: AbortSignal.timeout(20_000) };
  const got: MediaFile | VideoLink = await withProvider.get(up.mediaId, getOptions);
  check(got.kind === 'media', 'an image is a MediaFile');
  const file: MediaFile = got;
  check(file instanceof MediaFile, 'MediaFile is the class');
  const contentType: string = file.contentType;
  // Message push: a reply sealed and opened again, a forged signature a PushError.
  const aesKey = 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG';
  const sealed: string = await sealReply('<xml><Content><![CDATA[hi]]></Content></xml>', { token: 'tok', aesKey, appId: 'wxA' });
  const part = (name: string): string => new RegExp(`<${name}>(?:<!\\[CDATA\\[)?([^<\\]]*)`).exec(sealed)?.[1] ?? '';
  const parts: SignatureParts = { token: 'tok', timestamp: part('TimeStamp'), nonce: part('Nonce'), encrypt: part('Encrypt') };
  const signed: boolean = await verifySignature(part('MsgSignature'), parts);
  const pushOpen: OpenMessageOptions = {
    query: { timestamp: parts.timestamp, nonce: parts.nonce, encrypt_type: 'aes', msg_signature: part('MsgSignature') },
    body: sealed,
    token: 'tok',
    aesKey,
    appId: 'wxA',
  };
  const opened: PushMessage = await openMessage(pushOpen);
  check(signed && opened.mode === 'safe' && opened.fields.Content === 'hi' && opened.media.length === 0, 'push round trip');
  const forged = await openMessage({ ...pushOpen, query: { ...pushOpen.query, msg_signature: 'x' } }).catch((e: unknown) => e);
  check(forged instanceof PushError && forged.code === 'BAD_SIGNATURE', 'a forged push is a PushError');
  // Voice: decodeVoice() and MediaFile.wav() resolve to WAV bytes.
  const decodeOptions: DecodeVoiceOptions = { format: 'speex' };
  const toWav: (f: MediaFile) => Promise<Uint8Array> = (f) => f.wav();
  const toMp3: (f: MediaFile) => Promise<Uint8Array> = (f) => f.mp3();
  check(typeof toMp3 === 'function', 'mp3() is typed');
  const decode: (v: Blob, o?: DecodeVoiceOptions) => Promise<Uint8Array> = decodeVoice;
  check(typeof toWav === 'function' && typeof decode === 'function' && decodeOptions.format === 'speex', 'voice types');
  // encodeVoice() from PCM to MP3 and to AMR; splitVoice() of it; uploadVoice() of the PCM.
  const pcmIn: PcmInput = { pcm: new Float32Array(16000).map((_, i) => Math.sin(i / 10) / 4), sampleRate: 16000 };
  const encodeOptions: EncodeVoiceOptions = { to: 'mp3', bitrate: 32 };
  const encoded: Uint8Array = await encodeVoice(pcmIn, encodeOptions);
  const splitOptions: SplitVoiceOptions = { maxSeconds: 0.5 };
  const voiceParts: Uint8Array[] = await splitVoice(encoded, splitOptions);
  check(encoded[0] === 0xff && voiceParts.length >= 2, 'encodeVoice and splitVoice');
  const amrOut: Uint8Array = await encodeVoice(pcmIn, { to: 'amr', mode: 7, dtx: false });
  check(String.fromCharCode(...amrOut.subarray(0, 6)) === '#!AMR\n' && amrOut.length === 6 + 50 * 32, 'encodeVoice to AMR (MR122)');
  const uploadVoiceOptions: UploadVoiceOptions = { mode: 7, dtx: false, maxSeconds: 0.5, filename: 'reply.wav', split: true };
  const voiceUps: VoiceUploadResult[] = await client.uploadVoice(pcmIn, uploadVoiceOptions);
  check(
    voiceUps.length === 2 && voiceUps.every((u, i) => u.type === 'voice' && u.format === 'amr' && u.encoded && u.part === i && u.parts === 2 && u.seconds === 0.5),
    'uploadVoice: one answer per part',
  );
  const asIs: VoiceUploadResult[] = await client.uploadVoice(amrOut);
  check(asIs.length === 1 && !asIs[0].encoded && asIs[0].size === amrOut.length && typeof asIs[0].mediaId === 'string', 'uploadVoice of AMR');
  const tooLong = await client.uploadVoice(amrOut, { split: false, maxSeconds: 0.5 }).catch((e: unknown) => e);
  check(tooLong instanceof MediaValidationError && tooLong.code === 'TOO_LONG', 'uploadVoice with split: false refuses what is too long');
  const filename: string | undefined = file.filename;
  const length: number | undefined = file.contentLength;
  check(contentType === 'image/jpeg' && filename !== undefined && length === jpeg.length, 'MediaFile metadata');
  const body: ReadableStream<Uint8Array> = file.body;
  const reader = body.getReader();
  let read = 0;
  for (;;) {
    const chunk = await reader.read();
    if (chunk.done) break;
    read += chunk.value.length;
  }
  check(read === jpeg.length && file.bodyUsed, 'the body streams');

  const validated: ValidatedMedia = await validateMedia('image', jpeg, { filename: 'x.png', limits: { image: 1000 } });
  check(validated.filename === 'x.jpg' && validated.format === 'jpeg' && validated.size === jpeg.length, 'validateMedia');
  const plain: ValidatedMedia = await validateMedia('voice', new Blob([amr]));
  check(plain.type === 'voice' && plain.format === 'amr', 'validateMedia without options');
  const inferred: MediaType | null = await inferMediaType(amr);
  check(inferred === 'voice', 'inferMediaType');

  const signOptions: SignMediaUrlOptions = {
    baseUrl: 'https://media.example.com/',
    mediaId: 'abc',
    signingKey: 'test-signing-key',
    expiresIn: 400,
    hdVoice: false,
    now: 600,
  };
  const url: string = signMediaUrl(signOptions);
  check(url === 'https://media.example.com/media/abc?exp=1000&sig=5eK_XYOJuZ0ywcCfPhkzkvdzqQFuKKzAiWvuM7RMHqQ', 'signMediaUrl');

  const progress: TransferProgress[] = [];
  const saveOptions: SaveOptions = { onProgress: (p) => progress.push(p) };
  const saved: SavedMedia = await client.download(up.mediaId, `${dir}/copy.jpg`, saveOptions);
  check(saved.kind === 'media' && saved.bytes === jpeg.length && saved.contentType === 'image/jpeg', 'download');
  check(progress.length > 0 && progress[progress.length - 1].bytes === jpeg.length, 'progress');

  const openOptions: OpenMediaOptions = { type: 'image/jpeg' };
  const blob: Blob = await openMedia(saved.path, openOptions);
  check(blob.size === jpeg.length, 'openMedia');
  const byPath: UploadResult = await client.uploadFile('image', new URL(`file://${saved.path}`), { filename: 'again.jpg' });
  const second = await client.get(byPath.mediaId);
  check(second.kind === 'media', 'uploaded by path');
  const copied: SavedMedia = await saveMedia(second, `${dir}/copy2.jpg`);
  check(copied.filename !== null && copied.videoUrl === undefined, 'saveMedia');

  const voice = await client.uploadFile('voice', saved.path).catch((e: unknown) => e);
  check(describe(voice) === 'BAD_FORMAT', 'a JPEG is not a voice');
  const note = await client.upload('voice', amr, { filename: 'note.amr' });
  const hd: MediaFile = await client.getHdVoice(note.mediaId);
  check(hd.contentType === 'voice/speex', 'getHdVoice');
  await hd.arrayBuffer();
  const hdSaved: SavedMedia = await client.downloadHdVoice(note.mediaId, `${dir}/note.speex`);
  check(hdSaved.bytes > 0, 'downloadHdVoice');
  const hdWav: Uint8Array = await (await client.getHdVoice(note.mediaId)).wav();
  // Each 20 ms AMR frame is 160 samples of 16 bits after the 44-byte header.
  const amrWav: Uint8Array = await decodeVoice(amr);
  check(hdWav.length > 44 && amrWav.length > 44 && (amrWav.length - 44) % 320 === 0, 'wav() and decodeVoice');

  const missing = await client.get('no-such-media-id').catch((e: unknown) => e);
  check(missing instanceof WeChatError && missing.errcode === 40007, 'a WeChatError for an unknown id');
  const aborted = await client.get(up.mediaId, { signal: AbortSignal.abort() }).catch((e: unknown) => e);
  check(describe(aborted) === 'AbortError', 'an AbortError when aborted');

  const classes: Array<ErrorClass<WeChatError> | ErrorClass<MediaValidationError> | ErrorClass<TimeoutError> | ErrorClass<NetworkError> | ErrorClass<AbortError>> = [
    WeChatError,
    MediaValidationError,
    TimeoutError,
    NetworkError,
    AbortError,
  ];
  check(classes.every((c) => c.is(new c('made'))), 'the error classes construct what they recognise');
  const made: WeChatError = new WeChatError('made', { errcode: 45009, errmsg: 'quota' });
  const refused: MediaValidationError = new MediaValidationError('refused', { code: 'EMPTY' });
  const late: TimeoutError = new TimeoutError();
  const lost: NetworkError = new NetworkError('lost', { code: 'HTTP', status: 502 });
  const stopped: AbortError = new AbortError();
  check(
    describe(made).startsWith('WECHAT 45009') && describe(refused) === 'EMPTY' && describe(late) === 'TIMEOUT' &&
      describe(lost) === 'HTTP 502' && describe(stopped) === 'AbortError',
    'constructed errors',
  );

  client.free();
  console.log('fixture ok');
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
