// The console in front of a Worker that serves two WeChat apps: the operator picks the app, and
// uploads go to that app's routes and that app's WeChat account.
import { it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startEmulator, startWorker, jpeg, APPID, SECRET } from '../worker/harness.mjs';
import { launch, until } from './browser.mjs';

const OTHER = 'wx0000000000000002';
const OTHER_SECRET = 'second-app-secret';
const KEY_A = 'console-key-a';
const KEY_B = 'console-key-b';

let emu;
let worker;
let browser;
before(async () => {
  emu = await startEmulator(['--app', `${APPID}:${SECRET}`, '--app', `${OTHER}:${OTHER_SECRET}`]);
  worker = await startWorker({
    name: 'console-apps',
    vars: { UPSTREAM_BASE: emu.url, WECHAT_APPS: `${APPID},${OTHER}`, DOWNLOAD_AUTH: 'key' },
    secrets: {
      [`WECHAT_SECRET_${APPID}`]: SECRET,
      [`WECHAT_SECRET_${OTHER}`]: OTHER_SECRET,
      [`API_KEYS_${APPID}`]: KEY_A,
      [`API_KEYS_${OTHER}`]: KEY_B,
    },
  });
  browser = await launch();
});
after(async () => {
  await browser?.close();
  await worker?.stop();
  emu?.stop();
});

it('picks the second app and uploads to its account', async () => {
  const page = await browser.context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(worker.url + '/');
  await page.getByText('Online').waitFor();
  const chooser = page.getByLabel('App');
  await chooser.waitFor();
  assert.deepEqual(await chooser.locator('option').allInnerTexts(), [`${APPID} (default)`, OTHER]);
  await chooser.selectOption(OTHER);
  await page.getByLabel('Key for uploads and downloads').fill(KEY_B);
  const name = 'second.jpg';
  await page.getByLabel('Drop files here, or choose files').setInputFiles({ name, mimeType: 'image/jpeg', buffer: jpeg(3000, 5) });
  const item = page.getByRole('listitem').filter({ hasText: name });
  await until(() => item.innerText(), (t) => t.includes('Ready'), `${name} to be checked`);
  await page.getByRole('button', { name: /^Upload/ }).click();
  const card = page.getByRole('article').filter({ has: page.getByRole('heading', { name, exact: true }) });
  await until(() => card.innerText(), (t) => /media id/i.test(t) || /HIT|MISS/.test(t), 'the upload to finish');
  const uploads = await emu.requests('/cgi-bin/media/upload');
  assert.equal(uploads.length, 1);
  assert.equal(uploads[0].appid, OTHER, 'the upload went to the second app');
  // The choice is remembered in this tab.
  await page.reload();
  await page.getByText('Online').waitFor();
  assert.equal(await page.getByLabel('App').inputValue(), OTHER);
  await page.close();
  assert.deepEqual(errors, [], 'the page threw');
});
