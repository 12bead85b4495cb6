#!/usr/bin/env node
// Turns wasm-pack's output directory into the npm package `wxmedia`:
//
//   node npm/assemble.mjs <pkg-dir> <version>
//
// wasm-pack leaves wxmedia.js (CommonJS, loads wxmedia_bg.wasm), wxmedia.d.ts and its own
// package.json there. This adds the entry points, the Node helpers, the CLI and the README from
// npm/, writes index.mjs with one named export per export of index.cjs (so the two can never
// disagree), and replaces package.json with npm/package.template.json at the crate's version.
// wxmedia.js stays where wasm-pack put it: bench/ loads it directly.

import { copyFileSync, chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const [pkgArg, version] = process.argv.slice(2);
if (!pkgArg || !version) {
  console.error('usage: node npm/assemble.mjs <pkg-dir> <version>');
  process.exit(2);
}
const src = dirname(fileURLToPath(import.meta.url));
const pkg = resolve(pkgArg);

function fail(message) {
  console.error(`assemble: ${message}`);
  process.exit(1);
}

for (const f of ['wxmedia.js', 'wxmedia.d.ts', 'wxmedia_bg.wasm', 'package.json']) {
  if (!existsSync(join(pkg, f))) fail(`${pkg}/${f} is missing: run wasm-pack build first`);
}
const built = JSON.parse(readFileSync(join(pkg, 'package.json'), 'utf8'));
if (built.version !== version) {
  fail(`wasm-pack built version ${built.version}, but Cargo.toml says ${version}`);
}

const copies = [
  ['index.cjs', 'index.cjs'],
  ['index.d.ts', 'index.d.cts'],
  ['index.d.ts', 'index.d.mts'],
  ['lib/node.cjs', 'lib/node.cjs'],
  ['bin/wxmedia.cjs', 'bin/wxmedia.cjs'],
  ['README.md', 'README.md'],
];
for (const [from, to] of copies) {
  mkdirSync(dirname(join(pkg, to)), { recursive: true });
  copyFileSync(join(src, from), join(pkg, to));
}
chmodSync(join(pkg, 'bin/wxmedia.cjs'), 0o755);
// wasm-pack's `*` .gitignore has no say over what npm packs (package.json `files` does), but it
// would hide the directory's contents from anyone listing what is ignored: drop it.
rmSync(join(pkg, '.gitignore'), { force: true });

const names = Object.keys(createRequire(import.meta.url)(join(pkg, 'index.cjs'))).sort();
if (names.length === 0 || !names.includes('MediaClient')) fail('index.cjs exports no MediaClient');
const bad = names.filter((n) => !/^[A-Za-z_$][\w$]*$/.test(n) || n === 'default');
if (bad.length) fail(`index.cjs exports names ESM cannot re-export: ${bad.join(', ')}`);
writeFileSync(
  join(pkg, 'index.mjs'),
  '// The ES module entry of wxmedia: the CommonJS entry re-exported by name, so `import` and\n' +
    '// `require` share one wasm instance. Written by npm/assemble.mjs from the exports of index.cjs.\n' +
    "import wxmedia from './index.cjs';\n\n" +
    `export const {\n${names.map((n) => `  ${n},`).join('\n')}\n} = wxmedia;\n`,
);

const manifest = JSON.parse(readFileSync(join(src, 'package.template.json'), 'utf8'));
manifest.version = version;
for (const f of manifest.files) {
  if (!existsSync(join(pkg, f))) fail(`package.json lists ${f}, which is not in ${pkg}`);
}
writeFileSync(join(pkg, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
console.log(`assembled ${manifest.name}@${version} in ${pkgArg} (exports: ${names.join(', ')})`);
