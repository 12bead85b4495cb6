// MediaClient as every entry exports it: the wasm class with its media-id arguments checked
// before they cross into wasm. wasm-bindgen's generated code trusts a `String` parameter to be a
// string: a number there ends in "RuntimeError: memory access out of bounds", undefined in an
// unrelated TypeError. Here they reject with a TypeError that says what was wrong, like the
// client's other argument errors. (Once src/js.rs checks its arguments itself, this can go.)
// npm/assemble.mjs also writes this module as lib/client.cjs for the Node entry.

function checkId(mediaId) {
  if (typeof mediaId === 'string') return null;
  const what = mediaId === null ? 'null' : typeof mediaId;
  return Promise.reject(new TypeError(`mediaId must be a string, not ${what}`));
}

/** A subclass of the wasm MediaClient `Base` whose methods check their arguments first. */
export function checkedClient(Base) {
  return class MediaClient extends Base {
    get(mediaId, options) {
      return checkId(mediaId) || super.get(mediaId, options);
    }

    getHdVoice(mediaId, options) {
      return checkId(mediaId) || super.getHdVoice(mediaId, options);
    }
  };
}
