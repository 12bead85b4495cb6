// The Cloudflare Workers entry (the `workerd` condition): wrangler bundles the wasm file as a
// compiled WebAssembly.Module, instantiated synchronously when the Worker starts. No fs, no
// nodejs_compat.
import { initSync } from './wxmedia.mjs';
import wasmModule from './wxmedia_bg.wasm';
import { initSync as initVoiceSync } from './voice.mjs';
import * as voiceGlue from './voice.mjs';
import voiceModule from './voice_bg.wasm';
import { MediaClient, MediaFile } from './wxmedia.mjs';
import { installUploadVoice, installWav, voiceApi } from './lib/voice.mjs';
import { initSync as initPushSync } from './push.mjs';
import * as pushGlue from './push.mjs';
import pushModule from './push_bg.wasm';
import { pushApi } from './lib/push.mjs';

initSync({ module: wasmModule });

export * from './lib/api.mjs';
export { AbortError, MediaValidationError, NetworkError, TimeoutError, WeChatError } from './lib/errors.mjs';

// The voice codecs (decodeVoice(), MediaFile.wav(), encodeVoice(), splitVoice(), MediaClient.uploadVoice()): their own wasm, bundled by wrangler as a
// compiled module like the core's, instantiated on the first call only.
const voice = voiceApi(() => {
  initVoiceSync({ module: voiceModule });
  return voiceGlue;
});
installWav(MediaFile, voice.wav, voice.mp3);
installUploadVoice(MediaClient, voice.uploadVoice);
export const decodeVoice = voice.decodeVoice;
export const encodeVoice = voice.encodeVoice;
export const splitVoice = voice.splitVoice;

// Message push: its own wasm, instantiated on the first call.
export const { verifySignature, openMessage, sealReply } = pushApi(() => {
  initPushSync({ module: pushModule });
  return pushGlue;
});
export { PushError } from './lib/errors.mjs';
