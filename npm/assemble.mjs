#!/usr/bin/env node
// Turns wasm-pack's `--target web` output directory into the npm package `wxmedia`:
//
//   node npm/assemble.mjs <pkg-dir> <version>
//
// wasm-pack leaves wxmedia.js (the ES module glue, with `initSync` and a default `init`),
// wxmedia.d.ts, wxmedia_bg.wasm and its own package.json there. This
//   - renames the glue to wxmedia.mjs (the package is "type": "commonjs") and writes the same glue
//     as CommonJS, wxmedia.cjs (esbuild), for the Node entry: both drive the one wxmedia_bg.wasm;
//   - strips the init functions from wxmedia.d.ts (the entries call them; users never do);
//   - writes lib/api.mjs and lib/api.cjs, re-exporting every export of the glue but its init
//     functions, and lib/errors.cjs from its ES module;
//   - copies the per-runtime entries, the Node helpers, the CLI, the types and the README from npm/;
//   - writes index.mjs with one named export per export of index.cjs (so the two can never
//     disagree), and replaces package.json with npm/package.template.json at the crate's version.

import { copyFileSync, chmodSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { transformSync } from 'esbuild';

const [pkgArg, version] = process.argv.slice(2);
if (!pkgArg || !version) {
  console.error('usage: node npm/assemble.mjs <pkg-dir> <version>');
  process.exit(2);
}
const src = dirname(fileURLToPath(import.meta.url));
const pkg = resolve(pkgArg);
const require = createRequire(import.meta.url);

function fail(message) {
  console.error(`assemble: ${message}`);
  process.exit(1);
}
const read = (f) => readFileSync(join(pkg, f), 'utf8');
const write = (f, text) => {
  mkdirSync(dirname(join(pkg, f)), { recursive: true });
  writeFileSync(join(pkg, f), text);
};
/** ES module source as CommonJS (no bundling: imports become require calls). */
const toCjs = (code, file) =>
  transformSync(code, {
    format: 'cjs',
    platform: 'neutral',
    target: 'node18',
    sourcefile: file,
    // The glue's default wasm path uses import.meta.url; the Node entry always passes the bytes.
    logOverride: { 'empty-import-meta': 'silent' },
  }).code;

for (const f of ['wxmedia.js', 'wxmedia.d.ts', 'wxmedia_bg.wasm', 'package.json']) {
  if (!existsSync(join(pkg, f))) fail(`${pkg}/${f} is missing: run wasm-pack build --target web first`);
}
// The voice decoders' wasm and glue (wasm-pack --target web of voice/, copied in by `make pkg`).
for (const f of ['voice.js', 'voice_bg.wasm']) {
  if (!existsSync(join(pkg, f))) fail(`${pkg}/${f} is missing: build voice/ with wasm-pack --target web and copy it in`);
}
// The message-push functions' wasm and glue (wasm-pack --target web of push/ with `js`).
for (const f of ['push.js', 'push_bg.wasm']) {
  if (!existsSync(join(pkg, f))) fail(`${pkg}/${f} is missing: build push/ (--features js) with wasm-pack --target web and copy it in`);
}
const built = JSON.parse(read('package.json'));
if (built.version !== version) {
  fail(`wasm-pack built version ${built.version}, but Cargo.toml says ${version}`);
}

// The glue, as ESM and as CommonJS.
const glue = read('wxmedia.js');
if (!/export function initSync|export \{ initSync/.test(glue) || !/as default \}|export default/.test(glue)) {
  fail('wxmedia.js has no initSync/default init: was it built with --target web?');
}
renameSync(join(pkg, 'wxmedia.js'), join(pkg, 'wxmedia.mjs'));
write('wxmedia.cjs', `// wasm-bindgen's glue (wxmedia.mjs) as CommonJS, written by npm/assemble.mjs.\n${toCjs(glue, 'wxmedia.mjs')}`);
const voiceGlue = read('voice.js');
if (!/export function decode/.test(voiceGlue)) fail('voice.js exports no decode: was voice/ built?');
renameSync(join(pkg, 'voice.js'), join(pkg, 'voice.mjs'));
write('voice.cjs', `// wasm-bindgen's glue of the voice decoders (voice.mjs) as CommonJS, written by npm/assemble.mjs.\n${toCjs(voiceGlue, 'voice.mjs')}`);
const pushGlue = read('push.js');
if (!/export function openMessage/.test(pushGlue)) fail('push.js exports no openMessage: was push/ built with --features js?');
renameSync(join(pkg, 'push.js'), join(pkg, 'push.mjs'));
write('push.cjs', `// wasm-bindgen's glue of the message-push functions (push.mjs) as CommonJS, written by npm/assemble.mjs.\n${toCjs(pushGlue, 'push.mjs')}`);

// The glue's declarations without its init functions.
const dts = read('wxmedia.d.ts');
const cut = dts.indexOf('\nexport type InitInput');
if (cut < 0) fail('wxmedia.d.ts has no InitInput declaration: was it built with --target web?');
write('wxmedia.d.ts', `${dts.slice(0, cut).trimEnd()}\n`);

// What the glue exports, less its init functions and the Node entry's internals (`__` names, in
// no types): the API every entry re-exports.
const glueExports = Object.keys(await import(pathToFileURL(join(pkg, 'wxmedia.mjs')).href));
const api = glueExports.filter((n) => n !== 'default' && n !== 'initSync' && !n.startsWith('__')).sort();
if (!['__firstGetUrl', '__firstGetMedia', '__getAfter', '__timeoutOf', '__timeoutReason'].every((n) => glueExports.includes(n))) {
  fail("the glue lacks the Node entry's download functions (src/js/)");
}
if (!api.includes('MediaClient')) fail('the glue exports no MediaClient');
// The wasm checks its own arguments (src/js/): every export goes through as it is.
write(
  'lib/api.mjs',
  '// What the wasm glue exports, less its init functions and internals. Written by npm/assemble.mjs.\n' +
    `export {\n${api.map((n) => `  ${n},`).join('\n')}\n} from '../wxmedia.mjs';\n`,
);
write(
  'lib/api.cjs',
  "'use strict';\n// What the wasm glue exports, less its init functions and internals. Written by npm/assemble.mjs.\n" +
    "const glue = require('../wxmedia.cjs');\n\n" +
    `module.exports = {\n${api.map((n) => `  ${n}: glue.${n},`).join('\n')}\n};\n`,
);
// Shared by every entry: ESM as written, and CommonJS for the Node entry.
for (const name of ['errors', 'lazy', 'voice', 'push']) {
  const source = readFileSync(join(src, `lib/${name}.mjs`), 'utf8');
  write(`lib/${name}.mjs`, source);
  // Their imports of each other become requires of the CommonJS copies.
  const cjs = toCjs(source, `lib/${name}.mjs`).replace(/require\("\.\/(\w+)\.mjs"\)/g, 'require("./$1.cjs")');
  write(`lib/${name}.cjs`, `'use strict';\n// lib/${name}.mjs as CommonJS, written by npm/assemble.mjs.\n${cjs}`);
}

const copies = [
  ['index.cjs', 'index.cjs'],
  ['index.d.ts', 'index.d.cts'],
  ['index.d.ts', 'index.d.mts'],
  ['common.d.ts', 'common.d.ts'],
  ['web.d.mts', 'web.d.mts'],
  ['workerd.mjs', 'workerd.mjs'],
  ['edge-light.mjs', 'edge-light.mjs'],
  ['browser.mjs', 'browser.mjs'],
  ['default.mjs', 'default.mjs'],
  ['lib/node.cjs', 'lib/node.cjs'],
  ['lib/http.cjs', 'lib/http.cjs'],
  ['bin/wxmedia.cjs', 'bin/wxmedia.cjs'],
  ['README.md', 'README.md'],
  // voice_bg.wasm carries wxmedia-amr, a port of Apache-2.0 code: its notice goes with it.
  ['../codecs/amr/NOTICE', 'NOTICE'],
];
for (const [from, to] of copies) {
  mkdirSync(dirname(join(pkg, to)), { recursive: true });
  copyFileSync(join(src, from), join(pkg, to));
}
chmodSync(join(pkg, 'bin/wxmedia.cjs'), 0o755);
// wasm-pack's `*` .gitignore has no say over what npm packs (package.json `files` does), but it
// would hide the directory's contents from anyone listing what is ignored: drop it.
rmSync(join(pkg, '.gitignore'), { force: true });

const names = Object.keys(require(join(pkg, 'index.cjs'))).sort();
if (names.length === 0 || !names.includes('MediaClient')) fail('index.cjs exports no MediaClient');
const bad = names.filter((n) => !/^[A-Za-z_$][\w$]*$/.test(n) || n === 'default');
if (bad.length) fail(`index.cjs exports names ESM cannot re-export: ${bad.join(', ')}`);
const missing = api.filter((n) => !names.includes(n));
if (missing.length) fail(`index.cjs does not export ${missing.join(', ')}`);
write(
  'index.mjs',
  '// The ES module entry of wxmedia in Node: the CommonJS entry re-exported by name, so `import`\n' +
    '// and `require` share one wasm instance. Written by npm/assemble.mjs from the exports of index.cjs.\n' +
    "import wxmedia from './index.cjs';\n\n" +
    `export const {\n${names.map((n) => `  ${n},`).join('\n')}\n} = wxmedia;\n`,
);

const manifest = JSON.parse(readFileSync(join(src, 'package.template.json'), 'utf8'));
manifest.version = version;
for (const f of manifest.files) {
  if (!existsSync(join(pkg, f))) fail(`package.json lists ${f}, which is not in ${pkg}`);
}
write('package.json', `${JSON.stringify(manifest, null, 2)}\n`);
console.log(`assembled ${manifest.name}@${version} in ${pkgArg} (exports: ${names.join(', ')})`);
