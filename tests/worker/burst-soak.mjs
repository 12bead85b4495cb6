// The burst of burst.test.mjs, repeated: hunts a rare hang (a request that never gets its
// answer) in plain workerd or under `wrangler dev`. Not a test file: run by hand, after
// `make worker` and `cargo build -p wxmedia-emulator`:
//
//   node tests/worker/burst-soak.mjs [runs=7] [workerd|wrangler|plain|both]
//
// `plain` runs fixtures/plain-proxy.js (a few lines of JavaScript, no wasm) under `wrangler dev`
// instead of the wxmedia Worker: when it loses requests too, the fault is the dev proxy's.
// Prints each run's counts and the slowest answer; exits 1 if any request went unanswered.
import path from 'node:path';
import { startEmulator, startWorker, startWorkerd, API_KEY, ROOT } from './harness.mjs';
import { burst } from './burst.mjs';

const runs = Number(process.argv[2] || 7);
const where = process.argv[3] || 'both';
const TIMEOUT_MS = 15_000;
const PATIENCE_MS = TIMEOUT_MS + 5_000 + 15_000;

const emu = await startEmulator(['--max-store-bytes', String(2 ** 31)]);
const settings = {
  vars: { WECHAT_APPID: 'wx0000000000000001', UPSTREAM_BASE: emu.url, DOWNLOAD_AUTH: 'key', UPSTREAM_TIMEOUT_MS: String(TIMEOUT_MS) },
  secrets: { WECHAT_SECRET: 'emulator-secret', API_KEYS: API_KEY },
};
let failed = false;
const plain = (opts) => startWorker({ ...opts, main: path.join(ROOT, 'tests/worker/fixtures/plain-proxy.js') });
for (const [name, start] of [['workerd', startWorkerd], ['wrangler', startWorker], ['plain', plain]]) {
  if (where === 'both' ? name === 'plain' : where !== name) continue;
  const w = await start({ name: `soak-${name}`, ...settings });
  for (let run = 1; run <= runs; run++) {
    await emu.reset();
    const r = await burst(w, emu, { patienceMs: PATIENCE_MS, seed: run * 10_000 });
    failed ||= r.unanswered.length > 0 || r.wrong.length > 0;
    console.log(`${name} run ${run}/${runs}: ${r.ok}/${r.total} in full, ${r.timeouts} 504s, ${r.unanswered.length} unanswered, ${r.wrong.length} wrong; slowest ${r.slowestMs} ms`);
    for (const u of r.unanswered.slice(0, 3)) console.log(`  unanswered: ${JSON.stringify(u)}`);
    for (const u of r.wrong.slice(0, 2)) console.log(`  wrong: ${JSON.stringify(u)}`);
  }
  await w.stop();
}
emu.stop();
process.exit(failed ? 1 : 0);
