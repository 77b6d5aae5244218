import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { newClientId, newRoom, newUser, type TestUser } from '../helpers/factories.js';
import { connectSocket, waitForEvent } from '../helpers/sockets.js';

let s: TestServer;
let mod: TestUser;
let alice: TestUser;
let bob: TestUser;
let outsider: TestUser;
beforeAll(async () => {
  s = await startTestServer({ MESSAGE_RATE_LIMIT: '10/10' });
});
// Fresh people per test: the per-user rate limit (10 per 10 s) must not carry over between tests.
beforeEach(async () => {
  mod = await newUser(s.app, { role: 'moderator' });
  alice = await newUser(s.app);
  bob = await newUser(s.app);
  outsider = await newUser(s.app);
});
afterAll(async () => {
  await s.close();
});

const inject = (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, user: TestUser | null, payload?: unknown) =>
  s.app.inject({ method, url, headers: user?.headers ?? {}, payload: payload as object });
const send = (roomId: string, user: TestUser, body: string, extra: object = {}) =>
  inject('POST', `/api/rooms/${roomId}/messages`, user, { body, clientId: newClientId(), ...extra });
const room3 = () => newRoom(s.db, { members: [{ id: mod.id, roomRole: 'moderator' }, { id: alice.id }, { id: bob.id }] });
const count = async (roomId: string) =>
  Number((await s.db.selectFrom('messages').select(s.db.fn.countAll().as('n')).where('room_id', '=', roomId).executeTakeFirstOrThrow()).n);

describe('sending over HTTP', () => {
  it('201 with the message object; trimmed body; seq per room', async () => {
    const room = await room3();
    const clientId = newClientId();
    const res = await inject('POST', `/api/rooms/${room.id}/messages`, alice, { body: '  こんにちは  ', clientId });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toEqual({
      id: expect.any(String),
      roomId: room.id,
      seq: 1,
      author: { id: alice.id, handle: alice.handle, displayName: alice.displayName },
      body: 'こんにちは',
      replyTo: null,
      clientId,
      createdAt: expect.stringMatching(/Z$/),
      editedAt: null,
      deleted: false,
      hidden: false,
    });
    expect((await send(room.id, bob, 'two')).json().seq).toBe(2);
  });

  it('bad input gets 400 VALIDATION and stores nothing; outsiders 404; no token 401', async () => {
    const room = await room3();
    const other = await newRoom(s.db, { members: [{ id: alice.id }] });
    const otherMsg = (await send(other.id, alice, 'elsewhere')).json();
    const bad: Array<[string, unknown]> = [
      ['missing body', { clientId: newClientId() }],
      ['empty body', { body: '', clientId: newClientId() }],
      ['only spaces', { body: '   \n ', clientId: newClientId() }],
      ['4001 characters', { body: 'あ'.repeat(4001), clientId: newClientId() }],
      ['huge body', { body: 'x'.repeat(200_000), clientId: newClientId() }],
      ['body not a string', { body: 5, clientId: newClientId() }],
      ['NUL in body', { body: 'a\u0000b', clientId: newClientId() }],
      ['clientId not a uuid', { body: 'hi', clientId: 'abc' }],
      ['missing clientId', { body: 'hi' }],
      ['extra field', { body: 'hi', clientId: newClientId(), seq: 7 }],
      ['replyTo not a uuid', { body: 'hi', clientId: newClientId(), replyTo: 'x' }],
      ['replyTo in another room', { body: 'hi', clientId: newClientId(), replyTo: otherMsg.id }],
      ['replyTo unknown', { body: 'hi', clientId: newClientId(), replyTo: '00000000-0000-4000-8000-000000000000' }],
      ['array body', [1, 2]],
    ];
    for (const [why, payload] of bad) {
      const res = await inject('POST', `/api/rooms/${room.id}/messages`, alice, payload);
      expect(res.statusCode, why).toBe(400);
      expect(res.json().error.code, why).toBe('VALIDATION');
    }
    expect((await inject('POST', `/api/rooms/${room.id}/messages`, alice, { body: 'あ'.repeat(4000), clientId: newClientId() })).statusCode).toBe(201);
    expect((await inject('POST', `/api/rooms/not-a-uuid/messages`, alice, { body: 'hi', clientId: newClientId() })).statusCode).toBe(400);
    expect((await send(room.id, outsider, 'let me in')).statusCode).toBe(404);
    expect((await send('00000000-0000-4000-8000-000000000000', alice, 'nowhere')).statusCode).toBe(404);
    expect((await inject('POST', `/api/rooms/${room.id}/messages`, null, { body: 'hi', clientId: newClientId() })).statusCode).toBe(401);
    const raw = await s.app.inject({ method: 'POST', url: `/api/rooms/${room.id}/messages`, headers: { ...alice.headers, 'content-type': 'application/json' }, payload: '{"body": "x",' });
    expect(raw.statusCode).toBe(400);
    const big = await s.app.inject({ method: 'POST', url: `/api/rooms/${room.id}/messages`, headers: { ...alice.headers, 'content-type': 'application/json' }, payload: JSON.stringify({ body: 'x'.repeat(1_100_000), clientId: newClientId() }) });
    expect(big.statusCode).toBe(413);
    expect(await count(room.id)).toBe(1);
  });

  it('replies: replyTo a message of the same room, listed under /messages/:id/replies', async () => {
    const room = await room3();
    const parent = (await send(room.id, alice, 'question')).json();
    const reply = await send(room.id, bob, 'answer', { replyTo: parent.id });
    expect(reply.statusCode).toBe(201);
    expect(reply.json().replyTo).toBe(parent.id);
    const replies = await inject('GET', `/api/messages/${parent.id}/replies`, alice);
    expect(replies.json().messages.map((m: { body: string }) => m.body)).toEqual(['answer']);
    expect((await inject('GET', `/api/messages/${parent.id}/replies`, outsider)).statusCode).toBe(404);
  });
});

describe('history', () => {
  it('after / before / limit, ascending; no cursor gives the newest; bad queries 400', async () => {
    const room = await room3();
    for (let i = 1; i <= 12; i++) {
      const user = [alice, bob, mod][i % 3];
      expect((await send(room.id, user, `m${i}`)).statusCode).toBe(201);
    }
    const seqs = async (q: string, user = alice) => (await inject('GET', `/api/rooms/${room.id}/messages${q}`, user)).json().messages.map((m: { seq: number }) => m.seq);
    expect(await seqs('')).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    expect(await seqs('?limit=3')).toEqual([10, 11, 12]);
    expect(await seqs('?after=4&limit=3')).toEqual([5, 6, 7]);
    expect(await seqs('?before=4')).toEqual([1, 2, 3]);
    expect(await seqs('?before=10&limit=2')).toEqual([8, 9]);
    expect(await seqs('?after=2&before=6')).toEqual([3, 4, 5]);
    expect(await seqs('?after=12')).toEqual([]);
    for (const q of ['?limit=0', '?limit=201', '?limit=x', '?after=-1', '?before=1.5', '?cursor=3']) {
      const res = await inject('GET', `/api/rooms/${room.id}/messages${q}`, alice);
      expect(res.statusCode, q).toBe(400);
      expect(res.json().error.code).toBe('VALIDATION');
    }
    expect((await inject('GET', `/api/rooms/${room.id}/messages`, outsider)).statusCode).toBe(404);
  });

  it('hidden messages show body null to members and the body to the room moderators', async () => {
    const room = await room3();
    const m = (await send(room.id, alice, 'secret')).json();
    await s.db.updateTable('messages').set({ hidden_at: new Date(), hidden_by: mod.id, hidden_reason: 'test' }).where('id', '=', m.id).execute();
    const asBob = (await inject('GET', `/api/rooms/${room.id}/messages`, bob)).json().messages[0];
    const asMod = (await inject('GET', `/api/rooms/${room.id}/messages`, mod)).json().messages[0];
    expect(asBob).toMatchObject({ body: null, hidden: true });
    expect(asMod).toMatchObject({ body: 'secret', hidden: true });
  });
});

describe('edit and delete', () => {
  it('the author edits (200, message:updated); others 403; outsiders 404; bad bodies 400; deleted 409', async () => {
    const room = await room3();
    const m = (await send(room.id, alice, 'typo')).json();
    const sock = await connectSocket(s.url, bob.token);
    try {
      const updated = waitForEvent(sock, 'message:updated', (p: any) => p.id === m.id);
      const res = await inject('PATCH', `/api/messages/${m.id}`, alice, { body: 'fixed' });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toMatchObject({ id: m.id, seq: m.seq, body: 'fixed', editedAt: expect.any(String) });
      expect(await updated).toMatchObject({ id: m.id, body: 'fixed' });
    } finally {
      sock.close();
    }
    expect((await inject('PATCH', `/api/messages/${m.id}`, bob, { body: 'mine now' })).statusCode).toBe(403);
    expect((await inject('PATCH', `/api/messages/${m.id}`, mod, { body: 'mod edit' })).statusCode).toBe(403);
    expect((await inject('PATCH', `/api/messages/${m.id}`, outsider, { body: 'x' })).statusCode).toBe(404);
    for (const body of [{}, { body: '' }, { body: 'x'.repeat(4001) }, { body: 'ok', extra: 1 }, { body: null }]) {
      expect((await inject('PATCH', `/api/messages/${m.id}`, alice, body)).statusCode, JSON.stringify(body).slice(0, 40)).toBe(400);
    }
    expect((await inject('PATCH', `/api/messages/nope`, alice, { body: 'x' })).statusCode).toBe(400);
    expect((await inject('DELETE', `/api/messages/${m.id}`, alice)).statusCode).toBe(204);
    expect((await inject('PATCH', `/api/messages/${m.id}`, alice, { body: 'again' })).statusCode).toBe(409);
    const row = await s.db.selectFrom('messages').select(['body', 'deleted_at', 'seq']).where('id', '=', m.id).executeTakeFirstOrThrow();
    expect(row).toMatchObject({ body: null, seq: m.seq });
    expect(row.deleted_at).not.toBeNull();
  });

  it('delete by the author or a room moderator: seq kept, body gone, message:deleted; plain members 403', async () => {
    const room = await room3();
    const a = (await send(room.id, alice, 'one')).json();
    const b = (await send(room.id, alice, 'two')).json();
    const sock = await connectSocket(s.url, bob.token);
    try {
      expect((await inject('DELETE', `/api/messages/${a.id}`, bob)).statusCode).toBe(403);
      expect((await inject('DELETE', `/api/messages/${a.id}`, outsider)).statusCode).toBe(404);
      const gone = waitForEvent(sock, 'message:deleted', (p: any) => p.id === b.id);
      expect((await inject('DELETE', `/api/messages/${b.id}`, mod)).statusCode).toBe(204);
      expect(await gone).toEqual({ roomId: room.id, id: b.id, seq: b.seq });
    } finally {
      sock.close();
    }
    expect((await inject('DELETE', `/api/messages/${b.id}`, mod)).statusCode).toBe(204);
    const list = (await inject('GET', `/api/rooms/${room.id}/messages`, bob)).json().messages;
    expect(list.map((m: { seq: number; body: string | null; deleted: boolean }) => [m.seq, m.body, m.deleted])).toEqual([
      [1, 'one', false],
      [2, null, true],
    ]);
    const audit = await s.db.selectFrom('audit_log').select(['action', 'actor_id']).where('target_message_id', '=', b.id).execute();
    expect(audit).toEqual([{ action: 'message_delete', actor_id: mod.id }]);
    // A room moderator cannot delete a message of a moderator of equal standing.
    const mod2 = await newUser(s.app, { role: 'moderator' });
    await s.db.insertInto('room_members').values({ room_id: room.id, user_id: mod2.id, room_role: 'moderator', last_read_seq: 0 }).execute();
    const c = (await send(room.id, mod2, 'mod words')).json();
    expect((await inject('DELETE', `/api/messages/${c.id}`, mod)).statusCode).toBe(403);
  });
});

describe('limits', () => {
  it('flooding: 50 sends at once → 10 stored, the rest 429 RATE_LIMITED with retryAfterMs; others unaffected', async () => {
    const room = await room3();
    const sock = await connectSocket(s.url, alice.token);
    try {
      const acks = await Promise.all(
        Array.from({ length: 50 }, (_, i) => sock.timeout(20_000).emitWithAck('message:send', { roomId: room.id, body: `flood ${i}`, clientId: newClientId() })),
      );
      const ok = acks.filter((a) => a.ok);
      const limited = acks.filter((a) => !a.ok);
      expect(ok).toHaveLength(10);
      expect(limited).toHaveLength(40);
      for (const a of limited) {
        expect(a.error.code).toBe('RATE_LIMITED');
        expect(a.error.details.retryAfterMs).toBeGreaterThan(0);
        expect(a.error.details.retryAfterMs).toBeLessThanOrEqual(10_000);
      }
      // HTTP counts against the same limit.
      const http = await send(room.id, alice, 'over http');
      expect(http.statusCode).toBe(429);
      expect(http.json().error.details.retryAfterMs).toBeGreaterThan(0);
      expect(await count(room.id)).toBe(10);
      expect((await send(room.id, bob, 'I can still talk')).statusCode).toBe(201);
    } finally {
      sock.close();
    }
  });

  it('slow mode: a second message too soon gets 429 with retryAfterMs; moderators are exempt', async () => {
    const room = await newRoom(s.db, { slowModeSeconds: 30, members: [{ id: mod.id, roomRole: 'moderator' }, { id: bob.id }] });
    expect((await send(room.id, bob, 'first')).statusCode).toBe(201);
    const res = await send(room.id, bob, 'second');
    expect(res.statusCode).toBe(429);
    expect(res.json().error).toMatchObject({ code: 'RATE_LIMITED', details: { retryAfterMs: expect.any(Number) } });
    expect(res.json().error.details.retryAfterMs).toBeGreaterThan(25_000);
    expect((await send(room.id, mod, 'm1')).statusCode).toBe(201);
    expect((await send(room.id, mod, 'm2')).statusCode).toBe(201);
    // Once the interval has passed, the member may send again.
    await s.db.updateTable('room_members').set({ last_sent_at: sql<Date>`now() - interval '31 seconds'` }).where('room_id', '=', room.id).where('user_id', '=', bob.id).execute();
    expect((await send(room.id, bob, 'later')).statusCode).toBe(201);
  });

  it('muted → 423 with until and reason; locked room → 423 for members, moderators may still send; suspended → 423', async () => {
    const room = await room3();
    const until = new Date(Date.now() + 60_000);
    await s.db.updateTable('room_members').set({ muted_until: until, mute_reason: 'cool down' }).where('room_id', '=', room.id).where('user_id', '=', bob.id).execute();
    const muted = await send(room.id, bob, 'hello?');
    expect(muted.statusCode).toBe(423);
    expect(muted.json().error).toMatchObject({ code: 'LOCKED', details: { until: until.toISOString(), reason: 'cool down' } });
    const sock = await connectSocket(s.url, bob.token);
    const ack = await sock.emitWithAck('message:send', { roomId: room.id, body: 'hello?', clientId: newClientId() });
    sock.close();
    expect(ack).toMatchObject({ ok: false, error: { code: 'LOCKED' } });

    await inject('PATCH', `/api/rooms/${room.id}`, mod, { locked: true });
    expect((await send(room.id, alice, 'locked?')).statusCode).toBe(423);
    expect((await send(room.id, mod, 'moderator note')).statusCode).toBe(201);

    const other = await newRoom(s.db, { members: [{ id: alice.id }] });
    await s.db.updateTable('users').set({ suspended_at: new Date() }).where('id', '=', alice.id).execute();
    try {
      const res = await send(other.id, alice, 'suspended');
      expect(res.statusCode).toBe(423);
    } finally {
      await s.db.updateTable('users').set({ suspended_at: null }).where('id', '=', alice.id).execute();
    }
    expect(await count(other.id)).toBe(0);
  });
});
