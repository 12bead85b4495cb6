// MediaClient.uploadVoice() against the emulator, over HTTP: WAV (and PCM) encoded to AMR-NB in
// the voice wasm — with `dtx: true` byte for byte what sox (opencore-amrnb, which always encodes
// with DTX) writes for 8 kHz input —, voice over WeChat's 60 s cut into parts whose downloads,
// joined, hold every frame once and in order, AMR and MP3 uploaded as they are, `split: false`
// refusing what is too long before anything is sent, typed errors, and a part that fails naming
// the parts uploaded before it. Plus encodeVoice()'s AMR on live espeak-ng speech in all eight
// modes against sox.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { MediaClient, MediaValidationError, WeChatError, encodeVoice } from 'wxmedia';
import h from './helpers.cjs';

const client = () => new MediaClient({ appId: h.APPID, appSecret: h.SECRET, baseUrl: h.EMU });

/** `seconds` of espeak-ng speech as a WAV file (repeated and cut), with sox's `args` (rate, channels…). */
function speech(dir, seconds, args) {
  const one = path.join(dir, 'one.wav');
  if (!fs.existsSync(one)) {
    execFileSync('espeak-ng', ['-w', one, 'Your parcel arrives tomorrow between nine and eleven. 您的包裹明天上午到达。']);
  }
  const out = path.join(dir, `speech-${seconds}-${args.join('')}.wav`);
  execFileSync('sox', ['-R', '-D', one, ...args, out, 'pad', '0', '0.3', 'repeat', String(Math.ceil(seconds / 3) + 1), 'trim', '0', String(seconds)]);
  return out;
}


async function download(c, mediaId) {
  const file = await c.get(mediaId);
  assert.equal(file.kind, 'media');
  return Buffer.from(await file.arrayBuffer());
}

test('encodeVoice to AMR: espeak-ng speech at 8 kHz with DTX is what sox writes, in all eight modes; without, a frame of the mode every 20 ms', async (t) => {
  const dir = h.tempDir(t);
  const wav = fs.readFileSync(speech(dir, 4.33, ['-r', '8000', '-c', '1', '-b', '16']));
  for (let mode = 0; mode < 8; mode++) {
    const amr = Buffer.from(await encodeVoice(wav, { to: 'amr', mode, dtx: true }));
    const sox = h.soxAmr(wav, mode);
    assert.ok(h.amrFrameTypes(sox).some((ft) => ft === 8 || ft === 15), `mode ${mode}: sox wrote pauses as SID/NO_DATA frames`);
    assert.ok(amr.equals(sox), `mode ${mode}: our AMR (DTX) differs from sox's`);
    h.assertAmrDuration(amr, 4.33, mode, `mode ${mode}, DTX`);
    const plain = Buffer.from(await encodeVoice(wav, { to: 'amr', mode }));
    h.assertAmrDuration(plain, 4.33, mode, `mode ${mode}`);
    assert.deepEqual(new Set(h.amrFrameTypes(plain)), new Set([mode]), `mode ${mode}: without DTX, no SID/NO_DATA frame`);
    assert.equal(h.amrFrameTypes(plain).length, h.amrFrameTypes(sox).length, `mode ${mode}: a record per 20 ms either way`);
  }
  // Other rates and channel counts are mixed and resampled first: the duration holds.
  for (const args of [['-r', '44100', '-c', '2'], ['-r', '16000', '-b', '24'], ['-r', '11025', '-e', 'float', '-b', '32']]) {
    const other = fs.readFileSync(speech(dir, 2.5, args));
    h.assertAmrDuration(await encodeVoice(other, { to: 'amr' }), 2.5, 7, args.join(' '));
  }
});

test('uploadVoice: two minutes of WAV become three AMR media ids whose downloads hold every frame once', async (t) => {
  await h.reset();
  const dir = h.tempDir(t);
  const wav = fs.readFileSync(speech(dir, 125, ['-r', '8000', '-c', '1', '-b', '16']));
  const c = client();
  // With DTX, as sox encodes: the parts are cut from exactly opencore's encoding of the whole.
  const ups = await c.uploadVoice(wav, { filename: 'reply.wav', dtx: true });
  assert.equal(ups.length, 3);
  const whole = h.soxAmr(wav, 7);
  const joined = [];
  for (const [i, up] of ups.entries()) {
    assert.equal(up.type, 'voice');
    assert.equal(up.format, 'amr');
    assert.equal(up.encoded, true);
    assert.equal(up.part, i);
    assert.equal(up.parts, 3);
    assert.equal(typeof up.createdAt, 'number');
    const got = await download(c, up.mediaId);
    assert.equal(got.length, up.size);
    assert.ok(got.length <= 2 * 1024 * 1024);
    const own = h.amrRecords(got);
    assert.ok(own.length <= 3000, `part ${i}: ${own.length} frames, over 60 s`);
    assert.equal(up.seconds, own.length / 50);
    joined.push(...own);
  }
  assert.deepEqual(ups.map((u) => u.seconds), [60, 60, 5]);
  assert.deepEqual(joined, h.amrRecords(whole), 'the parts, joined, are every frame of the whole encoding, once, in order');
  const stored = await h.storedMedia();
  assert.deepEqual(stored.map((m) => m.media_id).sort(), ups.map((u) => u.mediaId).sort());
  const uploads = await h.requests('/cgi-bin/media/upload');
  assert.equal(uploads.length, 3);
  assert.ok(uploads.every((r) => r.query.type === 'voice'), 'each part uploaded as type voice');
});

test('uploadVoice: a short WAV is one AMR media id; AMR and MP3 go as they are; PCM is encoded', async (t) => {
  await h.reset();
  const dir = h.tempDir(t);
  const c = client();
  const wav = fs.readFileSync(speech(dir, 3, ['-r', '16000', '-c', '2']));
  const [up, ...more] = await c.uploadVoice(wav);
  assert.equal(more.length, 0);
  assert.deepEqual({ ...up, mediaId: 0, createdAt: 0 }, {
    type: 'voice', mediaId: 0, createdAt: 0, format: 'amr', seconds: 3, size: 6 + 150 * 32, encoded: true, part: 0, parts: 1,
  });
  assert.ok((await download(c, up.mediaId)).equals(Buffer.from(await encodeVoice(wav, { to: 'amr' }))));

  const amr = h.voiceFixture('amr-mode4.amr');
  const [asIs] = await c.uploadVoice(amr, { mode: 7 });
  assert.equal(asIs.encoded, false);
  assert.equal(asIs.format, 'amr');
  assert.ok((await download(c, asIs.mediaId)).equals(amr), 'AMR uploaded byte for byte');

  const mp3 = await encodeVoice(wav, { to: 'mp3' });
  const [mp3Up] = await c.uploadVoice(new Blob([mp3]));
  assert.equal(mp3Up.format, 'mp3');
  assert.equal(mp3Up.encoded, false);
  assert.ok((await download(c, mp3Up.mediaId)).equals(Buffer.from(mp3)), 'MP3 uploaded byte for byte');

  const s16 = execFileSync('sox', [path.join(dir, 'one.wav'), '-t', 's16', '-r', '8000', '-c', '1', '-']);
  const pcm = new Int16Array(s16.buffer, s16.byteOffset, s16.length / 2);
  const [pcmUp] = await c.uploadVoice({ pcm, sampleRate: 8000 }, { mode: 0 });
  const got = await download(c, pcmUp.mediaId);
  assert.equal((got[6] >> 3) & 15, 0, 'encoded in the mode asked');
  assert.ok(Math.abs(h.amrSamples(got) - pcm.length) < 160);
  assert.equal((await h.requests('/cgi-bin/media/upload')).length, 4);
});

test('uploadVoice: split: false refuses voice over the limits before anything is sent; bad input is typed', async (t) => {
  await h.reset();
  const dir = h.tempDir(t);
  const c = client();
  const wav = fs.readFileSync(speech(dir, 75.5, ['-r', '8000', '-c', '1']));
  await assert.rejects(c.uploadVoice(wav, { split: false }), (err) => {
    assert.ok(err instanceof MediaValidationError, String(err));
    assert.equal(err.code, 'TOO_LONG');
    assert.match(err.message, /75\.5 s is longer than the 60 s/);
    assert.equal(err.seconds, 75.5);
    assert.equal(err.limit, 60);
    return true;
  });
  await assert.rejects(
    c.uploadVoice(h.voiceFixture('amr-mode7.amr'), { split: false, maxBytes: 1000 }),
    (err) => err instanceof MediaValidationError && err.code === 'TOO_LARGE' && /more than the 1000/.test(err.message),
  );
  await assert.rejects(c.uploadVoice(h.jpeg()), (err) => err instanceof MediaValidationError && err.code === 'BAD_FORMAT');
  const hostile = Buffer.from(wav.subarray(0, 30)); // a WAV header cut short
  await assert.rejects(c.uploadVoice(hostile), (err) => err instanceof MediaValidationError && err.code === 'BAD_AUDIO');
  await assert.rejects(c.uploadVoice(Buffer.from('#!AMR\n')), (err) => err instanceof MediaValidationError && err.code === 'EMPTY');
  await assert.rejects(c.uploadVoice(Buffer.from('#!AMR\n\x4c\x00')), (err) => err instanceof MediaValidationError && err.code === 'BAD_VOICE');
  await assert.rejects(c.uploadVoice('reply.wav'), TypeError);
  await assert.rejects(c.uploadVoice(wav, { mode: 8 }), TypeError);
  await assert.rejects(c.uploadVoice(wav, { split: 'yes' }), TypeError);
  await assert.rejects(c.uploadVoice(wav, { maxSeconds: 0 }), TypeError);
  await assert.rejects(c.uploadVoice({ pcm: new Int16Array(10), sampleRate: 8000, channels: 0 }), (err) => err.code === 'BAD_AUDIO');
  assert.equal((await h.requests('/cgi-bin/media/upload')).length, 0, 'nothing was sent');
  assert.equal((await h.storedMedia()).length, 0);
});

test('uploadVoice: a part WeChat refuses rejects with its error and the parts uploaded before it', async (t) => {
  await h.reset();
  const dir = h.tempDir(t);
  const wav = fs.readFileSync(speech(dir, 5, ['-r', '8000', '-c', '1']));
  let uploads = 0;
  // The third upload meets a refusal the client does not retry (40005, a bad format).
  const c = new MediaClient({
    appId: h.APPID,
    appSecret: h.SECRET,
    baseUrl: h.EMU,
    fetch: async (url, init) => {
      if (String(url).includes('/cgi-bin/media/upload') && ++uploads === 3) {
        await h.fault({ path: '/cgi-bin/media/upload', errcode: 40005 });
      }
      return fetch(url, init);
    },
  });
  await assert.rejects(c.uploadVoice(wav, { maxSeconds: 1 }), (err) => {
    assert.ok(err instanceof WeChatError, String(err));
    assert.equal(err.errcode, 40005);
    assert.deepEqual(err.uploaded.map((u) => u.part), [0, 1]);
    assert.deepEqual(err.uploaded.map((u) => u.seconds), [1, 1]);
    return true;
  });
  const stored = await h.storedMedia();
  assert.equal(stored.length, 2, 'the parts before the refusal were stored; none after it was sent');
  assert.equal(uploads, 3);
});
