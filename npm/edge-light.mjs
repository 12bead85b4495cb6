// The Vercel Edge / Next.js middleware entry (the `edge-light` condition): those bundlers import a
// wasm file as a compiled WebAssembly.Module with the `?module` suffix.
import { initSync } from './wxmedia.mjs';
import wasmModule from './wxmedia_bg.wasm?module';

initSync({ module: wasmModule });

export * from './lib/api.mjs';
export { AbortError, MediaValidationError, NetworkError, TimeoutError, WeChatError } from './lib/errors.mjs';
