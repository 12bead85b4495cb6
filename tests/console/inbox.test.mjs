// The console's inbox: fans' media kept by the callback endpoint. Under `make dev` the Worker
// names the emulator (DEV_EMULATOR_URL), and "Send a test push" has it push a fan's image to
// the callback as WeChat would (safe mode); the inbox then lists it and shows it.
import { it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startEmulator, startWorker, APPID, SECRET, API_KEY } from '../worker/harness.mjs';
import { launch } from './browser.mjs';

const TOKEN = 'inboxtoken';
const AES_KEY = 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG';

let emu;
let worker;
let browser;
before(async () => {
  emu = await startEmulator(['--cors', '--callback-token', TOKEN, '--aes-key', AES_KEY]);
  worker = await startWorker({
    name: 'console-inbox',
    r2: true,
    pushes: true,
    vars: { UPSTREAM_BASE: emu.url, WECHAT_APPID: APPID, DOWNLOAD_AUTH: 'key', DEV_EMULATOR_URL: emu.url },
    secrets: { WECHAT_SECRET: SECRET, API_KEYS: API_KEY, WECHAT_CALLBACK_TOKEN: TOKEN, WECHAT_ENCODING_AES_KEY: AES_KEY },
  });
  browser = await launch();
});
after(async () => {
  await browser?.close();
  await worker?.stop();
  emu?.stop();
});

it('pushes a test image, lists it in the inbox and shows it', async () => {
  const page = await browser.context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(worker.url + '/');
  await page.getByText('Online').waitFor();
  await page.getByLabel('Key for uploads and downloads').fill(API_KEY);
  await page.getByRole('button', { name: 'Send a test push' }).click();
  await page.getByText(/the callback answered 200/).waitFor({ timeout: 20_000 });
  // Archiving runs off the push's answer (waitUntil here): refresh until it is listed as kept.
  const show = page.getByRole('button', { name: /^Show image / });
  for (let i = 0; i < 40 && !(await show.count() && await show.first().isEnabled()); i++) {
    await page.getByRole('button', { name: 'Refresh' }).click();
    await page.waitForTimeout(500);
  }
  assert.ok(await show.first().isEnabled(), 'the pushed image was archived');
  await show.first().click();
  const preview = page.getByRole('img', { name: /^Preview of image from / });
  await preview.waitFor();
  const width = await preview.evaluate((img) => img.complete && img.naturalWidth);
  assert.equal(width, 160, 'the fan\'s image (160 px wide) is shown');
  assert.deepEqual(errors, []);
  await page.close();
});

it('offers no test push without the emulator', async () => {
  const h = await (await fetch(worker.url + '/healthz')).json();
  assert.equal(h.devEmulator, emu.url);
  // A deployment never sets DEV_EMULATOR_URL: the button stays hidden (checked on another Worker
  // by the console suite, whose /healthz has no devEmulator).
  const plain = await startWorker({ name: 'console-inbox-plain', vars: { UPSTREAM_BASE: emu.url, WECHAT_APPID: APPID }, secrets: { WECHAT_SECRET: SECRET, API_KEYS: API_KEY } });
  try {
    const page = await browser.context.newPage();
    await page.goto(plain.url + '/');
    await page.getByText('Online').waitFor();
    assert.equal(await page.getByRole('button', { name: 'Send a test push' }).isVisible(), false);
    await page.close();
  } finally {
    await plain.stop();
  }
});
