// The web console (www/) as a user sees it: served by the Worker under `wrangler dev` with the
// emulator as WeChat, driven in Debian's Chromium. Assertions are about what is on the page.
import { describe, it, before, after, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { startEmulator, startWorker, jpeg, amr, png, mp4, APPID, SECRET, API_KEY, SIGNING_KEY, ROOT } from '../worker/harness.mjs';
import { launch, until, makeJpeg, dropFiles } from './browser.mjs';

const SCREENSHOT = path.join(ROOT, 'target/console-upload.png');

let emu;
let worker;
let browser;
let page;
let pageErrors;

before(async () => {
  emu = await startEmulator();
  worker = await startWorker({
    name: 'console',
    vars: { UPSTREAM_BASE: emu.url, WECHAT_APPID: APPID, DOWNLOAD_AUTH: 'signed', VIDEO_HOSTS: emu.cdnHost },
    secrets: { WECHAT_SECRET: SECRET, API_KEYS: API_KEY, SIGNING_KEY },
  });
  browser = await launch();
  await browser.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: worker.url });
});

after(async () => {
  await browser?.close();
  await worker?.stop();
  emu?.stop();
});

/** A new tab on the console (sessionStorage is per tab), once the proxy's health is shown. */
async function openConsole({ key = API_KEY, width = 1100, height = 800 } = {}) {
  page = await browser.context.newPage();
  await page.setViewportSize({ width, height });
  pageErrors = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  await page.goto(worker.url + '/');
  await page.getByText('Online').waitFor();
  if (key !== null) await page.getByLabel('Key for uploads and downloads').fill(key);
  return page;
}

beforeEach(() => { page = null; });
afterEach(async () => {
  const errors = pageErrors ?? [];
  await page?.close();
  assert.deepEqual(errors, [], 'the page threw');
});

const fileInput = () => page.getByLabel('Drop files here, or choose files');
const uploadButton = () => page.getByRole('button', { name: /^Upload/ });
const queued = (name) => page.getByRole('listitem').filter({ hasText: name });
const card = (title) => page.getByRole('article').filter({ has: page.getByRole('heading', { name: title, exact: true }) });
const text = (locator) => locator.innerText();

/** The download rows of a result card, newest first, as text. */
async function downloads(result) {
  const rows = result.getByRole('row');
  const n = await rows.count();
  const out = [];
  for (let i = 1; i < n; i++) out.push((await rows.nth(i).innerText()).replace(/\s+/g, ' ').trim());
  return out;
}

async function pickAndUpload(name, buffer, mimeType) {
  await fileInput().setInputFiles({ name, mimeType, buffer });
  await until(() => text(queued(name)), (t) => t.includes('Ready'), `${name} to be checked`);
  await uploadButton().click();
  return card(name);
}

const uploadsSeenUpstream = async () => (await emu.requests('/cgi-bin/media/upload')).length;

describe('the console', () => {
  it("shows the proxy's state and limits, and keeps the key in this tab only", async () => {
    await openConsole({ key: null });
    const health = await text(page.locator('header'));
    assert.match(health, /Online/);
    assert.match(health, new RegExp(APPID));
    assert.match(health, /signed download URLs/);
    assert.match(await text(page.getByText('thumb: JPEG')), /thumb: JPEG ≤ 64 KiB/);

    await page.getByLabel('Key for uploads and downloads').fill('remembered-in-this-tab');
    await page.reload();
    await page.getByText('Online').waitFor();
    assert.equal(await page.getByLabel('Key for uploads and downloads').inputValue(), 'remembered-in-this-tab');
    assert.equal(await page.evaluate(() => localStorage.length), 0);
    const other = await browser.context.newPage();
    await other.goto(worker.url + '/');
    assert.equal(await other.getByLabel('Key for uploads and downloads').inputValue(), '', 'another tab does not get it');
    await other.close();

    await page.getByRole('button', { name: 'Forget' }).click();
    await page.reload();
    assert.equal(await page.getByLabel('Key for uploads and downloads').inputValue(), '');
  });

  it('uploads a JPEG, shows its preview and URL, and loading it again is a cache HIT', async () => {
    await openConsole();
    const photo = await makeJpeg(page);
    await fileInput().setInputFiles({ name: 'photo.jpg', mimeType: 'image/jpeg', buffer: photo });
    assert.equal(await page.getByLabel('Media type of photo.jpg').inputValue(), 'image', 'the type comes from the file');
    await until(() => text(queued('photo.jpg')), (t) => t.includes('Ready: JPEG'), 'the in-browser check');

    await uploadButton().click();
    const result = card('photo.jpg');
    await result.waitFor();
    const item = await until(() => text(queued('photo.jpg')), (t) => t.includes('Uploaded as'), 'the upload');
    assert.equal(await queued('photo.jpg').getByRole('progressbar').getAttribute('value'), '1', 'the progress bar is full');

    // The media id, with a working copy button.
    const mediaId = (await text(result.locator('code'))).trim();
    assert.ok(mediaId.length > 10 && item.includes(mediaId), mediaId);
    await result.getByRole('button', { name: 'Copy media id of photo.jpg' }).click();
    await result.getByRole('button', { name: 'Copy media id of photo.jpg' }).filter({ hasText: 'Copied' }).waitFor();
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), mediaId);

    // The signed URL, which works without the key.
    const href = await result.getByRole('link', { name: /\/media\// }).getAttribute('href');
    assert.match(href, new RegExp(`/media/${mediaId}\\?exp=\\d+&sig=`));
    assert.equal((await fetch(href)).status, 200);
    await result.getByRole('button', { name: 'Copy URL of photo.jpg' }).click();
    await result.getByRole('button', { name: 'Copy URL of photo.jpg' }).filter({ hasText: 'Copied' }).waitFor();
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), href);

    // The preview is the picture itself.
    const img = result.getByRole('img', { name: 'Preview of photo.jpg' });
    await img.waitFor();
    const width = await until(() => img.evaluate((i) => i.complete && i.naturalWidth), (w) => w > 0, 'the preview to load');
    assert.equal(width, 480);
    await until(() => downloads(result), (rows) => rows.length === 1, 'the first download');
    assert.match((await downloads(result))[0], /^1 (HIT|MISS) \S+ \d+ ms \d/);

    await result.getByRole('button', { name: 'Load photo.jpg again' }).click();
    const rows = await until(() => downloads(result), (r) => r.length === 2, 'the second download');
    assert.match(rows[0], /^2 HIT cache \d+ ms /);
    await until(() => img.evaluate((i) => i.complete && i.naturalWidth), (w) => w === 480, 'the preview after reloading');

    mkdirSync(path.dirname(SCREENSHOT), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
  });

  it('refuses an oversize file before uploading it, and says why', async () => {
    await openConsole();
    const before = await uploadsSeenUpstream();
    await fileInput().setInputFiles({ name: 'huge.jpg', mimeType: 'image/jpeg', buffer: jpeg(10 * 1024 * 1024 + 1) });
    const status = await until(() => text(queued('huge.jpg')), (t) => t.includes('Refused'), 'the refusal');
    assert.match(status, /Refused before upload: image is 10485761 bytes; the limit is 10485760 bytes\./);
    assert.ok(await uploadButton().isDisabled(), 'nothing to upload');

    // Another refusal the Worker would make too: a file WeChat does not take.
    await fileInput().setInputFiles({ name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('just some text\n') });
    assert.match(await until(() => text(queued('notes.txt')), (t) => t.includes('Refused'), 'the refusal'),
      /Refused before upload: could not recognise the file's format/);
    assert.equal(await uploadsSeenUpstream(), before, 'nothing reached WeChat');
    assert.equal(await page.getByRole('article').count(), 0);
  });

  it('shows a wrong API key as a 401 in words, and uploads once the key is fixed', async () => {
    await openConsole({ key: 'not-the-key' });
    await pickAndUpload('wrong-key.jpg', jpeg(3000, 7), 'image/jpeg');
    const status = await until(() => text(queued('wrong-key.jpg')), (t) => t.includes('401'), 'the error');
    assert.match(status, /The API key was not accepted\. The API key is not valid\.\s+HTTP 401 UNAUTHORIZED/);
    assert.equal(await page.getByRole('article').count(), 0);

    await page.getByLabel('Key for uploads and downloads').fill(API_KEY);
    await uploadButton().click();
    await card('wrong-key.jpg').waitFor();
    assert.match(await text(queued('wrong-key.jpg')), /Uploaded as/);
  });

  it('fetches media by id: a MISS from WeChat, then a HIT; HD voice; an unknown id in words', async () => {
    await openConsole();
    // A real recording (espeak-ng speech, AMR mode 7), uploaded straight to WeChat, so the proxy
    // has not seen it. Its length comes from the reference decoder's output (8 kHz, 16-bit).
    const recording = readFileSync(path.join(ROOT, 'codecs/voice/tests/fixtures/amr-mode7.amr'));
    const seconds = statSync(path.join(ROOT, 'codecs/voice/tests/fixtures/amr-mode7.amr.s16')).size / 2 / 8000;
    const token = await emu.token();
    const form = new FormData();
    form.append('media', new Blob([recording]), 'hello.amr');
    const up = await (await fetch(`${emu.url}/cgi-bin/media/upload?access_token=${token}&type=voice`, { method: 'POST', body: form })).json();
    assert.ok(up.media_id, JSON.stringify(up));

    await page.getByLabel('Media id', { exact: true }).fill(up.media_id);
    await page.getByRole('button', { name: 'Fetch' }).click();
    const voice = card(up.media_id);
    assert.match((await until(() => downloads(voice), (r) => r.length === 1, 'the fetch'))[0], /^1 MISS upstream \d+ ms [\d.]+ KiB$/);
    assert.match(await text(voice.locator('.card-type')), /voice/i);
    assert.equal(await voice.getByRole('link', { name: /^Save \S+\.amr$/ }).count(), 1);
    // The voice plays: its <audio> holds the Worker's WAV, as long as the recording (within a
    // 20 ms frame).
    const duration = (locator) => until(
      () => locator.locator('audio').evaluate((a) => (Number.isFinite(a.duration) ? a.duration : 0)),
      (d) => d > 0, 'the audio duration');
    const heard = await duration(voice);
    assert.ok(seconds > 2 && Math.abs(heard - seconds) <= 0.02, `voice duration ${heard} s, recording ${seconds} s`);
    await voice.getByRole('button', { name: `Load ${up.media_id} again` }).click();
    assert.match((await until(() => downloads(voice), (r) => r.length === 2, 'the refetch'))[0], /^2 HIT cache /);

    await page.getByRole('checkbox', { name: /HD voice/ }).check();
    await page.getByRole('button', { name: 'Fetch' }).click();
    const hd = card(`HD voice ${up.media_id}`);
    assert.match((await until(() => downloads(hd), (r) => r.length === 1, 'the HD voice'))[0], /^1 (MISS upstream|HIT cache) /);
    assert.match(await text(hd), /voice\/speex/);
    const heardHd = await duration(hd);
    assert.ok(Math.abs(heardHd - seconds) <= 0.02, `HD voice duration ${heardHd} s, recording ${seconds} s`);
    assert.match(await hd.getByRole('link', { name: /hd-voice/ }).getAttribute('href'), /\/hd-voice\?exp=\d+&sig=/);

    await page.getByRole('checkbox', { name: /HD voice/ }).uncheck();
    await page.getByLabel('Media id', { exact: true }).fill('no-such-media-id');
    await page.getByRole('button', { name: 'Fetch' }).click();
    const alert = card('no-such-media-id').getByRole('alert');
    await alert.waitFor();
    assert.match(await text(alert), /WeChat has no such media\. No such media, or it has expired .*HTTP 404 NOT_FOUND · WeChat errcode 40007/s);
  });

  it('takes several dropped files at once, infers each type, and lets the type be changed', async () => {
    await openConsole();
    const photo = await makeJpeg(page, { width: 64, height: 64 });
    await dropFiles(page.getByText('Drop files here'), [
      { name: 'dot.png', mimeType: 'image/png', buffer: png() },
      { name: 'hello.amr', mimeType: 'audio/amr', buffer: amr() },
      { name: 'clip.mp4', mimeType: 'video/mp4', buffer: mp4() },
      { name: 'small.jpg', mimeType: 'image/jpeg', buffer: photo },
    ]);
    await until(() => page.getByRole('listitem').count(), (n) => n === 4, 'four files in the list');
    for (const [name, type] of [['dot.png', 'image'], ['hello.amr', 'voice'], ['clip.mp4', 'video'], ['small.jpg', 'image']]) {
      await until(() => text(queued(name)), (t) => t.includes('Ready'), `${name} checked`);
      assert.equal(await page.getByLabel(`Media type of ${name}`).inputValue(), type, name);
    }
    assert.equal(await text(uploadButton()), 'Upload 4 files');

    // A PNG cannot be a thumb; a small JPEG can.
    await page.getByLabel('Media type of dot.png').selectOption('thumb');
    assert.match(await until(() => text(queued('dot.png')), (t) => t.includes('Refused'), 'the re-check'),
      /Refused before upload: the file is PNG, but thumb accepts only JPEG/);
    await page.getByLabel('Media type of small.jpg').selectOption('thumb');
    await until(() => text(queued('small.jpg')), (t) => t.includes('Ready'), 'the re-check');
    await page.getByRole('button', { name: 'Remove dot.png' }).click();
    assert.equal(await text(uploadButton()), 'Upload 3 files');

    await uploadButton().click();
    const video = card('clip.mp4');
    await video.getByRole('link', { name: 'Open the video' }).waitFor();
    assert.ok((await video.getByRole('link', { name: 'Open the video' }).getAttribute('href')).startsWith(`${emu.cdnUrl}/vweixinp.tc.qq.com/1007_`));
    await until(() => downloads(card('hello.amr')), (r) => r.length === 1, 'the voice');
    assert.match(await text(card('small.jpg').locator('.card-type')), /^thumb$/i);
    const thumb = card('small.jpg').getByRole('img', { name: 'Preview of small.jpg' });
    assert.equal(await until(() => thumb.evaluate((i) => i.complete && i.naturalWidth), (w) => w > 0, 'the thumb preview'), 64);
  });

  it('fits a phone-width screen without scrolling sideways', async () => {
    await openConsole({ width: 375, height: 740 });
    await pickAndUpload('phone.jpg', await makeJpeg(page), 'image/jpeg');
    const result = card('phone.jpg');
    await result.getByRole('img', { name: 'Preview of phone.jpg' }).waitFor();
    await until(() => downloads(result), (r) => r.length === 1, 'the download');
    const { scroll, width } = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, width: window.innerWidth }));
    assert.ok(scroll <= width, `the page is ${scroll}px wide in a ${width}px window`);
    await page.screenshot({ path: path.join(ROOT, 'target/console-phone.png'), fullPage: true });
  });

  it('can be used from the keyboard: tab to the file picker, pick, tab to Upload, press Enter', async () => {
    await openConsole();
    const photo = jpeg(2500, 3);
    // Tab from the top of the page until the file picker has focus.
    let reached = false;
    for (let i = 0; i < 15 && !reached; i++) {
      await page.keyboard.press('Tab');
      reached = await fileInput().evaluate((input) => document.activeElement === input);
    }
    assert.ok(reached, 'the file picker is in the tab order');
    // Space on the focused picker opens the file chooser. Headless Chromium on a loaded machine
    // has once let a press go by without one (a 20 s wait, in a fresh-clone run beside the other
    // suites), so a press is tried up to three times, each given 5 s.
    let chooser = null;
    for (let attempt = 0; attempt < 3 && !chooser; attempt++) {
      [chooser] = await Promise.all([
        page.waitForEvent('filechooser', { timeout: 5000 }).catch(() => null),
        page.keyboard.press('Space'),
      ]);
    }
    assert.ok(chooser, 'Space on the focused file picker opens the file chooser');
    assert.ok(chooser.isMultiple(), 'several files at once');
    await chooser.setFiles({ name: 'keyboard.jpg', mimeType: 'image/jpeg', buffer: photo });
    await until(() => text(queued('keyboard.jpg')), (t) => t.includes('Ready'), 'the check');

    reached = false;
    for (let i = 0; i < 10 && !reached; i++) {
      await page.keyboard.press('Tab');
      reached = await uploadButton().evaluate((b) => document.activeElement === b);
    }
    assert.ok(reached, 'the Upload button is in the tab order');
    await page.keyboard.press('Enter');
    await card('keyboard.jpg').waitFor();

    // Every control has a name a screen reader reads out.
    for (const control of [
      page.getByLabel('Key for uploads and downloads'), page.getByRole('button', { name: 'Show' }),
      page.getByRole('button', { name: 'Forget' }), page.getByLabel('Media type of keyboard.jpg'),
      page.getByRole('button', { name: 'Remove keyboard.jpg' }), page.getByLabel('Media id', { exact: true }),
      page.getByRole('checkbox', { name: /HD voice/ }), page.getByRole('button', { name: 'Fetch' }),
      card('keyboard.jpg').getByRole('button', { name: /Copy media id/ }),
      card('keyboard.jpg').getByRole('button', { name: 'Load keyboard.jpg again' }),
    ]) assert.equal(await control.count(), 1, String(control));
  });
});
