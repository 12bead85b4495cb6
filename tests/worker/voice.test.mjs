// `?format=wav`: voice decoded to WAV by the Worker, for /media/{id} (AMR) and
// /media/{id}/hd-voice (HD Speex, which the emulator makes from the uploaded AMR): the WAV's data
// equals the reference decoder's PCM, it is cached as an entry of its own (second GET a HIT),
// Range and If-None-Match work on it, the original's credentials (API key, signed URL) are the
// ones it takes, and media that is not voice is refused with 415 NOT_VOICE.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { startEmulator, startWorker, jpeg, ROOT, APPID, SECRET, API_KEY, SIGNING_KEY } from './harness.mjs';

const auth = { authorization: `Bearer ${API_KEY}` };
const fixture = (name) => readFileSync(path.join(ROOT, 'codecs/voice/tests/fixtures', name));

/** Checks a RIFF/WAVE header (16-bit mono at `rate`); returns the data chunk. */
function wavData(body, rate) {
  assert.equal(body.toString('latin1', 0, 4), 'RIFF');
  assert.equal(body.toString('latin1', 8, 16), 'WAVEfmt ');
  assert.equal(body.readUInt16LE(22), 1);
  assert.equal(body.readUInt32LE(24), rate);
  assert.equal(body.readUInt16LE(34), 16);
  assert.equal(body.toString('latin1', 36, 40), 'data');
  assert.equal(body.readUInt32LE(40), body.length - 44);
  return body.subarray(44);
}

async function upload(w, type, bytes, filename) {
  const form = new FormData();
  form.append('media', new Blob([bytes]), filename);
  const r = await w.fetch(`/media?type=${type}`, { method: 'POST', headers: auth, body: form });
  assert.equal(r.status, 201, r.text());
  return r.json();
}

describe('voice as WAV (?format=wav)', () => {
  let emu;
  let w;
  before(async () => {
    emu = await startEmulator();
    w = await startWorker({
      name: 'voice',
      vars: { UPSTREAM_BASE: emu.url, WECHAT_APPID: APPID },
      secrets: { WECHAT_SECRET: SECRET, API_KEYS: API_KEY, SIGNING_KEY },
    });
  });
  after(async () => {
    await w?.stop();
    emu?.stop();
  });

  it('decodes AMR to a WAV equal to the reference PCM, cached as an entry of its own', async () => {
    const amr = fixture('amr-mode7.amr');
    const { mediaId } = await upload(w, 'voice', amr, 'note.amr');
    const r = await w.fetch(`/media/${mediaId}?format=wav`, { headers: auth });
    assert.equal(r.status, 200, r.text());
    assert.equal(r.headers.get('content-type'), 'audio/wav');
    assert.equal(r.headers.get('etag'), `"${mediaId}.wav"`);
    assert.equal(r.headers.get('content-disposition'), `attachment; filename="${mediaId}.wav"`);
    assert.equal(Number(r.headers.get('content-length')), r.body.length);
    assert.ok(wavData(r.body, 8000).equals(fixture('amr-mode7.amr.s16')));

    const again = await w.fetch(`/media/${mediaId}?format=wav`, { headers: auth });
    assert.equal(again.status, 200);
    assert.equal(again.headers.get('x-cache'), 'HIT');
    assert.deepEqual(again.body, r.body);
    // The original is unchanged beside it.
    const original = await w.fetch(`/media/${mediaId}`, { headers: auth });
    assert.deepEqual(original.body, amr);
    assert.equal(original.headers.get('etag'), `"${mediaId}"`);

    const range = await w.fetch(`/media/${mediaId}?format=wav`, { headers: { ...auth, range: 'bytes=0-43' } });
    assert.equal(range.status, 206);
    assert.deepEqual(range.body, r.body.subarray(0, 44));
    assert.equal(range.headers.get('content-range'), `bytes 0-43/${r.body.length}`);

    const notModified = await w.fetch(`/media/${mediaId}?format=wav`, { headers: { ...auth, 'if-none-match': `"${mediaId}.wav"` } });
    assert.equal(notModified.status, 304);
    assert.equal(notModified.body.length, 0);
  });

  it('encodes voice to MP3 (?format=mp3): a tenth of the WAV, as long as the recording by sox, cached with Range and 304', async () => {
    const amr = fixture('amr-mode7.amr');
    const { mediaId } = await upload(w, 'voice', amr, 'note.amr');
    const r = await w.fetch(`/media/${mediaId}?format=mp3`, { headers: auth });
    assert.equal(r.status, 200, r.text());
    assert.equal(r.headers.get('content-type'), 'audio/mpeg');
    assert.equal(r.headers.get('etag'), `"${mediaId}.mp3"`);
    assert.equal(r.headers.get('content-disposition'), `attachment; filename="${mediaId}.mp3"`);
    const pcm = fixture('amr-mode7.amr.s16');
    assert.ok(r.body.length * 5 < pcm.length + 44, `${r.body.length} bytes of MP3 for ${pcm.length} of PCM`);
    // sox (libmad) decodes it: the same speech, to within the encoder's delay and padding.
    const dir = mkdtempSync(path.join(tmpdir(), 'wxmedia-mp3-'));
    const file = path.join(dir, 'v.mp3');
    writeFileSync(file, r.body);
    const decoded = execFileSync('sox', [file, '-t', 'raw', '-e', 'signed', '-b', '16', '-c', '1', '-r', '8000', '-']);
    const secs = decoded.length / 2 / 8000;
    const expected = pcm.length / 2 / 8000;
    assert.ok(Math.abs(secs - expected) < 0.3, `${secs} s vs ${expected} s`);
    const again = await w.fetch(`/media/${mediaId}?format=mp3`, { headers: auth });
    assert.equal(again.headers.get('x-cache'), 'HIT');
    assert.deepEqual(again.body, r.body);
    const range = await w.fetch(`/media/${mediaId}?format=mp3`, { headers: { ...auth, range: 'bytes=0-3' } });
    assert.equal(range.status, 206);
    assert.equal(range.body[0], 0xff, 'an MP3 frame sync first');
    const notModified = await w.fetch(`/media/${mediaId}?format=mp3`, { headers: { ...auth, 'if-none-match': `"${mediaId}.mp3"` } });
    assert.equal(notModified.status, 304);
    // A signed URL for the media is valid for its MP3 too; HD voice has one as well.
    const s = await w.fetch(`/media/${mediaId}/sign`, { method: 'POST', headers: auth });
    const signed = new URL(s.json().url);
    assert.equal((await w.fetch(`${signed.pathname}${signed.search}&format=mp3`)).status, 200);
    const hd = await w.fetch(`/media/${mediaId}/hd-voice?format=mp3`, { headers: auth });
    assert.equal(hd.status, 200, hd.text());
    assert.equal(hd.headers.get('etag'), `"${mediaId}.hd.mp3"`);
    const image = await upload(w, 'image', jpeg(3000), 'p.jpg');
    assert.equal((await w.fetch(`/media/${image.mediaId}?format=mp3`, { headers: auth })).json().error.code, 'NOT_VOICE');
  });

  it('decodes HD voice (Speex from get/jssdk) to a 16 kHz WAV as long as the recording', async () => {
    const amr = fixture('amr-mode4.amr');
    const { mediaId } = await upload(w, 'voice', amr, 'hd.amr');
    const r = await w.fetch(`/media/${mediaId}/hd-voice?format=wav`, { headers: auth });
    assert.equal(r.status, 200, r.text());
    assert.equal(r.headers.get('content-type'), 'audio/wav');
    assert.equal(r.headers.get('etag'), `"${mediaId}.hd.wav"`);
    const seconds = wavData(r.body, 16000).length / 2 / 16000;
    const expected = fixture('amr-mode4.amr.s16').length / 2 / 8000;
    assert.ok(Math.abs(seconds - expected) <= 0.1, `${seconds} s vs ${expected} s`);
    const again = await w.fetch(`/media/${mediaId}/hd-voice?format=wav`, { headers: auth });
    assert.equal(again.headers.get('x-cache'), 'HIT');
  });

  it('takes the original credentials only, and refuses what is not voice', async () => {
    const { mediaId } = await upload(w, 'voice', fixture('amr-mode0.amr'), 'a.amr');
    assert.equal((await w.fetch(`/media/${mediaId}?format=wav`)).status, 403);
    assert.equal((await w.fetch(`/media/${mediaId}?format=wav`, { headers: { authorization: 'Bearer nope' } })).status, 401);
    // A signed URL for the media is valid for its WAV too (format is not signed).
    const s = await w.fetch(`/media/${mediaId}/sign`, { method: 'POST', headers: auth });
    const signed = new URL(s.json().url);
    const r = await w.fetch(`${signed.pathname}${signed.search}&format=wav`);
    assert.equal(r.status, 200, r.text());
    assert.ok(wavData(r.body, 8000).equals(fixture('amr-mode0.amr.s16')));
    // ... but not one for another media's.
    const other = await upload(w, 'voice', fixture('amr-mode1.amr'), 'b.amr');
    assert.equal((await w.fetch(`/media/${other.mediaId}${signed.search}&format=wav`)).status, 403);

    const image = await upload(w, 'image', jpeg(3000), 'p.jpg');
    const refused = await w.fetch(`/media/${image.mediaId}?format=wav`, { headers: auth });
    assert.equal(refused.status, 415);
    assert.equal(refused.json().error.code, 'NOT_VOICE');
    const bad = await w.fetch(`/media/${mediaId}?format=ogg`, { headers: auth });
    assert.equal(bad.status, 400);
  });

  it('remembers a rendition that failed: a second request is answered from memory', async () => {
    // A good recording with one frame of a reserved type at its end: it does not decode.
    const broken = Buffer.concat([fixture('amr-mode7.amr'), Buffer.from([0x48, 0, 0, 0])]);
    const { mediaId } = await upload(w, 'voice', broken, 'broken.amr');
    const first = await w.fetch(`/media/${mediaId}?format=wav`, { headers: auth });
    assert.equal(first.status, 422, first.text());
    assert.equal(first.json().error.code, 'BAD_VOICE');
    assert.notEqual(first.headers.get('x-cache'), 'HIT');
    const second = await w.fetch(`/media/${mediaId}?format=wav`, { headers: auth });
    assert.equal(second.status, 422);
    assert.equal(second.headers.get('x-cache'), 'HIT', 'not decoded again');
    assert.equal(second.json().error.message, first.json().error.message);
    // The original still downloads.
    assert.equal((await w.fetch(`/media/${mediaId}`, { headers: auth })).status, 200);

    const image = await upload(w, 'image', jpeg(3000, 5), 'q.jpg');
    const notVoice = await w.fetch(`/media/${image.mediaId}?format=wav`, { headers: auth });
    assert.equal(notVoice.status, 415);
    const again = await w.fetch(`/media/${image.mediaId}?format=wav`, { headers: auth });
    assert.equal(again.status, 415);
    assert.equal(again.headers.get('x-cache'), 'HIT');
  });

  it('six concurrent first requests for one voice share one decode', async () => {
    const { mediaId } = await upload(w, 'voice', fixture('amr-mode5.amr'), 'six.amr');
    const answers = await Promise.all(Array.from({ length: 6 }, () => w.fetch(`/media/${mediaId}?format=wav`, { headers: auth })));
    for (const a of answers) {
      assert.equal(a.status, 200, a.text());
      assert.deepEqual(a.body, answers[0].body);
    }
    const made = answers.filter((a) => a.headers.get('x-cache') === 'MISS');
    assert.equal(made.length, 1, `decoded ${made.length} times: ${answers.map((a) => a.headers.get('x-cache'))}`);
    assert.equal(made[0].headers.get('x-cache-source'), 'made');
  });

  it('refuses voice longer than WeChat allows before decoding it', async () => {
    // 62 s of 12.2 kbit/s frames (silence): WeChat voice is 60 s at most.
    const frame = Buffer.concat([Buffer.from([0x3c]), Buffer.alloc(31)]);
    const long = Buffer.concat([Buffer.from('#!AMR\n'), ...Array.from({ length: 62 * 50 }, () => frame)]);
    const { mediaId } = await upload(w, 'voice', long, 'long.amr');
    const r = await w.fetch(`/media/${mediaId}?format=wav`, { headers: auth });
    assert.equal(r.status, 422, r.text());
    assert.equal(r.json().error.code, 'BAD_VOICE');
    assert.match(r.json().error.message, /more than 61 seconds/);
  });

  it('decodes voice that WeChat labels text/plain (its bytes say AMR)', async () => {
    const form = new FormData();
    form.append('media', new Blob([fixture('amr-mode2.amr')]), 'plain.amr');
    const up = await fetch(`${emu.url}/cgi-bin/media/upload?access_token=${await emu.token()}&type=voice`, { method: 'POST', body: form });
    const id = (await up.json()).media_id;
    await emu.fault({ path: '/cgi-bin/media/get', quirk: 'text_plain' });
    const r = await w.fetch(`/media/${id}?format=wav`, { headers: auth });
    assert.equal(r.status, 200, r.text());
    assert.ok(wavData(r.body, 8000).equals(fixture('amr-mode2.amr.s16')));
  });
});
