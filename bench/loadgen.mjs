// Load generator of bench/chat-bench.mjs, run as a forked child process (IPC commands), so its CPU
// is not the server's. It holds the socket.io-client connections (websocket transport, as the SPA)
// and sends on an OPEN-LOOP schedule: message k is due at t0 + k/rate whether or not earlier sends
// were answered, and every latency is measured from that intended time (no coordinated omission:
// a stalled server or a late generator both show up as latency).
//
// Commands (process.send): connect { url, clients: [{ auth, roomId }], concurrency }
//                          run { rate, seconds, drainMs } · settle {} · disconnect { from } · exit
import { randomBytes } from 'node:crypto';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { io as connect } from 'socket.io-client';
import { benchBody, pct, sleep } from './lib.mjs';

const clientIdPrefix = randomBytes(4).toString('hex');
/** Message k of this process → a valid v4-shaped UUID whose last 12 hex digits are k. */
const clientIdOf = (k) => `${clientIdPrefix}-0000-4000-8000-${k.toString(16).padStart(12, '0')}`;
const indexOf = (clientId) => (typeof clientId === 'string' && clientId.startsWith(clientIdPrefix) ? parseInt(clientId.slice(24), 16) : -1);

const clients = []; // { socket, roomId, index }
let disconnects = 0;
let nextMessage = 0; // global message counter (unique clientIds across runs)
let run; // the current run's bookkeeping, read by the message:new handlers

function onMessageNew(receiver, msg) {
  if (!run) return;
  const k = indexOf(msg?.clientId) - run.base;
  if (k < 0 || k >= run.n) return;
  if (run.sender[k] === receiver) return; // the sender's own echo is not a delivery
  const got = ++run.received[k];
  if (got > run.expected[k]) {
    run.duplicates++;
    return;
  }
  run.delivered++;
  run.latencies.push(performance.now() - run.intended[k]);
}

function connectOne(url, c, index) {
  return new Promise((resolve) => {
    const socket = connect(url, { auth: c.auth, transports: ['websocket'], reconnectionDelay: 500, timeout: 20_000 });
    const client = { socket, roomId: c.roomId, index };
    socket.on('message:new', (msg) => onMessageNew(index, msg));
    socket.on('disconnect', () => disconnects++);
    socket.once('connect', () => resolve(client));
    socket.once('connect_error', (err) => {
      socket.close();
      resolve({ error: err.message });
    });
  });
}

async function doConnect({ url, clients: specs, concurrency = 50 }) {
  const started = performance.now();
  const errors = {};
  const base = clients.length;
  let i = 0;
  async function worker() {
    while (i < specs.length) {
      const at = i++;
      const c = await connectOne(url, specs[at], base + at);
      if (c.error) errors[c.error] = (errors[c.error] ?? 0) + 1;
      else clients[c.index] = c;
    }
  }
  clients.length = base + specs.length;
  await Promise.all(Array.from({ length: concurrency }, worker));
  const connected = clients.slice(base).filter(Boolean).length;
  return { connected, failed: specs.length - connected, errors, seconds: +((performance.now() - started) / 1000).toFixed(1) };
}

async function doDisconnect({ from }) {
  for (const c of clients.splice(from)) c?.socket.close();
  return { remaining: clients.length };
}

async function doRun({ rate, seconds, drainMs = 5_000 }) {
  const senders = clients.filter((c) => c?.roomId && c.socket.connected);
  for (let i = senders.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [senders[i], senders[j]] = [senders[j], senders[i]];
  }
  const inRoom = new Map();
  for (const c of senders) inRoom.set(c.roomId, (inRoom.get(c.roomId) ?? 0) + 1);
  const n = Math.round(rate * seconds);
  const r = {
    base: nextMessage,
    n,
    intended: new Float64Array(n),
    sender: new Int32Array(n),
    expected: new Uint16Array(n),
    received: new Uint16Array(n),
    latencies: [],
    ackLatencies: [],
    sendLag: [],
    delivered: 0,
    duplicates: 0,
    acked: 0,
    ackErrors: {},
    answered: 0,
  };
  nextMessage += n;
  const disconnectsBefore = disconnects;
  const loop = monitorEventLoopDelay({ resolution: 10 });
  loop.enable();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now() + 50;
  for (let k = 0; k < n; k++) {
    r.intended[k] = t0 + (k * 1000) / rate;
    const s = senders[k % senders.length];
    r.sender[k] = s.index;
    r.expected[k] = inRoom.get(s.roomId) - 1;
  }
  const expectedTotal = r.expected.reduce((a, b) => a + b, 0);
  run = r;

  const send = (k) => {
    const s = clients[r.sender[k]];
    r.sendLag.push(performance.now() - r.intended[k]);
    s.socket.timeout(10_000).emit('message:send', { roomId: s.roomId, body: benchBody(r.base + k), clientId: clientIdOf(r.base + k) }, (err, ack) => {
      r.answered++;
      if (err) r.ackErrors.TIMEOUT = (r.ackErrors.TIMEOUT ?? 0) + 1;
      else if (!ack?.ok) r.ackErrors[ack?.error?.code ?? 'UNKNOWN'] = (r.ackErrors[ack?.error?.code ?? 'UNKNOWN'] ?? 0) + 1;
      else {
        r.acked++;
        r.ackLatencies.push(performance.now() - r.intended[k]);
      }
    });
  };
  await new Promise((resolve) => {
    let k = 0;
    const tick = () => {
      const now = performance.now();
      while (k < n && r.intended[k] <= now) send(k++);
      if (k < n) setTimeout(tick, Math.max(0, r.intended[k] - performance.now()));
      else resolve();
    };
    setTimeout(tick, Math.max(0, t0 - performance.now()));
  });
  const sendEnd = performance.now();
  // Drain: until every copy and every ack is in, or drainMs after the last intended send.
  const deadline = r.intended[n - 1] + drainMs;
  while ((r.delivered < expectedTotal || r.answered < n) && performance.now() < deadline) await sleep(20);
  run = undefined;
  loop.disable();
  const cpu = process.cpuUsage(cpu0);
  const elapsed = (sendEnd - t0) / 1000;
  return {
    rate,
    seconds,
    senders: senders.length,
    offered: n,
    acked: r.acked,
    ackErrors: r.ackErrors,
    expected: expectedTotal,
    delivered: r.delivered,
    deliveredRatio: expectedTotal ? +(r.delivered / expectedTotal).toFixed(6) : 0,
    duplicates: r.duplicates,
    deliveriesPerSecond: Math.round(r.delivered / elapsed),
    latencyMs: { p50: pct(r.latencies, 50), p99: pct(r.latencies, 99), p999: pct(r.latencies, 99.9), max: pct(r.latencies, 100) },
    ackMs: { p50: pct(r.ackLatencies, 50), p99: pct(r.ackLatencies, 99), max: pct(r.ackLatencies, 100) },
    generator: {
      cpuPercent: +(((cpu.user + cpu.system) / 1e6 / ((performance.now() - t0) / 1000)) * 100).toFixed(1),
      loopDelayP99ms: +(loop.percentile(99) / 1e6).toFixed(1),
      sendLagMs: { p99: pct(r.sendLag, 99), max: pct(r.sendLag, 100) },
      disconnects: disconnects - disconnectsBefore,
    },
  };
}

/**
 * Waits until the server has worked off any backlog of the previous step: one member's probe send
 * must be acked within `underMs`, twice in a row (at most `maxMs`). Returns the seconds it took.
 */
async function doSettle({ underMs = 50, maxMs = 60_000 }) {
  const started = performance.now();
  const c = clients.find((x) => x?.roomId && x.socket.connected);
  let good = 0;
  while (c && good < 2 && performance.now() - started < maxMs) {
    const t = performance.now();
    const ack = await c.socket.timeout(maxMs).emitWithAck('message:send', { roomId: c.roomId, body: 'settle probe', clientId: clientIdOf(nextMessage++) }).catch(() => undefined);
    good = ack?.ok && performance.now() - t < underMs ? good + 1 : 0;
    await sleep(500);
  }
  return { seconds: +((performance.now() - started) / 1000).toFixed(1), settled: good >= 2 };
}

const commands = { connect: doConnect, disconnect: doDisconnect, run: doRun, settle: doSettle };
process.on('message', async ({ id, cmd, args }) => {
  if (cmd === 'exit') {
    for (const c of clients) c?.socket.close();
    process.exit(0);
  }
  try {
    process.send({ id, result: await commands[cmd](args) });
  } catch (err) {
    process.send({ id, error: err.stack ?? String(err) });
  }
});
process.on('disconnect', () => process.exit(0)); // the parent died: never linger
