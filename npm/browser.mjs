// The browser entry (the `browser` condition): the wasm file is fetched from next to this module.
// Vite, webpack and Parcel see `new URL('./wxmedia_bg.wasm', import.meta.url)` and emit the file
// as an asset; esbuild leaves it as is, so copy wxmedia_bg.wasm next to the bundle. Over static
// files (a <script type="module"> and an import map) it is fetched from the package directory.
import init from './wxmedia.mjs';
import initVoice, * as voiceGlue from './voice.mjs';
import { MediaClient, MediaFile } from './wxmedia.mjs';
import { installUploadVoice, installWav, voiceApi } from './lib/voice.mjs';
import initPush, * as pushGlue from './push.mjs';
import { pushApi } from './lib/push.mjs';

await init({ module_or_path: new URL('./wxmedia_bg.wasm', import.meta.url) });

export * from './lib/api.mjs';
export { AbortError, MediaValidationError, NetworkError, TimeoutError, WeChatError } from './lib/errors.mjs';

// The voice codecs (decodeVoice(), MediaFile.wav(), encodeVoice(), splitVoice(), MediaClient.uploadVoice()): their own wasm, fetched from next to
// this module like the core's, on the first call only.
const voice = voiceApi(async () => {
  await initVoice({ module_or_path: new URL('./voice_bg.wasm', import.meta.url) });
  return voiceGlue;
});
installWav(MediaFile, voice.wav, voice.mp3);
installUploadVoice(MediaClient, voice.uploadVoice);
export const decodeVoice = voice.decodeVoice;
export const encodeVoice = voice.encodeVoice;
export const splitVoice = voice.splitVoice;

// Message push: its own wasm, fetched from next to this module on the first call.
export const { verifySignature, openMessage, sealReply } = pushApi(async () => {
  await initPush({ module_or_path: new URL('./push_bg.wasm', import.meta.url) });
  return pushGlue;
});
export { PushError } from './lib/errors.mjs';
