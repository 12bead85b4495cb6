// The Worker for bench/worker-plan.mjs: each request asks the wasm for its hit plan
// (HitShell.plan, as worker/shell.mjs does) as many times as its `x-n` header says, and answers
// a few bytes. The CPU of n plans, less that of none, over n, is what one plan costs.
import { HitShell, PushLog, TokenHolder } from '../../worker/build/index.js';

export { PushLog, TokenHolder };

export default {
  fetch(request, env) {
    const n = Number(request.headers.get('x-n') || 0);
    const h = request.headers;
    let plan;
    for (let i = 0; i < n; i++) {
      plan = HitShell.plan(env, request.method, request.url, h.get('range'), h.get('if-none-match'),
        h.get('authorization'), h.get('origin'));
    }
    return new Response(n ? String(plan) : 'none');
  },
};
