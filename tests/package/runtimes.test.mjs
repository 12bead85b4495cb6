// The installed package outside Node: Deno 2 and Bun 1 import it (their `deno`/`bun` condition,
// the ESM entry default.mjs, which needs nothing Node-specific) and run one upload + download +
// typed-error round trip against the emulator. Also what the tarball holds: one wasm file,
// within the size budget, and every file the exports map names.

import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import h from './helpers.cjs';

const run = promisify(execFile);
const here = path.dirname(fileURLToPath(import.meta.url));
const TOOLS = process.env.WXMEDIA_DEV_MODULES && path.join(process.env.WXMEDIA_DEV_MODULES, '.bin');
const PKG = path.join(h.PROJECT, 'node_modules', 'wxmedia');
/** The npm core wasm's budget, gzipped (what every user loads). */
const WASM_GZ_BUDGET = 120_000;
/** The voice codecs' wasm (loaded on the first decodeVoice() only), gzipped: room for both
 * encoders (issue 27's budget; the MP3 encoder is in it now). */
const VOICE_WASM_GZ_BUDGET = 200_000;
/** The message-push wasm (loaded on the first verifySignature()/openMessage()/sealReply()), gzipped. */
const PUSH_WASM_GZ_BUDGET = 80_000;

before(h.reset);

async function inRuntime(cmd, args) {
  const bin = path.join(TOOLS || '', cmd);
  assert.ok(TOOLS && fs.existsSync(bin), `${bin} is missing: run npm ci (or make setup)`);
  const { stdout } = await run(bin, [...args, path.join(here, 'fixtures', 'runtime.mjs')], {
    cwd: h.PROJECT,
    env: { ...h.cleanEnv({}), EMULATOR_URL: h.EMU, NO_COLOR: '1', DENO_NO_UPDATE_CHECK: '1' },
    timeout: 60_000,
  });
  const last = stdout.trim().split('\n').pop();
  return JSON.parse(last);
}

test('Deno imports default.mjs and round-trips media with typed errors', async () => {
  await h.reset();
  const r = await inRuntime('deno', ['run', '-A', '--no-lock']);
  assert.equal(path.basename(fileURLToPath(r.resolved)), 'default.mjs');
  await h.assertRoundTrip(r, 'Deno');
});

test('Bun imports default.mjs and round-trips media with typed errors', async () => {
  await h.reset();
  const r = await inRuntime('bun', []);
  assert.equal(path.basename(fileURLToPath(r.resolved)), 'default.mjs');
  await h.assertRoundTrip(r, 'Bun');
});

test('the package holds the core wasm (within 120 KB gzipped), the voice and push wasm, and every file its exports name', () => {
  const wasmFiles = [];
  const walk = (dir) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.wasm')) wasmFiles.push(path.relative(PKG, p));
    }
  };
  walk(PKG);
  assert.deepEqual(wasmFiles.sort(), ['push_bg.wasm', 'voice_bg.wasm', 'wxmedia_bg.wasm']);
  const gz = gzipSync(fs.readFileSync(path.join(PKG, 'wxmedia_bg.wasm')), { level: 9 }).length;
  assert.ok(gz <= WASM_GZ_BUDGET, `the wasm is ${gz} bytes gzipped, over ${WASM_GZ_BUDGET}`);
  const voiceGz = gzipSync(fs.readFileSync(path.join(PKG, 'voice_bg.wasm')), { level: 9 }).length;
  assert.ok(voiceGz <= VOICE_WASM_GZ_BUDGET, `the voice wasm is ${voiceGz} bytes gzipped, over ${VOICE_WASM_GZ_BUDGET}`);
  const pushGz = gzipSync(fs.readFileSync(path.join(PKG, 'push_bg.wasm')), { level: 9 }).length;
  assert.ok(pushGz <= PUSH_WASM_GZ_BUDGET, `the push wasm is ${pushGz} bytes gzipped, over ${PUSH_WASM_GZ_BUDGET}`);
  console.log(`# wasm gzipped: core ${gz} bytes, voice ${voiceGz} bytes, push ${pushGz} bytes`);

  const manifest = JSON.parse(fs.readFileSync(path.join(PKG, 'package.json'), 'utf8'));
  const targets = [];
  const collect = (v) => (typeof v === 'string' ? targets.push(v) : Object.values(v).forEach(collect));
  collect(manifest.exports);
  for (const t of targets) assert.ok(fs.existsSync(path.join(PKG, t)), `exports names ${t}, which is not in the package`);
  const conditions = Object.keys(manifest.exports['.']);
  assert.deepEqual(conditions, ['workerd', 'edge-light', 'deno', 'bun', 'browser', 'node', 'default']);
  // Nothing outside the Node entry may load Node's modules.
  for (const f of ['workerd.mjs', 'edge-light.mjs', 'browser.mjs', 'default.mjs', 'wxmedia.mjs', 'voice.mjs', 'push.mjs', 'lib/api.mjs', 'lib/errors.mjs', 'lib/voice.mjs', 'lib/push.mjs', 'lib/lazy.mjs']) {
    const text = fs.readFileSync(path.join(PKG, f), 'utf8');
    assert.doesNotMatch(text, /\bfrom\s+['"](node:|fs|path)|require\(|__dirname/, `${f} reaches for Node`);
  }
});
