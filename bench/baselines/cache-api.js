// Baseline: the least any Worker must do to serve a cached download — one Cache API lookup, and
// on a miss one upstream fetch stored with a rewritten Cache-Control. No auth, no checks.
export default {
  async fetch(request, env, ctx) {
    const id = new URL(request.url).pathname.split('/').pop();
    const key = `https://baseline.cache/${id}`;
    const cache = caches.default;
    const hit = await cache.match(key);
    if (hit) return hit;
    const upstream = await fetch(`${env.UPSTREAM_BASE}/cgi-bin/media/get?access_token=${env.TOKEN}&media_id=${id}`);
    const headers = new Headers(upstream.headers);
    headers.set('cache-control', 'public, max-age=259200');
    const response = new Response(upstream.body, { status: upstream.status, headers });
    ctx.waitUntil(cache.put(key, response.clone()));
    return response;
  },
};
