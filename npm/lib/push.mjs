// WeChat's message push for every entry of the package: verifySignature(), openMessage() and
// sealReply(), over the same pure Rust the wxmedia Worker's callback endpoint runs (signatures,
// safe mode's AES envelope with WeChat's 32-byte padding — which WebCrypto's AES-CBC refuses —
// and message XML read without expanding anything). The code lives in a wasm file of its own
// (push_bg.wasm), loaded on the first call. Each entry passes `load`, which instantiates it the
// way the entry loads the main wasm and resolves to its glue. npm/assemble.mjs also writes this
// module as lib/push.cjs for the Node entry.

import { makeError } from './errors.mjs';
import { lazy } from './lazy.mjs';

/** verifySignature, openMessage and sealReply for an entry; `load()` is called once. */
export function pushApi(load) {
  const glue = lazy(load);
  // The wasm throws Errors named PushError with a code; anything else (a TypeError for a bad
  // option) goes through as it is.
  const call = async (f) => {
    const push = await glue();
    try {
      return f(push);
    } catch (err) {
      if (err && err.name === 'PushError') throw makeError('PushError', err.code, err.message);
      throw err;
    }
  };

  /** Whether `signature` is WeChat's over the Token, timestamp, nonce (and `encrypt`). */
  function verifySignature(signature, { token, timestamp, nonce, encrypt } = {}) {
    for (const [k, v] of Object.entries({ signature, token, timestamp, nonce })) {
      if (typeof v !== 'string') throw new TypeError(`${k} must be a string`);
    }
    if (encrypt != null && typeof encrypt !== 'string') throw new TypeError('encrypt must be a string');
    return call((push) => push.verifySignature(signature, token, timestamp, nonce, encrypt ?? undefined));
  }

  /** A push verified and read: `{query, body, token, aesKey?, appId, now?}` → the message. */
  function openMessage(options) {
    return call((push) => push.openMessage(options));
  }

  /** A passive reply sealed in WeChat's envelope: `sealReply(xml, {token, aesKey, appId})`. */
  function sealReply(xml, options) {
    if (typeof xml !== 'string') throw new TypeError('the reply must be a string of XML');
    return call((push) => push.sealReply(xml, options));
  }

  return { verifySignature, openMessage, sealReply };
}
