// An open-loop load generator: requests sent at a fixed rate whatever the server does, each
// one's latency counted from when it was due (so a stalled server is charged for the requests
// waiting behind the stall: no coordinated omission), over raw keep-alive sockets with
// prebuilt request bytes (so the generator itself costs little CPU beside the server under
// test). What `wrk` (closed loop, as fast as the server answers) cannot say: the answer times
// at a given load.
import net from 'node:net';

/**
 * Sends `requests` (each `{ method, path, headers?, body? }`) to `url` at `rate` per second,
 * `rate * seconds` of them (fewer if the list is shorter), over at most `sockets` connections.
 * Answers { sent, rate (achieved), p50, p99, max (ms), bad (non-2xx or failed) }.
 */
export async function openLoop(url, requests, { rate, seconds, sockets = 128 }) {
  const { hostname, port } = new URL(url);
  const total = Math.min(requests.length, Math.floor(rate * seconds));
  const wire = requests.slice(0, total).map(({ method, path, headers = {}, body = '' }) => {
    const b = Buffer.from(body);
    const head = [`${method} ${path} HTTP/1.1`, `Host: ${hostname}:${port}`, 'Connection: keep-alive',
      `Content-Length: ${b.length}`, ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)];
    return Buffer.concat([Buffer.from(`${head.join('\r\n')}\r\n\r\n`), b]);
  });
  const latencies = [];
  let bad = 0;
  let done = 0;
  const waiting = []; // indexes due but without an idle socket
  const idle = [];
  const all = [];
  let open = 0;
  let finish;
  const finished = new Promise((resolve) => { finish = resolve; });
  const t0 = performance.now();
  const due = (i) => t0 + (i * 1000) / rate;

  function complete(i, ok) {
    latencies.push(performance.now() - due(i));
    if (!ok) bad++;
    if (++done === total) finish();
  }

  function connect() {
    open++;
    const socket = net.connect({ host: hostname, port: Number(port), noDelay: true });
    all.push(socket);
    let buffer = Buffer.alloc(0);
    let current = -1;
    const next = () => {
      current = -1;
      if (waiting.length) send(waiting.shift());
      else idle.push(send);
    };
    const send = (i) => {
      current = i;
      socket.write(wire[i]);
    };
    socket.on('data', (chunk) => {
      buffer = buffer.length ? Buffer.concat([buffer, chunk]) : chunk;
      for (;;) {
        const end = buffer.indexOf('\r\n\r\n');
        if (end < 0 || current < 0) return;
        const head = buffer.subarray(0, end).toString('latin1');
        const length = Number(/\r\ncontent-length:\s*(\d+)/i.exec(head)?.[1] ?? 0);
        if (buffer.length < end + 4 + length) return;
        const status = Number(head.slice(9, 12));
        buffer = buffer.subarray(end + 4 + length);
        const i = current;
        complete(i, status >= 200 && status < 300);
        next();
      }
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      open--;
      if (current >= 0 && done < total) complete(current, false);
      const at = idle.indexOf(send);
      if (at >= 0) idle.splice(at, 1);
    });
    return send;
  }

  let sent = 0;
  await new Promise((resolve) => {
    const tick = () => {
      const now = performance.now();
      while (sent < total && due(sent) <= now) {
        const i = sent++;
        if (idle.length) idle.pop()(i);
        else if (open < sockets) connect()(i);
        else waiting.push(i);
      }
      if (sent < total) setTimeout(tick, 1);
      else resolve();
    };
    tick();
  });
  await Promise.race([finished, new Promise((r) => setTimeout(r, 30_000))]);
  const elapsed = (performance.now() - t0) / 1000;
  for (const socket of all) socket.destroy();
  bad += total - done;
  latencies.sort((a, b) => a - b);
  const q = (p) => latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))] ?? NaN;
  return { sent: total, rate: done / elapsed, p50: q(0.5), p99: q(0.99), max: latencies[latencies.length - 1] ?? NaN, bad };
}
