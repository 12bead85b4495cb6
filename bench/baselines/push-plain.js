// Baseline for bench/push.mjs: the least a callback endpoint does — check a plaintext push's
// signature (SHA-1 of the sorted Token, timestamp and nonce) and answer `success`. No decryption,
// no deduplication, no archive, no forward: a floor, not a peer.
export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const q = url.searchParams;
    const parts = [env.TOKEN, q.get('timestamp') ?? '', q.get('nonce') ?? ''].sort();
    const digest = await crypto.subtle.digest('SHA-1', new TextEncoder().encode(parts.join('')));
    const hex = [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
    if (hex !== q.get('signature')) return new Response('forbidden', { status: 403 });
    await request.text();
    return new Response('success', { headers: { 'content-type': 'text/plain' } });
  },
};
