// Baseline: cache-api-headers.js with the one thing more every wxmedia hit does before its
// answer — a deadline on the cache lookup (a timer raced against it and cleared once it
// settles; past the deadline the request would go elsewhere). The same job as wxmedia's entry,
// written by hand in JavaScript, less the rules (routing, credentials, media-id checks), which
// this Worker does not have.
const DEADLINE_MS = 60_000; // wxmedia's UPSTREAM_TIMEOUT_MS default

function within(ms, work) {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    const settle = (value) => { clearTimeout(timer); resolve(value); };
    work.then(settle, () => settle(undefined));
  });
}

export default {
  async fetch(request, env, ctx) {
    const id = new URL(request.url).pathname.split('/').pop();
    const key = `https://baseline.cache/${id}`;
    const cache = caches.default;
    const hit = await within(DEADLINE_MS, cache.match(key));
    if (hit) {
      const headers = new Headers(hit.headers);
      headers.set('cache-control', 'public, max-age=259200, immutable');
      headers.set('x-cache', 'HIT');
      headers.set('x-cache-source', 'cache');
      headers.set('accept-ranges', 'bytes');
      headers.set('x-content-type-options', 'nosniff');
      headers.delete('cf-cache-status');
      return new Response(hit.body, { status: hit.status, headers });
    }
    const upstream = await fetch(`${env.UPSTREAM_BASE}/cgi-bin/media/get?access_token=${env.TOKEN}&media_id=${id}`);
    const headers = new Headers(upstream.headers);
    headers.set('cache-control', 'public, max-age=259200');
    const response = new Response(upstream.body, { status: upstream.status, headers });
    ctx.waitUntil(cache.put(key, response.clone()));
    return response;
  },
};
