import { randomUUID } from 'node:crypto';
import { decodeProtectedHeader, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GENTLE_FRAGMENT } from '../../src/modules/calls/jitsi.js';
import { newRoom, newUser, type TestUser } from '../helpers/factories.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { connectSocket, recordAll, waitForEvent, type ClientSocket } from '../helpers/sockets.js';
import { banMember, callKeys, removeMember } from './helpers.js';

const SECRET = 'jitsi-app-secret-for-tests-0123456789abcdef';
const APP_ID = 'engawa-test';
const secretKey = new TextEncoder().encode(SECRET);

let s: TestServer;
const sockets: ClientSocket[] = [];
beforeAll(async () => {
  s = await startTestServer({ JITSI_BASE_URL: 'https://video.example.org/', JITSI_APP_ID: APP_ID, JITSI_APP_SECRET: SECRET });
});
afterAll(async () => {
  for (const socket of sockets) socket.close();
  await s.close();
});

async function socketOf(user: TestUser): Promise<ClientSocket> {
  const socket = await connectSocket(s.url, user.token);
  sockets.push(socket);
  return socket;
}

const call = (method: 'POST' | 'GET' | 'DELETE', roomId: string, user?: TestUser, extra: { payload?: unknown; query?: string } = {}) =>
  s.app.inject({
    method,
    url: `/api/rooms/${roomId}/call${extra.query ?? ''}`,
    headers: user?.headers,
    ...(extra.payload === undefined ? {} : { payload: extra.payload as object }),
  });

/** A room with a moderator and a plain member. */
async function setup(opts: { membersCanStartCalls?: boolean } = {}) {
  const mod = await newUser(s.app);
  const member = await newUser(s.app);
  const room = await newRoom(s.db, { members: [{ id: mod.id, roomRole: 'moderator' }, { id: member.id }], ...opts });
  return { mod, member, room };
}

function parseJoinUrl(joinUrl: string) {
  const url = new URL(joinUrl);
  return { meeting: url.pathname.slice(1), jwt: url.searchParams.get('jwt'), origin: url.origin, hash: url.hash, search: url.search };
}

describe('archiving a room', () => {
  it('ends its live call: call:ended to the room, and GET is 404 afterwards', async () => {
    const { mod, member, room } = await setup();
    const memberSocket = await socketOf(member);
    const started = await call('POST', room.id, mod);
    expect(started.statusCode).toBe(201);
    const ended = waitForEvent(memberSocket, 'call:ended', (e: { roomId: string }) => e.roomId === room.id);
    const archived = await s.app.inject({ method: 'PATCH', url: `/api/rooms/${room.id}`, headers: mod.headers, payload: { archived: true } });
    expect(archived.statusCode).toBe(200);
    expect(await ended).toEqual({ roomId: room.id, callId: started.json().id });
    expect((await call('GET', room.id, member)).statusCode).toBe(404);
  });
});

describe('POST /api/rooms/:id/call', () => {
  it('a room moderator starts a call: 201 with the call object (no link), call:started to the room; again → 200 with the same call', async () => {
    const { mod, member, room } = await setup();
    const memberSocket = await socketOf(member);
    const started = waitForEvent(memberSocket, 'call:started', (c: { roomId: string }) => c.roomId === room.id);

    const res = await call('POST', room.id, mod);
    expect(res.statusCode).toBe(201);
    const body = res.json();
    expect(Object.keys(body).sort()).toEqual(callKeys);
    expect(body).toMatchObject({ roomId: room.id, startedBy: mod.id, provider: 'jitsi', endedAt: null });
    const ttlMs = Date.parse(body.expiresAt) - Date.parse(body.startedAt);
    expect(ttlMs).toBe(180 * 60 * 1000); // CALL_TTL_MINUTES default
    expect(await started).toEqual(body);

    const again = await call('POST', room.id, member.id === mod.id ? member : mod);
    expect(again.statusCode).toBe(200);
    expect(again.json()).toEqual(body);

    // Neither the call object nor the broadcast names the meeting.
    const { meeting } = parseJoinUrl((await call('GET', room.id, member)).json().joinUrl);
    expect(JSON.stringify(body)).not.toContain(meeting);
  });

  it('a plain member may start only when the room allows it (403 otherwise); a global moderator who is a plain room member may', async () => {
    const closed = await setup();
    const res = await call('POST', closed.room.id, closed.member);
    expect(res.statusCode).toBe(403);
    expect(res.json().error.code).toBe('FORBIDDEN');
    expect(await s.db.selectFrom('calls').select('id').where('room_id', '=', closed.room.id).execute()).toEqual([]);

    const globalMod = await newUser(s.app, { role: 'moderator' });
    const room2 = await newRoom(s.db, { members: [{ id: globalMod.id }] });
    expect((await call('POST', room2.id, globalMod)).statusCode).toBe(201);

    const open = await setup({ membersCanStartCalls: true });
    const ok = await call('POST', open.room.id, open.member);
    expect(ok.statusCode).toBe(201);
    expect(ok.json().startedBy).toBe(open.member.id);
  });

  it('archived room → 423 for everyone; locked room → 423 for members, moderators still start; a muted member → 423 for start and link', async () => {
    const mod = await newUser(s.app);
    const member = await newUser(s.app);
    const archived = await newRoom(s.db, { members: [{ id: mod.id, roomRole: 'moderator' }], membersCanStartCalls: true });
    await s.db.updateTable('rooms').set({ archived: true }).where('id', '=', archived.id).execute();
    const a = await call('POST', archived.id, mod);
    expect(a.statusCode).toBe(423);
    expect(a.json().error.code).toBe('LOCKED');

    const lockedRoom = await newRoom(s.db, { members: [{ id: mod.id, roomRole: 'moderator' }, { id: member.id }], membersCanStartCalls: true, locked: true });
    expect((await call('POST', lockedRoom.id, member)).statusCode).toBe(423);
    expect((await call('POST', lockedRoom.id, mod)).statusCode).toBe(201);

    const mutedRoom = await newRoom(s.db, { members: [{ id: mod.id, roomRole: 'moderator' }, { id: member.id }], membersCanStartCalls: true });
    await s.db
      .updateTable('room_members')
      .set({ muted_until: new Date(Date.now() + 60_000) })
      .where('room_id', '=', mutedRoom.id)
      .where('user_id', '=', member.id)
      .execute();
    expect((await call('POST', mutedRoom.id, member)).statusCode).toBe(423);
    expect((await call('POST', mutedRoom.id, mod)).statusCode).toBe(201);
    expect((await call('GET', mutedRoom.id, member)).statusCode).toBe(423);
    expect((await call('GET', mutedRoom.id, mod)).statusCode).toBe(200);
  });

  it('10 concurrent starts make exactly one call: one 201, nine 200 with the same call, one call:started', async () => {
    const { mod, member, room } = await setup({ membersCanStartCalls: true });
    const memberSocket = await socketOf(member);
    const seen = recordAll(memberSocket);
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => call('POST', room.id, i % 2 ? mod : member)));
    const statuses = results.map((r) => r.statusCode).sort();
    expect(statuses).toEqual([200, 200, 200, 200, 200, 200, 200, 200, 200, 201]);
    const ids = new Set(results.map((r) => r.json().id));
    expect(ids.size).toBe(1);
    expect(await s.db.selectFrom('calls').select('id').where('room_id', '=', room.id).execute()).toHaveLength(1);
    // End it and wait for that broadcast: every earlier event has arrived by then.
    const ended = waitForEvent(memberSocket, 'call:ended', (p: { roomId: string }) => p.roomId === room.id);
    expect((await call('DELETE', room.id, mod)).statusCode).toBe(204);
    await ended;
    expect(seen.filter((e) => e.event === 'call:started')).toHaveLength(1);
  });
});

describe('who may see a call', () => {
  it('a non-member, a removed member and a banned member get 404 on GET/POST/DELETE and never receive call events', async () => {
    const { mod, member, room } = await setup({ membersCanStartCalls: true });
    const outsider = await newUser(s.app);
    const removed = await newUser(s.app);
    const banned = await newUser(s.app);
    await s.db
      .insertInto('room_members')
      .values([removed, banned].map((u) => ({ room_id: room.id, user_id: u.id, room_role: 'member' as const, last_read_seq: 0 })))
      .execute();
    const memberSocket = await socketOf(member);
    const recorders = await Promise.all([outsider, removed, banned].map(async (u) => recordAll(await socketOf(u))));
    await removeMember(s, room.id, removed.id, mod);
    await banMember(s, room.id, banned.id, mod);

    const started = waitForEvent(memberSocket, 'call:started', (c: { roomId: string }) => c.roomId === room.id);
    expect((await call('POST', room.id, mod)).statusCode).toBe(201);
    await started;

    for (const u of [outsider, removed, banned]) {
      for (const method of ['GET', 'POST', 'DELETE'] as const) {
        const res = await call(method, room.id, u);
        expect(res.statusCode, `${method} by a user not in the room`).toBe(404);
        expect(res.json().error.code).toBe('NOT_FOUND');
      }
    }
    const ended = waitForEvent(memberSocket, 'call:ended', (p: { roomId: string }) => p.roomId === room.id);
    expect((await call('DELETE', room.id, mod)).statusCode).toBe(204);
    await ended;
    for (const seen of recorders) expect(seen.filter((e) => e.event.startsWith('call:'))).toEqual([]);
  });

  it('a member removed during a live call gets no link from then on (404)', async () => {
    const { mod, member, room } = await setup();
    expect((await call('POST', room.id, mod)).statusCode).toBe(201);
    expect((await call('GET', room.id, member)).statusCode).toBe(200);
    await removeMember(s, room.id, member.id, mod);
    expect((await call('GET', room.id, member)).statusCode).toBe(404);
    // A ban row alone (membership not yet removed) already hides the call.
    const other = await newUser(s.app);
    await s.db.insertInto('room_members').values({ room_id: room.id, user_id: other.id, last_read_seq: 0 }).execute();
    await s.db.insertInto('room_bans').values({ room_id: room.id, user_id: other.id, reason: 'test', banned_by: mod.id }).execute();
    expect((await call('GET', room.id, other)).statusCode).toBe(404);
  });
});

describe('GET /api/rooms/:id/call: personal join links', () => {
  it('404 when no call is live', async () => {
    const { member, room } = await setup();
    const res = await call('GET', room.id, member);
    expect(res.statusCode).toBe(404);
    expect(res.json().error.code).toBe('NOT_FOUND');
  });

  it('the link is JITSI_BASE_URL/<random meeting>?jwt=…#gentle settings; the JWT verifies and its claims are exactly the contract’s', async () => {
    const { mod, member, room } = await setup();
    const started = (await call('POST', room.id, mod)).json();

    const asMember = await call('GET', room.id, member);
    expect(asMember.statusCode).toBe(200);
    expect(Object.keys(asMember.json()).sort()).toEqual(['call', 'joinUrl']);
    expect(asMember.json().call).toEqual(started);
    const link = parseJoinUrl(asMember.json().joinUrl);
    expect(link.origin).toBe('https://video.example.org');
    expect(link.meeting).toMatch(/^[0-9a-f]{40}$/); // 160 random bits, nothing about the room or its people
    expect(link.meeting).not.toContain(room.id.replace(/-/g, ''));
    expect(link.hash).toBe(`#${GENTLE_FRAGMENT}`);
    expect(link.hash.startsWith('#config.startWithVideoMuted=true&config.startWithAudioMuted=true')).toBe(true);
    expect(link.hash).toContain('config.prejoinConfig.enabled=true');

    const { payload, protectedHeader } = await jwtVerify(link.jwt!, secretKey, { algorithms: ['HS256'], audience: 'jitsi', issuer: APP_ID });
    expect(protectedHeader.alg).toBe('HS256');
    expect(Object.keys(payload).sort()).toEqual(['aud', 'context', 'exp', 'iat', 'iss', 'jti', 'nbf', 'room', 'sub']);
    expect(payload).toMatchObject({ aud: 'jitsi', iss: APP_ID, sub: 'video.example.org', room: link.meeting });
    expect(payload.context).toEqual({ user: { id: member.id, name: member.displayName } });
    expect(payload.moderator).toBeUndefined();
    expect(payload.exp!).toBeLessThanOrEqual(Date.parse(started.expiresAt) / 1000);
    expect(payload.exp! - payload.iat!).toBeLessThanOrEqual(10 * 60); // not longer than a join needs
    expect(payload.nbf!).toBeLessThanOrEqual(payload.iat!);
    await expect(jwtVerify(link.jwt!, new TextEncoder().encode('another-secret-another-secret-000'))).rejects.toThrow();

    const asMod = await call('GET', room.id, mod);
    const modLink = parseJoinUrl(asMod.json().joinUrl);
    expect(modLink.meeting).toBe(link.meeting);
    const modClaims = (await jwtVerify(modLink.jwt!, secretKey, { audience: 'jitsi', issuer: APP_ID })).payload;
    expect(modClaims.moderator).toBe(true);
    expect(modClaims.context).toEqual({ user: { id: mod.id, name: mod.displayName } });
    expect(modClaims.jti).not.toBe(payload.jti);

    const againMember = parseJoinUrl((await call('GET', room.id, member)).json().joinUrl);
    const againClaims = (await jwtVerify(againMember.jwt!, secretKey, { audience: 'jitsi', issuer: APP_ID })).payload;
    expect(againClaims.jti).not.toBe(payload.jti); // unique per link
    expect(decodeProtectedHeader(againMember.jwt!).alg).toBe('HS256');
  });

  it('a link for room A’s call names neither room B’s meeting nor works as a token for it', async () => {
    const mod = await newUser(s.app);
    const both = await newUser(s.app);
    const roomA = await newRoom(s.db, { members: [{ id: mod.id, roomRole: 'moderator' }, { id: both.id }] });
    const roomB = await newRoom(s.db, { members: [{ id: mod.id, roomRole: 'moderator' }, { id: both.id }] });
    await call('POST', roomA.id, mod);
    await call('POST', roomB.id, mod);
    const a = parseJoinUrl((await call('GET', roomA.id, both)).json().joinUrl);
    const b = parseJoinUrl((await call('GET', roomB.id, both)).json().joinUrl);
    expect(a.meeting).not.toBe(b.meeting);
    expect((await call('GET', roomA.id, both)).json().joinUrl).not.toContain(b.meeting);
    const claimsA = (await jwtVerify(a.jwt!, secretKey, { audience: 'jitsi', issuer: APP_ID })).payload;
    expect(claimsA.room).toBe(a.meeting);
    expect(claimsA.room).not.toBe('*');
  });

  it('a call past its expiresAt is not live even before the sweep ends it; the next start replaces it', async () => {
    const { mod, member, room } = await setup();
    const memberSocket = await socketOf(member);
    const old = await s.db
      .insertInto('calls')
      .values({ room_id: room.id, started_by: mod.id, meeting_name: randomUUID(), started_at: new Date(Date.now() - 120_000), expires_at: new Date(Date.now() - 1_000) })
      .returning('id')
      .executeTakeFirstOrThrow();
    expect((await call('GET', room.id, member)).statusCode).toBe(404);
    const oldEnded = waitForEvent(memberSocket, 'call:ended', (p: { callId: string }) => p.callId === old.id);
    const res = await call('POST', room.id, mod);
    expect(res.statusCode).toBe(201);
    expect(res.json().id).not.toBe(old.id);
    expect(await oldEnded).toEqual({ roomId: room.id, callId: old.id });
    const row = await s.db.selectFrom('calls').selectAll().where('id', '=', old.id).executeTakeFirstOrThrow();
    expect(row.ended_reason).toBe('expired');
  });
});

describe('DELETE /api/rooms/:id/call', () => {
  it('the starter or a room moderator ends it (204, call:ended {roomId, callId}); another member → 403; nothing live → 404', async () => {
    const { mod, member, room } = await setup({ membersCanStartCalls: true });
    const other = await newUser(s.app);
    await s.db.insertInto('room_members').values({ room_id: room.id, user_id: other.id, last_read_seq: 0 }).execute();
    const memberSocket = await socketOf(member);

    const byMember = (await call('POST', room.id, member)).json();
    const forbidden = await call('DELETE', room.id, other);
    expect(forbidden.statusCode).toBe(403);
    expect(forbidden.json().error.code).toBe('FORBIDDEN');
    expect((await call('GET', room.id, other)).statusCode).toBe(200);

    let ended = waitForEvent<{ roomId: string; callId: string }>(memberSocket, 'call:ended', (p) => p.roomId === room.id);
    const res = await call('DELETE', room.id, member);
    expect(res.statusCode).toBe(204);
    expect(res.body).toBe('');
    expect(await ended).toEqual({ roomId: room.id, callId: byMember.id });
    expect((await call('GET', room.id, member)).statusCode).toBe(404);
    expect((await call('DELETE', room.id, mod)).statusCode).toBe(404);
    const row = await s.db.selectFrom('calls').selectAll().where('id', '=', byMember.id).executeTakeFirstOrThrow();
    expect(row.ended_reason).toBe('ended');
    expect(row.ended_at).not.toBeNull();

    const byOther = (await call('POST', room.id, other)).json();
    ended = waitForEvent(memberSocket, 'call:ended', (p) => p.callId === byOther.id);
    expect((await call('DELETE', room.id, mod)).statusCode).toBe(204);
    await ended;
  });
});

describe('bad input on every route', () => {
  it('no token → 401; a malformed room id → 400; an unknown room → 404; unknown body or query fields → 400; nothing is written', async () => {
    const { mod, room } = await setup();
    for (const method of ['POST', 'GET', 'DELETE'] as const) {
      expect((await call(method, room.id)).statusCode, `${method} without a token`).toBe(401);
      const bad = await call(method, 'not-a-uuid', mod);
      expect(bad.statusCode, `${method} with a malformed id`).toBe(400);
      expect(bad.json().error).toMatchObject({ code: 'VALIDATION', details: { fields: [expect.objectContaining({ field: 'id' })] } });
      expect((await call(method, randomUUID(), mod)).statusCode, `${method} on an unknown room`).toBe(404);
    }
    // Global rank does not open a room one is not in: staff and admins outside it get 404 too.
    for (const role of ['staff', 'admin'] as const) {
      const outsider = await newUser(s.app, { role });
      for (const method of ['POST', 'GET', 'DELETE'] as const) {
        expect((await call(method, room.id, outsider)).statusCode, `${method} by an outside ${role}`).toBe(404);
      }
    }
    const extra = await call('POST', room.id, mod, { payload: { meetingName: 'mine' } });
    expect(extra.statusCode).toBe(400);
    expect(extra.json().error.details.fields).toEqual([expect.objectContaining({ field: 'meetingName' })]);
    expect((await call('POST', room.id, mod, { payload: ['x'] })).statusCode).toBe(400);
    expect((await call('DELETE', room.id, mod, { payload: { reason: 'x' } })).statusCode).toBe(400);
    expect((await call('GET', room.id, mod, { query: '?jwt=1' })).statusCode).toBe(400);
    expect(await s.db.selectFrom('calls').select('id').where('room_id', '=', room.id).execute()).toEqual([]);
    // An empty JSON object is fine.
    expect((await call('POST', room.id, mod, { payload: {} })).statusCode).toBe(201);
  });
});

describe('without JITSI_APP_SECRET', () => {
  it('the link is the unguessable meeting URL on the default host: no jwt parameter', async () => {
    const plain = await startTestServer({}, { databaseUrl: s.databaseUrl });
    try {
      const { mod, member, room } = await setup();
      const started = await plain.app.inject({ method: 'POST', url: `/api/rooms/${room.id}/call`, headers: mod.headers });
      expect(started.statusCode).toBe(201);
      const res = await plain.app.inject({ method: 'GET', url: `/api/rooms/${room.id}/call`, headers: member.headers });
      expect(res.statusCode).toBe(200);
      const { joinUrl } = res.json();
      expect(joinUrl).toMatch(new RegExp(`^https://meet\\.jit\\.si/[0-9a-f]{40}#${GENTLE_FRAGMENT.replace(/\./g, '\\.')}$`));
      expect(joinUrl).not.toContain('jwt');
      expect(joinUrl).not.toContain('?');
    } finally {
      await plain.close();
    }
  });
});
