// The recorder's AudioWorklet (loaded by recorder.js): the microphone's samples, mixed to mono,
// posted to the page in blocks of float PCM at the context's own sample rate. It keeps nothing:
// the page counts the samples and stops the recording at its limit.

/** Samples per message: 4096 is ~85 ms at 48 kHz, so the page gets a dozen messages a second. */
const BLOCK = 4096;

class Capture extends AudioWorkletProcessor {
  constructor() {
    super();
    this.block = new Float32Array(BLOCK);
    this.filled = 0;
    this.stopped = false;
    // 'stop': hand over what is buffered and end.
    this.port.onmessage = (e) => {
      if (e.data !== 'stop' || this.stopped) return;
      this.stopped = true;
      this.flush();
      this.port.postMessage({ done: true });
    };
  }

  flush() {
    if (this.filled === 0) return;
    const out = this.block.slice(0, this.filled);
    this.port.postMessage({ pcm: out }, [out.buffer]);
    this.filled = 0;
  }

  process(inputs) {
    if (this.stopped) return false;
    const channels = inputs[0];
    // No channels while the input is not connected yet (or has stopped).
    if (!channels || channels.length === 0) return true;
    const n = channels[0].length;
    const scale = 1 / channels.length;
    for (let i = 0; i < n; i++) {
      let sum = 0;
      for (const ch of channels) sum += ch[i];
      this.block[this.filled++] = sum * scale;
      if (this.filled === BLOCK) this.flush();
    }
    return true;
  }
}

registerProcessor('wxmedia-capture', Capture);
