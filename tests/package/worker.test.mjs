// The installed package in a JavaScript Cloudflare Worker: a tiny Worker importing 'wxmedia'
// (wrangler bundles its `workerd` entry, the wasm as a compiled module), WITHOUT nodejs_compat,
// under `wrangler dev` on loopback, round-trips media through the emulator.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import h from './helpers.cjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const TOOLS = process.env.WXMEDIA_DEV_MODULES && path.join(process.env.WXMEDIA_DEV_MODULES, '.bin');
const dir = path.join(h.PROJECT, 'js-worker');

async function freePort() {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address();
  await new Promise((r) => server.close(r));
  return port;
}

let child;
let url;
let stderr = '';

before(async () => {
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(
    path.join(dir, 'index.mjs'),
    `import * as wx from 'wxmedia';
import { roundTrip } from ${JSON.stringify(path.join(here, 'fixtures', 'roundtrip.mjs'))};

export default {
  async fetch(request) {
    const baseUrl = new URL(request.url).searchParams.get('emulator');
    if (!baseUrl) return new Response(null, { status: 204 });
    const result = await roundTrip(wx, { appId: 'wx0000000000000001', appSecret: 'emulator-secret', baseUrl })
      .catch((err) => ({ error: String(err && err.stack ? err.stack : err) }));
    return Response.json(result);
  },
};
`,
  );
  // No compatibility_flags: the package must not need nodejs_compat.
  fs.writeFileSync(
    path.join(dir, 'wrangler.toml'),
    'name = "wxmedia-js-worker"\nmain = "index.mjs"\ncompatibility_date = "2026-04-01"\n',
  );
  // Its own inspector port too: wrangler's default (9229) is shared by every wrangler started at once.
  const [port, inspector] = [await freePort(), await freePort()];
  url = `http://127.0.0.1:${port}`;
  child = spawn(
    path.join(TOOLS, 'wrangler'),
    ['dev', '--ip', '127.0.0.1', '--port', String(port), '--inspector-port', String(inspector), '--show-interactive-dev-session=false', '--log-level', 'warn'],
    {
      cwd: dir,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, CLOUDFLARE_CF_FETCH_ENABLED: 'false', WRANGLER_SEND_METRICS: 'false', NO_COLOR: '1' },
    },
  );
  child.stdout.on('data', (d) => { stderr += d; });
  child.stderr.on('data', (d) => { stderr += d; });
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      const r = await fetch(`${url}/`, { method: 'HEAD' });
      await r.arrayBuffer();
      break;
    } catch {
      if (Date.now() > deadline || child.exitCode !== null) throw new Error(`wrangler dev did not start:\n${stderr}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
});

after(async () => {
  if (child && child.exitCode === null) {
    child.kill('SIGTERM');
    await Promise.race([once(child, 'exit'), new Promise((r) => setTimeout(r, 3000))]);
  }
});

test('a JS Worker without nodejs_compat imports wxmedia and round-trips media with typed errors', async () => {
  await h.reset();
  const res = await fetch(`${url}/?emulator=${encodeURIComponent(h.EMU)}`);
  assert.equal(res.status, 200, stderr);
  await h.assertRoundTrip(await res.json(), 'the Worker');
});
