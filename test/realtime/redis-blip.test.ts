import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { newClientId, newRoom, newUser } from '../helpers/factories.js';
import { connectSocket, waitForEvent, type ClientSocket } from '../helpers/sockets.js';
import { pollUntil } from '../helpers/poll.js';

/** A private, throwaway redis-server on a free port, so it can be stopped without touching others. */
async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}
function startRedis(port: number): Promise<ChildProcess> {
  const child = spawn('redis-server', ['--bind', '127.0.0.1', '--port', String(port), '--save', '', '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'ignore'] });
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      if (d.toString().includes('Ready to accept connections')) resolve(child);
    });
    child.once('exit', () => reject(new Error('redis-server exited')));
  });
}
function stop(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}
const until = (what: string, check: () => Promise<boolean> | boolean) => pollUntil(check, { what, timeoutMs: 15_000, intervalMs: 100 });
/** Node A's broadcasts reach node B's socket: a personal frame is re-sent from A until B sees it. */
async function linked(a: TestServer, probe: ClientSocket, userId: string): Promise<void> {
  let seen = false;
  const mark = `probe-${Math.random()}`;
  const listener = (p: { roomId: string }) => {
    if (p.roomId === mark) seen = true;
  };
  probe.on('member:left', listener);
  try {
    await until('the nodes to link through Redis', () => {
      if (!seen) a.app.realtime.toUser(userId, 'member:left', { roomId: mark, userId });
      return seen;
    });
  } finally {
    probe.off('member:left', listener);
  }
}

let redis: ChildProcess;
let port: number;
let a: TestServer;
let b: TestServer;
beforeAll(async () => {
  port = await freePort();
  redis = await startRedis(port);
  const env = { SOCKET_ADAPTER: 'redis', REDIS_URL: `redis://127.0.0.1:${port}` };
  a = await startTestServer(env);
  b = await startTestServer(env, { databaseUrl: a.databaseUrl });
});
afterAll(async () => {
  await b?.close();
  await a?.close();
  if (redis) await stop(redis);
});

describe('a Redis blip', () => {
  it('does not crash the nodes, local delivery goes on, and cross-node delivery resumes after Redis returns', async () => {
    const alice = await newUser(a.app);
    const bob = await newUser(a.app);
    const carol = await newUser(a.app);
    const room = await newRoom(a.db, { members: [{ id: alice.id }, { id: bob.id }, { id: carol.id }] });
    const sa = await connectSocket(a.url, alice.token);
    const sc = await connectSocket(a.url, carol.token); // same node as the sender
    const sb = await connectSocket(b.url, bob.token); // the other node
    try {
      await linked(a, sb, bob.id);

      await stop(redis);
      await until('node A to notice', async () => (await a.app.inject({ method: 'GET', url: '/readyz' })).json().adapter === 'degraded');
      const local = waitForEvent(sc, 'message:new', (m: any) => m.body === 'during the blip');
      const ack = await sa.timeout(5_000).emitWithAck('message:send', { roomId: room.id, body: 'during the blip', clientId: newClientId() });
      expect(ack.ok).toBe(true);
      expect((await local).seq).toBe(ack.message.seq);
      expect((await a.app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);

      redis = await startRedis(port);
      for (const node of [a, b]) {
        await until('the adapter to be up again', async () => (await node.app.inject({ method: 'GET', url: '/readyz' })).json().adapter === 'up');
      }
      await linked(a, sb, bob.id);
      const across = waitForEvent(sb, 'message:new', (m: any) => m.body === 'after the blip', 10_000);
      const ack2 = await sa.emitWithAck('message:send', { roomId: room.id, body: 'after the blip', clientId: newClientId() });
      const got = await across;
      expect(got.seq).toBe(ack2.message.seq);
      // Bob's client sees seq jump past what it holds and catches up: the log is complete.
      const caught = await sb.emitWithAck('room:catchup', { roomId: room.id, afterSeq: 0 });
      expect(caught.messages.map((m: { body: string }) => m.body)).toEqual(['during the blip', 'after the blip']);
    } finally {
      for (const so of [sa, sb, sc]) so.close();
    }
  });
});
