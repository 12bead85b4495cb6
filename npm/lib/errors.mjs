// The client's error classes, the same in every entry of the package (Node, Workers, browsers,
// Deno, Bun). The wasm client throws plain `Error`s with a `name` and a `code` (that is what
// crosses from wasm), so `instanceof` goes by the name: any Error named `WeChatError` is a
// `WeChatError`, whichever copy of this module (or realm) made it. Constructing one gives such an
// Error too, for callers' own tests. npm/assemble.mjs also writes this module as lib/errors.cjs
// for the Node entry.

/** An Error shaped like the ones the wasm client throws (`name`, `code`, extra properties). */
export function makeError(name, code, message, extra) {
  const err = new Error(message);
  err.name = name;
  err.code = code;
  if (extra) Object.assign(err, extra);
  return err;
}

/** A class for the client's errors named `name`; `instanceof` and `is()` test the name. */
export function errorClass(name, defaultCode) {
  const test = (value) => value instanceof Error && value.name === name;
  return {
    [name]: class extends Error {
      constructor(message, properties) {
        super(message === undefined ? name : message);
        this.name = name;
        if (defaultCode !== undefined) this.code = defaultCode;
        if (properties) Object.assign(this, properties);
      }

      static is(value) {
        return test(value);
      }

      static [Symbol.hasInstance](value) {
        return test(value);
      }
    },
  }[name];
}

export const WeChatError = errorClass('WeChatError', 'WECHAT');
export const MediaValidationError = errorClass('MediaValidationError');
export const TimeoutError = errorClass('TimeoutError', 'TIMEOUT');
export const NetworkError = errorClass('NetworkError', 'NETWORK');
export const AbortError = errorClass('AbortError', 'CANCELLED');
export const PushError = errorClass('PushError');
