// The Worker's REST routes as the console uses them, and its errors in plain words.
// Everything is same-origin: the Worker serves this page.

/** An error answer of the Worker (`{"error":{"code","message","errcode"?}}`), or a network failure. */
export class ApiError extends Error {
  constructor({ status = 0, code = 'NETWORK', title = null, message, errcode = null, retryAfter = null }) {
    super(message);
    this.name = 'ApiError';
    Object.assign(this, { status, code, title, errcode, retryAfter });
  }
}

/** Titles of the errors that happen before the Worker answers; the Worker's own errors carry a
 * `title` (from its one table of error codes, worker/src/error.rs). */
const LOCAL_TITLES = {
  NETWORK: 'The proxy could not be reached',
  PARSE: 'The proxy answered something unreadable',
  ABORTED: 'The upload was cancelled',
};

/** { title, detail, meta } for an ApiError (or any Error). */
export function explain(err) {
  if (!(err instanceof ApiError)) return { title: 'Something went wrong', detail: String(err?.message ?? err), meta: '' };
  const title = err.title ?? LOCAL_TITLES[err.code] ?? (err.status ? `The proxy answered HTTP ${err.status}` : 'The request failed');
  const meta = [];
  if (err.status) meta.push(`HTTP ${err.status} ${err.code}`);
  if (err.errcode !== null && err.errcode !== undefined) meta.push(`WeChat errcode ${err.errcode}`);
  if (err.retryAfter) meta.push(`try again in ${err.retryAfter} s`);
  return { title, detail: err.message, meta: meta.join(' · ') };
}

/** Shows an error in `el`: a plain-words title, the proxy's message, then status and errcode. */
export function showError(el, err) {
  const { title, detail, meta } = explain(err);
  el.replaceChildren();
  const strong = document.createElement('strong');
  strong.textContent = `${title}.`;
  if (detail) el.append(' ', detail[0].toUpperCase() + detail.slice(1) + (/[.!?]$/.test(detail) ? '' : '.'));
  el.prepend(strong);
  if (meta) {
    const small = document.createElement('small');
    small.textContent = meta;
    el.append(' ', small);
  }
  el.hidden = false;
}

/** Turns a non-2xx answer into an ApiError. */
function toError(status, text, retryAfter) {
  let body = null;
  try { body = JSON.parse(text); } catch { /* not JSON */ }
  const e = body?.error;
  return new ApiError({
    status,
    code: e?.code ?? `HTTP_${status}`,
    title: e?.title ?? null,
    message: e?.message ?? (text.trim().slice(0, 200) || `HTTP ${status}`),
    errcode: e?.errcode ?? null,
    retryAfter: retryAfter ? Number(retryAfter) || retryAfter : null,
  });
}

/** The route prefix of the app the console works on: '' for the default app, else `/apps/{appid}`. */
let prefix = '';
/** Works on `app` (an entry of /healthz's `apps`) from now on; null for the default app. */
export function useApp(app) {
  prefix = !app || app.default ? '' : `/apps/${encodeURIComponent(app.appid)}`;
  currentAppid = app?.appid;
}
let currentAppid;

const bearer = (key) => (key ? { Authorization: `Bearer ${key}` } : {});

/** fetch that turns network failures and error answers into ApiErrors. */
async function call(path, init) {
  let r;
  try {
    r = await fetch(path, init);
  } catch (e) {
    throw new ApiError({ message: e.message });
  }
  if (!r.ok) throw toError(r.status, await r.text(), r.headers.get('Retry-After'));
  return r;
}

/** `GET /healthz`. */
export async function health() {
  return (await call('/healthz', { cache: 'no-store' })).json();
}

/**
 * `POST /media?type=T` with the file as the multipart `media` part, through XMLHttpRequest for its
 * upload progress. Resolves to `{type, mediaId, createdAt, url}`.
 */
export function upload({ key, type, file, onProgress, signal }) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', `${prefix}/media?type=${encodeURIComponent(type)}`);
    for (const [k, v] of Object.entries(bearer(key))) xhr.setRequestHeader(k, v);
    xhr.upload.onprogress = (e) => { if (e.lengthComputable) onProgress?.(e.loaded / e.total); };
    xhr.onload = () => {
      if (xhr.status === 201) {
        try { resolve(JSON.parse(xhr.responseText)); } catch { reject(new ApiError({ status: 201, code: 'PARSE', message: 'the answer was not JSON' })); }
      } else {
        reject(toError(xhr.status, xhr.responseText, xhr.getResponseHeader('Retry-After')));
      }
    };
    xhr.onerror = () => reject(new ApiError({ message: 'the connection failed' }));
    xhr.onabort = () => reject(new ApiError({ code: 'ABORTED', message: 'the upload was cancelled' }));
    signal?.addEventListener('abort', () => xhr.abort());
    const form = new FormData();
    form.append('media', file, file.name);
    xhr.send(form);
  });
}

/** The filename of a Content-Disposition header (`filename*` preferred). */
function dispositionName(value) {
  if (!value) return null;
  const star = /filename\*\s*=\s*UTF-8''([^;]+)/i.exec(value);
  if (star) { try { return decodeURIComponent(star[1].trim()); } catch { /* fall through */ } }
  return /filename\s*=\s*"([^"]*)"/i.exec(value)?.[1] ?? /filename\s*=\s*([^;]+)/i.exec(value)?.[1]?.trim() ?? null;
}

/**
 * `GET /media/{id}[/hd-voice][?format=wav|mp3]` with the key in a header (never in a URL). Resolves to
 * `{ kind: 'media', blob, contentType, filename, cache, source, ms }` or
 * `{ kind: 'video', videoUrl, ms }`.
 */
export async function download({ key, mediaId, hdVoice = false, format = null }) {
  // format: the Worker's WAV or MP3 rendition of voice (`?format=wav`, `?format=mp3`), which
  // browsers can play.
  const path = `${prefix}/media/${encodeURIComponent(mediaId)}${hdVoice ? '/hd-voice' : ''}${format ? `?format=${encodeURIComponent(format)}` : ''}`;
  const started = performance.now();
  const r = await call(path, { headers: { ...bearer(key), Accept: 'application/json, */*;q=0.5' }, cache: 'no-store' });
  const contentType = r.headers.get('Content-Type') ?? 'application/octet-stream';
  if (contentType.startsWith('application/json') && !r.headers.get('X-Cache')) {
    const { videoUrl } = await r.json();
    return { kind: 'video', videoUrl, ms: performance.now() - started };
  }
  const blob = await r.blob();
  return {
    kind: 'media',
    blob,
    contentType,
    filename: dispositionName(r.headers.get('Content-Disposition')),
    cache: r.headers.get('X-Cache') ?? '?',
    source: r.headers.get('X-Cache-Source') ?? '',
    ms: performance.now() - started,
  };
}

/** `POST /media/{id}/sign[?kind=hd-voice]`: `{url, expiresAt}`. */
export async function sign({ key, mediaId, hdVoice = false }) {
  const q = hdVoice ? '?kind=hd-voice' : '';
  return (await call(`${prefix}/media/${encodeURIComponent(mediaId)}/sign${q}`, { method: 'POST', headers: bearer(key) })).json();
}

/**
 * `GET /archive`: fans' media kept by the callback endpoint, newest first. Resolves to
 * `{items, cursor}`.
 */
export async function archive({ key, limit = 20, cursor = null, type = '' }) {
  const q = new URLSearchParams({ limit: String(limit) });
  if (cursor) q.set('cursor', cursor);
  if (type) q.set('type', type);
  return (await call(`${prefix}/archive?${q}`, { headers: bearer(key), cache: 'no-store' })).json();
}

/**
 * Dev only: has the emulator (at `emulator`, from /healthz's `devEmulator`) push a fan's image to
 * this console's callback endpoint, as WeChat would. Resolves to the emulator's report.
 */
export async function testPush({ emulator, image }) {
  const bytes = new Uint8Array(await image.arrayBuffer());
  let binary = '';
  for (const b of bytes) binary += String.fromCharCode(b);
  const body = {
    url: `${location.origin}${prefix}/wechat/callback`,
    appid: currentAppid,
    mode: 'safe',
    msgType: 'image',
    media: btoa(binary),
  };
  let r;
  try {
    r = await fetch(`${emulator}/_emulator/push`, { method: 'POST', body: JSON.stringify(body) });
  } catch (e) {
    throw new ApiError({ message: `the emulator did not answer: ${e.message}` });
  }
  if (!r.ok) throw toError(r.status, await r.text(), null);
  return r.json();
}

