// Benchmark: decoding 60 s of WeChat voice to WAV with the npm package's voice wasm (Node),
// beside the native reference decoders in the same run: sox (opencore-amrnb) for AMR-NB, and a
// few lines of C over Debian's libspeex (codecs/voice/ref/speexref.c) for HD Speex. Prints the
// median time of each and the ratio wasm / native (target <= 2). The native times are whole
// processes (spawn included), as a server shelling out to them would pay; the wasm times are
// calls after a warm-up (the voice wasm is instantiated once, on the first call).
//
// Then encoding: 60 s of speech as a WAV file to MP3 by encodeVoice() beside Debian's `lame`
// process on the same WAV at the same rate and bitrate (mono, CBR), as the ratio wasm / lame and
// as times real time (issue 27's target: >= 100x). The 44.1 kHz stereo row includes mixing and
// resampling to 16 kHz (lame: -m m --resample 16). Rows without lame installed say so.
//
// Then AMR-NB: the same minute as an 8 kHz mono WAV encoded to MR122 by encodeVoice() beside a
// `sox in.wav -C 7 -t amr-nb out.amr` process (opencore-amrnb), as the ratio wasm / sox (issue
// 27's target: <= 1.0), with a check that both wrote the same bytes.
//
// The 60 s inputs are made here from espeak-ng speech by the reference encoders (sox -C 7 for
// AMR, speexref enc for Speex wideband quality 7). Needs sox + libsox-fmt-all, espeak-ng,
// libspeex-dev and gcc (scripts/setup installs them), and pkg/ (make pkg).
//
// Usage: node bench/voice.mjs   (scripts/bench runs it; BENCH_RUNS sets the runs, default 7)
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const require = createRequire(import.meta.url);
const root = fileURLToPath(new URL('..', import.meta.url));
const { decodeVoice, encodeVoice } = require(`${root}/pkg/index.cjs`);
const RUNS = Number(process.env.BENCH_RUNS || 7);

const work = mkdtempSync(path.join(os.tmpdir(), 'wxmedia-voice-bench-'));
process.on('exit', () => rmSync(work, { recursive: true, force: true }));
const at = (f) => path.join(work, f);
const run = (cmd, args) => execFileSync(cmd, args, { stdio: ['ignore', 'ignore', 'inherit'] });

// 60 s of speech: espeak-ng, repeated and cut to exactly a minute.
run('gcc', ['-O2', path.join(root, 'codecs/voice/ref/speexref.c'), '-lspeex', '-o', at('speexref')]);
run('espeak-ng', ['-w', at('speech.wav'),
  'WeChat voice messages are at most one minute long. This benchmark decodes a whole minute of it, ' +
  'first as AMR narrowband, then as the high definition Speex wideband of the JSSDK.']);
run('sox', ['-R', '-D', at('speech.wav'), at('minute.wav'), 'pad', '0', '0.5', 'repeat', '12', 'trim', '0', '60']);
run('sox', ['-R', '-D', at('minute.wav'), '-r', '8000', '-c', '1', '-C', '7', '-t', 'amr-nb', at('minute.amr')]);
run('sox', ['-R', '-D', at('minute.wav'), '-r', '16000', '-c', '1', '-t', 's16', at('minute16.s16')]);
run(at('speexref'), ['enc', at('minute16.s16'), at('minute.speex')]);

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}
function timeNative(cmd, args) {
  const times = [];
  for (let i = 0; i < RUNS; i++) {
    const t = process.hrtime.bigint();
    run(cmd, args);
    times.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  return median(times);
}
async function timeWasm(bytes, options) {
  let wav = await decodeVoice(bytes, options); // warm-up: instantiates the voice wasm
  const times = [];
  for (let i = 0; i < RUNS; i++) {
    const t = process.hrtime.bigint();
    wav = await decodeVoice(bytes, options);
    times.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  return { ms: median(times), wav };
}

const rows = [];
{
  const bytes = readFileSync(at('minute.amr'));
  const native = timeNative('sox', ['-t', 'amr-nb', at('minute.amr'), '-t', 's16', at('amr.s16')]);
  const wasm = await timeWasm(bytes);
  const same = Buffer.from(wasm.wav.subarray(44)).equals(readFileSync(at('amr.s16')));
  rows.push(['AMR-NB 12.2k', bytes.length, (wasm.wav.length - 44) / 2 / 8000, wasm.ms, native, same]);
}
{
  const bytes = readFileSync(at('minute.speex'));
  const native = timeNative(at('speexref'), ['dec', at('minute.speex'), at('speex.s16')]);
  const wasm = await timeWasm(bytes, { format: 'speex' });
  const same = Buffer.from(wasm.wav.subarray(44)).equals(readFileSync(at('speex.s16')));
  rows.push(['HD Speex WB q7', bytes.length, (wasm.wav.length - 44) / 2 / 16000, wasm.ms, native, same]);
}

console.log(`voice decoding, median of ${RUNS} runs (wasm in Node ${process.version} vs native processes)`);
console.log('format           input    audio   wasm ms  native ms  wasm/native  bit-exact');
for (const [name, size, secs, wasm, native, same] of rows) {
  console.log(
    `${name.padEnd(15)} ${String(size).padStart(6)} B ${secs.toFixed(1).padStart(5)} s ${wasm.toFixed(1).padStart(8)} ` +
      `${native.toFixed(1).padStart(10)} ${(wasm / native).toFixed(2).padStart(11)}x  ${same ? 'yes' : 'NO'}`,
  );
}

// Encoding: 60 s of speech (WAV) to MP3.
const haveLame = (() => {
  try {
    execFileSync('sh', ['-c', 'command -v lame'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();
const durationByFfmpeg = (file) => {
  try {
    const pcm = execFileSync('ffmpeg', ['-v', 'error', '-i', file, '-f', 's16le', '-ac', '1', '-'], { maxBuffer: 1 << 28 });
    return pcm.length / 2;
  } catch {
    return null;
  }
};
run('sox', ['-R', '-D', at('minute.wav'), '-r', '8000', '-c', '1', '-b', '16', at('minute8.wav')]);
run('sox', ['-R', '-D', at('minute.wav'), '-r', '16000', '-c', '1', '-b', '16', at('minute16.wav')]);
run('sox', ['-R', '-D', at('minute.wav'), '-r', '44100', '-c', '2', '-b', '16', at('minute44s.wav')]);
const encodeRows = [];
for (const [name, file, rate, kbps, lameArgs] of [
  ['8 kHz mono, 24k', 'minute8.wav', 8000, 24, []],
  ['16 kHz mono, 32k', 'minute16.wav', 16000, 32, []],
  ['44.1k stereo, 32k', 'minute44s.wav', 16000, 32, ['-m', 'm', '--resample', '16']],
]) {
  const wav = readFileSync(at(file));
  let mp3 = await encodeVoice(wav, { to: 'mp3', bitrate: kbps }); // warm-up
  const times = [];
  for (let i = 0; i < RUNS; i++) {
    const t = process.hrtime.bigint();
    mp3 = await encodeVoice(wav, { to: 'mp3', bitrate: kbps });
    times.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  const out = at(`${file}.mp3`);
  writeFileSync(out, mp3);
  const decoded = durationByFfmpeg(out);
  const lame = haveLame ? timeNative('lame', ['--quiet', '--cbr', '-b', String(kbps), ...lameArgs, at(file), at(`${file}.lame.mp3`)]) : null;
  encodeRows.push([name, mp3.length, decoded == null ? null : decoded / rate, median(times), lame]);
}
console.log(`\nMP3 encoding of 60 s of speech (WAV in), median of ${RUNS} runs (wasm in Node vs a lame process${haveLame ? '' : ': lame is not installed'})`);
console.log('input              mp3 size  decodes   wasm ms  x real time  lame ms  wasm/lame');
for (const [name, size, secs, wasm, lame] of encodeRows) {
  console.log(
    `${name.padEnd(17)} ${String(size).padStart(7)} B ${secs == null ? '    ?  ' : `${secs.toFixed(2).padStart(6)} s`} ${wasm.toFixed(1).padStart(8)} ` +
      `${(60_000 / wasm).toFixed(0).padStart(11)}x ${lame == null ? '      —' : lame.toFixed(1).padStart(8)} ${lame == null ? '         —' : `${(wasm / lame).toFixed(2).padStart(9)}x`}`,
  );
}
// AMR-NB encoding: 60 s of speech as an 8 kHz mono WAV to MR122 by encodeVoice(), beside a sox
// process (opencore-amrnb's encoder, which always encodes with DTX) doing the same. With
// `dtx: true` the two must agree byte for byte; the default, DTX off, is timed beside it too.
{
  const wav = readFileSync(at('minute8.wav'));
  const native = timeNative('sox', [at('minute8.wav'), '-C', '7', '-t', 'amr-nb', at('minute8.sox.amr')]);
  const reference = readFileSync(at('minute8.sox.amr'));
  console.log(`\nAMR-NB encoding of 60 s of speech (8 kHz mono WAV in, MR122), median of ${RUNS} runs (wasm in Node vs a sox process)`);
  console.log('input                   amr size   wasm ms  x real time  sox ms  wasm/sox  same as sox');
  for (const [name, dtx] of [['8 kHz, 12.2k, DTX', true], ['8 kHz, 12.2k, no DTX', false]]) {
    let amr = await encodeVoice(wav, { to: 'amr', mode: 7, dtx }); // warm-up
    const times = [];
    for (let i = 0; i < RUNS; i++) {
      const t = process.hrtime.bigint();
      amr = await encodeVoice(wav, { to: 'amr', mode: 7, dtx });
      times.push(Number(process.hrtime.bigint() - t) / 1e6);
    }
    const wasm = median(times);
    const same = Buffer.from(amr).equals(reference) ? 'yes' : dtx ? 'NO' : '(no DTX)';
    console.log(
      `${name.padEnd(22)} ${String(amr.length).padStart(7)} B ${wasm.toFixed(1).padStart(8)} ${(60_000 / wasm).toFixed(0).padStart(11)}x ` +
        `${native.toFixed(1).padStart(7)} ${(wasm / native).toFixed(2).padStart(8)}x  ${same}`,
    );
  }
}

const voiceWasm = path.join(root, 'pkg/voice_bg.wasm');
console.log(`voice wasm: ${statSync(voiceWasm).size} B, ${gzipSync(readFileSync(voiceWasm), { level: 9 }).length} B gzipped`);
