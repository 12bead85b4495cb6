// Voice replies from the microphone: PCM captured by an AudioWorklet (recorder-worklet.js) at the
// audio context's own sample rate, stopped by the user or at WeChat's limit for voice, and
// encoded to AMR-NB in the page by the voice codecs (codecs/wasm/, built into ./pkg by
// `make www`), which are loaded on first use only.

/** WeChat's limit on one voice message, in seconds. */
export const MAX_SECONDS = 60;
/** AMR-NB's 12.2 kbit/s mode (MR122), what WeChat's own clients send. */
export const AMR_MODE = 7;

/** What went wrong, in words the page shows: `code` is NOT_ALLOWED, NO_MICROPHONE, … */
export class RecorderError extends Error {
  constructor(code, message) {
    super(message);
    this.name = 'RecorderError';
    this.code = code;
  }
}

/** getUserMedia's refusals (DOMException names) in words. */
const REFUSALS = {
  NotAllowedError: ['NOT_ALLOWED', 'the microphone was not allowed: allow it for this site in the browser and try again'],
  SecurityError: ['NOT_ALLOWED', 'the browser does not let this page use the microphone'],
  NotFoundError: ['NO_MICROPHONE', 'no microphone was found'],
  OverconstrainedError: ['NO_MICROPHONE', 'no microphone was found'],
  NotReadableError: ['MICROPHONE_BUSY', 'the microphone could not be opened: another program may be using it'],
  AbortError: ['MICROPHONE_BUSY', 'the microphone could not be opened'],
};

/**
 * Starts recording from the microphone. Resolves, once the microphone is on, to
 * `{ sampleRate, stop(), done }`: `stop()` ends the recording, and `done` resolves to
 * `{ pcm: Float32Array, sampleRate, limited }` (mono, `limited` when it stopped at `maxSeconds`).
 * `onProgress(seconds)` is called as samples come in. Rejects with a RecorderError.
 */
export async function startRecording({ maxSeconds = MAX_SECONDS, onProgress } = {}) {
  if (!navigator.mediaDevices?.getUserMedia || typeof AudioWorkletNode !== 'function') {
    throw new RecorderError('UNSUPPORTED', 'this browser cannot record here (it needs https or localhost, and AudioWorklet)');
  }
  let stream;
  try {
    stream = await navigator.mediaDevices.getUserMedia({
      audio: { channelCount: 1, echoCancellation: true, noiseSuppression: true, autoGainControl: true },
    });
  } catch (e) {
    const [code, words] = REFUSALS[e?.name] ?? ['MICROPHONE_FAILED', `the microphone could not be opened (${e?.message ?? e})`];
    throw new RecorderError(code, words);
  }
  const context = new AudioContext();
  const release = () => {
    for (const track of stream.getTracks()) track.stop();
    context.close().catch(() => {});
  };
  let node;
  try {
    await context.audioWorklet.addModule(new URL('./recorder-worklet.js', import.meta.url));
    node = new AudioWorkletNode(context, 'wxmedia-capture', { numberOfInputs: 1, numberOfOutputs: 1 });
    context.createMediaStreamSource(stream).connect(node);
    // Connected to the output so the graph runs it; it writes nothing there (silence).
    node.connect(context.destination);
    if (context.state !== 'running') await context.resume();
  } catch (e) {
    release();
    throw new RecorderError('RECORDER_FAILED', `the recorder could not start (${e?.message ?? e})`);
  }

  const { sampleRate } = context;
  const limit = Math.floor(maxSeconds * sampleRate);
  const chunks = [];
  let total = 0;
  let finished = false;
  let resolveDone;
  const done = new Promise((resolve) => { resolveDone = resolve; });

  const finish = (limited) => {
    if (finished) return;
    finished = true;
    node.port.onmessage = null;
    node.disconnect();
    release();
    const pcm = new Float32Array(total);
    let at = 0;
    for (const c of chunks) { pcm.set(c, at); at += c.length; }
    resolveDone({ pcm, sampleRate, limited });
  };

  node.port.onmessage = ({ data }) => {
    if (finished) return;
    if (data.pcm) {
      const room = limit - total;
      const take = data.pcm.length <= room ? data.pcm : data.pcm.subarray(0, room);
      chunks.push(take);
      total += take.length;
      onProgress?.(total / sampleRate);
      if (total >= limit) finish(true);
    } else if (data.done) {
      finish(false);
    }
  };
  // The microphone going away (unplugged, or its permission revoked) ends the recording too.
  for (const track of stream.getTracks()) track.addEventListener('ended', () => node.port.postMessage('stop'));

  return {
    sampleRate,
    /** Ends the recording; `done` resolves once the worklet has handed over its last samples. */
    stop() {
      if (!finished) node.port.postMessage('stop');
      return done;
    },
    done,
  };
}

// ---- the voice codecs, loaded on first use ----------------------------------------------------

let codecs = null;
/** Resolves to the voice wasm's glue (`encodePcmFloat`, `decode`, …), loaded once. */
export function voiceCodecs() {
  codecs ??= import('./pkg/voice.js').then(async (m) => { await m.default(); return m; });
  // A failed load is tried again next time.
  codecs.catch(() => { codecs = null; });
  return codecs;
}

/** Mono float PCM at `sampleRate` encoded to AMR-NB (`#!AMR` storage format, MR122). */
export async function encodeAmr(pcm, sampleRate) {
  let v;
  try {
    v = await voiceCodecs();
  } catch (e) {
    throw new RecorderError('CODECS_UNAVAILABLE', `the voice codecs could not be loaded (${e?.message ?? e})`);
  }
  try {
    return v.encodePcmFloat(pcm, sampleRate, 1, 'amr', undefined, AMR_MODE);
  } catch (e) {
    throw new RecorderError(e?.code ?? 'ENCODE_FAILED', `the recording could not be encoded (${e?.message ?? e})`);
  }
}

/**
 * AMR-NB back to audio, as a fan will hear it (the decoder of the Worker's ?format=wav):
 * `{ wav, seconds }`, the WAV being 16-bit mono at 8 kHz after its 44-byte header.
 */
export async function amrToWav(amr) {
  const v = await voiceCodecs();
  const wav = v.decode(amr, 'amr', 'wav');
  return { wav, seconds: (wav.length - 44) / 2 / 8000 };
}
