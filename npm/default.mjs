// The entry for Deno, Bun and any other runtime (the `deno`, `bun` and `default` conditions): an
// ES module that needs nothing Node-specific. The wasm file next to this module is read with
// fetch (Deno and Bun fetch file: URLs; anything served over HTTP works too), or, where fetch
// refuses file: URLs, with the runtime's fs found through process.getBuiltinModule (no import of
// fs that would break a bundle).
import init from './wxmedia.mjs';
import initVoice, * as voiceGlue from './voice.mjs';
import { MediaClient, MediaFile } from './wxmedia.mjs';
import { installUploadVoice, installWav, voiceApi } from './lib/voice.mjs';
import initPush, * as pushGlue from './push.mjs';
import { pushApi } from './lib/push.mjs';

async function wasmBytes(url) {
  try {
    const res = await fetch(url);
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    return await res.arrayBuffer();
  } catch (err) {
    const fs = url.protocol === 'file:' && globalThis.process?.getBuiltinModule?.('fs');
    if (fs) return fs.readFileSync(url);
    throw new Error(`wxmedia: cannot load ${url}: ${err && err.message ? err.message : err}`);
  }
}

await init({ module_or_path: await wasmBytes(new URL('./wxmedia_bg.wasm', import.meta.url)) });

export * from './lib/api.mjs';
export { AbortError, MediaValidationError, NetworkError, TimeoutError, WeChatError } from './lib/errors.mjs';

// The voice codecs (decodeVoice(), MediaFile.wav(), encodeVoice(), splitVoice(), MediaClient.uploadVoice()): their own wasm, read like the core's, on
// the first call only.
const voice = voiceApi(async () => {
  await initVoice({ module_or_path: await wasmBytes(new URL('./voice_bg.wasm', import.meta.url)) });
  return voiceGlue;
});
installWav(MediaFile, voice.wav, voice.mp3);
installUploadVoice(MediaClient, voice.uploadVoice);
export const decodeVoice = voice.decodeVoice;
export const encodeVoice = voice.encodeVoice;
export const splitVoice = voice.splitVoice;

// Message push: its own wasm, read like the core's on the first call.
export const { verifySignature, openMessage, sealReply } = pushApi(async () => {
  await initPush({ module_or_path: await wasmBytes(new URL('./push_bg.wasm', import.meta.url)) });
  return pushGlue;
});
export { PushError } from './lib/errors.mjs';
