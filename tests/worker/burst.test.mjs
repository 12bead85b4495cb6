// Bursts of cold downloads beside uploads: every request is answered (200 in full or 201, or a
// 504 at the deadline), however many wait on the same fill.
//
// - In plain workerd (as production runs the Worker): 4 rounds of 200 concurrent cold 1 MB
//   downloads over 20 ids, beside 20 concurrent 2 MB uploads, 880 requests a run (BURST_RUNS
//   runs, default 1).
// - Under `wrangler dev` (where `make dev` users meet it): one round of that burst's downloads.
//   The full burst is not run there: wrangler's dev server itself loses requests under it (its
//   workerd runs out of file descriptors, thousands of its connections to wrangler's own Node
//   process left in CLOSE-WAIT), as a few lines of plain JavaScript in the Worker's place show
//   too: `node tests/worker/burst-soak.mjs 7 plain` reproduces it (see the README).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startEmulator, startWorker, startWorkerd, API_KEY } from './harness.mjs';
import { burst } from './burst.mjs';

const TIMEOUT_MS = 15_000;
// What a client waits before it calls a request unanswered: the whole-request deadline
// (UPSTREAM_TIMEOUT_MS + 5 s) plus slack for a loaded two-core machine.
const PATIENCE_MS = TIMEOUT_MS + 5_000 + 15_000;
const RUNS = Number(process.env.BURST_RUNS || 1);

let emu;
before(async () => {
  emu = await startEmulator(['--max-store-bytes', String(2 ** 31)]);
});
after(() => emu?.stop());

const settings = () => ({
  vars: { WECHAT_APPID: 'wx0000000000000001', UPSTREAM_BASE: emu.url, DOWNLOAD_AUTH: 'key', UPSTREAM_TIMEOUT_MS: String(TIMEOUT_MS) },
  secrets: { WECHAT_SECRET: 'emulator-secret', API_KEYS: API_KEY },
});

function check(r, label) {
  console.log(`${label}: ${r.ok} of ${r.total} answered in full, ${r.timeouts} 504s, ${r.unanswered.length} unanswered; slowest ${r.slowestMs} ms`);
  assert.equal(r.unanswered.length, 0, `${label}: ${r.unanswered.length} unanswered past ${PATIENCE_MS} ms: ${JSON.stringify(r.unanswered.slice(0, 5))}`);
  assert.deepEqual(r.wrong, [], `${label}: wrong answers`);
  assert.ok(r.ok > r.total / 2, `${label}: only ${r.ok} of ${r.total} succeeded`);
}

describe('in plain workerd', () => {
  let w;
  before(async () => { w = await startWorkerd({ name: 'burst', ...settings() }); });
  after(async () => { await w?.stop(); });

  it(`answers every request of ${RUNS} run(s) of 880: downloads in full (or 504s), uploads 201`, async () => {
    for (let run = 0; run < RUNS; run++) {
      await emu.reset();
      check(await burst(w, emu, { patienceMs: PATIENCE_MS, seed: run * 10_000 }), `plain workerd, run ${run + 1}`);
    }
  });
});

describe('under wrangler dev', () => {
  let w;
  before(async () => { w = await startWorker({ name: 'burst', ...settings() }); });
  after(async () => { await w?.stop(); });

  it('answers every request of 200 concurrent cold 1 MB downloads over 20 ids', async () => {
    await emu.reset();
    check(await burst(w, emu, { rounds: 1, uploads: 0, patienceMs: PATIENCE_MS, seed: 99_000 }), 'wrangler dev');
  });
});
