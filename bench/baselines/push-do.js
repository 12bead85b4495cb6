// Baseline for bench/push.mjs: a hand-written JS Worker doing the part of the wxmedia callback
// that costs most — check a plaintext push's signature, then record the push exactly once in a
// SQLite-backed Durable Object (INSERT OR IGNORE by its nonce, which bench/push.mjs makes unique
// per push) — and answer `success`. No decryption, XML or archive: a peer for the dedupe's cost.
import { DurableObject } from 'cloudflare:workers';

export class Log extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    ctx.storage.sql.exec('CREATE TABLE IF NOT EXISTS pushes (key TEXT PRIMARY KEY, at INTEGER NOT NULL)');
  }

  async fetch(request) {
    const { key } = await request.json();
    const cursor = this.ctx.storage.sql.exec('INSERT OR IGNORE INTO pushes (key, at) VALUES (?, ?)', key, Date.now());
    return Response.json({ state: cursor.rowsWritten ? 'new' : 'seen' });
  }
}

export default {
  async fetch(request, env) {
    const q = new URL(request.url).searchParams;
    const parts = [env.TOKEN, q.get('timestamp') ?? '', q.get('nonce') ?? ''].sort();
    const digest = await crypto.subtle.digest('SHA-1', new TextEncoder().encode(parts.join('')));
    const hex = [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
    if (hex !== q.get('signature')) return new Response('forbidden', { status: 403 });
    await request.text();
    const log = env.LOG.get(env.LOG.idFromName('app'));
    const r = await log.fetch('https://log/', { method: 'POST', body: JSON.stringify({ key: q.get('nonce') + q.get('timestamp') }) });
    await r.json();
    return new Response('success', { headers: { 'content-type': 'text/plain' } });
  },
};
