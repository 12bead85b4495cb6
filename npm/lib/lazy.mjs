// A wasm module of the package's loaded on first use (the voice decoders, message push): `load`
// instantiates it the way the entry loads the main wasm and resolves to its glue. It is called
// once, and again only if it failed. npm/assemble.mjs also writes this module as lib/lazy.cjs.

/** A function that resolves to the glue `load` gives, loading it on the first call only. */
export function lazy(load) {
  let loading = null;
  return () => {
    if (!loading) {
      loading = Promise.resolve()
        .then(load)
        .catch((err) => {
          loading = null;
          throw err;
        });
    }
    return loading;
  };
}
