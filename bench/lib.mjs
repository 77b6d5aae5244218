// Helpers shared by bench/bench.mjs (load/soak) and bench/chat-bench.mjs (issue 3 benchmark).
// Plain ESM against the BUILT server (dist/).
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';

export const ROOT = path.resolve(import.meta.dirname, '..');
export const dist = (p) => path.join(ROOT, 'dist/src', p);

/** Secrets handed to the server child (never used outside a benchmark). */
export const JWT_SECRET = 'bench-secret-that-is-long-enough-for-hs256-0123456789';
export const DATA_KEY = '0'.repeat(63) + '2';

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
export const log = (...a) => console.error(new Date().toISOString().slice(11, 19), ...a);

/** Nearest-rank percentile of an array of numbers (sorted copy), rounded to 0.1. */
export function pct(arr, p) {
  if (arr.length === 0) return NaN;
  const s = Float64Array.from(arr).sort();
  return +s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))].toFixed(1);
}

/** A chat message body like the SPA sends: 20–100 Japanese characters. */
export const benchBody = (n) => `bench message ${n} ${'あ'.repeat(20 + (n % 80))}`;

/** Polls `${url}/healthz` until it answers 200 (30 s at most). */
export async function waitHealthy(url, proc) {
  for (let i = 0; i < 300; i++) {
    if (proc && proc.exitCode !== null) throw new Error(`server exited with ${proc.exitCode} before it was ready`);
    if (await fetch(`${url}/healthz`).then((r) => r.ok, () => false)) return;
    await sleep(100);
  }
  throw new Error(`${url} did not become healthy`);
}

/**
 * Spawns `node [nodeArgs] <script>` on loopback with `env`, waits for /healthz. With `nofile`, the child runs
 * under `prlimit --nofile=N:N` (when this process's own limit is lower). Returns { url, proc, stop }.
 */
export async function startServer({ script = path.join(ROOT, 'dist/src/main.js'), nodeArgs = [], port, env, nofile, stdio = ['ignore', 'inherit', 'inherit'] }) {
  let cmd = process.execPath;
  let args = [...nodeArgs, script];
  if (nofile && openFileLimit() < nofile) {
    args = [`--nofile=${nofile}:${nofile}`, '--', cmd, ...args];
    cmd = 'prlimit';
  }
  const proc = spawn(cmd, args, { cwd: ROOT, env: { PATH: process.env.PATH, HOST: '127.0.0.1', PORT: String(port), ...env }, stdio });
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise((r) => proc.once('exit', r));
    proc.kill('SIGTERM');
    const timer = setTimeout(() => proc.kill('SIGKILL'), 12_000);
    await exited;
    clearTimeout(timer);
  };
  try {
    await waitHealthy(url, proc);
  } catch (err) {
    await stop();
    throw err;
  }
  return { url, proc, stop };
}

/** This process's soft RLIMIT_NOFILE (children inherit it). */
export function openFileLimit() {
  const line = readFileSync('/proc/self/limits', 'utf8').split('\n').find((l) => l.startsWith('Max open files'));
  const soft = line?.split(/\s{2,}/)[1];
  return soft === 'unlimited' ? Infinity : Number(soft);
}

const CLK_TCK = 100; // Linux USER_HZ on x86_64 (`getconf CLK_TCK`)
/** CPU seconds (user+system) and RSS of a process, from /proc (undefined once it is gone). */
export function procStats(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // f[0] is field 3 (state)
    const cpuSeconds = (Number(f[11]) + Number(f[12])) / CLK_TCK; // utime, stime
    const rssKiB = Number(readFileSync(`/proc/${pid}/status`, 'utf8').match(/^VmRSS:\s+(\d+)/m)?.[1]);
    return { cpuSeconds, rssKiB };
  } catch {
    return undefined;
  }
}

/** Scrapes a few gauges of the server's /metrics (prom-client). */
export async function scrapeMetrics(url) {
  const text = await fetch(`${url}/metrics`).then((r) => r.text());
  const value = (name) => Number(text.match(new RegExp(`^${name} (\\S+)`, 'm'))?.[1]);
  return {
    rssMiB: +(value('process_resident_memory_bytes') / 2 ** 20).toFixed(1),
    heapMiB: +(value('nodejs_heap_size_used_bytes') / 2 ** 20).toFixed(1),
    loopP99ms: +(value('nodejs_eventloop_lag_p99_seconds') * 1000).toFixed(1),
    sockets: value('engawa_socketio_connections'),
  };
}

/**
 * Inserts `members` members (all with the same precomputed argon2 hash, so no hashing per user),
 * `rooms` chat rooms, and member i into room i % rooms (members ≥ memberCount get no room).
 * Returns { users: [{id, role}], rooms: [{id}], roomOf: (i) => roomId | undefined }.
 */
export async function seedMembers(db, { members, rooms: roomCount, roomMembers = members, passwordHash, prefix = Date.now().toString(36) }) {
  const users = [];
  for (let start = 0; start < members; start += 1000) {
    const batch = Array.from({ length: Math.min(1000, members - start) }, (_, k) => {
      const i = start + k;
      return { handle: `b${prefix}_${i}`, handle_key: `b${prefix}_${i}`, display_name: `member ${i}`, role: 'member', password_hash: passwordHash };
    });
    users.push(...(await db.insertInto('users').values(batch).returning(['id', 'role']).execute()));
  }
  const rooms = await db
    .insertInto('rooms')
    .values(Array.from({ length: roomCount }, (_, i) => ({ name: `bench room ${i}`, kind: 'chat', last_seq: 0 })))
    .returning(['id'])
    .execute();
  const roomOf = (i) => (i < roomMembers ? rooms[i % roomCount].id : undefined);
  const rows = users.slice(0, roomMembers).map((u, i) => ({ room_id: roomOf(i), user_id: u.id, room_role: 'member', last_read_seq: 0 }));
  for (let start = 0; start < rows.length; start += 1000) await db.insertInto('room_members').values(rows.slice(start, start + 1000)).execute();
  return { users, rooms, roomOf };
}

/** A free TCP port on loopback. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}
