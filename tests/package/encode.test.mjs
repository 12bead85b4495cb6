// encodeVoice() and splitVoice() in Node, through import and require: speech from espeak-ng in
// every WAV sample format sox writes (and raw PCM) encoded to MP3 that ffmpeg decodes to the
// input's duration ± one frame (sox: plus the codec's delay, which it does not trim), and to AMR
// in all eight modes, with DTX byte for byte what sox writes for 8 kHz input (upload-voice.test.mjs
// does the same on live speech); hostile WAVs and bad options refused with typed errors; WeChat voice
// (the AMR fixtures) and MP3 split on frame boundaries with every frame in exactly one part. The
// same facts in Deno, Bun, a Worker and Chromium: fixtures/roundtrip.mjs.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { encodeVoice, splitVoice, MediaValidationError } from 'wxmedia';
import h from './helpers.cjs';
import { encodeFacts } from './fixtures/roundtrip.mjs';

const require = createRequire(import.meta.url);

test('through import, the facts every runtime checks (MP3 and AMR from WAV and PCM, hostile WAVs, splitVoice)', async () => {
  await h.assertEncodeFacts(await encodeFacts(await import('wxmedia')), 'Node ESM');
});

test('through require, the same functions and facts', async () => {
  const wx = require('wxmedia');
  assert.equal(typeof wx.encodeVoice, 'function');
  assert.equal(typeof wx.splitVoice, 'function');
  await h.assertEncodeFacts(await encodeFacts(wx), 'Node CJS');
});

test('speech in every WAV format sox writes, and raw PCM, encodes to MP3 of its duration', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wxmedia-encode-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const speech = path.join(dir, 'speech.wav');
  execFileSync('espeak-ng', ['-w', speech, 'Seven slow ships sailed south. 微信语音。']);
  const formats = {
    'u8 11.025 kHz': ['-e', 'unsigned', '-b', '8', '-r', '11025'],
    's16 stereo 44.1 kHz': ['-b', '16', '-c', '2', '-r', '44100'],
    's24 48 kHz': ['-b', '24', '-r', '48000'],
    'f32 stereo 16 kHz': ['-e', 'float', '-b', '32', '-c', '2', '-r', '16000'],
    'extensible s24 4 channels 8 kHz': ['-b', '24', '-c', '4', '-r', '8000'],
  };
  for (const [name, args] of Object.entries(formats)) {
    const file = path.join(dir, 'in.wav');
    execFileSync('sox', [speech, ...args, file]);
    const wav = fs.readFileSync(file);
    const rate = Number(execFileSync('soxi', ['-r', file]));
    const seconds = Number(execFileSync('soxi', ['-s', file])) / rate;
    const mp3 = await encodeVoice(wav, { to: 'mp3', bitrate: rate >= 16000 ? 32 : 16 });
    h.assertMp3Duration(mp3, seconds, rate >= 16000 ? 16000 : 8000, name);
  }
  // The same speech as an Int16Array at 8 kHz.
  const s16 = execFileSync('sox', [speech, '-t', 's16', '-r', '8000', '-']);
  const pcm = new Int16Array(s16.buffer, s16.byteOffset, s16.length / 2);
  h.assertMp3Duration(await encodeVoice({ pcm, sampleRate: 8000 }, { to: 'mp3' }), pcm.length / 8000, 8000, 'Int16Array');
});

test('bad options are TypeErrors; what cannot be encoded is a MediaValidationError', async () => {
  const wav = h.voiceFixture('amr-mode7.amr'); // not a WAV
  await assert.rejects(encodeVoice(wav), TypeError);
  await assert.rejects(encodeVoice(wav, { to: 'mp3', bitrate: 128 }), TypeError);
  await assert.rejects(encodeVoice(wav, { to: 'mp3', mode: 7 }), TypeError);
  await assert.rejects(encodeVoice(wav, { to: 'amr', mode: 8 }), TypeError);
  await assert.rejects(encodeVoice(42, { to: 'mp3' }), TypeError);
  await assert.rejects(encodeVoice({ pcm: [1, 2], sampleRate: 8000 }, { to: 'mp3' }), TypeError);
  await assert.rejects(encodeVoice({ pcm: new Int16Array(8), sampleRate: 8000.5 }, { to: 'mp3' }), TypeError);
  await assert.rejects(encodeVoice(wav, { to: 'mp3' }), (err) => err instanceof MediaValidationError && err.code === 'BAD_AUDIO');
  await assert.rejects(
    encodeVoice({ pcm: new Int16Array(16), sampleRate: 8000, channels: 9 }, { to: 'mp3' }),
    (err) => err instanceof MediaValidationError && err.code === 'UNSUPPORTED_AUDIO',
  );
  await assert.rejects(
    encodeVoice({ pcm: new Int16Array(8000 * 601), sampleRate: 8000 }, { to: 'mp3' }),
    (err) => err instanceof MediaValidationError && err.code === 'TOO_LONG',
  );
  // AMR takes what MP3 takes, and refuses what it refuses.
  const amr = await encodeVoice({ pcm: new Float32Array(8000), sampleRate: 16000 }, { to: 'amr', mode: 5 });
  assert.equal(amr.length, 6 + 25 * 21, 'half a second of MR795: 25 frames of 21 bytes');
  await assert.rejects(encodeVoice(wav, { to: 'amr' }), (err) => err instanceof MediaValidationError && err.code === 'BAD_AUDIO');
  await assert.rejects(
    encodeVoice({ pcm: new Int16Array(8000 * 601), sampleRate: 8000 }, { to: 'amr' }),
    (err) => err instanceof MediaValidationError && err.code === 'TOO_LONG',
  );
  await assert.rejects(splitVoice(wav, { maxSeconds: 0 }), TypeError);
  await assert.rejects(splitVoice(wav, { maxBytes: 1.5 }), TypeError);
  await assert.rejects(splitVoice(wav, { maxBytes: 10 }), (err) => err instanceof MediaValidationError && err.code === 'BAD_OPTION');
});


test('splitVoice: every AMR record in exactly one part, in order, within the limits (random limits over the fixtures)', async () => {
  let seed = 12345;
  const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  for (let mode = 0; mode < 8; mode++) {
    const amr = h.voiceFixture(`amr-mode${mode}.amr`);
    const records = h.amrRecords(amr);
    for (let round = 0; round < 10; round++) {
      const maxSeconds = 0.02 + random() * 3;
      const maxBytes = 40 + Math.floor(random() * 3000);
      const parts = await splitVoice(amr, { maxSeconds, maxBytes });
      const joined = [];
      for (const part of parts) {
        assert.equal(Buffer.from(part.subarray(0, 6)).toString(), '#!AMR\n');
        const own = h.amrRecords(part);
        assert.ok(part.length <= maxBytes && own.length * 0.02 <= maxSeconds + 1e-9, `mode ${mode}: a part of ${part.length} bytes, ${own.length} records`);
        joined.push(...own);
      }
      assert.deepEqual(joined, records, `mode ${mode}, ${maxSeconds} s, ${maxBytes} bytes`);
    }
  }
  // 130 s of voice (the fixtures' records over and over) in WeChat's default 60 s parts.
  const one = h.voiceFixture('amr-mode7.amr').subarray(6);
  const long = Buffer.concat([Buffer.from('#!AMR\n'), ...new Array(Math.ceil(6500 / h.amrRecords(h.voiceFixture('amr-mode7.amr')).length)).fill(one)]);
  const total = h.amrRecords(long).length;
  const parts = await splitVoice(long);
  assert.deepEqual(parts.map((p) => h.amrRecords(p).length), [3000, 3000, total - 6000]);
  // Each part is an AMR file the reference decoder reads.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wxmedia-split-'));
  try {
    fs.writeFileSync(path.join(dir, 'p.amr'), parts[0]);
    const pcm = execFileSync('sox', ['-t', 'amr-nb', path.join(dir, 'p.amr'), '-t', 's16', '-'], { maxBuffer: 1 << 26 });
    assert.equal(pcm.length / 2, 3000 * 160);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('splitVoice: an MP3 in parts of whole frames, the LAME tag frame in none; ffmpeg decodes each part', async () => {
  const { speechWav } = await import('./fixtures/roundtrip.mjs');
  const mp3 = await encodeVoice(speechWav(5, 16000), { to: 'mp3', bitrate: 24 });
  const parts = await splitVoice(mp3, { maxSeconds: 1, maxBytes: 2000 });
  const joined = Buffer.concat(parts);
  const tag = mp3.length - joined.length;
  assert.ok(tag > 0 && tag < 400, `the tag frame is ${tag} bytes`);
  assert.ok(Buffer.from(mp3).subarray(tag).equals(joined), 'the parts, joined, are every frame after the tag');
  let seconds = 0;
  for (const part of parts) {
    assert.ok(part.length <= 2000);
    seconds += h.mp3Seconds(part, 16000).ffmpeg;
  }
  // Without the tag, each part decodes with the codec's delay: 5 s plus at most 2 frames a part.
  assert.ok(seconds >= 5 && seconds <= 5 + parts.length * 2 * 0.036 + 0.036, `${seconds} s in ${parts.length} parts`);
});
