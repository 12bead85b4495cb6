// The Worker's entry (wrangler.toml `main`): a thin shell in front of the Rust handler that
// worker-build writes to build/index.js. For each request it asks the wasm for a plan in one
// synchronous call over plain values (HitShell.plan, worker/src/shell.rs: routing, credentials,
// the cache key and every header rule stay in Rust, worker/src/routes/hit.rs), then does only
// the IO of a plain cache hit itself: the memory tier's bytes, or `caches.default.match`, and the
// Response built from the plan's header operations. Everything else — no plan (a miss, an upload,
// a voice rendition, a refusal, another route), a lookup that finds nothing, fails or outlives
// the plan's deadline — goes to the full handler unchanged. The shell adds no rule:
// tests/worker/shell.test.mjs checks that both answer byte for byte alike.
import { DurableObject } from 'cloudflare:workers';
import Handler, { HitShell, PushLog as RustPushLog, TokenHolder } from './build/index.js';

export { TokenHolder };

/**
 * The push log (worker/src/push/log.rs) as a Durable Object that takes Workers RPC: the runtime
 * offers RPC only to classes declared `extends DurableObject`, which worker-build's are not. The
 * Rust object does everything; `ask` (a JSON ask in, a JSON answer out) is what the Worker calls.
 */
export class PushLog extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    this.log = new RustPushLog(ctx, env);
  }

  ask(json) {
    return this.log.ask(json);
  }
}

// A plan's flags (worker/src/shell.rs).
const MEMORY = 1;
const HEAD = 2;
const CARRY_RANGE = 4;
const CARRY_IF_NONE_MATCH = 8;

/** The full handler (worker-build's entrypoint class, which also recovers a trapped instance). */
const handle = (request, env, ctx) => new Handler(ctx, env).fetch(request);

/** The cached response's headers, changed by the plan's operations in order. */
function headersFor(source, ops) {
  const headers = new Headers(source);
  for (let i = 0; i < ops.length; i += 3) {
    const op = ops[i];
    if (op === 's') headers.set(ops[i + 1], ops[i + 2]);
    else if (op === 'a') headers.append(ops[i + 1], ops[i + 2]);
    else headers.delete(ops[i + 1]);
  }
  return headers;
}

/**
 * The cache's answer to the plan's lookup, kept in the memory tier when the plan says so, or
 * `undefined` when it finds nothing, fails, or has not settled within `ms` (the timer is cleared
 * as soon as it settles).
 */
function lookup(key, flags, ms, app, range, ifNoneMatch, env) {
  let asked;
  if ((flags & (CARRY_RANGE | CARRY_IF_NONE_MATCH)) === 0) {
    asked = key;
  } else {
    const headers = new Headers();
    if (flags & CARRY_RANGE) headers.set('range', range);
    if (flags & CARRY_IF_NONE_MATCH) headers.set('if-none-match', ifNoneMatch);
    asked = new Request(key, { headers });
  }
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    const settle = (found) => { clearTimeout(timer); resolve(found); };
    let found = caches.default.match(asked);
    if (flags & MEMORY) found = found.then((hit) => hit && HitShell.keep(env, app, key, hit));
    found.then(settle, () => settle(undefined));
  });
}

export default {
  async fetch(request, env, ctx) {
    const h = request.headers;
    const url = request.url;
    const range = h.get('range');
    const ifNoneMatch = h.get('if-none-match');
    let plan;
    try {
      plan = HitShell.plan(env, request.method, url, range, ifNoneMatch,
        h.get('authorization'), h.get('origin'));
    } catch {
      // The handler meets the same failure, and answers (or recovers) as it does.
      plan = -1;
    }
    if (plan < 0) return handle(request, env, ctx);
    // The plan's number (worker/src/shell.rs): its shape, whether the memory tier holds the
    // media, and where the media id is in the URL.
    const high = Math.floor(plan / 4294967296);
    const shape = HitShell.shape(high >>> 1);
    const flags = shape[0];
    if (high & 1) {
      // The memory tier's bytes, and the client's headers made from them for this shape.
      const held = HitShell.held();
      return new Response(flags & HEAD ? null : held[1], { status: 200, headers: held[0] });
    }
    const key = shape[4] + url.slice((plan >>> 16) & 0xffff, plan & 0xffff) + shape[5];
    let found;
    try {
      found = await lookup(key, flags, shape[1], shape[3], range, ifNoneMatch, env);
    } catch {
      found = undefined;
    }
    if (!found) return handle(request, env, ctx);
    const status = found.status;
    let body = found.body;
    // HEAD has no body; neither has a 304 (a null-body status in the Fetch standard).
    if (flags & HEAD || status === 304) {
      if (body instanceof ReadableStream) body.cancel();
      body = null;
    }
    return new Response(body, { status, headers: headersFor(found.headers, shape[2]) });
  },

  /** The archive Queue's consumer: the full handler's. */
  queue(batch, env, ctx) {
    return new Handler(ctx, env).queue(batch);
  },
};
