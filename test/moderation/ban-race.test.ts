import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { newClientId, newRoom, newUser, type TestUser } from '../helpers/factories.js';
import { connectSocket, recordAll, waitForEvent } from '../helpers/sockets.js';

let s: TestServer;
let mod: TestUser;
let room: { id: string };
beforeAll(async () => {
  s = await startTestServer();
  mod = await newUser(s.app, { role: 'moderator' });
  room = await newRoom(s.db, { members: [{ id: mod.id, roomRole: 'moderator' }] });
});
afterAll(async () => {
  await s.close();
});

describe('a ban racing an add', () => {
  it('never leaves a banned person in the room, in the database or on their sockets', async () => {
    const rounds = 12;
    const people = await Promise.all(Array.from({ length: rounds }, () => newUser(s.app)));
    const sockets = await Promise.all(people.map((p) => connectSocket(s.url, p.token)));
    const frames = sockets.map((socket) => recordAll(socket));

    const outcomes = await Promise.all(
      people.map(async (p) => {
        const [add, ban] = await Promise.all([
          s.app.inject({ method: 'POST', url: `/api/rooms/${room.id}/members`, headers: mod.headers, payload: { userId: p.id } }),
          s.app.inject({ method: 'POST', url: `/api/rooms/${room.id}/bans`, headers: mod.headers, payload: { userId: p.id, reason: 'race' } }),
        ]);
        return { add: add.statusCode, ban: ban.statusCode };
      }),
    );
    // Every ban was recorded; an add either lost (423) or came first and was then undone by the ban.
    for (const o of outcomes) {
      expect(o.ban).toBe(201);
      expect([201, 409, 423]).toContain(o.add);
    }
    const left = await s.db
      .selectFrom('room_members')
      .select('user_id')
      .where('room_id', '=', room.id)
      .where('user_id', 'in', people.map((p) => p.id))
      .execute();
    expect(left).toEqual([]);

    // Their live sockets receive nothing from the room after the bans settled. The moderator's socket
    // receiving the broadcast, then a catch-up round trip on each banned socket (refused: 404), proves
    // the broadcast had been sent before the ack on that same connection.
    const modSocket = await connectSocket(s.url, mod.token);
    const delivered = waitForEvent(modSocket, 'message:new', (m: { body: string }) => m.body === 'a broadcast after the bans');
    const sent = await s.app.inject({
      method: 'POST',
      url: `/api/rooms/${room.id}/messages`,
      headers: mod.headers,
      payload: { body: 'a broadcast after the bans', clientId: newClientId() },
    });
    expect(sent.statusCode).toBe(201);
    await delivered;
    const acks = await Promise.all(sockets.map((socket) => socket.timeout(5_000).emitWithAck('room:catchup', { roomId: room.id, afterSeq: 0 })));
    for (const ack of acks) expect(ack).toMatchObject({ ok: false, error: { code: 'NOT_FOUND' } });
    for (const f of frames) expect(f.filter((x) => x.event === 'message:new')).toEqual([]);
    modSocket.close();
    sockets.forEach((socket) => socket.close());
  });
});
