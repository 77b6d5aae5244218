import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { newClientId, newRoom, newUser } from '../helpers/factories.js';
import { connectSocket, recordAll, waitForEvent, type ClientSocket } from '../helpers/sockets.js';
import { ensureRedis } from '../helpers/redis.js';

/**
 * Resolves once node A's broadcasts reach sockets on node B (the adapter's reader on B may start a
 * moment after B listens): a personal frame is sent from A until B's socket sees it.
 */
async function linked(a: TestServer, probe: ClientSocket, userId: string): Promise<void> {
  const deadline = Date.now() + 15_000;
  let seen = false;
  probe.once('member:left', () => (seen = true));
  while (!seen) {
    if (Date.now() > deadline) throw new Error('nodes never linked through the adapter');
    a.app.realtime.toUser(userId, 'member:left', { roomId: 'probe', userId });
    await new Promise((r) => setTimeout(r, 100));
  }
}

function twoNodeSuite(name: string, env: () => Record<string, string>) {
  describe(name, () => {
    let a: TestServer;
    let b: TestServer;
    beforeAll(async () => {
      a = await startTestServer(env());
      b = await startTestServer(env(), { databaseUrl: a.databaseUrl });
    });
    afterAll(async () => {
      await b?.close();
      await a?.close();
    });

    it('reports the adapter as up on /readyz', async () => {
      const deadline = Date.now() + 10_000;
      let adapter = '';
      while (Date.now() < deadline && adapter !== 'up') {
        adapter = (await b.app.inject({ method: 'GET', url: '/readyz' })).json().adapter;
        if (adapter !== 'up') await new Promise((r) => setTimeout(r, 100));
      }
      expect(adapter).toBe('up');
    });

    it('a message sent on node A reaches a member on node B; removal on A silences B; typing crosses too', async () => {
      const alice = await newUser(a.app);
      const bob = await newUser(a.app, { role: 'member' });
      const mod = await newUser(a.app, { role: 'moderator' });
      const room = await newRoom(a.db, { members: [{ id: mod.id, roomRole: 'moderator' }, { id: alice.id }, { id: bob.id }] });
      const onA = await connectSocket(a.url, alice.token);
      const onB = await connectSocket(b.url, bob.token);
      const seen = recordAll(onB);
      try {
        await linked(a, onB, bob.id);
        const got = waitForEvent(onB, 'message:new', (m: any) => m.body === 'across nodes');
        const ack = await onA.emitWithAck('message:send', { roomId: room.id, body: 'across nodes', clientId: newClientId() });
        expect(ack.ok).toBe(true);
        expect(await got).toEqual(ack.message);

        // Removed on A: B's socket leaves the room before the next message is published.
        const left = waitForEvent(onB, 'member:left', (p: any) => p.roomId === room.id);
        expect((await a.app.inject({ method: 'DELETE', url: `/api/rooms/${room.id}/members/${bob.id}`, headers: mod.headers })).statusCode).toBe(204);
        await left;
        const mark = seen.length;
        await onA.emitWithAck('message:send', { roomId: room.id, body: 'after removal', clientId: newClientId() });
        // A personal frame from A after it: once it arrives on B, so would have the message.
        const probe = waitForEvent(onB, 'member:left', (p: any) => p.roomId === 'probe-2');
        a.app.realtime.toUser(bob.id, 'member:left', { roomId: 'probe-2', userId: bob.id });
        await probe;
        expect(seen.slice(mark).filter((e) => (e.args[0] as { roomId?: string }).roomId === room.id)).toEqual([]);
        const refused = await onB.emitWithAck('message:send', { roomId: room.id, body: 'from B', clientId: newClientId() });
        expect(refused).toMatchObject({ ok: false, error: { code: 'NOT_FOUND' } });

        // Added back on A: B's socket joins live.
        expect((await a.app.inject({ method: 'POST', url: `/api/rooms/${room.id}/members`, headers: mod.headers, payload: { userId: bob.id } })).statusCode).toBe(201);
        const back = waitForEvent(onB, 'message:new', (m: any) => m.body === 'welcome back');
        await onA.emitWithAck('message:send', { roomId: room.id, body: 'welcome back', clientId: newClientId() });
        expect((await back).body).toBe('welcome back');
        const typing = waitForEvent(onB, 'typing', (p: any) => p.roomId === room.id);
        onA.emit('typing', { roomId: room.id });
        expect((await typing).user.id).toBe(alice.id);
      } finally {
        onA.close();
        onB.close();
      }
    });

    it('the per-user rate limit holds across nodes', async () => {
      const carol = await newUser(a.app);
      const room = await newRoom(a.db, { members: [{ id: carol.id }] });
      const sa = await connectSocket(a.url, carol.token);
      const sb = await connectSocket(b.url, carol.token);
      try {
        const acks = await Promise.all(
          Array.from({ length: 30 }, (_, i) => (i % 2 ? sa : sb).timeout(20_000).emitWithAck('message:send', { roomId: room.id, body: `n${i}`, clientId: newClientId() })),
        );
        expect(acks.filter((x) => x.ok)).toHaveLength(10);
        expect(acks.filter((x) => !x.ok).every((x) => x.error.code === 'RATE_LIMITED')).toBe(true);
        const rows = await a.db.selectFrom('messages').select('seq').where('room_id', '=', room.id).orderBy('seq').execute();
        expect(rows.map((r) => r.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
      } finally {
        sa.close();
        sb.close();
      }
    });
  });
}

describe('Redis unreachable', () => {
  it('the node still serves HTTP and its own sockets; /readyz reports the adapter degraded; close is clean', async () => {
    const s = await startTestServer({ SOCKET_ADAPTER: 'redis', REDIS_URL: 'redis://127.0.0.1:1' });
    try {
      const ready = await s.app.inject({ method: 'GET', url: '/readyz' });
      expect(ready.statusCode).toBe(200);
      expect(ready.json()).toMatchObject({ database: 'up', adapter: 'degraded' });
      const alice = await newUser(s.app);
      const room = await newRoom(s.db, { members: [{ id: alice.id }] });
      const so = await connectSocket(s.url, alice.token);
      const ack = await so.emitWithAck('message:send', { roomId: room.id, body: 'alone', clientId: newClientId() });
      so.close();
      expect(ack.ok).toBe(true);
    } finally {
      await s.close();
    }
  });
});

let redisUrl = '';
beforeAll(async () => {
  redisUrl = await ensureRedis();
});

twoNodeSuite('two nodes through Redis (streams adapter)', () => ({ SOCKET_ADAPTER: 'redis', REDIS_URL: redisUrl, MESSAGE_RATE_LIMIT: '10/10' }));
twoNodeSuite('two nodes through PostgreSQL (LISTEN/NOTIFY adapter)', () => ({ SOCKET_ADAPTER: 'postgres', REDIS_URL: '', MESSAGE_RATE_LIMIT: '10/10' }));
