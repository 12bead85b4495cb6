// The installed package in Chromium (the `browser` condition: browser.mjs fetches the one wasm
// file from next to itself): a page built by Vite 8, a page bundled by esbuild (with the wasm file
// copied next to the bundle, as the README says), and a plain <script type="module"> over static
// files with an import map. Each runs the round trip against the emulator (started with --cors),
// holding an access token as a browser would hold a Worker API key: never the app secret.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath, pathToFileURL } from 'node:url';
import h from './helpers.cjs';

const run = promisify(execFile);
const here = path.dirname(fileURLToPath(import.meta.url));
const DEV = process.env.WXMEDIA_DEV_MODULES;
const tool = (name) => path.join(DEV, '.bin', name);
const pages = path.join(h.PROJECT, 'pages');
const CHROMIUM = process.env.CHROMIUM_BIN ?? '/usr/bin/chromium';

const MAIN = `import * as wx from 'wxmedia';
import { roundTrip } from 'ROUNDTRIP';

const q = new URLSearchParams(location.search);
window.result = roundTrip(wx, { baseUrl: q.get('emulator'), accessToken: q.get('token') })
  .catch((err) => ({ error: String(err && err.stack ? err.stack : err) }));
`;
const html = (head, script) =>
  `<!doctype html>\n<html><head><meta charset="utf-8"><title>wxmedia</title>${head}</head>\n<body><script type="module" src="${script}"></script></body></html>\n`;

const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.mjs': 'text/javascript', '.wasm': 'application/wasm', '.json': 'application/json' };
let server;
let origin;
let browser;
let profile;
let token;

before(async () => {
  await h.reset();
  token = await (await fetch(`${h.EMU}/cgi-bin/stable_token`, {
    method: 'POST',
    body: JSON.stringify({ grant_type: 'client_credential', appid: h.APPID, secret: h.SECRET }),
  })).json().then((j) => j.access_token);
  assert.ok(token, 'no token from the emulator');

  // Vite and esbuild build from pages/<name>/main.mjs; the plain page imports files as they are.
  for (const name of ['vite', 'esbuild']) {
    fs.mkdirSync(path.join(pages, name), { recursive: true });
    fs.writeFileSync(path.join(pages, name, 'main.mjs'), MAIN.replace('ROUNDTRIP', path.join(here, 'fixtures', 'roundtrip.mjs')));
  }
  fs.writeFileSync(path.join(pages, 'vite', 'index.html'), html('', './main.mjs'));
  const builds = [
    run(tool('vite'), ['build', '--logLevel', 'warn', '--base', './', '--outDir', 'dist', '--emptyOutDir'], { cwd: path.join(pages, 'vite') }),
    run(tool('esbuild'), ['main.mjs', '--bundle', '--format=esm', '--platform=browser', '--outfile=dist/main.js', '--log-level=warning'], {
      cwd: path.join(pages, 'esbuild'),
    }).then(() => {
      for (const wasm of ['wxmedia_bg.wasm', 'voice_bg.wasm', 'push_bg.wasm']) {
        fs.copyFileSync(path.join(h.PROJECT, 'node_modules/wxmedia', wasm), path.join(pages, 'esbuild/dist', wasm));
      }
      fs.writeFileSync(path.join(pages, 'esbuild/dist/index.html'), html('', './main.js'));
    }),
  ];
  fs.mkdirSync(path.join(pages, 'plain'), { recursive: true });
  const importMap = { imports: { wxmedia: '/node_modules/wxmedia/browser.mjs' } };
  fs.copyFileSync(path.join(here, 'fixtures', 'roundtrip.mjs'), path.join(pages, 'plain', 'roundtrip.mjs'));
  fs.writeFileSync(path.join(pages, 'plain', 'main.mjs'), MAIN.replace('ROUNDTRIP', './roundtrip.mjs'));
  fs.writeFileSync(path.join(pages, 'plain', 'index.html'), html(`<script type="importmap">${JSON.stringify(importMap)}</script>`, './main.mjs'));

  // Static files of the temporary project, as any file server would serve them.
  server = http.createServer((req, res) => {
    if (req.url === '/favicon.ico') {
      res.writeHead(204).end();
      return;
    }
    const p = path.join(h.PROJECT, decodeURIComponent(new URL(req.url, 'http://x').pathname));
    if (!p.startsWith(h.PROJECT) || !fs.existsSync(p) || !fs.statSync(p).isFile()) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': TYPES[path.extname(p)] ?? 'application/octet-stream' });
    fs.createReadStream(p).pipe(res);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  origin = `http://127.0.0.1:${server.address().port}`;

  const { chromium } = await import(pathToFileURL(path.join(DEV, 'playwright-core', 'index.mjs')).href);
  profile = fs.mkdtempSync(path.join(os.tmpdir(), 'wxmedia-pkg-browser-'));
  [browser] = await Promise.all([
    chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
        '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    }),
    ...builds,
  ]);
});

after(async () => {
  if (browser) await browser.close();
  if (server) server.close();
  if (profile) fs.rmSync(profile, { recursive: true, force: true });
});

/** Opens `page` (a path under the project), waits for window.result; returns it and what was fetched. */
async function roundTripIn(pagePath) {
  const page = await browser.newPage();
  const logs = [];
  const wasm = [];
  page.on('console', (m) => logs.push(`${m.type()}: ${m.text()}`));
  page.on('pageerror', (e) => logs.push(`pageerror: ${e.message}`));
  page.on('response', (r) => {
    if (r.url().endsWith('.wasm')) wasm.push(`${r.status()} ${r.headers()['content-type']}`);
    if (r.status() >= 400) logs.push(`error: HTTP ${r.status()} for ${r.url()}`);
  });
  try {
    await page.goto(`${origin}${pagePath}?emulator=${encodeURIComponent(h.EMU)}&token=${encodeURIComponent(token)}`);
    await page.waitForFunction(() => window.result !== undefined, null, { timeout: 15_000 }).catch((err) => {
      throw new Error(`${pagePath}: ${err.message}\n${logs.join('\n')}`);
    });
    const result = await page.evaluate(() => window.result);
    return { result, wasm, logs };
  } finally {
    await page.close();
  }
}

for (const [name, pagePath] of [
  ['a page built by Vite 8', '/pages/vite/dist/index.html'],
  ['a page bundled by esbuild', '/pages/esbuild/dist/index.html'],
  ['a plain module page over static files', '/pages/plain/index.html'],
]) {
  test(`${name} round-trips media with typed errors in Chromium`, async () => {
    const { result, wasm, logs } = await roundTripIn(pagePath);
    await h.assertRoundTrip(result, name, { browser: true });
    assert.deepEqual(wasm, ['200 application/wasm', '200 application/wasm', '200 application/wasm'], 'the core wasm and (on first use) the voice and push wasm, each fetched once');
    assert.deepEqual(logs.filter((l) => /^(error|warning|pageerror)/.test(l)), []);
  });
}

test('the Vite build emits the wasm files as assets: the core, the voice decoders and message push', () => {
  const assets = fs.readdirSync(path.join(pages, 'vite', 'dist', 'assets'));
  assert.equal(assets.filter((f) => f.endsWith('.wasm')).length, 3, assets.join(', '));
});
