// The wxmedia console: upload files to the Worker, fetch media by id, and show what came back.
// Files are checked first by the core crate compiled for the web (./pkg, built by `make www`),
// with the limits the Worker reports on /healthz, so a refused file is refused before upload.
import * as api from './api.js';

const $ = (selector, root = document) => root.querySelector(selector);
const KEY_STORAGE = 'wxmedia.apiKey';
const TYPES = ['image', 'voice', 'video', 'thumb'];

// ---- the core crate, for the in-browser checks ------------------------------------------------

/** Resolves to `{ validateMedia, inferMediaType }`, or null if the wasm could not be loaded. */
const core = import('./pkg/wxmedia.js')
  .then(async (m) => { await m.default(); return m; })
  .catch((e) => { console.warn('wxmedia: in-browser checks unavailable', e); return null; });

// ---- formatting -------------------------------------------------------------------------------

function bytes(n) {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB'];
  let v = n;
  let u = -1;
  do { v /= 1024; u++; } while (v >= 1024 && u < units.length - 1);
  return `${v >= 10 || Number.isInteger(v) ? Math.round(v) : v.toFixed(1)} ${units[u]}`;
}

function duration(secs) {
  if (secs % 86400 === 0) return `${secs / 86400} d`;
  if (secs % 3600 === 0) return `${secs / 3600} h`;
  return `${secs} s`;
}

const el = (tag, props = {}, ...children) => {
  const node = Object.assign(document.createElement(tag), props);
  node.append(...children);
  return node;
};

// ---- the API key ------------------------------------------------------------------------------

const keyInput = $('#key');
keyInput.value = sessionStorage.getItem(KEY_STORAGE) ?? '';
keyInput.addEventListener('input', () => {
  const v = keyInput.value.trim();
  if (v) sessionStorage.setItem(KEY_STORAGE, v); else sessionStorage.removeItem(KEY_STORAGE);
});
$('#key-form').addEventListener('submit', (e) => e.preventDefault());
$('#key-show').addEventListener('click', (e) => {
  const show = keyInput.type === 'password';
  keyInput.type = show ? 'text' : 'password';
  e.currentTarget.textContent = show ? 'Hide' : 'Show';
  e.currentTarget.setAttribute('aria-pressed', String(show));
});
$('#key-forget').addEventListener('click', () => {
  keyInput.value = '';
  sessionStorage.removeItem(KEY_STORAGE);
  keyInput.focus();
});
const apiKey = () => keyInput.value.trim();

// ---- the Worker's health and limits -----------------------------------------------------------

const AUTH_WORDS = { public: 'public downloads', key: 'downloads need the key', signed: 'signed download URLs' };

const APP_STORAGE = 'wxmedia.app';
const appSelect = $('#app');

/** The app chosen in the select (an entry of /healthz's `apps`), remembered in this tab. */
function chooseApp(h) {
  const apps = h.apps ?? [];
  const chosen = apps.find((a) => a.appid === appSelect.value) ?? apps.find((a) => a.default);
  api.useApp(chosen ?? null);
  if (chosen) sessionStorage.setItem(APP_STORAGE, chosen.appid);
  return chosen ? { ...h, appid: chosen.appid, limits: chosen.limits, cacheTtlSecs: chosen.cacheTtlSecs } : h;
}

/** Resolves to the /healthz body (limits and app id those of the chosen app), or null. */
let health = api.health().then((h) => {
  const apps = h.apps ?? [];
  appSelect.replaceChildren(...apps.map((a) => el('option', { value: a.appid, textContent: a.default ? `${a.appid} (default)` : a.appid })));
  appSelect.value = sessionStorage.getItem(APP_STORAGE) ?? '';
  appSelect.hidden = apps.length < 2;
  appSelect.labels?.forEach((l) => { l.hidden = apps.length < 2; });
  appSelect.addEventListener('change', () => {
    health = Promise.resolve(showHealth(chooseApp(h)));
    for (const item of queue) if (item.state === 'ready' || item.state === 'refused') check(item);
  });
  return showHealth(chooseApp(h));
}).catch((e) => {
  const box = $('#health');
  api.showError(box, e);
  box.classList.add('error');
  return null;
});

/** Shows the proxy's state and the chosen app's limits; returns `h`. */
function showHealth(h) {
  const l = h.limits ?? {};
  $('#health').replaceChildren(
    el('span', { className: 'ok', textContent: 'Online' }),
    ` ${h.service ?? 'wxmedia'} ${h.version ?? ''} · app ${h.appid} · ${AUTH_WORDS[h.downloadAuth] ?? h.downloadAuth}`
      + ` · cache ${duration(h.cacheTtlSecs)}${h.r2 ? ' + R2' : ''}`,
  );
  $('#limits').textContent = `image: JPEG, PNG, GIF ≤ ${bytes(l.image)} · voice: AMR, MP3 ≤ ${bytes(l.voice)}`
    + ` · video: MP4 ≤ ${bytes(l.video)} · thumb: JPEG ≤ ${bytes(l.thumb)}`;
  return h;
}

// ---- the upload queue -------------------------------------------------------------------------

const queue = [];
const queueList = $('#queue');
const uploadButton = $('#upload');
const clearButton = $('#clear');
const note = $('#checker');

function refreshButtons() {
  const ready = queue.filter((i) => i.state === 'ready' || i.state === 'failed').length;
  uploadButton.disabled = ready === 0;
  uploadButton.textContent = ready > 1 ? `Upload ${ready} files` : 'Upload';
  clearButton.hidden = !queue.some((i) => i.state !== 'uploading');
}

function setStatus(item, state, text) {
  item.state = state;
  item.li.dataset.state = state;
  item.status.classList.remove('error');
  item.status.textContent = text;
  refreshButtons();
}

/** Checks an item as the Worker would: size (with the Worker's limits), format, name. */
async function check(item) {
  const generation = ++item.generation;
  setStatus(item, 'checking', 'Checking…');
  const [m, h] = await Promise.all([core, health]);
  if (generation !== item.generation) return;
  if (!m) {
    setStatus(item, 'ready', 'Ready (not checked in the browser; the proxy will check it)');
    return;
  }
  try {
    const v = await m.validateMedia(item.type, item.file, { filename: item.file.name, limits: h?.limits });
    if (generation !== item.generation) return;
    setStatus(item, 'ready', `Ready: ${v.format.toUpperCase()}, sent as ${v.filename}`);
  } catch (e) {
    if (generation !== item.generation) return;
    if (e?.name === 'MediaValidationError') {
      setStatus(item, 'refused', `Refused before upload: ${e.message}.`);
      item.status.classList.add('error');
    } else {
      setStatus(item, 'ready', `Ready (the browser could not check it: ${e?.message ?? e}; the proxy will)`);
    }
  }
}

/** Adds picked or dropped files to the queue, each with the media type its first bytes suggest. */
async function addFiles(files) {
  const m = await core;
  for (const file of files) {
    const li = $('#queue-item').content.firstElementChild.cloneNode(true);
    const item = {
      file, li, type: 'image', state: 'checking', generation: 0,
      select: $('select', li), progress: $('progress', li), status: $('.item-status', li),
    };
    $('.item-name', li).textContent = file.name || 'unnamed';
    $('.item-size', li).textContent = bytes(file.size);
    $('.item-type-of', li).textContent = file.name;
    $('.remove', li).setAttribute('aria-label', `Remove ${file.name}`);
    $('.remove', li).addEventListener('click', () => {
      if (item.state === 'uploading') return;
      queue.splice(queue.indexOf(item), 1);
      li.remove();
      refreshButtons();
    });
    item.select.addEventListener('change', () => { item.type = item.select.value; check(item); });
    queue.push(item);
    queueList.append(li);
    let inferred = null;
    try { inferred = m ? await m.inferMediaType(file) : null; } catch { /* unreadable: the check says so */ }
    inferred ??= /^audio\//.test(file.type) ? 'voice' : /^video\//.test(file.type) ? 'video' : 'image';
    item.type = TYPES.includes(inferred) ? inferred : 'image';
    item.select.value = item.type;
    check(item);
  }
  note.textContent = `${files.length} file${files.length === 1 ? '' : 's'} added.`;
}

const fileInput = $('#files');
fileInput.addEventListener('change', () => {
  addFiles([...fileInput.files]);
  fileInput.value = '';
});

const drop = $('#drop');
for (const type of ['dragenter', 'dragover']) {
  drop.addEventListener(type, (e) => { e.preventDefault(); drop.classList.add('over'); });
}
for (const type of ['dragleave', 'drop']) drop.addEventListener(type, () => drop.classList.remove('over'));
drop.addEventListener('drop', (e) => {
  e.preventDefault();
  const files = [...(e.dataTransfer?.files ?? [])];
  if (files.length) addFiles(files);
});
// A file dropped next to the zone would otherwise replace the page.
window.addEventListener('dragover', (e) => e.preventDefault());
window.addEventListener('drop', (e) => e.preventDefault());

clearButton.addEventListener('click', () => {
  for (const item of [...queue]) {
    if (item.state === 'uploading') continue;
    queue.splice(queue.indexOf(item), 1);
    item.li.remove();
  }
  note.textContent = '';
  refreshButtons();
});

async function uploadOne(item) {
  setStatus(item, 'uploading', 'Uploading… 0%');
  item.select.disabled = true;
  item.progress.hidden = false;
  item.progress.value = 0;
  item.progress.setAttribute('aria-label', `Upload of ${item.file.name}`);
  try {
    const result = await api.upload({
      key: apiKey(), type: item.type, file: item.file,
      onProgress: (f) => {
        item.progress.value = f;
        item.status.textContent = `Uploading… ${Math.round(f * 100)}%`;
      },
    });
    item.progress.value = 1;
    setStatus(item, 'done', `Uploaded as ${result.mediaId}`);
    showResult({ title: item.file.name, type: result.type, mediaId: result.mediaId, url: result.url });
  } catch (e) {
    item.progress.hidden = true;
    item.select.disabled = false;
    setStatus(item, 'failed', '');
    api.showError(item.status, e);
    item.status.classList.add('error');
  }
}

uploadButton.addEventListener('click', async () => {
  if (!apiKey()) {
    note.textContent = 'Enter the API key first.';
    keyInput.focus();
    return;
  }
  note.textContent = '';
  const todo = queue.filter((i) => i.state === 'ready' || i.state === 'failed');
  // A few at a time: each has its own progress bar.
  const running = new Set();
  for (const item of todo) {
    const p = uploadOne(item).finally(() => running.delete(p));
    running.add(p);
    if (running.size >= 3) await Promise.race(running);
  }
});

// ---- results ----------------------------------------------------------------------------------

const results = $('#results');

async function copy(text, button) {
  try {
    await navigator.clipboard.writeText(text);
  } catch {
    const area = el('textarea', { value: text });
    document.body.append(area);
    area.select();
    document.execCommand('copy');
    area.remove();
  }
  const label = button.textContent;
  button.textContent = 'Copied';
  setTimeout(() => { button.textContent = label; }, 1500);
}

function link(href, text) {
  return el('a', { href, textContent: text ?? href, target: '_blank', rel: 'noopener' });
}

/** The voice's download formats: WeChat's own bytes play in no browser, these play everywhere. */
const RENDITIONS = [['wav', 'WAV'], ['mp3', 'MP3']];

/**
 * Links to a voice's WAV and MP3 (the Worker's `?format=wav`, `?format=mp3`): the media's URL with
 * the format added when that URL works without the key (public or signed downloads), else links
 * that download with the key and save what came.
 */
function renditionLinks(title, { mediaUrl, loadRendition }) {
  const p = el('p', { className: 'save renditions' }, 'Download as ');
  RENDITIONS.forEach(([format, label], i) => {
    const a = el('a', { textContent: label, href: '#' });
    a.setAttribute('aria-label', `Download ${title} as ${label}`);
    a.dataset.format = format;
    if (i) p.append(' · ');
    p.append(a);
    mediaUrl().then((u) => {
      if (u) {
        const url = new URL(u, location.href);
        url.searchParams.set('format', format);
        a.href = url.href;
        a.download = '';
        return;
      }
      // Downloads need the key, which a link cannot send: fetch with it, then save the Blob.
      a.addEventListener('click', async (e) => {
        e.preventDefault();
        try {
          const got = await loadRendition(format);
          const blobUrl = URL.createObjectURL(got.blob);
          const save = el('a', { href: blobUrl, download: got.filename ?? `voice.${format}` });
          document.body.append(save);
          save.click();
          save.remove();
          setTimeout(() => URL.revokeObjectURL(blobUrl), 10_000);
        } catch (err) {
          const box = el('span', { className: 'error', role: 'alert' });
          api.showError(box, err);
          p.append(' ', box);
        }
      });
    });
  });
  return p;
}

/**
 * The preview of downloaded media: an image, a player for voice (`voice.loadRendition('wav')`
 * fetches its WAV) with its WAV and MP3 downloads, a link for video.
 */
function renderPreview(box, got, title, voice) {
  const previous = box.dataset.objectUrl;
  box.replaceChildren();
  if (got.kind === 'video') {
    box.append(el('p', {}, 'Video: WeChat serves it from its own address. ', link(got.videoUrl, 'Open the video')));
    return;
  }
  const url = URL.createObjectURL(got.blob);
  box.dataset.objectUrl = url;
  if (previous) setTimeout(() => URL.revokeObjectURL(previous), 1000);
  const save = el('a', { href: url, download: got.filename ?? 'media', textContent: 'Save file' });
  save.setAttribute('aria-label', `Save ${got.filename ?? title}`);
  if (got.contentType.startsWith('image/')) {
    box.append(el('img', { src: url, alt: `Preview of ${title}` }));
  } else if (/^(audio|voice)\//.test(got.contentType)) {
    // WeChat voice (AMR, HD Speex) plays in no browser: play the Worker's WAV of it instead.
    const audio = el('audio', { controls: true, preload: 'metadata' });
    audio.setAttribute('aria-label', `Play ${title}`);
    const cannot = (why) => audio.replaceWith(el('p', { className: 'note', textContent: `${why}; save the file to listen.` }));
    audio.addEventListener('error', () => cannot(`This browser cannot play the WAV of ${got.contentType}`), { once: true });
    box.append(audio);
    box.append(renditionLinks(title, voice));
    voice.loadRendition('wav')
      .then((wav) => {
        const wavUrl = URL.createObjectURL(wav.blob);
        const before = box.dataset.wavUrl;
        box.dataset.wavUrl = wavUrl;
        if (before) setTimeout(() => URL.revokeObjectURL(before), 1000);
        audio.src = wavUrl;
      })
      .catch((e) => cannot(`The voice could not be decoded (${e.message ?? e})`));
  } else if (got.contentType.startsWith('video/')) {
    const video = el('video', { src: url, controls: true, preload: 'metadata' });
    video.setAttribute('aria-label', `Play ${title}`);
    box.append(video);
  } else {
    box.append(el('p', { className: 'note', textContent: `No preview for ${got.contentType}.` }));
  }
  box.append(el('p', { className: 'save' }, save, ` · ${got.contentType} · ${bytes(got.blob.size)}`));
}

/** The media type a download looks like, from its Content-Type. */
function kindOf(got) {
  if (got.kind === 'video') return 'video';
  if (got.contentType.startsWith('image/')) return 'image';
  if (/^(audio|voice)\//.test(got.contentType)) return 'voice';
  return 'media';
}

/** A result card: media id, URL, preview and every download of it with HIT/MISS and time. */
function showResult({ title, type, mediaId, url, hdVoice = false }) {
  const card = $('#result-card').content.firstElementChild.cloneNode(true);
  $('#no-results').hidden = true;
  $('.card-title', card).textContent = title;
  $('.card-type', card).textContent = hdVoice ? 'HD voice' : (type ?? 'media');
  $('.card-id', card).textContent = mediaId;
  const copyButton = $('.copy', card);
  copyButton.setAttribute('aria-label', `Copy media id of ${title}`);
  copyButton.addEventListener('click', () => copy(mediaId, copyButton));
  const urlBox = $('.card-url', card);
  const copyUrl = $('.copy-url', card);
  copyUrl.setAttribute('aria-label', `Copy URL of ${title}`);
  const setUrl = (u) => {
    urlBox.replaceChildren(link(u));
    copyUrl.hidden = false;
    copyUrl.onclick = () => copy(u, copyUrl);
  };
  // The media's URL as the Worker gave it (signed when downloads are): null when there is none.
  const urlReady = url
    ? Promise.resolve(url)
    : api.sign({ key: apiKey(), mediaId, hdVoice }).then(({ url: u }) => u).catch(() => null);
  urlReady.then((u) => {
    if (u) setUrl(u);
    else urlBox.textContent = 'not available (the API key is needed to sign one)';
  });
  const voice = {
    // A URL a link can open: not when downloads need the key.
    mediaUrl: () => Promise.all([urlReady, health]).then(([u, h]) => (h?.downloadAuth === 'key' ? null : u)),
    loadRendition: (format) => api.download({ key: apiKey(), mediaId, hdVoice, format }),
  };
  const preview = $('.preview', card);
  const error = $('.card-error', card);
  const table = $('table', card);
  const rows = $('tbody', card);
  const again = $('.again', card);
  again.setAttribute('aria-label', `Load ${title} again`);
  let count = 0;
  const load = async () => {
    again.disabled = true;
    card.setAttribute('aria-busy', 'true');
    try {
      const got = await api.download({ key: apiKey(), mediaId, hdVoice });
      error.hidden = true;
      count += 1;
      const cache = got.kind === 'video' ? 'LINK' : got.cache;
      rows.prepend(el('tr', {},
        el('td', { textContent: String(count) }),
        el('td', {}, el('span', { className: `badge ${cache.toLowerCase()}`, textContent: cache })),
        el('td', { textContent: got.kind === 'video' ? 'video URL' : got.source }),
        el('td', { textContent: `${Math.max(1, Math.round(got.ms))} ms` }),
        el('td', { textContent: got.kind === 'video' ? '—' : bytes(got.blob.size) })));
      table.hidden = false;
      if (!type) $('.card-type', card).textContent = hdVoice ? 'HD voice' : kindOf(got);
      renderPreview(preview, got, title, voice);
    } catch (e) {
      api.showError(error, e);
    } finally {
      again.disabled = false;
      card.removeAttribute('aria-busy');
    }
  };
  again.addEventListener('click', load);
  results.prepend(card);
  load();
  return card;
}

// ---- fetch by id ------------------------------------------------------------------------------

$('#fetch-form').addEventListener('submit', (e) => {
  e.preventDefault();
  const mediaId = $('#fetch-id').value.trim();
  if (!mediaId) return;
  const hdVoice = $('#fetch-hd').checked;
  showResult({ title: hdVoice ? `HD voice ${mediaId}` : mediaId, mediaId, hdVoice });
});

// ---- voice replies from the microphone ---------------------------------------------------------

const recordButton = $('#record');
const stopButton = $('#record-stop');
const recordTime = $('#record-time');
const recordStatus = $('#record-status');
const take = $('#record-take');
const takeAudio = $('#record-play');
const takeUpload = $('#record-upload');
const takeDiscard = $('#record-discard');
/** The recorder module (./recorder.js), imported on the first recording. */
let recorderModule = null;
/** The recording in progress: what startRecording() resolved to. */
let recording = null;
/** The last recording, encoded: `{ file, seconds }`, until uploaded or discarded. */
let recorded = null;

const clock = (secs) => `${Math.floor(secs / 60)}:${String(Math.floor(secs % 60)).padStart(2, '0')}`;

function recorderSays(text, isError = false) {
  recordStatus.textContent = text;
  recordStatus.classList.toggle('error', isError);
  recordStatus.setAttribute('role', isError ? 'alert' : 'status');
}

function dropTake() {
  recorded = null;
  take.hidden = true;
  const before = takeAudio.src;
  takeAudio.removeAttribute('src');
  if (before) URL.revokeObjectURL(before);
}

recordButton.addEventListener('click', async () => {
  dropTake();
  recordButton.disabled = true;
  recorderSays('Asking for the microphone…');
  try {
    recorderModule ??= await import('./recorder.js');
    const { startRecording, MAX_SECONDS } = recorderModule;
    recordTime.textContent = `${clock(0)} / ${clock(MAX_SECONDS)}`;
    // Loaded while the user speaks, so stopping does not wait for it.
    recorderModule.voiceCodecs().catch(() => { /* encodeAmr says so */ });
    recording = await startRecording({
      onProgress: (secs) => { recordTime.textContent = `${clock(secs)} / ${clock(MAX_SECONDS)}`; },
    });
    recordTime.classList.add('live');
    stopButton.disabled = false;
    stopButton.focus();
    recorderSays(`Recording (${recording.sampleRate} Hz)… press Stop when done.`);
    const { pcm, sampleRate, limited } = await recording.done;
    recording = null;
    recordTime.classList.remove('live');
    stopButton.disabled = true;
    await encodeTake(pcm, sampleRate, limited);
  } catch (e) {
    recording = null;
    recordTime.classList.remove('live');
    stopButton.disabled = true;
    recorderSays(`Cannot record: ${e?.message ?? e}.`, true);
  } finally {
    recordButton.disabled = false;
  }
});

stopButton.addEventListener('click', () => {
  stopButton.disabled = true;
  recording?.stop();
});

/** Encodes a finished recording to AMR and offers it for listening and upload. */
async function encodeTake(pcm, sampleRate, limited) {
  const captured = pcm.length / sampleRate;
  if (pcm.length === 0) {
    recorderSays('Nothing was recorded.', true);
    return;
  }
  recorderSays('Encoding to AMR…');
  // Let the page show that before the encoder holds the main thread (about 0.5 s for a minute).
  await new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0)));
  const { encodeAmr, amrToWav } = recorderModule;
  const amr = await encodeAmr(pcm, sampleRate);
  const { wav, seconds } = await amrToWav(amr);
  const stamp = new Date().toISOString().slice(0, 19).replace(/[-:]/g, '').replace('T', '-');
  const file = new File([amr], `voice-reply-${stamp}.amr`, { type: 'audio/amr' });
  recorded = { file, seconds };
  takeAudio.src = URL.createObjectURL(new Blob([wav], { type: 'audio/wav' }));
  take.hidden = false;
  recorderSays(`${limited ? 'Stopped at the 1-minute limit. ' : ''}Recorded ${captured.toFixed(2)} s: `
    + `AMR ${seconds.toFixed(2)} s, ${bytes(amr.length)}. Listen, then upload it.`);
  takeUpload.focus();
}

takeDiscard.addEventListener('click', () => {
  dropTake();
  recorderSays('Discarded.');
  recordButton.focus();
});

takeUpload.addEventListener('click', async () => {
  if (!recorded) return;
  if (!apiKey()) {
    recorderSays('Enter the API key first.', true);
    keyInput.focus();
    return;
  }
  const { file, seconds } = recorded;
  takeUpload.disabled = true;
  takeDiscard.disabled = true;
  try {
    // The same check as a picked file's, with the Worker's limits.
    const [m, h] = await Promise.all([core, health]);
    if (m) await m.validateMedia('voice', file, { filename: file.name, limits: h?.limits });
    recorderSays('Uploading… 0%');
    const result = await api.upload({
      key: apiKey(), type: 'voice', file,
      onProgress: (f) => recorderSays(`Uploading… ${Math.round(f * 100)}%`),
    });
    dropTake();
    recorderSays(`Uploaded as ${result.mediaId}`);
    showResult({ title: `Voice reply, ${seconds.toFixed(2)} s`, type: result.type, mediaId: result.mediaId, url: result.url });
  } catch (e) {
    if (e?.name === 'MediaValidationError') recorderSays(`Refused before upload: ${e.message}.`, true);
    else {
      api.showError(recordStatus, e);
      recordStatus.classList.add('error');
      recordStatus.setAttribute('role', 'alert');
    }
  } finally {
    takeUpload.disabled = false;
    takeDiscard.disabled = false;
  }
});

// ---- the inbox: fans' media kept by the callback endpoint -------------------------------------

const inbox = $('#inbox');
const inboxStatus = $('#inbox-status');

async function refreshInbox() {
  inboxStatus.textContent = 'Loading…';
  try {
    const { items } = await api.archive({ key: apiKey(), limit: 50 });
    inbox.replaceChildren(...items.map((item) => {
      const when = new Date(item.createTime * 1000).toLocaleString();
      const show = el('button', { type: 'button', textContent: 'Show' });
      show.setAttribute('aria-label', `Show ${item.msgType} ${item.mediaId}`);
      show.disabled = item.status !== 'archived';
      show.addEventListener('click', () => showResult({ title: `${item.msgType} from ${item.fromUser}`, type: item.msgType, mediaId: item.mediaId }));
      return el('li', { className: 'item' },
        el('div', { className: 'item-head' },
          el('span', { className: 'item-name', textContent: `${item.msgType} · ${when}` }),
          el('span', { className: 'item-size', textContent: item.status === 'archived' ? bytes(item.size) : item.status + (item.errcode ? ` (${item.errcode})` : '') }),
          show));
    }));
    inboxStatus.textContent = items.length ? `${items.length} archived message(s), newest first.` : 'Nothing archived yet.';
  } catch (e) {
    api.showError(inboxStatus, e);
  }
}

$('#inbox-refresh').addEventListener('click', refreshInbox);

health.then((h) => {
  // Under `make dev` the Worker names the emulator, which can push as WeChat would.
  if (!h?.devEmulator) return;
  const button = $('#inbox-push');
  button.hidden = false;
  button.addEventListener('click', async () => {
    button.disabled = true;
    inboxStatus.textContent = 'Pushing…';
    try {
      const image = await makeTestImage();
      const report = await api.testPush({ emulator: h.devEmulator, image });
      const last = report.tries.at(-1);
      inboxStatus.textContent = `Pushed ${report.mediaId.slice(0, 12)}…: the callback answered ${last.status ?? last.error}.`;
      setTimeout(refreshInbox, 1500);
    } catch (e) {
      api.showError(inboxStatus, e);
    } finally {
      button.disabled = false;
    }
  });
});

/** A small JPEG drawn here, as a fan's photo. */
function makeTestImage() {
  const canvas = el('canvas', { width: 160, height: 120 });
  const g = canvas.getContext('2d');
  g.fillStyle = `hsl(${Math.floor(Math.random() * 360)} 70% 60%)`;
  g.fillRect(0, 0, 160, 120);
  g.fillStyle = '#fff';
  g.font = '20px sans-serif';
  g.fillText(new Date().toLocaleTimeString(), 12, 66);
  return new Promise((resolve) => canvas.toBlob(resolve, 'image/jpeg', 0.9));
}

