// What a WAV voice upload costs the Worker: 60 s of speech (espeak-ng, made 60 s long by sox)
// uploaded to `POST /media?type=voice` as WAV in three shapes (8 kHz mono, 22.05 kHz mono,
// 48 kHz stereo), each encoded to AMR-NB MR122 in the Worker's wasm, beside the same voice
// uploaded as the AMR it becomes (no encoding: the upload's own cost). The Worker runs in plain
// workerd through Miniflare's API against the emulator; CPU time is workerd's own (/proc, 10 ms
// ticks, so each row is the median over BENCH_ROUNDS uploads), wall time the request's.
//
//   node bench/voice-upload.mjs            (after `make worker` and `cargo build -p wxmedia-emulator`)
//
// Printed, not asserted: the README quotes it.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startEmulator, APPID, SECRET, API_KEY, ENTRY } from '../tests/worker/harness.mjs';
import { cpuMs, startScript } from './lib/workerd.mjs';

const ROUNDS = Number(process.env.BENCH_ROUNDS || 5);
const dir = mkdtempSync(path.join(tmpdir(), 'wxmedia-bench-wav-'));

// 60 s of speech: a paragraph spoken, repeated and cut to exactly 60 s.
const said = path.join(dir, 'said.wav');
execFileSync('espeak-ng', ['-w', said, 'Thank you for your message. Your parcel left our warehouse this morning and will '
  + 'arrive tomorrow between nine and eleven. Reply with a time that suits you better, and we will let the driver know.']);
const wav = (name, rate, channels) => {
  const file = path.join(dir, name);
  execFileSync('sox', [said, '-r', String(rate), '-c', String(channels), '-b', '16', file, 'repeat', '20', 'trim', '0', '60']);
  return readFileSync(file);
};
const inputs = [
  ['WAV 8 kHz mono', wav('8k.wav', 8000, 1)],
  ['WAV 22.05 kHz mono', wav('22k.wav', 22050, 1)],
  ['WAV 48 kHz stereo', wav('48k.wav', 48000, 2)],
];

const emu = await startEmulator();
const worker = await startScript('voice-upload', ENTRY, {
  bindings: { UPSTREAM_BASE: emu.url, WECHAT_APPID: APPID, WECHAT_SECRET: SECRET, API_KEYS: API_KEY, DOWNLOAD_AUTH: 'key' },
  durableObjects: { TOKENS: 'TokenHolder' },
});

async function upload(bytes) {
  const form = new FormData();
  form.append('media', new Blob([bytes]), 'voice');
  const cpu = cpuMs(worker.pid);
  const t0 = performance.now();
  const r = await fetch(`${worker.url}/media?type=voice`, { method: 'POST', headers: { authorization: `Bearer ${API_KEY}` }, body: form });
  const answer = await r.json();
  const wall = performance.now() - t0;
  if (r.status !== 201) throw new Error(`${r.status} ${JSON.stringify(answer)}`);
  return { answer, wall, cpu: cpuMs(worker.pid) - cpu };
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

// Warm the isolate (wasm compiled, a token fetched), and get the AMR the first WAV becomes.
const { answer } = await upload(inputs[0][1]);
const amr = Buffer.from(await (await fetch(`${worker.url}/media/${answer.mediaId}`, { headers: { authorization: `Bearer ${API_KEY}` } })).arrayBuffer());
inputs.push(['the AMR itself (no encoding)', amr]);

console.log(`60 s voice uploads, ${ROUNDS} each, workerd via Miniflare, node ${process.version}`);
console.log('input                           bytes   workerd CPU ms (median)   wall ms (median)');
for (const [name, bytes] of inputs) {
  const runs = [];
  for (let i = 0; i < ROUNDS; i++) runs.push(await upload(bytes));
  console.log(`${name.padEnd(30)} ${String(bytes.length).padStart(8)} ${String(median(runs.map((r) => r.cpu))).padStart(16)} ${median(runs.map((r) => r.wall)).toFixed(0).padStart(22)}`);
}
await worker.stop();
emu.stop();
