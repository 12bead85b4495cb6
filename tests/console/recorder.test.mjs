// The console's voice recorder: Chromium's fake microphone (a tone) recorded through the page's
// AudioWorklet, encoded to AMR by the voice wasm in the page, uploaded through the Worker to the
// emulator as voice, and played back; the voice's WAV and MP3 downloads. Lengths come from the
// reference decoder (sox's opencore-amrnb) on what the emulator stored.
import { it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startEmulator, startWorker, APPID, SECRET, API_KEY, SIGNING_KEY, ROOT } from '../worker/harness.mjs';
import { launch, until } from './browser.mjs';

/** Chromium's fake capture device, with the permission prompt answered yes. */
const FAKE_MIC = ['--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream'];

let emu;
let worker;
let browser;
const tmp = mkdtempSync(path.join(os.tmpdir(), 'wxmedia-recorder-'));

before(async () => {
  emu = await startEmulator();
  worker = await startWorker({
    name: 'console-recorder',
    vars: { UPSTREAM_BASE: emu.url, WECHAT_APPID: APPID, DOWNLOAD_AUTH: 'signed' },
    secrets: { WECHAT_SECRET: SECRET, API_KEYS: API_KEY, SIGNING_KEY },
  });
  browser = await launch({ args: FAKE_MIC });
});

after(async () => {
  await browser?.close();
  await worker?.stop();
  emu?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

/** A console tab in `b`, with the key entered; page errors collected in `errors`. */
async function openConsole(b) {
  const page = await b.context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(worker.url + '/');
  await page.getByText('Online').waitFor();
  await page.getByLabel('Key for uploads and downloads').fill(API_KEY);
  return { page, errors };
}

const status = (page) => page.locator('#record-status').innerText();

/** AMR-NB decoded by the reference decoder: 8 kHz 16-bit samples. */
function referenceDecode(amr) {
  const file = path.join(tmp, `${Date.now()}.amr`);
  writeFileSync(file, amr);
  const out = execFileSync('sox', ['-t', 'amr-nb', file, '-t', 's16', '-'], { maxBuffer: 64 << 20 });
  return new Int16Array(out.buffer, out.byteOffset, out.length / 2);
}

/** The duration of `url` as the page's <audio> reads it, once it can play. */
function playable(page, url) {
  return page.evaluate((u) => new Promise((resolve, reject) => {
    const a = new Audio();
    a.addEventListener('canplay', () => resolve(a.duration), { once: true });
    a.addEventListener('error', () => reject(new Error(`cannot play ${u}: ${a.error?.message}`)), { once: true });
    a.src = u;
  }), url);
}

it('records the microphone, encodes AMR in the page, uploads it as voice and plays it back; WAV and MP3 downloads', async (t) => {
  const { page, errors } = await openConsole(browser);
  const panel = page.getByRole('region', { name: 'Record a voice reply' });
  assert.match(await panel.getByRole('timer', { name: 'Recorded time' }).innerText(), /^0:00 \/ 1:00$/);
  assert.equal(await page.evaluate(() => performance.getEntriesByType('resource').some((e) => e.name.includes('voice_bg.wasm'))), false,
    'the voice codecs are not loaded before the first recording');

  await panel.getByRole('button', { name: 'Record' }).click();
  await until(() => status(page), (t) => t.startsWith('Recording'), 'the recording to start');
  // About two seconds: the page's own clock says when.
  await until(() => panel.getByRole('timer', { name: 'Recorded time' }).innerText(), (t) => /^0:0[2-9]/.test(t), 'two seconds of recording', 30_000);
  await panel.getByRole('button', { name: 'Stop' }).click();
  const said = await until(() => status(page), (t) => t.includes('upload it') || t.startsWith('Cannot'), 'the encoding');
  const m = /^Recorded ([\d.]+) s: AMR ([\d.]+) s, [\d.]+ (B|KiB)\./.exec(said);
  assert.ok(m, said);
  const [captured, encoded] = [Number(m[1]), Number(m[2])];
  assert.ok(captured >= 2 && captured < 10, `captured ${captured} s`);
  // AMR is whole 20 ms frames, the last one padded.
  assert.ok(encoded >= captured - 0.005 && encoded <= captured + 0.025, `AMR ${encoded} s of ${captured} s`);
  assert.equal(await page.evaluate(() => performance.getEntriesByType('resource').some((e) => e.name.includes('voice_bg.wasm'))), true,
    'the voice codecs were loaded for it');

  // The take plays before it is uploaded: the AMR decoded back, as a fan will hear it.
  const takeSecs = await until(() => panel.getByLabel('Play the recording').evaluate((a) => (a.readyState >= 1 && Number.isFinite(a.duration) ? a.duration : 0)),
    (d) => d > 0, 'the take to load');
  assert.ok(Math.abs(takeSecs - encoded) <= 0.001, `take ${takeSecs} s, AMR ${encoded} s`);

  const uploadsBefore = (await emu.requests('/cgi-bin/media/upload')).length;
  await panel.getByRole('button', { name: 'Upload voice' }).click();
  const done = await until(() => status(page), (t) => t.startsWith('Uploaded as') || /error|HTTP/i.test(t), 'the upload');
  const mediaId = /^Uploaded as (\S+)/.exec(done)?.[1];
  assert.ok(mediaId, done);
  const uploads = await emu.requests('/cgi-bin/media/upload');
  assert.equal(uploads.length, uploadsBefore + 1);
  assert.equal(uploads.at(-1).query.type, 'voice');

  // What the emulator stored is AMR-NB, as long as the recording by the reference decoder, and
  // not silence (the fake microphone plays a tone).
  const token = await emu.token();
  const stored = Buffer.from(await (await fetch(`${emu.url}/cgi-bin/media/get?access_token=${token}&media_id=${mediaId}`)).arrayBuffer());
  assert.equal(stored.subarray(0, 6).toString('latin1'), '#!AMR\n');
  const samples = referenceDecode(stored);
  const seconds = samples.length / 8000;
  assert.ok(Math.abs(seconds - encoded) < 0.001, `sox decodes ${seconds} s, the page said ${encoded} s`);
  assert.ok(Math.abs(seconds - captured) <= 0.025, `sox decodes ${seconds} s of ${captured} s recorded`);
  let energy = 0;
  for (const s of samples) energy += s * s;
  const rms = Math.sqrt(energy / samples.length);
  assert.ok(rms > 100, `the recording is not silence (RMS ${rms.toFixed(1)})`);
  t.diagnostic(`recorded ${captured} s, ${stored.length} bytes of AMR, ${seconds} s by sox, RMS ${rms.toFixed(0)}`);

  // The result card plays the Worker's WAV of it.
  const result = page.getByRole('article').filter({ hasText: mediaId });
  assert.match(await result.getByRole('heading').innerText(), /^Voice reply, [\d.]+ s$/);
  const heard = await until(() => result.locator('audio').evaluate((a) => (Number.isFinite(a.duration) ? a.duration : 0)), (d) => d > 0, 'the card\'s audio');
  assert.ok(Math.abs(heard - seconds) <= 0.001, `the card plays ${heard} s of ${seconds} s`);

  // WAV and MP3 downloads: signed URLs with the format, which work without the key.
  for (const [label, type] of [['WAV', 'audio/wav'], ['MP3', 'audio/mpeg']]) {
    const link = result.getByRole('link', { name: new RegExp(`^Download Voice reply, [\\d.]+ s as ${label}$`) });
    const href = await until(() => link.getAttribute('href'), (h) => h && h !== '#', `the ${label} link`);
    assert.match(href, new RegExp(`/media/${mediaId}\\?exp=\\d+&sig=[^&]+&format=${label.toLowerCase()}$`));
    const r = await fetch(href);
    assert.equal(r.status, 200, href);
    assert.equal(r.headers.get('content-type'), type);
    const body = Buffer.from(await r.arrayBuffer());
    if (label === 'WAV') {
      assert.equal(body.subarray(0, 4).toString('latin1'), 'RIFF');
      assert.equal((body.length - 44) / 2 / 8000, seconds);
    } else {
      assert.ok(body.subarray(0, 3).toString('latin1') === 'ID3' || (body[0] === 0xff && (body[1] & 0xe0) === 0xe0), 'an MP3');
    }
    // And the browser plays it.
    const d = await playable(page, href);
    assert.ok(Math.abs(d - seconds) <= 0.1, `${label} plays ${d} s of ${seconds} s`);
  }
  await page.screenshot({ path: path.join(ROOT, 'target/console-recorder.png'), fullPage: true });
  assert.deepEqual(errors, [], 'the page threw');
  await page.close();
});

it('stops a recording at its limit by itself', async () => {
  const { page, errors } = await openConsole(browser);
  // The page's recorder module with a limit of half a second (the console's is 60 s, WeChat's).
  const got = await page.evaluate(async () => {
    const m = await import('/recorder.js');
    const rec = await m.startRecording({ maxSeconds: 0.5 });
    const { pcm, sampleRate, limited } = await rec.done;
    return { length: pcm.length, sampleRate, limited, max: m.MAX_SECONDS };
  });
  assert.equal(got.max, 60);
  assert.equal(got.limited, true);
  assert.equal(got.length, Math.floor(0.5 * got.sampleRate));
  assert.deepEqual(errors, []);
  await page.close();
});

it('says so when the microphone is not allowed, and nothing is uploaded', async () => {
  const denied = await launch({ args: ['--use-fake-device-for-media-stream', '--deny-permission-prompts'] });
  try {
    const { page, errors } = await openConsole(denied);
    const uploadsBefore = (await emu.requests('/cgi-bin/media/upload')).length;
    const panel = page.getByRole('region', { name: 'Record a voice reply' });
    await panel.getByRole('button', { name: 'Record' }).click();
    const alert = panel.getByRole('alert');
    await alert.waitFor();
    assert.match(await alert.innerText(), /^Cannot record: the microphone was not allowed/);
    assert.ok(await panel.getByRole('button', { name: 'Record' }).isEnabled(), 'Record can be tried again');
    assert.ok(await panel.getByRole('button', { name: 'Stop' }).isDisabled());
    assert.equal(await panel.getByRole('button', { name: 'Upload voice' }).isVisible(), false);
    assert.equal((await emu.requests('/cgi-bin/media/upload')).length, uploadsBefore);
    assert.deepEqual(errors, [], 'the page threw');
  } finally {
    await denied.close();
  }
});

it('downloads WAV and MP3 with the key when downloads need it', async () => {
  const keyed = await startWorker({
    name: 'console-recorder-key',
    vars: { UPSTREAM_BASE: emu.url, WECHAT_APPID: APPID, DOWNLOAD_AUTH: 'key' },
    secrets: { WECHAT_SECRET: SECRET, API_KEYS: API_KEY },
  });
  try {
    const page = await browser.context.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(keyed.url + '/');
    await page.getByText('Online').waitFor();
    await page.getByLabel('Key for uploads and downloads').fill(API_KEY);
    // A recording made by the reference encoder (espeak-ng speech, AMR mode 7), picked as a file.
    const fixture = path.join(ROOT, 'codecs/voice/tests/fixtures/amr-mode7.amr');
    await page.getByLabel('Drop files here, or choose files').setInputFiles(fixture);
    await until(() => page.getByRole('listitem').filter({ hasText: 'amr-mode7.amr' }).innerText(), (t) => t.includes('Ready'), 'the check');
    await page.getByRole('button', { name: /^Upload/ }).click();
    const result = page.getByRole('article').filter({ has: page.getByRole('heading', { name: 'amr-mode7.amr', exact: true }) });
    const seconds = referenceDecode(readFileSync(fixture)).length / 8000;
    for (const [label, magic] of [['WAV', 'RIFF'], ['MP3', null]]) {
      const link = result.getByRole('link', { name: `Download amr-mode7.amr as ${label}` });
      await link.waitFor();
      // A plain link would go without the key (a 401): the page fetches with it and saves that.
      const [download] = await Promise.all([page.waitForEvent('download'), link.click()]);
      const saved = readFileSync(await download.path());
      assert.match(download.suggestedFilename(), new RegExp(`\\.${label.toLowerCase()}$`));
      if (magic) {
        assert.equal(saved.subarray(0, 4).toString('latin1'), magic);
        assert.equal((saved.length - 44) / 2 / 8000, seconds);
      } else {
        assert.ok(saved.subarray(0, 3).toString('latin1') === 'ID3' || (saved[0] === 0xff && (saved[1] & 0xe0) === 0xe0), 'an MP3');
      }
    }
    assert.equal(await result.getByRole('alert').count(), 0);
    assert.deepEqual(errors, [], 'the page threw');
    await page.close();
  } finally {
    await keyed.stop();
  }
});
