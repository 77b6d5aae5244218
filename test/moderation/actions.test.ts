import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { newClientId, newRoom, newUser, postMessage, type TestUser } from '../helpers/factories.js';
import { recordAll, useSockets, waitForEvent } from '../helpers/sockets.js';
import { eventually, insertMessage, snapshot } from './fixtures.js';

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer();
});
afterAll(async () => {
  await s?.close();
});
const connect = useSockets(() => s);
const send = (u: TestUser, roomId: string, body: string) => postMessage(s.app, u, roomId, body);

describe('rank rules: nobody acts on themselves or on equal or higher standing (403, nothing changes)', () => {
  it('follows the standing of global role and room role', async () => {
    const roomMod = await newUser(s.app);
    const roomMod2 = await newUser(s.app);
    const globalMod = await newUser(s.app, { role: 'moderator' });
    const member = await newUser(s.app);
    const staff = await newUser(s.app, { role: 'staff' });
    const staff2 = await newUser(s.app, { role: 'staff' });
    const admin = await newUser(s.app, { role: 'admin' });
    const admin2 = await newUser(s.app, { role: 'admin' });
    const room = await newRoom(s.db, {
      members: [
        { id: roomMod.id, roomRole: 'moderator' },
        { id: roomMod2.id, roomRole: 'moderator' },
        { id: globalMod.id },
        { id: member.id },
        { id: staff.id },
        { id: staff2.id },
        { id: admin.id },
        { id: admin2.id },
      ],
    });
    const cases: Array<[TestUser, TestUser, number]> = [
      [roomMod, roomMod, 403], // themselves
      [roomMod, roomMod2, 403], // another room moderator: equal
      [roomMod, globalMod, 403], // a global moderator: equal
      [globalMod, roomMod, 403],
      [roomMod, staff, 403],
      [roomMod, member, 201],
      [globalMod, member, 201],
      [staff, roomMod, 201], // staff act on moderators
      [staff, globalMod, 201],
      [staff, staff2, 403],
      [staff, admin, 403],
      [admin, staff, 201], // admin on all but admins
      [admin, admin2, 403],
      [admin, admin, 403],
    ];
    for (const [actor, target, status] of cases) {
      const before = await snapshot(s.db);
      const res = await s.app.inject({
        method: 'POST',
        url: `/api/rooms/${room.id}/mutes`,
        headers: actor.headers,
        payload: { userId: target.id, minutes: 1, reason: 'rank test' },
      });
      expect(res.statusCode, `${actor.role}/${actor.handle} → ${target.handle}: ${res.body}`).toBe(status);
      if (status === 403) expect(await snapshot(s.db)).toEqual(before);
    }
    // The same rule guards hiding a message: by its author's standing.
    const m = await insertMessage(s.db, room.id, roomMod2.id);
    const hide = await s.app.inject({ method: 'POST', url: `/api/messages/${m.id}/hide`, headers: roomMod.headers, payload: { reason: 'x' } });
    expect(hide.statusCode).toBe(403);
    const own = await insertMessage(s.db, room.id, roomMod.id);
    const hideOwn = await s.app.inject({ method: 'POST', url: `/api/messages/${own.id}/hide`, headers: roomMod.headers, payload: { reason: 'x' } });
    expect(hideOwn.statusCode).toBe(403);
  });
});

describe('bad input gets 400 VALIDATION and changes nothing', () => {
  it('mutes, bans, hides, flags and filters with bad bodies', async () => {
    const mod = await newUser(s.app);
    const member = await newUser(s.app);
    const staff = await newUser(s.app, { role: 'staff' });
    const room = await newRoom(s.db, { members: [{ id: mod.id, roomRole: 'moderator' }, { id: member.id }] });
    const m = await insertMessage(s.db, room.id, member.id);
    const bad: Array<[TestUser, string, string, unknown]> = [
      [mod, 'POST', `/api/rooms/${room.id}/mutes`, { userId: member.id, minutes: 0, reason: 'x' }], // minutes < 1
      [mod, 'POST', `/api/rooms/${room.id}/mutes`, { userId: member.id, minutes: 43_201, reason: 'x' }], // > 30 days
      [mod, 'POST', `/api/rooms/${room.id}/mutes`, { userId: member.id, minutes: 5 }], // reason missing
      [mod, 'POST', `/api/rooms/${room.id}/mutes`, { userId: 'nope', minutes: 5, reason: 'x' }], // not a uuid
      [mod, 'POST', `/api/rooms/${room.id}/bans`, { userId: member.id, reason: 'x', extra: 1 }], // unknown field
      [mod, 'POST', `/api/rooms/${room.id}/bans`, { userId: member.id, reason: '   ' }], // blank reason
      [mod, 'POST', `/api/messages/${m.id}/hide`, {}], // reason missing
      [member, 'POST', `/api/messages/${m.id}/flags`, { reason: 'rude' }], // unknown reason
      [member, 'POST', `/api/messages/${m.id}/flags`, { reason: 'spam', note: 'x'.repeat(501) }], // note too long
      [mod, 'POST', `/api/flags/${m.id}/resolve`, { action: 'ban' }], // unknown action
      [staff, 'POST', '/api/filters', { pattern: '', action: 'block' }], // empty
      [staff, 'POST', '/api/filters', { pattern: 'x'.repeat(101), action: 'block' }], // too long
      [staff, 'POST', '/api/filters', { pattern: '　 ', action: 'block' }], // only (full-width) spaces
      [staff, 'POST', '/api/filters', { pattern: 'ok', action: 'mute' }], // unknown action
      [mod, 'GET', `/api/audit?limit=0`, undefined], // limit < 1
      [mod, 'GET', `/api/flags?status=closed`, undefined], // unknown status
    ];
    for (const [actor, method, url, payload] of bad) {
      const before = await snapshot(s.db);
      const res = await s.app.inject({ method: method as 'POST', url, headers: actor.headers, payload: payload as object });
      expect(res.statusCode, `${url} ${JSON.stringify(payload)}: ${res.body}`).toBe(400);
      expect(res.json().error.code).toBe('VALIDATION');
      expect(await snapshot(s.db)).toEqual(before);
    }
  });
});

describe('hiding a message', () => {
  it('members see no body live, in history or in catch-up; moderators do; unhide restores it', async () => {
    const mod = await newUser(s.app);
    const member = await newUser(s.app);
    const author = await newUser(s.app);
    const room = await newRoom(s.db, { members: [{ id: mod.id, roomRole: 'moderator' }, { id: member.id }, { id: author.id }] });
    const sent = await send(author, room.id, 'something unkind');
    expect(sent.statusCode).toBe(201);
    const message = sent.json();
    const memberSocket = await connect(member);
    const modSocket = await connect(mod);
    const memberFrames = recordAll(memberSocket);

    const memberSees = waitForEvent(memberSocket, 'message:updated', (m: any) => m.id === message.id);
    const modSees = waitForEvent(modSocket, 'message:updated', (m: any) => m.id === message.id);
    const res = await s.app.inject({ method: 'POST', url: `/api/messages/${message.id}/hide`, headers: mod.headers, payload: { reason: 'unkind' } });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ id: message.id, hidden: true, body: 'something unkind' });
    expect(await memberSees).toMatchObject({ id: message.id, hidden: true, body: null });
    expect(await modSees).toMatchObject({ id: message.id, hidden: true, body: 'something unkind' });

    const history = await s.app.inject({ method: 'GET', url: `/api/rooms/${room.id}/messages`, headers: member.headers });
    expect(history.json().messages.find((m: any) => m.id === message.id)).toMatchObject({ hidden: true, body: null });
    const modHistory = await s.app.inject({ method: 'GET', url: `/api/rooms/${room.id}/messages`, headers: mod.headers });
    expect(modHistory.json().messages.find((m: any) => m.id === message.id)).toMatchObject({ hidden: true, body: 'something unkind' });
    const catchup = await memberSocket.emitWithAck('room:catchup', { roomId: room.id, afterSeq: 0 });
    expect(catchup.ok).toBe(true);
    expect(catchup.messages.find((m: any) => m.id === message.id)).toMatchObject({ hidden: true, body: null });
    // Not a single frame to the member carried the body.
    expect(JSON.stringify(memberFrames)).not.toContain('something unkind');

    const restored = waitForEvent(memberSocket, 'message:updated', (m: any) => m.id === message.id && !m.hidden);
    const un = await s.app.inject({ method: 'POST', url: `/api/messages/${message.id}/unhide`, headers: mod.headers }); // no body at all: the reason is optional
    expect(un.statusCode).toBe(200);
    expect(await restored).toMatchObject({ hidden: false, body: 'something unkind' });

    const audit = await s.db.selectFrom('audit_log').select(['action', 'actor_id', 'reason']).where('target_message_id', '=', message.id).orderBy('created_at').execute();
    expect(audit).toEqual([
      { action: 'message_hide', actor_id: mod.id, reason: 'unkind' },
      { action: 'message_unhide', actor_id: mod.id, reason: null },
    ]);
  });
});

describe('timed mute', () => {
  it('the member is told, gets 423 on send until `until`, then can send again without anyone acting', async () => {
    const mod = await newUser(s.app);
    const member = await newUser(s.app);
    const room = await newRoom(s.db, { members: [{ id: mod.id, roomRole: 'moderator' }, { id: member.id }] });
    const memberSocket = await connect(member);
    const told = waitForEvent(memberSocket, 'moderation:applied', (p: any) => p.action === 'mute');
    const res = await s.app.inject({ method: 'POST', url: `/api/rooms/${room.id}/mutes`, headers: mod.headers, payload: { userId: member.id, minutes: 10, reason: 'please take a break' } });
    expect(res.statusCode).toBe(201);
    const until = res.json().until as string;
    expect(new Date(until).getTime()).toBeGreaterThan(Date.now() + 9 * 60_000);
    expect(await told).toEqual({ roomId: room.id, action: 'mute', until, reason: 'please take a break' });

    const refused = await send(member, room.id, 'let me talk');
    expect(refused.statusCode).toBe(423);
    expect(refused.json().error.code).toBe('LOCKED');
    const viaSocket = await memberSocket.emitWithAck('message:send', { roomId: room.id, body: 'hi', clientId: newClientId() });
    expect(viaSocket).toMatchObject({ ok: false, error: { code: 'LOCKED' } });
    // The member can still read.
    expect((await s.app.inject({ method: 'GET', url: `/api/rooms/${room.id}/messages`, headers: member.headers })).statusCode).toBe(200);

    // Shorten the mute to a moment from now (as if 10 minutes had passed), then wait it out.
    await s.db.updateTable('room_members').set({ muted_until: new Date(Date.now() + 700) }).where('room_id', '=', room.id).where('user_id', '=', member.id).execute();
    expect((await send(member, room.id, 'still muted?')).statusCode).toBe(423);
    let sentAt = 0;
    await eventually(async () => {
      const r = await send(member, room.id, 'back again');
      if (r.statusCode === 201) sentAt = Date.now();
      else expect(r.statusCode).toBe(423);
      return r.statusCode === 201;
    }, 5_000, 100);
    expect(sentAt).toBeGreaterThan(0);
    expect(await s.db.selectFrom('messages').select('id').where('room_id', '=', room.id).where('author_id', '=', member.id).execute()).toHaveLength(1);
  });

  it('DELETE lifts the mute at once', async () => {
    const mod = await newUser(s.app);
    const member = await newUser(s.app);
    const room = await newRoom(s.db, { members: [{ id: mod.id, roomRole: 'moderator' }, { id: member.id }] });
    await s.app.inject({ method: 'POST', url: `/api/rooms/${room.id}/mutes`, headers: mod.headers, payload: { userId: member.id, minutes: 60, reason: 'x' } });
    expect((await send(member, room.id, 'a')).statusCode).toBe(423);
    const del = await s.app.inject({ method: 'DELETE', url: `/api/rooms/${room.id}/mutes/${member.id}`, headers: mod.headers });
    expect(del.statusCode).toBe(204);
    expect((await send(member, room.id, 'b')).statusCode).toBe(201);
    // Muting someone who is not in the room: 404.
    const outsider = await newUser(s.app);
    const res = await s.app.inject({ method: 'POST', url: `/api/rooms/${room.id}/mutes`, headers: mod.headers, payload: { userId: outsider.id, minutes: 5, reason: 'x' } });
    expect(res.statusCode).toBe(404);
  });
});

describe('room ban', () => {
  it('removes the member live, blocks re-adding (423), and their socket gets nothing more', async () => {
    const mod = await newUser(s.app);
    const member = await newUser(s.app);
    const other = await newUser(s.app);
    const room = await newRoom(s.db, { members: [{ id: mod.id, roomRole: 'moderator' }, { id: member.id }, { id: other.id }] });
    const bannedSocket = await connect(member);
    const otherSocket = await connect(other);
    const told = waitForEvent(bannedSocket, 'moderation:applied', (p: any) => p.action === 'ban');
    const left = waitForEvent(otherSocket, 'member:left', (p: any) => p.userId === member.id);

    const res = await s.app.inject({ method: 'POST', url: `/api/rooms/${room.id}/bans`, headers: mod.headers, payload: { userId: member.id, reason: 'threats' } });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toMatchObject({ roomId: room.id, userId: member.id, reason: 'threats', bannedBy: mod.id });
    expect(await told).toEqual({ roomId: room.id, action: 'ban', reason: 'threats' });
    expect(await left).toEqual({ roomId: room.id, userId: member.id });
    expect(await s.db.selectFrom('room_members').select('user_id').where('room_id', '=', room.id).where('user_id', '=', member.id).execute()).toEqual([]);

    const frames = recordAll(bannedSocket);
    const seen = waitForEvent(otherSocket, 'message:new', (m: any) => m.body === 'after the ban');
    expect((await send(other, room.id, 'after the ban')).statusCode).toBe(201);
    await seen;
    // Their socket got nothing of the room; their own requests are 404.
    expect(frames).toEqual([]);
    expect((await send(member, room.id, 'let me back')).statusCode).toBe(404);
    expect((await s.app.inject({ method: 'GET', url: `/api/rooms/${room.id}/messages`, headers: member.headers })).statusCode).toBe(404);

    const readd = await s.app.inject({ method: 'POST', url: `/api/rooms/${room.id}/members`, headers: mod.headers, payload: { userId: member.id } });
    expect(readd.statusCode).toBe(423);
    expect(readd.json().error.code).toBe('LOCKED');
    const again = await s.app.inject({ method: 'POST', url: `/api/rooms/${room.id}/bans`, headers: mod.headers, payload: { userId: member.id, reason: 'again' } });
    expect(again.statusCode).toBe(409);

    const unban = await s.app.inject({ method: 'DELETE', url: `/api/rooms/${room.id}/bans/${member.id}`, headers: mod.headers });
    expect(unban.statusCode).toBe(204);
    // Unbanning does not re-add; a moderator may add them now.
    expect((await send(member, room.id, 'hello?')).statusCode).toBe(404);
    const added = await s.app.inject({ method: 'POST', url: `/api/rooms/${room.id}/members`, headers: mod.headers, payload: { userId: member.id } });
    expect(added.statusCode).toBe(201);
    expect((await s.app.inject({ method: 'DELETE', url: `/api/rooms/${room.id}/bans/${member.id}`, headers: mod.headers })).statusCode).toBe(404);

    const actions = await s.db.selectFrom('audit_log').select('action').where('room_id', '=', room.id).where('target_user_id', '=', member.id).orderBy('created_at').execute();
    expect(actions.map((a) => a.action).slice(0, 2)).toEqual(['member_ban', 'member_unban']);
  });
});

describe('lock and slow mode, from the moderation angle', () => {
  it('a locked room refuses plain members (423) but not moderators; slow mode holds members back (429)', async () => {
    const mod = await newUser(s.app);
    const member = await newUser(s.app);
    const room = await newRoom(s.db, { members: [{ id: mod.id, roomRole: 'moderator' }, { id: member.id }] });
    const notMod = await s.app.inject({ method: 'PATCH', url: `/api/rooms/${room.id}`, headers: member.headers, payload: { locked: true } });
    expect(notMod.statusCode).toBe(403);
    const lock = await s.app.inject({ method: 'PATCH', url: `/api/rooms/${room.id}`, headers: mod.headers, payload: { locked: true } });
    expect(lock.statusCode).toBe(200);
    expect(lock.json().locked).toBe(true);
    expect((await send(member, room.id, 'hello')).statusCode).toBe(423);
    expect((await send(mod, room.id, 'the room is resting for now')).statusCode).toBe(201);
    await s.app.inject({ method: 'PATCH', url: `/api/rooms/${room.id}`, headers: mod.headers, payload: { locked: false, slowModeSeconds: 60 } });
    expect((await send(member, room.id, 'one')).statusCode).toBe(201);
    const slow = await send(member, room.id, 'two');
    expect(slow.statusCode).toBe(429);
    expect(slow.json().error.details.retryAfterMs).toBeGreaterThan(0);
    expect((await send(mod, room.id, 'moderators are not slowed')).statusCode).toBe(201);
    const audit = await s.db.selectFrom('audit_log').select(['action', 'actor_id', 'reason']).where('room_id', '=', room.id).orderBy('created_at').execute();
    expect(audit).toEqual([
      { action: 'room_update', actor_id: mod.id, reason: 'locked=true' },
      { action: 'room_update', actor_id: mod.id, reason: 'locked=false, slowModeSeconds=60' },
    ]);
  });
});
