// The chat benchmark of issue 3:  npm run bench [-- --quick] [-- --skip-relay] [-- --out file.json]
//
// On an EXTERNAL PostgreSQL (BENCH_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/postgres)
// it creates a fresh database engawa_bench_<random> (dropped at the end; no other database is
// touched), migrates and seeds it (members with one precomputed argon2 hash, rooms, memberships),
// then runs the built server `node dist/src/main.js` as a child process and the load generator
// (bench/loadgen.mjs, socket.io-client over websocket) as another, all on loopback, and prints JSON:
//
//  1. idle: connect --idle sockets (default 5,000; the first --members are room members, the others
//     members of no room), server RSS before/after (/proc/<pid>/status VmRSS) → KiB per connection;
//     then the extra sockets are closed.
//  2. target: --members (2,000) in rooms of --room-size (10), each member sending --rate/members
//     msg/s (400 msg/s = 0.2 msg/s each) on an open-loop schedule for --seconds, after --warmup
//     seconds of the same load that are not counted. Latency = message:new received by each other
//     member of the room − the message's INTENDED send time (p50/p99/p99.9); delivered/expected
//     over every (message, other member) pair. Server CPU = Δ(utime+stime) of /proc/<pid>/stat.
//  3. steps: the rate times --step-factor per step (--step-seconds each) until a step misses
//     (p99 ≥ --p99-ms, delivery < 100 %, or any failed ack): the last passing rate is the maximum
//     sustainable rate (a target that misses steps DOWN instead).
//     Before each measured run a probe send must be acked within 50 ms twice in a row (the previous
//     step's backlog is worked off first). --cpu-prof DIR writes a V8 CPU profile of the server;
//     --perf-map runs it with --perf-basic-prof, so `perf record` can name its JIT frames.
//  4. the same three phases against bench/relay.mjs, a bare Socket.IO room relay (no DB, no auth),
//     unless --skip-relay. ratio = full-server max sustainable rate / bare-relay max sustainable rate.
import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { SignJWT } from 'jose';
import pg from 'pg';
import { DATA_KEY, JWT_SECRET, ROOT, dist, freePort, log, openFileLimit, procStats, seedMembers, sleep, startServer } from './lib.mjs';

const { createDatabase } = await import(dist('db/database.js'));
const { migrateToLatest } = await import(dist('db/migrate.js'));
const { hashPassword } = await import(dist('modules/auth/passwords.js'));

const { values: opt } = parseArgs({
  options: {
    members: { type: 'string', default: '2000' },
    'room-size': { type: 'string', default: '10' },
    rate: { type: 'string', default: '400' },
    seconds: { type: 'string', default: '30' },
    warmup: { type: 'string', default: '5' },
    'step-seconds': { type: 'string', default: '10' },
    'step-factor': { type: 'string', default: '1.25' },
    'max-rate': { type: 'string', default: '10000' },
    'p99-ms': { type: 'string', default: '100' },
    idle: { type: 'string', default: '5000' },
    'rate-limit': { type: 'string', default: '100/10' },
    'skip-relay': { type: 'boolean', default: false },
    'cpu-prof': { type: 'string' },
    'perf-map': { type: 'boolean', default: false },
    quick: { type: 'boolean', default: false },
    out: { type: 'string' },
  },
});
if (opt.quick) Object.assign(opt, { seconds: '10', warmup: '2', 'step-seconds': '5', 'step-factor': '1.5' });
const MEMBERS = Number(opt.members);
const ROOM_SIZE = Number(opt['room-size']);
const ROOMS = Math.ceil(MEMBERS / ROOM_SIZE);
const RATE = Number(opt.rate);
const IDLE = Math.max(Number(opt.idle), MEMBERS);
const P99_MS = Number(opt['p99-ms']);
const ADMIN_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

const cleanup = [];
async function shutdown() {
  for (const f of cleanup.reverse()) await f().catch((e) => log('cleanup:', e.message));
  cleanup.length = 0;
}
process.on('SIGINT', () => shutdown().then(() => process.exit(130)));

// Every socket is one fd in the generator and one in the server, plus PostgreSQL, pipes, etc.
const NOFILE = IDLE + 1024;
if (openFileLimit() < NOFILE) log(`open-file limit ${openFileLimit()} < ${NOFILE}: children run under prlimit --nofile=${NOFILE}`);

try {
  // --- database ---------------------------------------------------------------------------------
  const dbName = `engawa_bench_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  await admin.query(`create database ${dbName}`);
  cleanup.push(async () => {
    await admin.query(`drop database if exists ${dbName} with (force)`);
    await admin.end();
    log(`dropped ${dbName}`);
  });
  const url = new URL(ADMIN_URL);
  url.pathname = `/${dbName}`;
  const databaseUrl = url.toString();
  const { db } = createDatabase(databaseUrl, { max: 4 });
  cleanup.push(() => db.destroy());
  await migrateToLatest(db);
  log(`${dbName}: seeding ${IDLE} members, ${MEMBERS} of them in ${ROOMS} rooms of ${ROOM_SIZE}`);
  const { users, roomOf } = await seedMembers(db, { members: IDLE, rooms: ROOMS, roomMembers: MEMBERS, passwordHash: await hashPassword('bench password 123') });
  await db.destroy();
  cleanup.pop();

  const key = new TextEncoder().encode(JWT_SECRET);
  const sign = (u) => new SignJWT({ role: u.role }).setProtectedHeader({ alg: 'HS256' }).setSubject(u.id).setIssuedAt().setExpirationTime('15m').sign(key);
  const dataDir = mkdtempSync(path.join(tmpdir(), 'engawa-chat-bench-'));
  cleanup.push(async () => rmSync(dataDir, { recursive: true, force: true }));

  // --- load generator (its own process) ---------------------------------------------------------
  const gen = fork(path.join(ROOT, 'bench/loadgen.mjs'), [], { stdio: ['ignore', 2, 2, 'ipc'] });
  cleanup.push(async () => gen.connected && gen.send({ cmd: 'exit' }));
  let nextId = 0;
  const waiting = new Map();
  gen.on('message', ({ id, result, error }) => {
    const w = waiting.get(id);
    waiting.delete(id);
    if (error) w.reject(new Error(`loadgen: ${error}`));
    else w.resolve(result);
  });
  gen.on('exit', (code) => {
    for (const w of waiting.values()) w.reject(new Error(`loadgen exited with ${code}`));
  });
  const call = (cmd, args) =>
    new Promise((resolve, reject) => {
      const id = nextId++;
      waiting.set(id, { resolve, reject });
      gen.send({ id, cmd, args });
    });

  const pgBackendCpu = async () => {
    const { rows } = await admin.query('select pid from pg_stat_activity where datname = $1', [dbName]);
    return rows.reduce((sum, r) => sum + (procStats(r.pid)?.cpuSeconds ?? 0), 0);
  };

  /** Totals of the server's engawa_message_send_batch_size histogram. */
  const sendBatches = async (server) => {
    const text = await (await fetch(`${server.url}/metrics`)).text();
    const value = (name) => Number(text.match(new RegExp(`^${name} (\\S+)$`, 'm'))?.[1] ?? 0);
    return { sum: value('engawa_message_send_batch_size_sum'), count: value('engawa_message_send_batch_size_count') };
  };

  /** One measured run with server CPU / RSS around it; pass = the goal's criteria. */
  async function measuredRun(server, rate, seconds, withPg) {
    const settle = await call('settle', {});
    if (settle.seconds > 2) log(`  (waited ${settle.seconds}s for the server to work off its backlog${settle.settled ? '' : ', in vain'})`);
    const s0 = procStats(server.proc.pid);
    const batches0 = withPg ? await sendBatches(server) : undefined;
    const pg0 = withPg ? await pgBackendCpu() : 0;
    const t0 = performance.now();
    let rssMax = s0.rssKiB;
    const sampler = setInterval(() => (rssMax = Math.max(rssMax, procStats(server.proc.pid)?.rssKiB ?? 0)), 1000);
    // What the server's PostgreSQL sessions are doing, sampled every 250 ms: where the time goes.
    const waits = {};
    let waitSamples = 0;
    const waitSampler = withPg
      ? setInterval(async () => {
          const { rows } = await admin.query(
            `select coalesce(wait_event_type || ':' || wait_event, 'CPU') as w, count(*)::int as n from pg_stat_activity
              where datname = $1 and state <> 'idle' and pid <> pg_backend_pid() group by 1`,
            [dbName],
          );
          waitSamples++;
          for (const r of rows) waits[r.w] = (waits[r.w] ?? 0) + r.n;
        }, 250)
      : undefined;
    const result = await call('run', { rate, seconds, drainMs: 5_000 });
    clearInterval(sampler);
    clearInterval(waitSampler);
    const wall = (performance.now() - t0) / 1000;
    const s1 = procStats(server.proc.pid);
    result.server = { cpuPercent: +(((s1.cpuSeconds - s0.cpuSeconds) / wall) * 100).toFixed(1), rssMiB: +(s1.rssKiB / 1024).toFixed(1), rssMaxMiB: +(rssMax / 1024).toFixed(1) };
    if (withPg) {
      // Group commit: how many sends shared a transaction, on average (the server's /metrics).
      const batches1 = await sendBatches(server);
      const n = batches1.count - batches0.count;
      result.sendBatches = { transactions: n, meanSize: n > 0 ? +((batches1.sum - batches0.sum) / n).toFixed(1) : null };
      result.postgresBackendsCpuPercent = +((((await pgBackendCpu()) - pg0) / wall) * 100).toFixed(1);
      // Mean number of the server's sessions in each state (non-idle; 'CPU' = running, no wait event).
      result.postgresActiveSessions = Object.fromEntries(Object.entries(waits).sort((a, b) => b[1] - a[1]).map(([w, n]) => [w, +(n / waitSamples).toFixed(2)]));
    }
    result.settleSeconds = settle.seconds;
    result.loadavg = loadavg().map((x) => +x.toFixed(2));
    result.pass = result.latencyMs.p99 < P99_MS && result.deliveredRatio === 1 && Object.keys(result.ackErrors).length === 0;
    log(
      `  ${rate} msg/s × ${seconds}s: delivered ${(result.deliveredRatio * 100).toFixed(3)}% p50=${result.latencyMs.p50} p99=${result.latencyMs.p99} p99.9=${result.latencyMs.p999}ms ` +
        `acks failed=${JSON.stringify(result.ackErrors)}${result.sendBatches ? ` batch=${result.sendBatches.meanSize}` : ''} server cpu=${result.server.cpuPercent}% rss=${result.server.rssMiB}MiB gen cpu=${result.generator.cpuPercent}% → ${result.pass ? 'pass' : 'MISS'}`,
    );
    return result;
  }

  /** Idle RSS, target, step-up against one server (full or relay). */
  async function phases(name, server, clientSpecs, withPg) {
    const out = { name };
    await sleep(3_000);
    const before = procStats(server.proc.pid);
    log(`${name}: connecting ${clientSpecs.length} idle sockets`);
    const connected = await call('connect', { url: server.url, clients: clientSpecs, concurrency: 50 });
    await sleep(5_000);
    const after = procStats(server.proc.pid);
    out.idle = {
      ...connected,
      rssBeforeMiB: +(before.rssKiB / 1024).toFixed(1),
      rssAfterMiB: +(after.rssKiB / 1024).toFixed(1),
      rssPerConnectionKiB: +((after.rssKiB - before.rssKiB) / connected.connected).toFixed(1),
    };
    log(`${name}: idle ${connected.connected} sockets (failed ${connected.failed}) in ${connected.seconds}s: RSS ${out.idle.rssBeforeMiB} → ${out.idle.rssAfterMiB} MiB = ${out.idle.rssPerConnectionKiB} KiB/connection`);
    await call('disconnect', { from: MEMBERS });
    await sleep(2_000);

    log(`${name}: warm-up ${opt.warmup}s, then target ${RATE} msg/s for ${opt.seconds}s`);
    if (Number(opt.warmup) > 0) await call('run', { rate: RATE, seconds: Number(opt.warmup), drainMs: 2_000 });
    out.target = await measuredRun(server, RATE, Number(opt.seconds), withPg);

    const factor = Number(opt['step-factor']);
    out.steps = [];
    let best = out.target.pass ? RATE : undefined;
    let rate = out.target.pass ? RATE * factor : RATE / factor;
    for (let i = 0; i < 20 && rate <= Number(opt['max-rate']) && rate >= 1; i++) {
      const r = await measuredRun(server, Math.round(rate), Number(opt['step-seconds']), withPg);
      out.steps.push(r);
      if (out.target.pass) {
        if (!r.pass) break;
        best = r.rate;
        rate *= factor;
      } else {
        if (r.pass) {
          best = r.rate;
          break;
        }
        rate /= factor;
      }
    }
    out.maxSustainableRate = best ?? null;
    out.maxSustainableIsLowerBound = out.target.pass && out.steps.length > 0 && out.steps.at(-1).pass; // ladder ended, never missed
    await call('disconnect', { from: 0 });
    return out;
  }

  const report = {
    at: new Date().toISOString(),
    command: `node bench/chat-bench.mjs ${process.argv.slice(2).join(' ')}`.trim(),
    machine: { cpus: cpus().length, node: process.version, loadavgAtStart: loadavg().map((x) => +x.toFixed(2)) },
    config: { clients: MEMBERS, rooms: ROOMS, roomSize: ROOM_SIZE, targetRate: RATE, perMemberRate: RATE / MEMBERS, seconds: Number(opt.seconds), warmupSeconds: Number(opt.warmup), stepSeconds: Number(opt['step-seconds']), stepFactor: Number(opt['step-factor']), idleConnections: IDLE, p99GoalMs: P99_MS, serverMessageRateLimit: opt['rate-limit'], database: `external (${url.host})` },
  };

  // --- full server ------------------------------------------------------------------------------
  const full = await startServer({
    port: await freePort(),
    nofile: NOFILE,
    stdio: ['ignore', 2, 2],
    nodeArgs: [
      ...(opt['cpu-prof'] ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(opt['cpu-prof'])}`] : []),
      // For `perf record`: /tmp/perf-<pid>.map names the server's JIT-compiled functions.
      ...(opt['perf-map'] ? ['--perf-basic-prof'] : []),
    ],
    env: { DATABASE_URL: databaseUrl, DATA_DIR: dataDir, JWT_SECRET, DATA_KEY, SOCKET_ADAPTER: 'none', LOG_LEVEL: 'warn', MESSAGE_RATE_LIMIT: opt['rate-limit'] },
  });
  cleanup.push(full.stop);
  log(`full server pid ${full.proc.pid} at ${full.url}`);
  const tokens = await Promise.all(users.map(sign));
  report.full = await phases('full', full, users.map((u, i) => ({ auth: { token: tokens[i] }, roomId: roomOf(i) })), true);
  await full.stop();

  // --- bare relay -------------------------------------------------------------------------------
  if (!opt['skip-relay']) {
    const relay = await startServer({ script: path.join(ROOT, 'bench/relay.mjs'), port: await freePort(), nofile: NOFILE, stdio: ['ignore', 2, 2], env: {} });
    cleanup.push(relay.stop);
    log(`bare relay pid ${relay.proc.pid} at ${relay.url}`);
    report.relay = await phases('relay', relay, users.map((u, i) => ({ auth: { rooms: roomOf(i) ? [roomOf(i)] : [] }, roomId: roomOf(i) })), false);
    await relay.stop();
    const f = report.full.maxSustainableRate;
    const r = report.relay.maxSustainableRate;
    report.ratio = {
      definition: 'full-server max sustainable rate / bare-relay max sustainable rate (msg/s; sustainable = p99 < goal, 100 % delivered, no failed ack, for one step)',
      fullMaxRate: f,
      relayMaxRate: r,
      relayIsLowerBound: report.relay.maxSustainableIsLowerBound,
      value: f && r ? +(f / r).toFixed(2) : null,
    };
  }

  const t = report.full.target;
  report.goals = {
    targetP99Under100ms: { value: t.latencyMs.p99, met: t.latencyMs.p99 < P99_MS },
    targetDelivered100: { value: t.deliveredRatio, met: t.deliveredRatio === 1 },
    ratioAtLeast0_6: report.ratio ? { value: report.ratio.value, met: report.ratio.value !== null && report.ratio.value >= 0.6 } : { value: null, met: null },
    rssPerIdleConnectionAtMost60KB: { valueKiB: report.full.idle.rssPerConnectionKiB, connections: report.full.idle.connected, met: report.full.idle.rssPerConnectionKiB <= 60 },
  };
  report.machine.loadavgAtEnd = loadavg().map((x) => +x.toFixed(2));
  const json = JSON.stringify(report, null, 2);
  console.log(json);
  if (opt.out) writeFileSync(opt.out, json + '\n');
} finally {
  await shutdown();
}
process.exit(0);
