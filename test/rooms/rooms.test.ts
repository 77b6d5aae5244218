import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { newClientId, newRoom, newUser, type TestUser } from '../helpers/factories.js';
import { connectSocket, recordAll, waitForEvent } from '../helpers/sockets.js';

let s: TestServer;
let mod: TestUser;
let member: TestUser;
let outsider: TestUser;
beforeAll(async () => {
  s = await startTestServer();
  mod = await newUser(s.app, { role: 'moderator' });
  member = await newUser(s.app);
  outsider = await newUser(s.app);
});
afterAll(async () => {
  await s.close();
});

const post = (url: string, user: TestUser, payload?: unknown) => s.app.inject({ method: 'POST', url, headers: user.headers, payload: payload as object });
const get = (url: string, user: TestUser) => s.app.inject({ method: 'GET', url, headers: user.headers });
const patch = (url: string, user: TestUser, payload: unknown) => s.app.inject({ method: 'PATCH', url, headers: user.headers, payload: payload as object });
const del = (url: string, user: TestUser) => s.app.inject({ method: 'DELETE', url, headers: user.headers });

describe('rooms', () => {
  it('a moderator creates a room and becomes its moderator; a plain member may not (403)', async () => {
    const res = await post('/api/rooms', mod, { name: '  居場所  ', description: 'drop-in', kind: 'beginners', slowModeSeconds: 5 });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toMatchObject({
      name: '居場所',
      description: 'drop-in',
      kind: 'beginners',
      locked: false,
      slowModeSeconds: 5,
      membersCanStartCalls: false,
      archived: false,
      lastSeq: 0,
      myRole: 'moderator',
      unread: 0,
    });
    expect((await post('/api/rooms', member, { name: 'mine' })).statusCode).toBe(403);
  });

  it('bad room bodies get 400 VALIDATION naming the field, and store nothing', async () => {
    const before = await s.db.selectFrom('rooms').select(s.db.fn.countAll().as('n')).executeTakeFirstOrThrow();
    for (const body of [
      {},
      { name: '' },
      { name: '   ' },
      { name: 'x'.repeat(81) },
      { name: 'ok', description: 'd'.repeat(501) },
      { name: 'ok', kind: 'party' },
      { name: 'ok', slowModeSeconds: 3601 },
      { name: 'ok', slowModeSeconds: 1.5 },
      { name: 'ok', membersCanStartCalls: 'yes' },
      { name: 'ok', extra: 1 },
      { name: 'nul\u0000' },
      { name: 42 },
    ]) {
      const res = await post('/api/rooms', mod, body);
      expect(res.statusCode, JSON.stringify(body)).toBe(400);
      expect(res.json().error.code).toBe('VALIDATION');
    }
    const after = await s.db.selectFrom('rooms').select(s.db.fn.countAll().as('n')).executeTakeFirstOrThrow();
    expect(after.n).toBe(before.n);
  });

  it('lists only my rooms with lastSeq and unread; GET one is 404 for non-members and bad ids 400', async () => {
    const room = await newRoom(s.db, { members: [{ id: mod.id, roomRole: 'moderator' }, { id: member.id }] });
    for (let i = 0; i < 3; i++) {
      expect((await post(`/api/rooms/${room.id}/messages`, mod, { body: `hi ${i}`, clientId: newClientId() })).statusCode).toBe(201);
    }
    const list = (await get('/api/rooms', member)).json().rooms;
    expect(list.find((r: { id: string }) => r.id === room.id)).toMatchObject({ lastSeq: 3, unread: 3, myRole: 'member' });
    expect((await get('/api/rooms', outsider)).json().rooms.find((r: { id: string }) => r.id === room.id)).toBeUndefined();
    expect((await get(`/api/rooms/${room.id}`, outsider)).statusCode).toBe(404);
    expect((await get(`/api/rooms/${room.id}`, member)).json()).toMatchObject({ id: room.id, unread: 3 });
    expect((await get('/api/rooms/not-a-uuid', member)).statusCode).toBe(400);
    expect((await s.app.inject({ method: 'GET', url: '/api/rooms' })).statusCode).toBe(401);
  });

  it("my own messages are read when I was caught up; a newcomer starts with nothing unread", async () => {
    const room = await newRoom(s.db, { members: [{ id: mod.id, roomRole: 'moderator' }, { id: member.id }] });
    await post(`/api/rooms/${room.id}/messages`, mod, { body: 'a', clientId: newClientId() });
    await post(`/api/rooms/${room.id}/messages`, mod, { body: 'b', clientId: newClientId() });
    expect((await get(`/api/rooms/${room.id}`, mod)).json()).toMatchObject({ lastSeq: 2, unread: 0 });
    await post(`/api/rooms/${room.id}/messages`, member, { body: 'c', clientId: newClientId() });
    // member had not read a and b: sending does not mark them read.
    expect((await get(`/api/rooms/${room.id}`, member)).json()).toMatchObject({ lastSeq: 3, unread: 3 });
    expect((await get(`/api/rooms/${room.id}`, mod)).json()).toMatchObject({ unread: 1 });
    const late = await newUser(s.app);
    expect((await post(`/api/rooms/${room.id}/members`, mod, { userId: late.id })).statusCode).toBe(201);
    expect((await get(`/api/rooms/${room.id}`, late)).json()).toMatchObject({ lastSeq: 3, unread: 0 });
    expect((await get(`/api/rooms/${room.id}/messages`, late)).json().messages).toHaveLength(3);
  });

  it('read marker never moves backwards and is clamped to lastSeq', async () => {
    const room = await newRoom(s.db, { members: [{ id: mod.id, roomRole: 'moderator' }, { id: member.id }] });
    for (let i = 0; i < 4; i++) await post(`/api/rooms/${room.id}/messages`, mod, { body: `m${i}`, clientId: newClientId() });
    expect((await post(`/api/rooms/${room.id}/read`, member, { seq: 3 })).statusCode).toBe(204);
    expect((await get(`/api/rooms/${room.id}`, member)).json().unread).toBe(1);
    expect((await post(`/api/rooms/${room.id}/read`, member, { seq: 1 })).statusCode).toBe(204);
    expect((await get(`/api/rooms/${room.id}`, member)).json().unread).toBe(1);
    expect((await post(`/api/rooms/${room.id}/read`, member, { seq: 999 })).statusCode).toBe(204);
    const marker = await s.db.selectFrom('room_members').select('last_read_seq').where('room_id', '=', room.id).where('user_id', '=', member.id).executeTakeFirstOrThrow();
    expect(marker.last_read_seq).toBe(4);
    // bad input: 400; outsiders: 404
    for (const body of [{}, { seq: -1 }, { seq: 1.5 }, { seq: '3' }, { seq: 1, x: 1 }]) {
      expect((await post(`/api/rooms/${room.id}/read`, member, body)).statusCode, JSON.stringify(body)).toBe(400);
    }
    expect((await post(`/api/rooms/${room.id}/read`, outsider, { seq: 1 })).statusCode).toBe(404);
  });

  it('PATCH by a room moderator broadcasts room:updated with each member their own view; members get 403, outsiders 404', async () => {
    const room = await newRoom(s.db, { members: [{ id: mod.id, roomRole: 'moderator' }, { id: member.id }] });
    const sockMember = await connectSocket(s.url, member.token);
    const sockOutsider = await connectSocket(s.url, outsider.token);
    const outsiderSeen = recordAll(sockOutsider);
    try {
      const updated = waitForEvent(sockMember, 'room:updated', (r: { id: string }) => r.id === room.id);
      const res = await patch(`/api/rooms/${room.id}`, mod, { name: 'renamed', locked: true, slowModeSeconds: 10, membersCanStartCalls: true });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toMatchObject({ name: 'renamed', locked: true, slowModeSeconds: 10, membersCanStartCalls: true, myRole: 'moderator' });
      expect(await updated).toMatchObject({ name: 'renamed', locked: true, myRole: 'member' });
      expect((await patch(`/api/rooms/${room.id}`, member, { name: 'mine' })).statusCode).toBe(403);
      expect((await patch(`/api/rooms/${room.id}`, outsider, { name: 'mine' })).statusCode).toBe(404);
      expect((await patch(`/api/rooms/${room.id}`, mod, { lastSeq: 5 })).statusCode).toBe(400);
      expect((await patch(`/api/rooms/${room.id}`, mod, { locked: 'no' })).statusCode).toBe(400);
      expect(outsiderSeen).toEqual([]);
    } finally {
      sockMember.close();
      sockOutsider.close();
    }
  });

  it('an archived room is read-only: sends get 423 LOCKED', async () => {
    const room = await newRoom(s.db, { members: [{ id: mod.id, roomRole: 'moderator' }, { id: member.id }] });
    expect((await patch(`/api/rooms/${room.id}`, mod, { archived: true })).json().archived).toBe(true);
    const res = await post(`/api/rooms/${room.id}/messages`, mod, { body: 'hello', clientId: newClientId() });
    expect(res.statusCode).toBe(423);
    expect(res.json().error.code).toBe('LOCKED');
  });
});

describe('members', () => {
  it('a room moderator adds a member (201, member:joined, their socket joins live); 409 when already in; 423 when banned', async () => {
    const room = await newRoom(s.db, { members: [{ id: mod.id, roomRole: 'moderator' }] });
    const newcomer = await newUser(s.app);
    const sock = await connectSocket(s.url, newcomer.token);
    try {
      const joined = waitForEvent(sock, 'member:joined', (p: any) => p.roomId === room.id);
      const res = await post(`/api/rooms/${room.id}/members`, mod, { userId: newcomer.id });
      expect(res.statusCode).toBe(201);
      expect(res.json()).toMatchObject({ user: { id: newcomer.id, handle: newcomer.handle }, roomRole: 'member', mutedUntil: null });
      expect((await joined).user.id).toBe(newcomer.id);
      // The live socket now receives the room's messages.
      const got = waitForEvent(sock, 'message:new', (m: any) => m.roomId === room.id);
      await post(`/api/rooms/${room.id}/messages`, mod, { body: 'welcome', clientId: newClientId() });
      expect((await got).body).toBe('welcome');
    } finally {
      sock.close();
    }
    expect((await post(`/api/rooms/${room.id}/members`, mod, { userId: newcomer.id })).statusCode).toBe(409);
    const banned = await newUser(s.app);
    await s.db.insertInto('room_bans').values({ room_id: room.id, user_id: banned.id, reason: 'test', banned_by: mod.id }).execute();
    const res = await post(`/api/rooms/${room.id}/members`, mod, { userId: banned.id });
    expect(res.statusCode).toBe(423);
    expect(res.json().error.code).toBe('LOCKED');
    // bad input
    expect((await post(`/api/rooms/${room.id}/members`, mod, { userId: 'x' })).statusCode).toBe(400);
    expect((await post(`/api/rooms/${room.id}/members`, mod, { userId: newcomer.id, roomRole: 'owner' })).statusCode).toBe(400);
    expect((await post(`/api/rooms/${room.id}/members`, mod, { userId: '00000000-0000-4000-8000-000000000000' })).statusCode).toBe(404);
    expect((await post(`/api/rooms/${room.id}/members`, newcomer, { userId: outsider.id })).statusCode).toBe(403);
    expect((await post(`/api/rooms/${room.id}/members`, outsider, { userId: outsider.id })).statusCode).toBe(404);
  });

  it('lists members (members only); removal rules by standing; leaving with me', async () => {
    const roomMod = await newUser(s.app);
    const room = await newRoom(s.db, {
      members: [{ id: mod.id, roomRole: 'moderator' }, { id: roomMod.id, roomRole: 'moderator' }, { id: member.id }],
    });
    const members = (await get(`/api/rooms/${room.id}/members`, member)).json().members;
    expect(members.map((m: { user: { id: string } }) => m.user.id).sort()).toEqual([mod.id, roomMod.id, member.id].sort());
    expect((await get(`/api/rooms/${room.id}/members`, outsider)).statusCode).toBe(404);
    // A room moderator (global member) cannot remove a global moderator (equal standing) — 403.
    expect((await del(`/api/rooms/${room.id}/members/${mod.id}`, roomMod)).statusCode).toBe(403);
    // A plain member cannot remove anyone — 403.
    expect((await del(`/api/rooms/${room.id}/members/${roomMod.id}`, member)).statusCode).toBe(403);
    // Bad ids: 400.
    expect((await del(`/api/rooms/${room.id}/members/nobody`, mod)).statusCode).toBe(400);
    // Someone not in the room: 404.
    expect((await del(`/api/rooms/${room.id}/members/${outsider.id}`, mod)).statusCode).toBe(404);
    // Equal standing: a global moderator cannot remove a room moderator? room moderator standing 1 = moderator 1 → 403.
    expect((await del(`/api/rooms/${room.id}/members/${roomMod.id}`, mod)).statusCode).toBe(403);
    const staff = await newUser(s.app, { role: 'staff' });
    await s.db.insertInto('room_members').values({ room_id: room.id, user_id: staff.id, room_role: 'member', last_read_seq: 0 }).execute();
    expect((await del(`/api/rooms/${room.id}/members/${roomMod.id}`, staff)).statusCode).toBe(204);
    expect((await del(`/api/rooms/${room.id}/members/me`, member)).statusCode).toBe(204);
    expect((await get(`/api/rooms/${room.id}`, member)).statusCode).toBe(404);
    expect((await del(`/api/rooms/${room.id}/members/me`, member)).statusCode).toBe(404);
  });
});

describe('bad ids on every route', () => {
  it('a malformed id in the path gets 400 VALIDATION on every rooms/messages route; an unknown one 404', async () => {
    const unknown = '00000000-0000-4000-8000-000000000000';
    const routes: Array<['GET' | 'POST' | 'PATCH' | 'DELETE', string, object | undefined]> = [
      ['GET', '/api/rooms/ID', undefined],
      ['PATCH', '/api/rooms/ID', { name: 'x' }],
      ['GET', '/api/rooms/ID/members', undefined],
      ['POST', '/api/rooms/ID/members', { userId: member.id }],
      ['DELETE', '/api/rooms/ID/members/me', undefined],
      ['POST', '/api/rooms/ID/read', { seq: 1 }],
      ['GET', '/api/rooms/ID/messages', undefined],
      ['POST', '/api/rooms/ID/messages', { body: 'x', clientId: newClientId() }],
      ['PATCH', '/api/messages/ID', { body: 'x' }],
      ['DELETE', '/api/messages/ID', undefined],
      ['GET', '/api/messages/ID/replies', undefined],
    ];
    for (const [method, path, payload] of routes) {
      const bad = await s.app.inject({ method, url: path.replace('ID', 'not-a-uuid'), headers: mod.headers, payload });
      expect(bad.statusCode, `${method} ${path} malformed`).toBe(400);
      expect(bad.json().error.code).toBe('VALIDATION');
      const missing = await s.app.inject({ method, url: path.replace('ID', unknown), headers: mod.headers, payload });
      expect(missing.statusCode, `${method} ${path} unknown`).toBe(404);
      const anonymous = await s.app.inject({ method, url: path.replace('ID', unknown), payload });
      expect(anonymous.statusCode, `${method} ${path} without a token`).toBe(401);
    }
  });

  it('in an archived room edits and deletes get 423 too; in a locked room members cannot edit', async () => {
    const room = await newRoom(s.db, { members: [{ id: mod.id, roomRole: 'moderator' }, { id: member.id }] });
    const m = (await post(`/api/rooms/${room.id}/messages`, member, { body: 'before', clientId: newClientId() })).json();
    await patch(`/api/rooms/${room.id}`, mod, { locked: true });
    expect((await patch(`/api/messages/${m.id}`, member, { body: 'during lock' })).statusCode).toBe(423);
    await patch(`/api/rooms/${room.id}`, mod, { locked: false, archived: true });
    expect((await patch(`/api/messages/${m.id}`, member, { body: 'archived' })).statusCode).toBe(423);
    expect((await del(`/api/messages/${m.id}`, member)).statusCode).toBe(423);
    const row = await s.db.selectFrom('messages').select(['body', 'deleted_at']).where('id', '=', m.id).executeTakeFirstOrThrow();
    expect(row).toEqual({ body: 'before', deleted_at: null });
  });
});
