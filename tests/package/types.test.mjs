// The package's TypeScript declarations, as installed: the Node fixtures type-check under
// moduleResolution node16, nodenext and bundler (strict, skipLibCheck off, no @types/node),
// fixture.mts uses every exported name, misuses are refused, and the compiled fixture runs
// against the emulator. The other entries' types (web.d.mts) resolve for each of their
// conditions, web.mts type-checks against them, and the Node helpers are type errors there.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
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
  // A Node program resolved like a bundler names the `node` condition (bundler resolution has none).
  bundler: { module: 'preserve', moduleResolution: 'bundler', customConditions: ['node'] },
};
/** The non-Node conditions of the exports map; `default` is what bundler resolution finds alone. */
const webConditions = ['workerd', 'edge-light', 'deno', 'bun', 'browser', 'default'];
const webConfig = (condition) => ({
  module: 'preserve',
  moduleResolution: 'bundler',
  customConditions: condition === 'default' ? [] : [condition],
});

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
  for (const f of ['index.d.mts', 'common.d.ts', 'wxmedia.d.ts']) {
    for (const m of fs.readFileSync(path.join(PKG, f), 'utf8').matchAll(decl)) exported.add(m[1]);
  }
  assert.ok(exported.size >= 25, `found only ${[...exported].join(', ')}`);
  const source = fs.readFileSync(path.join(TS, 'fixture.mts'), 'utf8');
  const imports = source.slice(0, source.indexOf("from 'wxmedia'"));
  const missing = [...exported].filter((n) => !new RegExp(`\\b${n.replace('$', '\\$')}\\b`).test(imports));
  assert.deepEqual(missing, [], 'exports the fixture does not import');
});

/** Type-checks `files` (expected to fail) and asserts exactly the errors the lines of `file` mark. */
async function expectMarkedErrors(name, options, files, file) {
  const cfg = writeConfig(name, options, files);
  const { code, out } = await tsc(['-p', cfg]);
  assert.notEqual(code, 0);
  const lines = fs.readFileSync(path.join(TS, file), 'utf8').split('\n');
  const expected = lines
    .map((l, i) => [i + 1, /expect (TS\d+)/.exec(l)])
    .filter(([, m]) => m)
    .map(([n, m]) => `${n} ${m[1]}`);
  const escaped = file.replace('.', '\\.');
  const actual = [...out.matchAll(new RegExp(`${escaped}\\((\\d+),\\d+\\): error (TS\\d+)`, 'g'))].map((m) => `${m[1]} ${m[2]}`);
  assert.deepEqual(actual, expected, out);
  // Nothing else failed: only `file`'s marked lines.
  assert.equal([...out.matchAll(/error TS\d+/g)].length, expected.length, out);
}

test('misuses are type errors', () => expectMarkedErrors('bad', configs.node16, ['bad.mts'], 'bad.mts'));

test('every other condition resolves to web.d.mts', () => {
  // TypeScript's own resolver (no program: each tsc run costs seconds), as tsc resolves.
  const ts = createRequire(TSC)('typescript');
  const from = path.join(TS, 'web.mts');
  for (const condition of webConditions) {
    const options = ts.convertCompilerOptionsFromJson({ ...common, ...webConfig(condition) }, TS).options;
    const { resolvedModule } = ts.resolveModuleName('wxmedia', from, options, ts.sys);
    assert.ok(resolvedModule, `${condition}: wxmedia did not resolve`);
    assert.equal(fs.realpathSync(resolvedModule.resolvedFileName), fs.realpathSync(path.join(PKG, 'web.d.mts')), condition);
  }
});

test('web.mts type-checks outside Node, where the Node helpers are type errors', () =>
  expectMarkedErrors('web', webConfig('browser'), ['web.mts', 'web-bad.mts'], 'web-bad.mts'));

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
