// Engawa load benchmark and soak run, in plain ESM JavaScript against the BUILT server.
//
//   npm run build:server
//   node bench/bench.mjs                      # 2 minutes: 200 members in 10 rooms, 5 messages/s
//   node bench/bench.mjs --minutes 30 --sample-seconds 60 --out bench/soak.json   # the soak run
//
// Options: --members 200 --rooms 10 --rate 5 (messages/s, all rooms) --minutes 2 --sample-seconds 10
//          --nodes 1|2 (2 needs redis-server on PATH: a private one is started) --out file.json
// It starts its own embedded PostgreSQL in a temp folder (or uses BENCH_DATABASE_URL), runs the server
// as `node dist/src/main.js` child processes on loopback, connects the members with socket.io-client
// (websocket transport, as the SPA), and measures:
//   - ack latency: message:send → ack, per send
//   - delivery latency: message:send → message:new at every other member of the room
//   - server RSS, heap and event-loop p99 from each node's /metrics, every --sample-seconds
import { spawn, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { io as connect } from 'socket.io-client';
import { DATA_KEY, JWT_SECRET, benchBody, dist, log, pct, scrapeMetrics, seedMembers, sleep, startServer } from './lib.mjs';

const { startEmbeddedPostgres, freePort } = await import(dist('db/embedded.js'));
const { createDatabase } = await import(dist('db/database.js'));
const { migrateToLatest } = await import(dist('db/migrate.js'));
const { buildApp } = await import(dist('app.js'));
const { loadConfig } = await import(dist('secrets.js'));
const { hashPassword } = await import(dist('modules/auth/passwords.js'));

const { values: opt } = parseArgs({
  options: {
    members: { type: 'string', default: '200' },
    rooms: { type: 'string', default: '10' },
    rate: { type: 'string', default: '5' },
    minutes: { type: 'string', default: '2' },
    'sample-seconds': { type: 'string', default: '10' },
    nodes: { type: 'string', default: '1' },
    out: { type: 'string' },
  },
});
const MEMBERS = Number(opt.members);
const ROOMS = Number(opt.rooms);
const RATE = Number(opt.rate);
const DURATION_MS = Number(opt.minutes) * 60_000;
const SAMPLE_MS = Number(opt['sample-seconds']) * 1000;
const NODES = Number(opt.nodes);

const cleanup = [];
async function shutdown() {
  for (const f of cleanup.reverse()) await f().catch((e) => log('cleanup:', e.message));
}
process.on('SIGINT', () => shutdown().then(() => process.exit(130)));

// --- infrastructure -------------------------------------------------------------------------
const dir = mkdtempSync(path.join(tmpdir(), 'engawa-bench-'));
chmodSync(dir, 0o755);
cleanup.push(async () => rmSync(dir, { recursive: true, force: true }));
let databaseUrl = process.env.BENCH_DATABASE_URL;
if (!databaseUrl) {
  const pg = await startEmbeddedPostgres(dir);
  cleanup.push(() => pg.stop());
  databaseUrl = pg.url;
}
let redisUrl;
if (NODES > 1) {
  const port = await freePort();
  const redis = spawn('redis-server', ['--bind', '127.0.0.1', '--port', String(port), '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  cleanup.push(async () => redis.kill('SIGTERM'));
  for (let i = 0; i < 100 && spawnSync('redis-cli', ['-p', String(port), 'ping']).stdout?.toString().trim() !== 'PONG'; i++) await sleep(50);
  redisUrl = `redis://127.0.0.1:${port}`;
}
const { db } = createDatabase(databaseUrl, { max: 4 });
cleanup.push(() => db.destroy());
await migrateToLatest(db);

async function startNode() {
  const port = await freePort();
  const node = await startServer({
    port,
    env: {
      DATA_DIR: path.join(dir, `node-${port}`),
      DATABASE_URL: databaseUrl,
      ...(redisUrl ? { REDIS_URL: redisUrl, SOCKET_ADAPTER: 'redis' } : { SOCKET_ADAPTER: 'none' }),
      JWT_SECRET,
      DATA_KEY,
      LOG_LEVEL: 'warn',
    },
  });
  cleanup.push(node.stop);
  return node;
}
const nodes = [];
for (let i = 0; i < NODES; i++) nodes.push(await startNode());

// In-process app on the same database, only to sign access tokens (never listens).
const signer = await buildApp({
  config: loadConfig({ DATABASE_URL: databaseUrl, JWT_SECRET, DATA_KEY, LOG_LEVEL: 'silent', SOCKET_ADAPTER: 'none' }),
  ...createDatabase(databaseUrl, { max: 1 }),
});
cleanup.push(() => signer.close());

// --- members and rooms ----------------------------------------------------------------------
log(`setting up ${MEMBERS} members in ${ROOMS} rooms on ${NODES} node(s)`);
// Member i belongs to room i % ROOMS.
const { users, rooms } = await seedMembers(db, { members: MEMBERS, rooms: ROOMS, passwordHash: await hashPassword('bench password 123') });

const pending = new Map(); // clientId → { sentAt, roomId, waiting: Set(memberIndex) }
const ackLatencies = [];
const deliveryLatencies = [];
let errors = 0;
let reconnects = 0;
let sent = 0;

const members = users.map((u, i) => ({ index: i, user: u, roomId: rooms[i % ROOMS].id, socket: undefined }));
function connectMember(m) {
  return new Promise((resolve, reject) => {
    const s = connect(nodes[m.index % nodes.length].url, {
      auth: (cb) => cb({ token: signer.signAccessToken({ id: m.user.id, role: m.user.role }) }),
      transports: ['websocket'],
      reconnectionDelay: 500,
    });
    s.on('message:new', (msg) => {
      const p = pending.get(msg.clientId);
      if (!p || !p.waiting.delete(m.index)) return;
      deliveryLatencies.push(performance.now() - p.sentAt);
      if (p.waiting.size === 0) pending.delete(msg.clientId);
    });
    s.io.on('reconnect', () => reconnects++);
    s.once('connect', () => resolve(s));
    s.once('connect_error', reject);
    m.socket = s;
  });
}
for (let i = 0; i < members.length; i += 20) await Promise.all(members.slice(i, i + 20).map(connectMember));
cleanup.push(async () => members.forEach((m) => m.socket?.close()));
log(`${members.length} members connected`);

async function sendOne() {
  const m = members[Math.floor(Math.random() * members.length)];
  const clientId = randomUUID();
  const waiting = new Set(members.filter((o) => o.roomId === m.roomId && o.index !== m.index).map((o) => o.index));
  const sentAt = performance.now();
  pending.set(clientId, { sentAt, waiting });
  sent++;
  try {
    const ack = await m.socket.timeout(10_000).emitWithAck('message:send', { roomId: m.roomId, body: benchBody(sent), clientId });
    if (!ack.ok) throw new Error(ack.error.code);
    ackLatencies.push(performance.now() - sentAt);
  } catch (err) {
    errors++;
    pending.delete(clientId);
    if (errors < 20) log('send failed:', err.message);
  }
}

// --- sampling -------------------------------------------------------------------------------
const samples = [];
const started = Date.now();
async function sample() {
  const perNode = await Promise.all(nodes.map((n) => scrapeMetrics(n.url).catch(() => undefined)));
  const s = { minute: +((Date.now() - started) / 60_000).toFixed(1), sent, acked: ackLatencies.length, errors, reconnects, nodes: perNode };
  samples.push(s);
  log(`t=${s.minute}min sent=${sent} errors=${errors} ` + perNode.map((p, i) => `node${i}: rss=${p?.rssMiB}MiB heap=${p?.heapMiB}MiB loop.p99=${p?.loopP99ms}ms sockets=${p?.sockets}`).join(' | '));
}

// --- run ------------------------------------------------------------------------------------
await sample();
const sampler = setInterval(sample, SAMPLE_MS);
const inflight = new Set();
const interval = 1000 / RATE;
let next = performance.now();
while (Date.now() - started < DURATION_MS) {
  const p = sendOne().finally(() => inflight.delete(p));
  inflight.add(p);
  next += interval * (0.5 + Math.random()); // jittered, average RATE per second
  await sleep(Math.max(0, next - performance.now()));
}
await Promise.all(inflight);
await sleep(2_000); // late deliveries
clearInterval(sampler);
await sample();

const undelivered = [...pending.values()].reduce((n, p) => n + p.waiting.size, 0);
const result = {
  at: new Date().toISOString(),
  config: { members: MEMBERS, rooms: ROOMS, ratePerSecond: RATE, minutes: Number(opt.minutes), nodes: NODES, node: process.version },
  sent,
  errors,
  reconnects,
  undeliveredCopies: undelivered,
  ackMs: { p50: pct(ackLatencies, 50), p95: pct(ackLatencies, 95), p99: pct(ackLatencies, 99), max: pct(ackLatencies, 100) },
  deliveryMs: { count: deliveryLatencies.length, p50: pct(deliveryLatencies, 50), p95: pct(deliveryLatencies, 95), p99: pct(deliveryLatencies, 99), max: pct(deliveryLatencies, 100) },
  samples,
};
console.log(JSON.stringify(result, null, 2));
if (opt.out) writeFileSync(opt.out, JSON.stringify(result, null, 2) + '\n');
await shutdown();
process.exit(0);
