import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { newClientId, newRoom, newUser, type TestUser } from '../helpers/factories.js';
import { connectSocket, recordAll, waitForEvent, type ClientSocket } from '../helpers/sockets.js';

let s: TestServer;
let mod: TestUser;
let alice: TestUser;
let bob: TestUser;
beforeAll(async () => {
  s = await startTestServer({ MESSAGE_RATE_LIMIT: '1000/1' });
  mod = await newUser(s.app, { role: 'moderator' });
  alice = await newUser(s.app);
  bob = await newUser(s.app);
});
afterAll(async () => {
  await s.close();
});

const room3 = () => newRoom(s.db, { members: [{ id: mod.id, roomRole: 'moderator' }, { id: alice.id }, { id: bob.id }] });
const disconnected = (socket: ClientSocket) => new Promise<string>((resolve) => socket.once('disconnect', (reason) => resolve(reason)));

describe('socket events', () => {
  it('message:send acks {ok, message} and every member socket gets message:new', async () => {
    const room = await room3();
    const a = await connectSocket(s.url, alice.token);
    const b = await connectSocket(s.url, bob.token);
    try {
      const got = waitForEvent(b, 'message:new', (m: any) => m.roomId === room.id);
      const ack = await a.emitWithAck('message:send', { roomId: room.id, body: 'hello', clientId: newClientId() });
      expect(ack).toMatchObject({ ok: true, message: { roomId: room.id, seq: 1, body: 'hello', author: { id: alice.id } } });
      expect(await got).toEqual(ack.message);
    } finally {
      a.close();
      b.close();
    }
  });

  it('from its connect on, a socket is in every room of the user (no frame lost while it sets up)', async () => {
    const rooms = await Promise.all([room3(), room3(), room3()]);
    const b = await connectSocket(s.url, bob.token);
    try {
      const got = Promise.all(rooms.map((r) => waitForEvent(b, 'message:new', (m: any) => m.roomId === r.id)));
      await Promise.all(rooms.map((r) => s.app.inject({ method: 'POST', url: `/api/rooms/${r.id}/messages`, headers: alice.headers, payload: { body: 'hi', clientId: newClientId() } })));
      expect((await got).map((m) => m.roomId)).toEqual(rooms.map((r) => r.id));
    } finally {
      b.close();
    }
  });

  it('bad payloads get {ok:false, error} with the contract code, store nothing, and the socket lives on', async () => {
    const room = await room3();
    const outside = await newRoom(s.db, { members: [{ id: mod.id }] });
    const a = await connectSocket(s.url, alice.token);
    try {
      const cases: Array<[string, string, unknown, string]> = [
        ['send: no payload', 'message:send', undefined, 'VALIDATION'],
        ['send: a string', 'message:send', 'hello', 'VALIDATION'],
        ['send: roomId not a uuid', 'message:send', { roomId: 'r', body: 'x', clientId: newClientId() }, 'VALIDATION'],
        ['send: empty body', 'message:send', { roomId: room.id, body: ' ', clientId: newClientId() }, 'VALIDATION'],
        ['send: 4001 chars', 'message:send', { roomId: room.id, body: 'x'.repeat(4001), clientId: newClientId() }, 'VALIDATION'],
        ['send: body a number', 'message:send', { roomId: room.id, body: 1, clientId: newClientId() }, 'VALIDATION'],
        ['send: extra field', 'message:send', { roomId: room.id, body: 'x', clientId: newClientId(), seq: 1 }, 'VALIDATION'],
        ['send: no clientId', 'message:send', { roomId: room.id, body: 'x' }, 'VALIDATION'],
        ['send: room not mine', 'message:send', { roomId: outside.id, body: 'x', clientId: newClientId() }, 'NOT_FOUND'],
        ['catchup: no afterSeq', 'room:catchup', { roomId: room.id }, 'VALIDATION'],
        ['catchup: negative', 'room:catchup', { roomId: room.id, afterSeq: -1 }, 'VALIDATION'],
        ['catchup: a string seq', 'room:catchup', { roomId: room.id, afterSeq: '0' }, 'VALIDATION'],
        ['catchup: extra field', 'room:catchup', { roomId: room.id, afterSeq: 0, limit: 5 }, 'VALIDATION'],
        ['catchup: room not mine', 'room:catchup', { roomId: outside.id, afterSeq: 0 }, 'NOT_FOUND'],
      ];
      for (const [why, event, payload, code] of cases) {
        const ack = await a.timeout(5_000).emitWithAck(event, payload);
        expect(ack, why).toMatchObject({ ok: false, error: { code, message: expect.any(String) } });
      }
      // Unknown events and events without an ack callback are ignored; the socket still works.
      a.emit('nope:nothing', { x: 1 });
      const noAckStored = waitForEvent(a, 'message:new', (m: any) => m.body === 'no ack');
      a.emit('message:send', { roomId: room.id, body: 'no ack', clientId: newClientId() });
      await noAckStored;
      a.emit('typing', 'garbage');
      const ok = await a.emitWithAck('message:send', { roomId: room.id, body: 'still here', clientId: newClientId() });
      expect(ok.ok).toBe(true);
      expect(a.connected).toBe(true);
      const rows = await s.db.selectFrom('messages').select('body').where('room_id', 'in', [room.id, outside.id]).orderBy('seq').execute();
      expect(rows.map((r) => r.body)).toEqual(['no ack', 'still here']);
    } finally {
      a.close();
    }
  });

  it('room:catchup returns at most 200 messages after afterSeq, ascending', async () => {
    const room = await room3();
    const a = await connectSocket(s.url, alice.token);
    try {
      await Promise.all(Array.from({ length: 230 }, (_, i) => a.emitWithAck('message:send', { roomId: room.id, body: `m${i}`, clientId: newClientId() })));
      const first = await a.emitWithAck('room:catchup', { roomId: room.id, afterSeq: 0 });
      expect(first.messages.map((m: { seq: number }) => m.seq)).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
      const rest = await a.emitWithAck('room:catchup', { roomId: room.id, afterSeq: 200 });
      expect(rest.messages.map((m: { seq: number }) => m.seq)).toEqual(Array.from({ length: 30 }, (_, i) => i + 201));
    } finally {
      a.close();
    }
  });

  it('typing is relayed to the other members only, throttled, never stored; non-members are ignored', async () => {
    const room = await room3();
    const outsider = await newUser(s.app);
    const a = await connectSocket(s.url, alice.token);
    const a2 = await connectSocket(s.url, alice.token);
    const b = await connectSocket(s.url, bob.token);
    const o = await connectSocket(s.url, outsider.token);
    const seenA2 = recordAll(a2);
    const seenB = recordAll(b);
    const seenO = recordAll(o);
    try {
      const typing = waitForEvent(b, 'typing', (p: any) => p.roomId === room.id);
      a.emit('typing', { roomId: room.id });
      a.emit('typing', { roomId: room.id });
      a.emit('typing', { roomId: room.id });
      o.emit('typing', { roomId: room.id });
      expect(await typing).toEqual({ roomId: room.id, user: { id: alice.id, handle: alice.handle, displayName: alice.displayName } });
      // A later message (ordered behind the typing frames on each connection) closes the window.
      const marker = waitForEvent(b, 'message:new', (m: any) => m.body === 'after typing');
      const markerA2 = waitForEvent(a2, 'message:new', (m: any) => m.body === 'after typing');
      const markerO = waitForEvent(o, 'member:left', (p: any) => p.roomId === 'probe');
      await a.emitWithAck('message:send', { roomId: room.id, body: 'after typing', clientId: newClientId() });
      // The outsider gets a personal frame after its typing was refused: everything before it has arrived.
      await o.emitWithAck('room:catchup', { roomId: room.id, afterSeq: 0 });
      s.app.realtime.toUser(outsider.id, 'member:left', { roomId: 'probe', userId: outsider.id });
      await Promise.all([marker, markerA2, markerO]);
      expect(seenB.filter((e) => e.event === 'typing')).toHaveLength(1);
      expect(seenA2.filter((e) => e.event === 'typing')).toHaveLength(0);
      expect(seenO.filter((e) => e.event !== 'member:left')).toEqual([]);
      const stored = await s.db.selectFrom('messages').select('body').where('room_id', '=', room.id).execute();
      expect(stored).toEqual([{ body: 'after typing' }]);
    } finally {
      for (const so of [a, a2, b, o]) so.close();
    }
  });
});

describe('privacy and removal', () => {
  it('outsiders receive zero frames while messages are sent, edited, deleted and typed in a room', async () => {
    const room = await room3();
    const outsiders = await Promise.all([newUser(s.app), newUser(s.app), newUser(s.app, { role: 'staff' }), newUser(s.app, { role: 'admin' })]);
    const outSockets = await Promise.all(outsiders.map((u) => connectSocket(s.url, u.token)));
    const recorders = outSockets.map(recordAll);
    const member = await connectSocket(s.url, bob.token);
    const a = await connectSocket(s.url, alice.token);
    try {
      const sent = await a.emitWithAck('message:send', { roomId: room.id, body: 'private words', clientId: newClientId() });
      a.emit('typing', { roomId: room.id });
      const edited = waitForEvent(member, 'message:updated', (m: any) => m.id === sent.message.id);
      await s.app.inject({ method: 'PATCH', url: `/api/messages/${sent.message.id}`, headers: alice.headers, payload: { body: 'edited words' } });
      await edited;
      const deleted = waitForEvent(member, 'message:deleted', (m: any) => m.id === sent.message.id);
      await s.app.inject({ method: 'DELETE', url: `/api/messages/${sent.message.id}`, headers: alice.headers });
      await deleted;
      await s.app.inject({ method: 'PATCH', url: `/api/rooms/${room.id}`, headers: mod.headers, payload: { name: 'renamed' } });
      // Make sure each outsider connection has flushed anything sent before now: a personal frame after.
      for (const [i, u] of outsiders.entries()) {
        const ping = waitForEvent(outSockets[i], 'member:left', () => true);
        s.app.realtime.toUser(u.id, 'member:left', { roomId: 'probe', userId: u.id });
        await ping;
      }
      for (const r of recorders) expect(r.filter((e) => e.event !== 'member:left')).toEqual([]);
    } finally {
      for (const so of [...outSockets, member, a]) so.close();
    }
  });

  it("a removed member's live socket receives nothing from the next message on, and its sends fail", async () => {
    const room = await room3();
    const b = await connectSocket(s.url, bob.token);
    const a = await connectSocket(s.url, alice.token);
    const seen = recordAll(b);
    try {
      const left = waitForEvent(b, 'member:left', (p: any) => p.roomId === room.id);
      const res = await s.app.inject({ method: 'DELETE', url: `/api/rooms/${room.id}/members/${bob.id}`, headers: mod.headers });
      expect(res.statusCode).toBe(204);
      expect(await left).toEqual({ roomId: room.id, userId: bob.id });
      const mark = seen.length;
      const seenByAlice = waitForEvent(a, 'message:new', (m: any) => m.body === 'after removal');
      await a.emitWithAck('message:send', { roomId: room.id, body: 'after removal', clientId: newClientId() });
      await seenByAlice;
      a.emit('typing', { roomId: room.id });
      const ack = await b.emitWithAck('message:send', { roomId: room.id, body: 'still here?', clientId: newClientId() });
      expect(ack).toMatchObject({ ok: false, error: { code: 'NOT_FOUND' } });
      const catchup = await b.emitWithAck('room:catchup', { roomId: room.id, afterSeq: 0 });
      expect(catchup).toMatchObject({ ok: false, error: { code: 'NOT_FOUND' } });
      // A personal frame after: everything sent to b before it has arrived.
      const probe = waitForEvent(b, 'member:left', (p: any) => p.roomId === 'probe');
      s.app.realtime.toUser(bob.id, 'member:left', { roomId: 'probe', userId: bob.id });
      await probe;
      expect(seen.slice(mark).filter((e) => (e.args[0] as { roomId?: string }).roomId === room.id)).toEqual([]);
    } finally {
      a.close();
      b.close();
    }
  });
});

describe('frames', () => {
  it('a frame over 64 KB drops only that socket; the process and other sockets live on', async () => {
    const room = await room3();
    const big = await connectSocket(s.url, alice.token);
    const other = await connectSocket(s.url, bob.token);
    try {
      const gone = disconnected(big);
      big.emit('message:send', { roomId: room.id, body: 'x'.repeat(70 * 1024), clientId: newClientId() });
      expect(await gone).toBe('transport close');
      const ack = await other.emitWithAck('message:send', { roomId: room.id, body: 'fine', clientId: newClientId() });
      expect(ack.ok).toBe(true);
      expect((await s.app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
      expect(await s.db.selectFrom('messages').select('body').where('room_id', '=', room.id).execute()).toEqual([{ body: 'fine' }]);
    } finally {
      big.close();
      other.close();
    }
  });

  it('a malformed packet drops only that socket', async () => {
    const bad = await connectSocket(s.url, alice.token);
    const other = await connectSocket(s.url, bob.token);
    try {
      const gone = disconnected(bad);
      // A raw engine.io message that is not a valid socket.io packet.
      (bad.io.engine as unknown as { send: (d: string) => void }).send('9{not a packet');
      expect(await gone).toBe('transport close');
      const room = await room3();
      expect((await other.emitWithAck('message:send', { roomId: room.id, body: 'fine', clientId: newClientId() })).ok).toBe(true);
    } finally {
      bad.close();
      other.close();
    }
  });

  it('a bad token is refused with connect_error UNAUTHENTICATED', async () => {
    await expect(connectSocket(s.url, 'nope')).rejects.toThrow('UNAUTHENTICATED');
    await expect(connectSocket(s.url, undefined)).rejects.toThrow('UNAUTHENTICATED');
  });
});
