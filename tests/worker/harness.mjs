// Test harness: the emulator and the Worker in real workerd (`wrangler dev`), on loopback.
//
// startEmulator() spawns target/debug/wxmedia-emulator; startWorker() writes a wrangler config for
// one set of bindings and vars under target/worker-test/ (pointing at worker/shell.mjs and the
// worker/build/ it imports, built by `make worker`) and runs `wrangler dev` on a free port. Every response fetched through a
// Worker handle is recorded, so a suite can scan them all for leaked tokens.
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const APPID = 'wx0000000000000001';
export const SECRET = 'emulator-secret';
export const API_KEY = 'test-key-1';
export const SIGNING_KEY = 'test-signing-key';
/** The Worker's entry (wrangler.toml `main`): the JS shell in front of the Rust handler. */
export const ENTRY = path.join(ROOT, 'worker/shell.mjs');
/** The Rust handler alone (worker-build's output), what the shell must answer exactly like. */
export const HANDLER = path.join(ROOT, 'worker/build/index.js');

const children = new Set();
process.on('exit', () => { for (const c of children) c.kill('SIGKILL'); });

/** Reads lines from a child's stream until one matches. */
function waitForLine(stream, pattern, timeoutMs, what) {
  return new Promise((resolve, reject) => {
    let buffer = '';
    const timer = setTimeout(() => reject(new Error(`${what} did not start in ${timeoutMs} ms:\n${buffer}`)), timeoutMs);
    stream.setEncoding('utf8');
    stream.on('data', (chunk) => {
      buffer += chunk;
      const m = buffer.match(pattern);
      if (m) { clearTimeout(timer); resolve(m); }
    });
  });
}

export async function startEmulator(args = []) {
  const bin = path.join(ROOT, 'target/debug/wxmedia-emulator');
  const child = spawn(bin, ['--listen', '127.0.0.1:0', '--quiet', ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.add(child);
  const [, url, cdnUrl] = await waitForLine(
    child.stdout, /listening on (http:\/\/127\.0\.0\.1:\d+)\nvideo CDN on (http:\/\/127\.0\.0\.1:\d+)/, 10_000, 'the emulator');
  const control = async (method, p, body) => {
    const r = await fetch(`${url}/_emulator/${p}`, { method, body: body === undefined ? undefined : JSON.stringify(body) });
    if (!r.ok) throw new Error(`${method} ${p}: ${r.status} ${await r.text()}`);
    return r.json();
  };
  const used = new Set();
  const collect = async () => {
    for (const e of await control('GET', 'requests')) if (e.query?.access_token) used.add(e.query.access_token);
  };
  return {
    url,
    /** The video CDN listener (its own port; with --video-host, URLs name another host). */
    cdnUrl,
    /** The CDN listener as a VIDEO_HOSTS entry. */
    cdnHost: cdnUrl.slice('http://'.length),
    control,
    /** Starts a fresh run (remembering the tokens used so far, for the leak scan). */
    async reset() { await collect(); return control('POST', 'reset', {}); },
    fault: (f) => control('POST', 'faults', f),
    requests: async (p) => (await control('GET', 'requests')).filter((e) => !p || e.path === p),
    /** Every access token the emulator saw in use since it started. */
    async tokens() { await collect(); return [...used]; },
    /** A token of app `appid` (the default app's unless given), fetched straight from the emulator. */
    async token(appid = APPID, secret = SECRET) {
      const r = await fetch(`${url}/cgi-bin/stable_token`, {
        method: 'POST',
        body: JSON.stringify({ grant_type: 'client_credential', appid, secret, force_refresh: false }),
      });
      return (await r.json()).access_token;
    },
    stop() { child.kill('SIGTERM'); children.delete(child); },
  };
}

async function freePort() {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address();
  await new Promise((r) => server.close(r));
  return port;
}

const seen = [];
/** Every response any Worker handle fetched: { url, status, headers, body } (body as latin1 text). */
export function recordedResponses() { return seen; }

/**
 * Starts the Worker. Options: name (directory), vars, secrets, r2 (bind MEDIA_BUCKET),
 * durableObject (bind TOKENS), pushes (bind PUSHES, the push log), queue (bind ARCHIVE_QUEUE,
 * producer and consumer), main (another script, for comparisons).
 */
export async function startWorker({ name, vars = {}, secrets = {}, r2 = false, durableObject = false, pushes = false, queue = false, main = ENTRY }) {
  const dir = path.join(ROOT, 'target/worker-test', name);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const toml = [
    `name = "wxmedia-test-${name}"`,
    `main = ${JSON.stringify(main)}`,
    'compatibility_date = "2026-04-01"',
    '',
    '[assets]',
    `directory = ${JSON.stringify(path.join(ROOT, 'www'))}`,
    'binding = "ASSETS"',
    'run_worker_first = ["/healthz", "/media*", "/cgi-bin/*", "/apps/*", "/wechat/*", "/archive*"]',
    '',
    '[vars]',
    ...Object.entries(vars).map(([k, v]) => `${k} = ${JSON.stringify(String(v))}`),
  ];
  const classes = [];
  if (durableObject) {
    toml.push('', '[[durable_objects.bindings]]', 'name = "TOKENS"', 'class_name = "TokenHolder"');
    classes.push('"TokenHolder"');
  }
  if (pushes) {
    toml.push('', '[[durable_objects.bindings]]', 'name = "PUSHES"', 'class_name = "PushLog"');
    classes.push('"PushLog"');
  }
  if (classes.length) toml.push('', '[[migrations]]', 'tag = "v1"', `new_sqlite_classes = [${classes.join(', ')}]`);
  if (queue) {
    toml.push('', '[[queues.producers]]', 'binding = "ARCHIVE_QUEUE"', `queue = "wxmedia-archive-${name}"`,
      '', '[[queues.consumers]]', `queue = "wxmedia-archive-${name}"`, 'max_batch_size = 10', 'max_batch_timeout = 1');
  }
  if (r2) toml.push('', '[[r2_buckets]]', 'binding = "MEDIA_BUCKET"', 'bucket_name = "wxmedia-test"');
  writeFileSync(path.join(dir, 'wrangler.toml'), toml.join('\n') + '\n');
  writeFileSync(path.join(dir, '.dev.vars'), Object.entries(secrets).map(([k, v]) => `${k}=${v}`).join('\n') + '\n');
  // A port found free may be taken again before wrangler binds it (by this or another test
  // file's Worker, or its inspector): a Worker that exits before it answers is started again,
  // on new ports, up to three times in all. One that stays up but never answers is an error.
  let child, url, stderr;
  const failures = [];
  for (let attempt = 1; ; attempt++) {
    ({ child, url, stderr } = await launch(dir));
    const up = await answering(url, child);
    if (up) break;
    const exited = child.exitCode !== null;
    child.kill('SIGKILL');
    children.delete(child);
    failures.push(`attempt ${attempt} (${exited ? `exit ${child.exitCode}` : 'no answer in 60 s'}):\n${stderr()}`);
    if (!exited || attempt === 3) throw new Error(`the Worker did not start:\n${failures.join('\n')}`);
  }
  /** fetch against the Worker, recording the response for the leak scan. */
  async function wfetch(p, init = {}) {
    const r = await fetch(`${url}${p}`, { redirect: 'manual', ...init });
    const body = Buffer.from(await r.arrayBuffer());
    seen.push({ url: p, status: r.status, headers: [...r.headers].map(([k, v]) => `${k}: ${v}`).join('\n'), body: body.toString('latin1') });
    return { status: r.status, headers: r.headers, body, text: () => body.toString('utf8'), json: () => JSON.parse(body.toString('utf8')) };
  }
  return {
    url,
    fetch: wfetch,
    stderr,
    async stop() {
      child.kill('SIGTERM');
      await Promise.race([once(child, 'exit'), new Promise((r) => setTimeout(r, 3000))]);
      children.delete(child);
    },
  };
}

/**
 * Starts the built Worker in plain workerd through Miniflare's API (no `wrangler dev` proxy in
 * front), as production runs it. Options as for startWorker (vars and secrets both become
 * bindings). Same interface: { url, fetch, stop }.
 */
export async function startWorkerd({ name, vars = {}, secrets = {}, r2 = false, durableObject = false, pushes = false, main = ENTRY }) {
  const { Miniflare } = await import('miniflare');
  const dir = path.join(ROOT, 'target/worker-test', `workerd-${name}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const scriptPath = main;
  const mf = new Miniflare({
    name: `wxmedia-test-${name}`,
    scriptPath,
    modules: true,
    // workerd refuses module names that climb out of the modules' root: the repository's, so a
    // test script can import the built Worker.
    modulesRoot: ROOT,
    // worker-build writes ES modules named .js (its package.json says "type": "module").
    modulesRules: [{ type: 'CompiledWasm', include: ['**/*.wasm'] }, { type: 'ESModule', include: ['**/*.js', '**/*.mjs'] }],
    compatibilityDate: '2026-04-01',
    bindings: Object.fromEntries(Object.entries({ ...vars, ...secrets }).map(([k, v]) => [k, String(v)])),
    durableObjects: (durableObject || pushes) ? {
      ...(durableObject ? { TOKENS: { className: 'TokenHolder', useSQLite: true } } : {}),
      ...(pushes ? { PUSHES: { className: 'PushLog', useSQLite: true } } : {}),
    } : undefined,
    r2Buckets: r2 ? ['MEDIA_BUCKET'] : undefined,
    cachePersist: path.join(dir, 'cache'),
    durableObjectsPersist: path.join(dir, 'do'),
    r2Persist: path.join(dir, 'r2'),
    host: '127.0.0.1',
    port: 0,
  });
  const url = (await mf.ready).toString().replace(/\/$/, '');
  return {
    url,
    async fetch(p, init = {}) {
      const r = await fetch(`${url}${p}`, { redirect: 'manual', ...init });
      const body = Buffer.from(await r.arrayBuffer());
      return { status: r.status, headers: r.headers, body, text: () => body.toString('utf8'), json: () => JSON.parse(body.toString('utf8')) };
    },
    stop: () => mf.dispose(),
  };
}

/** Starts `wrangler dev` for the Worker configured in `dir`, on a free port. */
async function launch(dir) {
  const [port, inspector] = [await freePort(), await freePort()];
  const child = spawn(path.join(ROOT, 'node_modules/.bin/wrangler'),
    ['dev', '-c', path.join(dir, 'wrangler.toml'), '--ip', '127.0.0.1', '--port', String(port),
     '--inspector-port', String(inspector),
     '--persist-to', path.join(dir, 'state'), '--show-interactive-dev-session=false', '--log-level', process.env.WORKER_LOG ? 'log' : 'warn'],
    { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, CLOUDFLARE_CF_FETCH_ENABLED: 'false', WRANGLER_SEND_METRICS: 'false', NO_COLOR: '1' } });
  children.add(child);
  let stderr = '';
  // The last 256 KiB of it: a Worker under load can log without end.
  child.stderr.on('data', (d) => { stderr = (stderr + d).slice(-(256 << 10)); });
  child.stdout.on('data', (d) => { if (process.env.WORKER_LOG) process.stderr.write(d); });
  return { child, url: `http://127.0.0.1:${port}`, stderr: () => stderr };
}

/** Whether the Worker at `url` answers /healthz within 60 s (false as soon as it exits). */
async function answering(url, child) {
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      const r = await fetch(`${url}/healthz`);
      await r.arrayBuffer();
      return true;
    } catch {
      if (Date.now() > deadline || child.exitCode !== null) return false;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

// Tiny but well-formed media (what the magic-byte checks look at).
export function jpeg(len = 2000, seed = 0) {
  const b = Buffer.alloc(len);
  for (let i = 0; i < len; i++) b[i] = (i * 31 + seed) & 0xff;
  b.set([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00, 0x01]);
  b.set([0xff, 0xd9], len - 2);
  return b;
}
export function png() {
  return Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52, 0, 0, 0, 1, 0, 0, 0, 1, 8, 2, 0, 0, 0, 0x90, 0x77, 0x53, 0xde]);
}
export function amr() { return Buffer.concat([Buffer.from('#!AMR\n'), Buffer.alloc(64, 0x3c)]); }
export function mp4() {
  return Buffer.concat([Buffer.from([0, 0, 0, 0x18]), Buffer.from('ftypisom'), Buffer.from([0, 0, 2, 0]), Buffer.from('isommp41'), Buffer.alloc(256)]);
}

/** A multipart body with one part (built by hand so tests can also send broken ones). */
export function multipart(name, filename, contentType, data) {
  const boundary = '----wxmediatest' + Math.random().toString(16).slice(2);
  const head = `--${boundary}\r\nContent-Disposition: form-data; name="${name}"${filename ? `; filename="${filename}"` : ''}\r\nContent-Type: ${contentType}\r\n\r\n`;
  const body = Buffer.concat([Buffer.from(head), data, Buffer.from(`\r\n--${boundary}--\r\n`)]);
  return { body, contentType: `multipart/form-data; boundary=${boundary}` };
}
