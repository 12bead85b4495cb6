// What the Worker benchmarks share: a Worker started in plain workerd through Miniflare's API
// (no `wrangler dev` proxy in front, whose cost would hide the Worker's own), and `wrk`'s numbers.
import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { cpus } from 'node:os';
import path from 'node:path';
import { Miniflare } from 'miniflare';
import { ROOT } from '../../tests/worker/harness.mjs';

const run = promisify(execFile);

/** Exits with a note when wrk is not installed. */
export async function requireWrk(name) {
  try {
    await run('wrk', ['--version']).catch((e) => { if (e.code === 'ENOENT') throw e; });
  } catch {
    console.error(`${name} needs wrk (Debian: apt-get install wrk; scripts/setup installs it)`);
    process.exit(1);
  }
}

/** Process ids of the workerd processes this process started (Miniflare spawns them). */
function workerdPids() {
  const pids = new Set();
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      const status = readFileSync(`/proc/${pid}/status`, 'utf8');
      const parent = Number(status.match(/^PPid:\s+(\d+)/m)?.[1]);
      if (status.startsWith('Name:\tworkerd') && parent === process.pid) pids.add(Number(pid));
    } catch { /* gone */ }
  }
  return pids;
}

/** CPU time (user + system, all threads) the process `pid` has used, in ms. */
export function cpuMs(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command (which may hold spaces) in its parentheses: utime, stime are 14, 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10; // clock ticks of 10 ms (USER_HZ 100)
}

/**
 * One Worker in plain workerd, listening on loopback, its state under target/bench/NAME, and the
 * id of its workerd process (for CPU time). Module names are relative to the repository
 * (`modulesRoot`): workerd refuses names that climb out with `..`.
 */
export async function startScript(name, scriptPath, { bindings = {}, durableObjects } = {}) {
  const dir = path.join(ROOT, 'target/bench', name);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const before = workerdPids();
  const mf = new Miniflare({
    name: `bench-${name}`,
    scriptPath,
    modules: true,
    modulesRoot: ROOT,
    // worker-build writes ES modules named .js (its package.json says "type": "module").
    modulesRules: [{ type: 'CompiledWasm', include: ['**/*.wasm'] }, { type: 'ESModule', include: ['**/*.js', '**/*.mjs'] }],
    compatibilityDate: '2026-04-01',
    bindings,
    durableObjects,
    cachePersist: path.join(dir, 'cache'),
    durableObjectsPersist: path.join(dir, 'do'),
    host: '127.0.0.1',
    port: 0,
  });
  const url = (await mf.ready).toString().replace(/\/$/, '');
  const [pid] = [...workerdPids()].filter((p) => !before.has(p));
  return { url, dir, pid, stop: () => mf.dispose() };
}

/**
 * Where the Workers and the load generator run when they are kept apart (`apart()`): every
 * workerd process on the first CPU, `wrk` on the others. Sharing two cores, the two take turns
 * unevenly and each round measures the scheduler as much as the Worker; kept apart, the Worker
 * has a core of its own, as in production, and the load comes from elsewhere.
 */
export const SERVER_CPUS = '0';
const LOAD_CPUS = `1-${Math.max(cpus().length - 1, 1)}`;

/** Whether servers and load can be kept apart here: two CPUs or more, and `taskset`. */
export async function canKeepApart() {
  if (cpus().length < 2) return false;
  try {
    await run('taskset', ['-p', String(process.pid)]);
    return true;
  } catch {
    return false;
  }
}

/** Moves every thread of the process `pid` to SERVER_CPUS. */
export async function pinServer(pid) {
  await run('taskset', ['-a', '-p', '-c', SERVER_CPUS, String(pid)]);
}

/**
 * wrk against `url` (`args`: its options): requests/s, p50 and p99 (ms), requests, and non-2xx
 * answers plus socket errors. `apart`: run it on the CPUs the servers are not pinned to.
 */
export async function wrk(url, args, { apart = false } = {}) {
  const [cmd, pre] = apart ? ['taskset', ['-c', LOAD_CPUS, 'wrk']] : ['wrk', []];
  const { stdout } = await run(cmd, [...pre, ...args, '--latency', url], { maxBuffer: 1 << 20 });
  const unit = { us: 1e-3, ms: 1, s: 1e3, m: 6e4 };
  const at = (p) => stdout.match(new RegExp(`^\\s*${p}%\\s+([\\d.]+)(us|ms|s|m)\\s*$`, 'm'));
  const p99 = at(99);
  const p50 = at(50);
  const rps = stdout.match(/Requests\/sec:\s+([\d.]+)/);
  const requests = stdout.match(/(\d+) requests in/);
  const non2xx = stdout.match(/Non-2xx or 3xx responses: (\d+)/);
  const errors = stdout.match(/Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/);
  if (!p99 || !p50 || !rps || !requests) throw new Error(`unexpected wrk output:\n${stdout}`);
  return {
    rps: Number(rps[1]),
    p50: Number(p50[1]) * unit[p50[2]],
    p99: Number(p99[1]) * unit[p99[2]],
    requests: Number(requests[1]),
    bad: Number(non2xx?.[1] || 0) + (errors ? errors.slice(1).reduce((a, n) => a + Number(n), 0) : 0),
  };
}
