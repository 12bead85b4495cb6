// WAV uploads as voice: the Worker encodes them to AMR-NB (MR122) before WeChat sees them.
// A WAV (told by its RIFF/WAVE bytes, whatever its name) reaches the emulator as `#!AMR\n` that
// sox (opencore-amrnb) decodes to the WAV's duration; over 60 s it is a 413 naming the limit and
// the duration, with no upstream call; with `&split=1` it is several media ids whose parts hold
// every frame once (equal, in order, to opencore's own encoding of the same 8 kHz audio); hostile
// WAVs are 400 BAD_AUDIO with no upstream call; the WeChat-shaped route answers in WeChat's shape;
// voice that is already AMR passes through untouched.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { startEmulator, startWorker, ROOT, APPID, SECRET, API_KEY, SIGNING_KEY } from './harness.mjs';

const auth = { authorization: `Bearer ${API_KEY}` };
const dir = mkdtempSync(path.join(tmpdir(), 'wxmedia-wav-'));
const AMR_MAGIC = Buffer.from('#!AMR\n');

/** Runs sox and gives back the file it wrote. */
function sox(args, out) {
  execFileSync('sox', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  return readFileSync(out);
}

/** espeak-ng speech as a WAV (22050 Hz mono 16-bit). */
function speech(text, name) {
  const file = path.join(dir, name);
  execFileSync('espeak-ng', ['-w', file, text]);
  return readFileSync(file);
}

/** A WAV of `seconds` of a sweep at `rate` with `channels` (sox synth). */
function tone(name, seconds, rate = 8000, channels = 1) {
  const file = path.join(dir, name);
  return sox(['-n', '-r', String(rate), '-c', String(channels), '-b', '16', file, 'synth', String(seconds), 'sine', '300-3000'], file);
}

/** The WAV's duration from its header (16-bit PCM). */
function wavSeconds(wav) {
  const channels = wav.readUInt16LE(22);
  const rate = wav.readUInt32LE(24);
  const bits = wav.readUInt16LE(34);
  let at = 12;
  while (wav.toString('latin1', at, at + 4) !== 'data') at += 8 + wav.readUInt32LE(at + 4);
  return wav.readUInt32LE(at + 4) / (channels * bits / 8) / rate;
}

/** How long sox (opencore-amrnb) decodes an AMR file to, in seconds. */
function amrSeconds(amr, name) {
  const file = path.join(dir, name);
  writeFileSync(file, amr);
  const pcm = execFileSync('sox', ['-t', 'amr-nb', file, '-t', 's16', '-r', '8000', '-c', '1', '-']);
  return pcm.length / 2 / 8000;
}

/** The stored bytes of a media id, straight from the emulator (the Worker's cache bypassed). */
async function stored(emu, mediaId) {
  const token = await emu.token();
  const r = await fetch(`${emu.url}/cgi-bin/media/get?access_token=${encodeURIComponent(token)}&media_id=${encodeURIComponent(mediaId)}`);
  assert.equal(r.status, 200);
  return Buffer.from(await r.arrayBuffer());
}

/** Forgets the emulator's request log (its tokens and media stay). */
async function clearLog(emu) {
  await emu.control('DELETE', 'requests');
}

/** The upstream calls made since the log was last cleared: none may be made for a refused upload. */
async function upstreamCalls(emu) {
  return (await emu.requests()).map((e) => `${e.method} ${e.path}`);
}

/** Hostile variants of a good 16-bit mono WAV (44-byte header). */
function hostile(good) {
  const edit = (at, write) => { const b = Buffer.from(good); write(b, at); return b; };
  return {
    'a header cut short': good.subarray(0, 30),
    'a data size past the end': edit(40, (b, at) => b.writeUInt32LE(0xfffffff0, at)),
    'a fmt chunk size past the end': edit(16, (b, at) => b.writeUInt32LE(0x7ffffff0, at)),
    'zero channels': edit(22, (b, at) => b.writeUInt16LE(0, at)),
    'a rate of 2^32 - 1': edit(24, (b, at) => b.writeUInt32LE(0xffffffff, at)),
    'a rate of 0': edit(24, (b, at) => b.writeUInt32LE(0, at)),
    'no data chunk': good.subarray(0, 36),
  };
}

describe('WAV uploads as voice (encoded to AMR in the Worker)', () => {
  let emu;
  let w;
  before(async () => {
    emu = await startEmulator();
    w = await startWorker({
      name: 'voice-upload',
      vars: { UPSTREAM_BASE: emu.url, WECHAT_APPID: APPID, DOWNLOAD_AUTH: 'key' },
      secrets: { WECHAT_SECRET: SECRET, API_KEYS: API_KEY, SIGNING_KEY },
    });
  });
  after(async () => {
    await w?.stop();
    emu?.stop();
  });

  it('a WAV (multipart, named as anything) reaches WeChat as AMR of its duration, and the answer says so', async () => {
    const wav = speech('Your parcel will arrive tomorrow morning between nine and eleven.', 'reply.wav');
    const seconds = wavSeconds(wav);
    const form = new FormData();
    // The name says MP3: the bytes say WAV, and the bytes decide.
    form.append('media', new Blob([wav]), 'reply.mp3');
    const r = await w.fetch('/media?type=voice', { method: 'POST', headers: auth, body: form });
    assert.equal(r.status, 201, r.text());
    const answer = r.json();
    assert.equal(answer.type, 'voice');
    assert.equal(answer.encoded.from, 'wav');
    assert.equal(answer.encoded.to, 'amr');
    assert.equal(answer.encoded.mode, 'MR122');
    assert.equal(answer.encoded.sampleRate, 22050);
    assert.ok(Math.abs(answer.encoded.seconds - seconds) < 0.001, `${answer.encoded.seconds} vs ${seconds}`);
    assert.equal(answer.parts, undefined);

    const amr = await stored(emu, answer.mediaId);
    assert.ok(amr.subarray(0, 6).equals(AMR_MAGIC), 'the emulator holds AMR');
    assert.equal(answer.encoded.bytes, amr.length);
    const decoded = amrSeconds(amr, 'reply.amr');
    assert.ok(Math.abs(decoded - seconds) <= 0.02, `sox decodes ${decoded} s of a ${seconds} s WAV`);
    // What WeChat was told: a voice named .amr.
    const [upload] = (await emu.requests()).filter((e) => e.path === '/cgi-bin/media/upload');
    assert.equal(upload.query.type, 'voice');
    assert.equal(upload.status, 200);
    // The AMR is written through: the first download is a hit, of the same bytes.
    const got = await w.fetch(`/media/${answer.mediaId}`, { headers: auth });
    assert.equal(got.status, 200);
    assert.ok(got.body.equals(amr));
  });

  it('a raw WAV body (44.1 kHz stereo) is encoded too', async () => {
    const wav = tone('stereo.wav', 3.21, 44100, 2);
    const r = await w.fetch('/media?type=voice&filename=answer.bin', { method: 'POST', headers: { ...auth, 'content-type': 'audio/wav' }, body: wav });
    assert.equal(r.status, 201, r.text());
    const answer = r.json();
    assert.equal(answer.encoded.sampleRate, 44100);
    const amr = await stored(emu, answer.mediaId);
    assert.ok(amr.subarray(0, 6).equals(AMR_MAGIC));
    const decoded = amrSeconds(amr, 'stereo.amr');
    assert.ok(Math.abs(decoded - 3.21) <= 0.02, `${decoded} s`);
  });

  it('over 60 s: 413 naming the limit and the duration, and WeChat is never called', async () => {
    const wav = tone('long.wav', 65.5, 16000);
    await clearLog(emu);
    const r = await w.fetch('/media?type=voice', { method: 'POST', headers: auth, body: wav });
    assert.equal(r.status, 413, r.text());
    const { error } = r.json();
    assert.equal(error.code, 'TOO_LARGE');
    assert.match(error.message, /60 s/);
    assert.match(error.message, /65\.500 s/);
    assert.match(error.message, /split=1/);
    assert.deepEqual(await upstreamCalls(emu), []);
  });

  it('a WAV body over 16 MiB: 413 before it is read, WeChat never called', async () => {
    await clearLog(emu);
    const big = Buffer.alloc(17 << 20);
    tone('head.wav', 0.1).copy(big, 0, 0, 44);
    const r = await w.fetch('/media?type=voice', { method: 'POST', headers: auth, body: big });
    assert.equal(r.status, 413, r.text());
    assert.equal(r.json().error.code, 'TOO_LARGE');
    assert.match(r.json().error.message, /16777216 bytes/);
    assert.deepEqual(await upstreamCalls(emu), []);
  });

  it('split=1 over 60 s: one media id per part, the parts holding every frame once', async () => {
    // 8 kHz mono: no resampling, so opencore's encoder (sox) must write the very same frames.
    const seconds = 130;
    const wav = tone('split.wav', seconds, 8000);
    const reference = sox([path.join(dir, 'split.wav'), '-C', '7', '-t', 'amr-nb', path.join(dir, 'split-ref.amr')], path.join(dir, 'split-ref.amr'));
    await clearLog(emu);
    const form = new FormData();
    form.append('media', new Blob([wav]), 'lecture.wav');
    const r = await w.fetch('/media?type=voice&split=1', { method: 'POST', headers: auth, body: form });
    assert.equal(r.status, 201, r.text());
    const answer = r.json();
    assert.equal(answer.type, 'voice');
    assert.equal(answer.mediaId, undefined, 'parts only: no media id that holds part of the voice as if whole');
    assert.equal(answer.encoded.seconds, seconds);
    assert.equal(answer.parts.length, 3);
    assert.deepEqual(answer.parts.map((p) => p.seconds), [60, 60, 10]);
    const uploads = (await emu.requests()).filter((e) => e.path === '/cgi-bin/media/upload');
    assert.equal(uploads.length, 3, 'one upload per part, none sent twice');
    const ids = new Set(answer.parts.map((p) => p.mediaId));
    assert.equal(ids.size, 3);
    const frames = [];
    for (const [i, part] of answer.parts.entries()) {
      const amr = await stored(emu, part.mediaId);
      assert.ok(amr.subarray(0, 6).equals(AMR_MAGIC));
      assert.equal(part.bytes, amr.length);
      assert.ok(Math.abs(amrSeconds(amr, `part${i}.amr`) - part.seconds) <= 0.02);
      assert.ok(part.url.endsWith(`/media/${part.mediaId}`));
      frames.push(amr.subarray(6));
    }
    const joined = Buffer.concat([AMR_MAGIC, ...frames]);
    assert.equal(joined.length, 6 + seconds * 50 * 32);
    assert.ok(joined.equals(reference), 'the parts, joined, are opencore\'s encoding of the whole');

    // Voice that is already AMR is cut the same way (nothing to encode: no `encoded`).
    const again = await w.fetch('/media?type=voice&split=1&filename=lecture.amr', { method: 'POST', headers: auth, body: reference });
    assert.equal(again.status, 201, again.text());
    assert.equal(again.json().encoded, undefined);
    assert.deepEqual(again.json().parts.map((p) => p.seconds), [60, 60, 10]);
    const stored2 = [];
    for (const part of again.json().parts) stored2.push((await stored(emu, part.mediaId)).subarray(6));
    assert.ok(Buffer.concat([AMR_MAGIC, ...stored2]).equals(reference));
    // split is for voice.
    const image = await w.fetch('/media?type=image&split=1', { method: 'POST', headers: auth, body: wav });
    assert.equal(image.status, 400);
  });

  it('split=1 within 60 s is one part', async () => {
    const wav = tone('short.wav', 1.5, 8000);
    const r = await w.fetch('/media?type=voice&split=1', { method: 'POST', headers: auth, body: wav });
    assert.equal(r.status, 201, r.text());
    assert.equal(r.json().parts.length, 1);
    assert.equal(r.json().parts[0].seconds, 1.5);
  });

  it('hostile WAVs: 400 BAD_AUDIO with the codec\'s reason, and WeChat is never called', async () => {
    const good = tone('good.wav', 0.5, 8000);
    assert.equal(good.toString('latin1', 36, 40), 'data', 'a 44-byte header');
    for (const [what, bytes] of Object.entries(hostile(good))) {
      await clearLog(emu);
      const r = await w.fetch('/media?type=voice', { method: 'POST', headers: auth, body: bytes });
      assert.equal(r.status, 400, `${what}: ${r.text()}`);
      const { error } = r.json();
      assert.equal(error.code, 'BAD_AUDIO', what);
      assert.match(error.message, /^the WAV cannot be encoded: audio: /, what);
      assert.deepEqual(await upstreamCalls(emu), [], what);
    }
    // A well-formed WAV of a kind that is not read (IMA ADPCM): 415, not sent either.
    const adpcm = Buffer.from(good);
    adpcm.writeUInt16LE(0x11, 20);
    await clearLog(emu);
    const r = await w.fetch('/media?type=voice', { method: 'POST', headers: auth, body: adpcm });
    assert.equal(r.status, 415, r.text());
    assert.equal(r.json().error.code, 'UNSUPPORTED_AUDIO');
    assert.deepEqual(await upstreamCalls(emu), []);
  });

  it('the WeChat-shaped route: a WAV is encoded, the answer exactly WeChat\'s shape; refusals as WeChat words them', async () => {
    const wav = speech('Thank you for your message.', 'thanks.wav');
    const seconds = wavSeconds(wav);
    const form = new FormData();
    form.append('media', new Blob([wav]), 'thanks.wav');
    const r = await w.fetch(`/cgi-bin/media/upload?access_token=${API_KEY}&type=voice`, { method: 'POST', body: form });
    assert.equal(r.status, 200);
    const answer = r.json();
    assert.deepEqual(Object.keys(answer).sort(), ['created_at', 'media_id', 'type']);
    assert.equal(answer.type, 'voice');
    assert.match(r.headers.get('x-wxmedia-encoded'), /^from=wav; to=amr; mode=MR122; seconds=\d+\.\d+$/);
    const amr = await stored(emu, answer.media_id);
    assert.ok(amr.subarray(0, 6).equals(AMR_MAGIC));
    assert.ok(Math.abs(amrSeconds(amr, 'thanks.amr') - seconds) <= 0.02);

    await clearLog(emu);
    const long = tone('long-wx.wav', 61, 8000);
    const tooLong = await w.fetch(`/cgi-bin/media/upload?access_token=${API_KEY}&type=voice`, { method: 'POST', body: long });
    assert.equal(tooLong.status, 200);
    assert.equal(tooLong.json().errcode, 40006);
    assert.match(tooLong.json().errmsg, /^invalid meida size: .*60 s.*61\.000 s/);
    const bad = await w.fetch(`/cgi-bin/media/upload?access_token=${API_KEY}&type=voice`, { method: 'POST', body: hostile(tone('g.wav', 0.2))['zero channels'] });
    assert.equal(bad.json().errcode, 40005);
    assert.match(bad.json().errmsg, /^invalid file type: the WAV cannot be encoded: audio: zero channels/);
    assert.deepEqual(await upstreamCalls(emu), []);
  });

  it('voice that is already AMR passes through untouched', async () => {
    const amr = readFileSync(path.join(ROOT, 'codecs/voice/tests/fixtures/amr-mode7.amr'));
    const form = new FormData();
    form.append('media', new Blob([amr]), 'note.amr');
    const r = await w.fetch('/media?type=voice', { method: 'POST', headers: auth, body: form });
    assert.equal(r.status, 201, r.text());
    assert.equal(r.json().encoded, undefined);
    assert.ok((await stored(emu, r.json().mediaId)).equals(amr));
    const wx = await w.fetch(`/cgi-bin/media/upload?access_token=${API_KEY}&type=voice`, { method: 'POST', body: amr });
    assert.equal(wx.headers.get('x-wxmedia-encoded'), null);
    assert.ok((await stored(emu, wx.json().media_id)).equals(amr));
  });
});
