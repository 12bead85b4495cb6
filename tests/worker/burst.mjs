// Bursts of cold downloads and uploads against a Worker, as an attacker or a busy day sends them:
// each round, `concurrency` concurrent GETs of 1 MB media over `ids` ids nobody has asked for yet
// (so every id is a fill that many requests wait on), beside `uploads` concurrent 2 MB uploads
// through the Worker. Every request must be answered (200 with every byte, or a 504 at the
// deadline): none may hang. Used by burst.test.mjs (plain workerd and `wrangler dev`) and by
// burst-soak.mjs (the same, repeated, to find a rare hang).
import { jpeg, API_KEY } from './harness.mjs';

const auth = { authorization: `Bearer ${API_KEY}` };

/**
 * Runs the rounds; resolves to { total, ok, timeouts, unanswered: [...], slowestMs }.
 * `patienceMs`: how long a request may go without its whole answer before it counts as unanswered.
 */
export async function burst(w, emu, { rounds = 4, ids = 20, concurrency = 200, uploads = 20, size = 1 << 20, patienceMs, seed = 0 }) {
  const outcomes = [];
  const token = await emu.token();
  for (let round = 0; round < rounds; round++) {
    // Fresh ids each round: every download starts cold.
    const fresh = [];
    for (let i = 0; i < ids; i++) {
      const form = new FormData();
      form.append('media', new Blob([jpeg(size, seed + round * ids + i)]), `b${i}.jpg`);
      const r = await fetch(`${emu.url}/cgi-bin/media/upload?access_token=${token}&type=image`, { method: 'POST', body: form });
      const json = await r.json();
      if (!json.media_id) throw new Error(`upload to the emulator failed: ${JSON.stringify(json)}`);
      fresh.push(json.media_id);
    }
    const started = Date.now();
    const timed = async (what, call) => {
      let headersMs = null;
      let status = null;
      try {
        const r = await call(AbortSignal.timeout(patienceMs));
        headersMs = Date.now() - started;
        status = r.status;
        const body = await r.arrayBuffer();
        const text = r.status >= 400 ? Buffer.from(body).toString('utf8', 0, 300) : undefined;
        return { what, status: r.status, size: body.byteLength, headersMs, ms: Date.now() - started, text };
      } catch (e) {
        // headersMs null: no answer at all; else the body never ended.
        return { what, status: 'unanswered', headStatus: status, headersMs, error: String(e), ms: Date.now() - started };
      }
    };
    const gets = Array.from({ length: concurrency }, (_, k) => timed(`GET ${k % ids}`, (signal) =>
      fetch(`${w.url}/media/${fresh[k % ids]}`, { headers: auth, signal })));
    const posts = Array.from({ length: uploads }, (_, k) => timed(`POST ${k}`, (signal) => {
      const form = new FormData();
      form.append('media', new Blob([jpeg(2 << 20, 1000 + seed + round * uploads + k)]), `u${k}.jpg`);
      return fetch(`${w.url}/media?type=image`, { method: 'POST', headers: auth, body: form, signal });
    }));
    outcomes.push(...await Promise.all([...gets, ...posts]));
  }
  const bad = outcomes.filter((o) => o.status !== 'unanswered' && !(
    (o.what.startsWith('GET') && o.status === 200 && o.size === size)
    || (o.what.startsWith('POST') && o.status === 201)
    || o.status === 504));
  return {
    total: outcomes.length,
    ok: outcomes.filter((o) => o.status === 200 || o.status === 201).length,
    timeouts: outcomes.filter((o) => o.status === 504).length,
    unanswered: outcomes.filter((o) => o.status === 'unanswered'),
    wrong: bad,
    slowestMs: Math.max(...outcomes.map((o) => o.ms)),
  };
}
