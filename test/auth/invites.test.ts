import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256 } from '../../src/modules/auth/tokens.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { newRoom, newUser, type TestUser } from '../helpers/factories.js';
import { connectSocket, waitForEvent } from '../helpers/sockets.js';
import { count, fields, invite, post, register } from './helpers.js';

let s: TestServer;
let admin: TestUser, staff: TestUser, moderator: TestUser, member: TestUser;
beforeAll(async () => {
  s = await startTestServer({ AUTH_RATE_LIMIT_PER_MINUTE: '10000' });
  [admin, staff, moderator, member] = await Promise.all([
    newUser(s.app, { role: 'admin' }),
    newUser(s.app, { role: 'staff' }),
    newUser(s.app, { role: 'moderator' }),
    newUser(s.app, { role: 'member' }),
  ]);
});
afterAll(async () => {
  await s.close();
});

const INVALID = 'This invite code is not valid. Please ask for a new one.';

describe('POST /api/invites', () => {
  it('201 with a one-time URL-safe code of ≥128 bits, stored only as its sha256; defaults maxUses 1, 7 days', async () => {
    const before = Date.now();
    const res = await post(s.app, '/api/invites', { role: 'family', note: 'from the parents group' }, staff.headers);
    expect(res.statusCode).toBe(201);
    const body = res.json();
    expect(body).toMatchObject({ role: 'family', roomIds: [], maxUses: 1, uses: 0, note: 'from the parents group', revokedAt: null, createdBy: staff.id });
    expect(body.code).toMatch(/^[A-Za-z0-9_-]{22,}$/); // 22 base64url chars = 132 bits
    const expires = Date.parse(body.expiresAt) - before;
    expect(expires).toBeGreaterThan(167 * 3600_000);
    expect(expires).toBeLessThanOrEqual(168 * 3600_000 + 5_000);
    const row = await s.db.selectFrom('invites').selectAll().where('id', '=', body.id).executeTakeFirstOrThrow();
    expect(row.code_hash).toBe(sha256(body.code));
    expect(JSON.stringify(row)).not.toContain(body.code);
  });

  it('role rules: staff invite member/family/moderator; staff → staff or admin is 403; admin invites staff and admin', async () => {
    for (const role of ['member', 'family', 'moderator']) {
      expect((await post(s.app, '/api/invites', { role }, staff.headers)).statusCode).toBe(201);
    }
    for (const role of ['staff', 'admin']) {
      const res = await post(s.app, '/api/invites', { role }, staff.headers);
      expect(res.statusCode).toBe(403);
      expect(res.json().error.code).toBe('FORBIDDEN');
    }
    expect((await post(s.app, '/api/invites', { role: 'staff' }, admin.headers)).statusCode).toBe(201);
    expect((await post(s.app, '/api/invites', { role: 'admin' }, admin.headers)).statusCode).toBe(201);
  });

  it('moderator and member get 403; no token gets 401', async () => {
    expect((await post(s.app, '/api/invites', { role: 'member' }, moderator.headers)).statusCode).toBe(403);
    expect((await post(s.app, '/api/invites', { role: 'member' }, member.headers)).statusCode).toBe(403);
    const anon = await post(s.app, '/api/invites', { role: 'member' });
    expect(anon.statusCode).toBe(401);
    expect(anon.json().error.code).toBe('UNAUTHENTICATED');
  });

  it('bad input gets 400 VALIDATION naming the field, and stores nothing', async () => {
    const before = await count(s.app, 'invites');
    const cases: Array<[unknown, string]> = [
      [{}, 'role'], // missing role
      [{ role: 'owner' }, 'role'], // unknown role
      [{ role: 'member', maxUses: 0 }, 'maxUses'],
      [{ role: 'member', maxUses: 101 }, 'maxUses'],
      [{ role: 'member', maxUses: 1.5 }, 'maxUses'],
      [{ role: 'member', maxUses: '2' }, 'maxUses'], // wrong type
      [{ role: 'member', expiresInHours: 0 }, 'expiresInHours'],
      [{ role: 'member', expiresInHours: 721 }, 'expiresInHours'],
      [{ role: 'member', note: 'x'.repeat(201) }, 'note'],
      [{ role: 'member', roomIds: ['not-a-uuid'] }, 'roomIds.0'],
      [{ role: 'member', roomIds: 'abc' }, 'roomIds'],
      [{ role: 'member', code: 'mine' }, 'code'], // unknown field
    ];
    for (const [payload, field] of cases) {
      const res = await post(s.app, '/api/invites', payload, staff.headers);
      expect(res.statusCode, JSON.stringify(payload)).toBe(400);
      expect(res.json().error.code).toBe('VALIDATION');
      expect(fields(res), JSON.stringify(payload)).toContain(field);
    }
    expect(await count(s.app, 'invites')).toBe(before);
  });

  it('a roomId that does not exist is 400 VALIDATION on roomIds', async () => {
    const room = await newRoom(s.db);
    const missing = '00000000-0000-4000-8000-000000000000';
    const res = await post(s.app, '/api/invites', { role: 'member', roomIds: [room.id, missing] }, staff.headers);
    expect(res.statusCode).toBe(400);
    expect(res.json().error.details.fields).toEqual([expect.objectContaining({ field: 'roomIds', message: expect.stringContaining(missing) })]);
  });
});

describe('GET /api/invites', () => {
  it('lists invites without codes for staff; 403 for a moderator, 401 without a token', async () => {
    const { id, code } = await invite(s.app, staff, { role: 'member', maxUses: 3 });
    const res = await s.app.inject({ method: 'GET', url: '/api/invites', headers: admin.headers });
    expect(res.statusCode).toBe(200);
    const found = res.json().invites.find((i: { id: string }) => i.id === id);
    expect(found).toMatchObject({ id, role: 'member', maxUses: 3, uses: 0 });
    expect(found).not.toHaveProperty('code');
    expect(res.body).not.toContain(code);
    expect((await s.app.inject({ method: 'GET', url: '/api/invites', headers: moderator.headers })).statusCode).toBe(403);
    expect((await s.app.inject({ method: 'GET', url: '/api/invites' })).statusCode).toBe(401);
  });
});

describe('DELETE /api/invites/:id', () => {
  it('204 revokes (idempotently); the code then gives 401 at register', async () => {
    const { id, code } = await invite(s.app, staff);
    const del = () => s.app.inject({ method: 'DELETE', url: `/api/invites/${id}`, headers: staff.headers });
    expect((await del()).statusCode).toBe(204);
    expect((await del()).statusCode).toBe(204);
    const res = await register(s.app, code, 'revoked_user');
    expect(res.statusCode).toBe(401);
    expect(res.json().error).toEqual({ code: 'UNAUTHENTICATED', message: INVALID });
  });

  it('non-UUID id 400, unknown id 404, staff revoking an admin-issued staff invite 403, moderator 403', async () => {
    expect((await s.app.inject({ method: 'DELETE', url: '/api/invites/nope', headers: staff.headers })).statusCode).toBe(400);
    const unknown = await s.app.inject({ method: 'DELETE', url: '/api/invites/00000000-0000-4000-8000-000000000000', headers: staff.headers });
    expect(unknown.statusCode).toBe(404);
    const { id } = await invite(s.app, admin, { role: 'staff' });
    expect((await s.app.inject({ method: 'DELETE', url: `/api/invites/${id}`, headers: staff.headers })).statusCode).toBe(403);
    expect((await s.app.inject({ method: 'DELETE', url: `/api/invites/${id}`, headers: moderator.headers })).statusCode).toBe(403);
    expect((await s.app.inject({ method: 'DELETE', url: `/api/invites/${id}`, headers: admin.headers })).statusCode).toBe(204);
  });
});

describe('using an invite', () => {
  it('revoked, expired, used-up and unknown codes all give the same 401', async () => {
    const revoked = await invite(s.app, staff);
    await s.app.inject({ method: 'DELETE', url: `/api/invites/${revoked.id}`, headers: staff.headers });
    const expired = await invite(s.app, staff);
    await s.db.updateTable('invites').set({ expires_at: new Date(Date.now() - 1000) }).where('id', '=', expired.id).execute();
    const usedUp = await invite(s.app, staff);
    expect((await register(s.app, usedUp.code, 'first_of_one')).statusCode).toBe(201);
    const bodies = [];
    for (const [i, code] of [revoked.code, expired.code, usedUp.code, 'no-such-code-at-all'].entries()) {
      const res = await register(s.app, code, `try_${i}`);
      expect(res.statusCode).toBe(401);
      bodies.push(res.json());
    }
    expect(new Set(bodies.map((b) => JSON.stringify(b))).size).toBe(1);
    expect(bodies[0]).toEqual({ error: { code: 'UNAUTHENTICATED', message: INVALID } });
  });

  it('gives its role and joins its rooms as member, skipping rooms deleted since', async () => {
    const a = await newRoom(s.db);
    const b = await newRoom(s.db);
    const { code, id } = await invite(s.app, admin, { role: 'moderator', roomIds: [a.id, b.id], maxUses: 2 });
    await s.db.deleteFrom('rooms').where('id', '=', b.id).execute();
    const res = await register(s.app, code, 'joins_rooms');
    expect(res.statusCode).toBe(201);
    expect(res.json().user.role).toBe('moderator');
    const rows = await s.db.selectFrom('room_members').select(['room_id', 'room_role']).where('user_id', '=', res.json().user.id).execute();
    expect(rows).toEqual([{ room_id: a.id, room_role: 'member' }]);
    const inv = await s.db.selectFrom('invites').select('uses').where('id', '=', id).executeTakeFirstOrThrow();
    expect(inv.uses).toBe(1);
  });

  it('members of the invite\'s rooms see member:joined live', async () => {
    const room = await newRoom(s.db, { members: [{ id: member.id }] });
    const socket = await connectSocket(s.url, member.token);
    try {
      const joined = waitForEvent<{ roomId: string; user: { handle: string } }>(socket, 'member:joined', (p) => p.roomId === room.id);
      const { code } = await invite(s.app, staff, { roomIds: [room.id] });
      const res = await register(s.app, code, 'newcomer');
      expect(res.statusCode).toBe(201);
      expect(await joined).toEqual({ roomId: room.id, user: { id: res.json().user.id, handle: 'newcomer', displayName: 'newcomer' } });
    } finally {
      socket.close();
    }
  });

  it('a newcomer joining through the invite starts with unread 0: earlier history is not unread', async () => {
    const room = await newRoom(s.db, { members: [{ id: member.id }] });
    for (const body of ['one', 'two', 'three']) {
      const sent = await s.app.inject({ method: 'POST', url: `/api/rooms/${room.id}/messages`, headers: member.headers, payload: { body, clientId: randomUUID() } });
      expect(sent.statusCode).toBe(201);
    }
    const { code } = await invite(s.app, staff, { roomIds: [room.id] });
    const res = await register(s.app, code, 'late_joiner');
    expect(res.statusCode).toBe(201);
    const rooms = await s.app.inject({ method: 'GET', url: '/api/rooms', headers: { authorization: `Bearer ${res.json().accessToken}` } });
    expect(rooms.json().rooms.find((r: { id: string }) => r.id === room.id)).toMatchObject({ lastSeq: 3, unread: 0, myRole: 'member' });
  });

  it('a failed registration (handle taken) does not use the invite up', async () => {
    const { code, id } = await invite(s.app, staff);
    await invite(s.app, staff).then(({ code: c }) => register(s.app, c, 'taken_handle'));
    const res = await register(s.app, code, 'TAKEN_handle');
    expect(res.statusCode).toBe(409);
    expect((await s.db.selectFrom('invites').select('uses').where('id', '=', id).executeTakeFirstOrThrow()).uses).toBe(0);
    expect((await register(s.app, code, 'another_handle')).statusCode).toBe(201);
  });

  it('maxUses 1 used by 5 clients at once → exactly one account', async () => {
    const { code, id } = await invite(s.app, staff);
    const users = await count(s.app, 'users');
    const results = await Promise.all([0, 1, 2, 3, 4].map((i) => register(s.app, code, `racer_${i}`)));
    const statuses = results.map((r) => r.statusCode).sort();
    expect(statuses).toEqual([201, 401, 401, 401, 401]);
    expect(await count(s.app, 'users')).toBe(users + 1);
    expect((await s.db.selectFrom('invites').select('uses').where('id', '=', id).executeTakeFirstOrThrow()).uses).toBe(1);
  });
});
