// The package's TypeScript declarations, as installed: the fixtures type-check under
// moduleResolution node16, nodenext and bundler (strict, skipLibCheck off, no @types/node),
// fixture.mts uses every exported name, misuses are refused, and the compiled fixture runs
// against the emulator.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import h from './helpers.cjs';

const run = promisify(execFile);
const TSC = process.env.WXMEDIA_TSC;
const here = path.dirname(fileURLToPath(import.meta.url));
const TS = path.join(here, 'ts');
const PKG = path.join(h.PROJECT, 'node_modules', 'wxmedia');

const common = {
  target: 'es2022',
  lib: ['es2022', 'dom'],
  strict: true,
  skipLibCheck: false,
  types: [],
  noEmit: true,
};
const configs = {
  node16: { module: 'node16', moduleResolution: 'node16' },
  nodenext: { module: 'nodenext', moduleResolution: 'nodenext' },
  bundler: { module: 'preserve', moduleResolution: 'bundler' },
};

function writeConfig(name, compilerOptions, files) {
  const file = path.join(TS, `tsconfig.${name}.json`);
  fs.writeFileSync(file, JSON.stringify({ compilerOptions: { ...common, ...compilerOptions }, files }, null, 2));
  return file;
}

/** Runs tsc; resolves { code, out }. */
async function tsc(args) {
  assert.ok(TSC && fs.existsSync(TSC), `tsc not found at ${TSC} (set WXMEDIA_TSC)`);
  try {
    const { stdout } = await run(TSC, args, { cwd: TS });
    return { code: 0, out: stdout };
  } catch (err) {
    if (typeof err.code !== 'number') throw err;
    return { code: err.code, out: `${err.stdout}${err.stderr}` };
  }
}

test('tsc resolves the package from the install, per condition', async () => {
  const cfg = writeConfig('trace', { ...configs.node16, traceResolution: true }, ['fixture.mts', 'fixture.cts']);
  const { code, out } = await tsc(['-p', cfg]);
  assert.equal(code, 0, out.split('\n').filter((l) => /error TS/.test(l)).join('\n'));
  const resolved = [...out.matchAll(/Module name 'wxmedia' was successfully resolved to '([^']+)'/g)].map((m) => m[1]);
  const real = (p) => fs.realpathSync(p);
  assert.deepEqual(
    [...new Set(resolved.map(real))].sort(),
    [real(path.join(PKG, 'index.d.cts')), real(path.join(PKG, 'index.d.mts'))],
  );
});

for (const [name, options] of Object.entries(configs)) {
  test(`the fixtures pass tsc --noEmit with moduleResolution ${options.moduleResolution}`, async () => {
    const cfg = writeConfig(name, options, ['fixture.mts', 'fixture.cts']);
    const { code, out } = await tsc(['-p', cfg]);
    assert.equal(code, 0, out);
  });
}

test('fixture.mts names every export of the package', () => {
  const exported = new Set();
  const decl = /^export (?:declare )?(?:interface|type|class|function|const) ([A-Za-z_$][\w$]*)/gm;
  for (const f of ['index.d.mts', 'wxmedia.d.ts']) {
    for (const m of fs.readFileSync(path.join(PKG, f), 'utf8').matchAll(decl)) exported.add(m[1]);
  }
  assert.ok(exported.size >= 25, `found only ${[...exported].join(', ')}`);
  const source = fs.readFileSync(path.join(TS, 'fixture.mts'), 'utf8');
  const imports = source.slice(0, source.indexOf("from 'wxmedia'"));
  const missing = [...exported].filter((n) => !new RegExp(`\\b${n.replace('$', '\\$')}\\b`).test(imports));
  assert.deepEqual(missing, [], 'exports the fixture does not import');
});

test('misuses are type errors', async () => {
  const cfg = writeConfig('bad', configs.node16, ['bad.mts']);
  const { code, out } = await tsc(['-p', cfg]);
  assert.notEqual(code, 0);
  const lines = fs.readFileSync(path.join(TS, 'bad.mts'), 'utf8').split('\n');
  const expected = lines
    .map((l, i) => [i + 1, /expect (TS\d+)/.exec(l)])
    .filter(([, m]) => m)
    .map(([n, m]) => `${n} ${m[1]}`);
  const actual = [...out.matchAll(/bad\.mts\((\d+),\d+\): error (TS\d+)/g)].map((m) => `${m[1]} ${m[2]}`);
  assert.deepEqual(actual, expected, out);
});

test('the compiled fixture runs against the emulator', async (t) => {
  await h.reset();
  const dir = h.tempDir(t);
  const outDir = path.join(TS, 'build');
  const cfg = writeConfig('emit', { ...configs.node16, noEmit: false, outDir }, ['fixture.mts']);
  const built = await tsc(['-p', cfg]);
  assert.equal(built.code, 0, built.out);
  const { stdout } = await run(process.execPath, [path.join(outDir, 'fixture.mjs')], {
    cwd: TS,
    env: { ...process.env, EMULATOR_URL: h.EMU, FIXTURE_DIR: dir },
  });
  assert.equal(stdout.trim(), 'fixture ok');
  assert.deepEqual(h.listDir(dir), ['copy.jpg', 'copy2.jpg', 'note.speex']);
});
