// The Cloudflare Workers entry (the `workerd` condition): wrangler bundles the wasm file as a
// compiled WebAssembly.Module, instantiated synchronously when the Worker starts. No fs, no
// nodejs_compat.
import { initSync } from './wxmedia.mjs';
import wasmModule from './wxmedia_bg.wasm';

initSync({ module: wasmModule });

export * from './lib/api.mjs';
export { AbortError, MediaValidationError, NetworkError, TimeoutError, WeChatError } from './lib/errors.mjs';
