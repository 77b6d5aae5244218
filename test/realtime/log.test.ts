import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { newClientId, newRoom, newUser, type TestUser } from '../helpers/factories.js';
import { connectSocket, recordAll, waitForEvent } from '../helpers/sockets.js';
import { ChatClient } from './chat-client.js';

let s: TestServer;
beforeAll(async () => {
  // The load tests send far faster than a person: lift the per-user limit (it has its own tests).
  s = await startTestServer({ MESSAGE_RATE_LIMIT: '10000/1' });
});
afterAll(async () => {
  await s.close();
});

async function usersInRoom(n: number) {
  const users: TestUser[] = [];
  for (let i = 0; i < n; i++) users.push(await newUser(s.app));
  const room = await newRoom(s.db, { members: users.map((u) => ({ id: u.id })) });
  return { users, room };
}

describe('the per-room log', () => {
  it('20 clients × 50 messages at once: every client ends with seq 1..1000, no gap, no duplicate, bodies as acked', async () => {
    const { users, room } = await usersInRoom(20);
    const clients = users.map((u) => new ChatClient(s.url, u.token, [room.id]));
    await Promise.all(clients.map((c) => c.open()));
    const acked = new Map<number, string>();
    const started = Date.now();
    await Promise.all(
      clients.map(async (c, ci) => {
        const acks = await Promise.all(
          Array.from({ length: 50 }, (_, i) => c.socket.timeout(30_000).emitWithAck('message:send', { roomId: room.id, body: `c${ci} m${i}`, clientId: newClientId() })),
        );
        for (const a of acks) {
          expect(a.ok).toBe(true);
          expect(acked.has(a.message.seq)).toBe(false);
          acked.set(a.message.seq, a.message.body);
        }
      }),
    );
    const sendMs = Date.now() - started;
    expect([...acked.keys()].sort((a, b) => a - b)).toEqual(Array.from({ length: 1000 }, (_, i) => i + 1));
    await Promise.all(clients.map((c) => c.waitForSeq(room.id, 1000)));
    for (const c of clients) {
      const log = c.log(room.id);
      expect(log.map((m) => m.seq)).toEqual(Array.from({ length: 1000 }, (_, i) => i + 1));
      for (const m of log) expect(m.body).toBe(acked.get(m.seq));
      c.close();
    }
    const rows = await s.db.selectFrom('messages').select(['seq']).where('room_id', '=', room.id).orderBy('seq').execute();
    expect(rows.map((r) => r.seq)).toEqual(Array.from({ length: 1000 }, (_, i) => i + 1));
    console.info(`1000 messages from 20 clients acked in ${sendMs} ms`);
  });

  it('a client that disconnects mid-stream and reconnects catches up to the complete log', async () => {
    const { users, room } = await usersInRoom(4);
    const [watcher, ...senders] = users;
    const client = new ChatClient(s.url, watcher.token, [room.id]);
    await client.open();
    const sockets = await Promise.all(senders.map((u) => connectSocket(s.url, u.token)));
    const send = (i: number) =>
      sockets[i % sockets.length].timeout(10_000).emitWithAck('message:send', { roomId: room.id, body: `m${i}`, clientId: newClientId() });
    for (let i = 0; i < 30; i++) expect((await send(i)).ok).toBe(true);
    await client.waitForSeq(room.id, 30);
    client.close();
    // Others keep sending while it is away: 300 more, beyond one catch-up page.
    await Promise.all(Array.from({ length: 300 }, (_, i) => send(30 + i)));
    const catchupsBefore = client.catchups;
    await client.open();
    await client.waitForSeq(room.id, 330);
    expect(client.catchups - catchupsBefore).toBeGreaterThanOrEqual(2); // 200 + 100: asked again for more
    expect(client.log(room.id).map((m) => m.seq)).toEqual(Array.from({ length: 330 }, (_, i) => i + 1));
    client.close();
    for (const so of sockets) so.close();
  });

  it('a message:new beyond last+1 makes the client catch up (missed frames are filled in)', async () => {
    const { users, room } = await usersInRoom(2);
    // Messages stored before the client knew about the room: its first live frame is seq 4.
    for (let i = 0; i < 3; i++) {
      await s.app.inject({ method: 'POST', url: `/api/rooms/${room.id}/messages`, headers: users[1].headers, payload: { body: `early ${i}`, clientId: newClientId() } });
    }
    const client = new ChatClient(s.url, users[0].token, []);
    await client.open();
    (client as unknown as { rooms: Map<string, unknown> }).rooms.set(room.id, { messages: new Map(), last: 0, catchingUp: false, again: false, waiters: [] });
    await s.app.inject({ method: 'POST', url: `/api/rooms/${room.id}/messages`, headers: users[1].headers, payload: { body: 'live', clientId: newClientId() } });
    await client.waitForSeq(room.id, 4);
    expect(client.log(room.id).map((m) => m.body)).toEqual(['early 0', 'early 1', 'early 2', 'live']);
    client.close();
  });
});

describe('idempotent sends', () => {
  it('the same clientId twice (in turn and at once, socket and HTTP): one row, one broadcast, the same message', async () => {
    const { users, room } = await usersInRoom(2);
    const [author, watcher] = users;
    const sock = await connectSocket(s.url, author.token);
    const watch = await connectSocket(s.url, watcher.token);
    const seen = recordAll(watch);
    try {
      const clientId = newClientId();
      const payload = { roomId: room.id, body: 'once', clientId };
      const [a, b] = await Promise.all([sock.emitWithAck('message:send', payload), sock.emitWithAck('message:send', payload)]);
      const c = await sock.emitWithAck('message:send', payload);
      const http = await s.app.inject({ method: 'POST', url: `/api/rooms/${room.id}/messages`, headers: author.headers, payload: { body: 'once', clientId } });
      expect(a.ok && b.ok && c.ok).toBe(true);
      expect(b.message).toEqual(a.message);
      expect(c.message).toEqual(a.message);
      expect(http.statusCode).toBe(200);
      expect(http.json()).toEqual(a.message);

      // Concurrent over two sockets of the same author, and HTTP at once.
      const sock2 = await connectSocket(s.url, author.token);
      const id2 = newClientId();
      const results = await Promise.all([
        sock.emitWithAck('message:send', { roomId: room.id, body: 'twice', clientId: id2 }),
        sock2.emitWithAck('message:send', { roomId: room.id, body: 'twice', clientId: id2 }),
        s.app.inject({ method: 'POST', url: `/api/rooms/${room.id}/messages`, headers: author.headers, payload: { body: 'twice', clientId: id2 } }),
      ]);
      sock2.close();
      expect(results[0].message).toEqual(results[1].message);
      expect(results[2].json()).toEqual(results[0].message);
      expect([200, 201]).toContain(results[2].statusCode);

      // A sentinel after: once it arrives, every earlier broadcast has arrived too (one connection, in order).
      const sentinel = waitForEvent(watch, 'message:new', (m: any) => m.body === 'sentinel');
      await sock.emitWithAck('message:send', { roomId: room.id, body: 'sentinel', clientId: newClientId() });
      await sentinel;
      const news = seen.filter((e) => e.event === 'message:new').map((e) => (e.args[0] as { body: string }).body);
      expect(news).toEqual(['once', 'twice', 'sentinel']);
      const rows = await s.db.selectFrom('messages').select(['seq', 'body']).where('room_id', '=', room.id).orderBy('seq').execute();
      expect(rows).toEqual([
        { seq: 1, body: 'once' },
        { seq: 2, body: 'twice' },
        { seq: 3, body: 'sentinel' },
      ]);
      // The same clientId for another room is a conflict (409), not a silent answer from the wrong room.
      const other = await newRoom(s.db, { members: [{ id: author.id }] });
      const clash = await sock.emitWithAck('message:send', { roomId: other.id, body: 'once', clientId });
      expect(clash).toMatchObject({ ok: false, error: { code: 'CONFLICT' } });
    } finally {
      sock.close();
      watch.close();
    }
  });
});
