import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { newRoom, newUser, type TestUser } from '../helpers/factories.js';
import { insertMessage, snapshot } from './fixtures.js';

/**
 * The permission matrix of every moderation route. Refused calls answer 404 to people who may not
 * know the room (non-member, removed, banned, another room's moderator), 403 to a plain member of
 * the room (and to everyone not staff on the word filters), and change nothing in the database.
 */
let s: TestServer;
let roomId: string;
const who: Record<string, TestUser> = {};
type Who = 'nonMember' | 'removed' | 'banned' | 'member' | 'roomMod' | 'otherRoomMod' | 'staff' | 'admin';
const everyone: Who[] = ['nonMember', 'removed', 'banned', 'member', 'roomMod', 'otherRoomMod', 'staff', 'admin'];

beforeAll(async () => {
  s = await startTestServer();
  const roles: Record<Who | 'target', 'member' | 'staff' | 'admin'> = {
    nonMember: 'member', removed: 'member', banned: 'member', member: 'member', roomMod: 'member',
    otherRoomMod: 'member', staff: 'staff', admin: 'admin', target: 'member',
  };
  for (const [name, role] of Object.entries(roles)) who[name] = await newUser(s.app, { role });
  const room = await newRoom(s.db, {
    members: [
      { id: who.member.id },
      { id: who.target.id },
      { id: who.removed.id },
      { id: who.roomMod.id, roomRole: 'moderator' },
    ],
  });
  roomId = room.id;
  await newRoom(s.db, { members: [{ id: who.otherRoomMod.id, roomRole: 'moderator' }] });
  await s.db.deleteFrom('room_members').where('room_id', '=', roomId).where('user_id', '=', who.removed.id).execute();
  await s.db.insertInto('room_bans').values({ room_id: roomId, user_id: who.banned.id, reason: 'test', banned_by: who.admin.id }).execute();
});
afterAll(async () => {
  await s?.close();
});

interface Call {
  method: 'GET' | 'POST' | 'DELETE';
  url: string;
  payload?: unknown;
}

async function freshTarget(): Promise<string> {
  const u = await newUser(s.app);
  await s.db.insertInto('room_members').values({ room_id: roomId, user_id: u.id, last_read_seq: 0 }).execute();
  return u.id;
}

async function freshFlag(): Promise<string> {
  const m = await insertMessage(s.db, roomId, who.target.id);
  const f = await s.db
    .insertInto('flags')
    .values({ message_id: m.id, room_id: roomId, reporter_id: who.member.id, reason: 'spam' })
    .returning('id')
    .executeTakeFirstOrThrow();
  return f.id;
}

const moderatorsOnly = (ok: number): Record<Who, number> => ({
  nonMember: 404, removed: 404, banned: 404, otherRoomMod: 404, member: 403, roomMod: ok, staff: ok, admin: ok,
});
const staffOnly = (ok: number): Record<Who, number> => ({
  nonMember: 403, removed: 403, banned: 403, otherRoomMod: 403, member: 403, roomMod: 403, staff: ok, admin: ok,
});

const routes: Array<{ name: string; expect: Record<Who, number>; prepare: () => Promise<Call> }> = [
  {
    name: 'POST /messages/:id/flags (members who can read the message)',
    expect: { nonMember: 404, removed: 404, banned: 404, otherRoomMod: 404, staff: 404, admin: 404, member: 201, roomMod: 201 },
    prepare: async () => {
      const m = await insertMessage(s.db, roomId, who.target.id);
      return { method: 'POST', url: `/api/messages/${m.id}/flags`, payload: { reason: 'harassment', note: 'unkind' } };
    },
  },
  {
    name: 'GET /flags?roomId=',
    expect: moderatorsOnly(200),
    prepare: async () => ({ method: 'GET', url: `/api/flags?status=open&roomId=${roomId}` }),
  },
  {
    name: 'POST /flags/:id/resolve',
    expect: moderatorsOnly(200),
    prepare: async () => ({ method: 'POST', url: `/api/flags/${await freshFlag()}/resolve`, payload: { action: 'hide_message', note: 'checked' } }),
  },
  {
    name: 'POST /messages/:id/hide',
    expect: moderatorsOnly(200),
    prepare: async () => {
      const m = await insertMessage(s.db, roomId, who.target.id);
      return { method: 'POST', url: `/api/messages/${m.id}/hide`, payload: { reason: 'off topic' } };
    },
  },
  {
    name: 'POST /messages/:id/unhide',
    expect: moderatorsOnly(200),
    prepare: async () => {
      const m = await insertMessage(s.db, roomId, who.target.id);
      await s.db.updateTable('messages').set({ hidden_at: new Date(), hidden_by: who.roomMod.id, hidden_reason: 'x' }).where('id', '=', m.id).execute();
      return { method: 'POST', url: `/api/messages/${m.id}/unhide`, payload: {} };
    },
  },
  {
    name: 'POST /rooms/:id/mutes',
    expect: moderatorsOnly(201),
    prepare: async () => ({ method: 'POST', url: `/api/rooms/${roomId}/mutes`, payload: { userId: await freshTarget(), minutes: 5, reason: 'cool down' } }),
  },
  {
    name: 'DELETE /rooms/:id/mutes/:userId',
    expect: moderatorsOnly(204),
    prepare: async () => {
      const target = await freshTarget();
      await s.db.updateTable('room_members').set({ muted_until: new Date(Date.now() + 600_000), mute_reason: 'x' }).where('user_id', '=', target).execute();
      return { method: 'DELETE', url: `/api/rooms/${roomId}/mutes/${target}` };
    },
  },
  {
    name: 'POST /rooms/:id/bans',
    expect: moderatorsOnly(201),
    prepare: async () => ({ method: 'POST', url: `/api/rooms/${roomId}/bans`, payload: { userId: await freshTarget(), reason: 'repeated harassment' } }),
  },
  {
    name: 'DELETE /rooms/:id/bans/:userId',
    expect: moderatorsOnly(204),
    prepare: async () => {
      const u = await newUser(s.app);
      await s.db.insertInto('room_bans').values({ room_id: roomId, user_id: u.id, reason: 'x', banned_by: who.admin.id }).execute();
      return { method: 'DELETE', url: `/api/rooms/${roomId}/bans/${u.id}` };
    },
  },
  {
    name: 'GET /audit?roomId=',
    expect: moderatorsOnly(200),
    prepare: async () => ({ method: 'GET', url: `/api/audit?roomId=${roomId}` }),
  },
  { name: 'GET /filters', expect: staffOnly(200), prepare: async () => ({ method: 'GET', url: '/api/filters' }) },
  {
    name: 'POST /filters',
    expect: staffOnly(201),
    prepare: async () => ({ method: 'POST', url: '/api/filters', payload: { pattern: `badword${Math.random().toString(36).slice(2)}`, action: 'flag' } }),
  },
  {
    name: 'DELETE /filters/:id',
    expect: staffOnly(204),
    prepare: async () => {
      const f = await s.db
        .insertInto('word_filters')
        .values({ pattern: `w${Math.random()}`, pattern_key: `w${Math.random()}`, action: 'flag' })
        .returning('id')
        .executeTakeFirstOrThrow();
      return { method: 'DELETE', url: `/api/filters/${f.id}` };
    },
  },
];

describe('moderation permission matrix', () => {
  for (const route of routes) {
    it(route.name, async () => {
      const seen: Record<string, number> = {};
      for (const w of everyone) {
        const call = await route.prepare();
        const before = await snapshot(s.db);
        const res = await s.app.inject({ method: call.method, url: call.url, payload: call.payload as object, headers: who[w].headers });
        seen[w] = res.statusCode;
        if (res.statusCode >= 400) {
          expect(res.json().error.code, `${w}: ${res.body}`).toBe(res.statusCode === 404 ? 'NOT_FOUND' : 'FORBIDDEN');
          expect(await snapshot(s.db), `${w}'s refused call changed the database`).toEqual(before);
        }
      }
      expect(seen).toEqual(route.expect);
    });
  }

  it('every moderation route refuses a missing token with 401', async () => {
    for (const route of routes) {
      const call = await route.prepare();
      const res = await s.app.inject({ method: call.method, url: call.url, payload: call.payload as object });
      expect(res.statusCode, route.name).toBe(401);
    }
  });

  it('GET /flags and /audit without a room: plain members and non-members 403; another room’s moderator sees none of this room', async () => {
    for (const url of ['/api/flags', '/api/audit']) {
      for (const w of ['member', 'nonMember'] as const) {
        const res = await s.app.inject({ method: 'GET', url, headers: who[w].headers });
        expect(res.statusCode, `${w} ${url}`).toBe(403);
      }
      const res = await s.app.inject({ method: 'GET', url, headers: who.otherRoomMod.headers });
      expect(res.statusCode).toBe(200);
      const items = (res.json().flags ?? res.json().entries) as Array<{ roomId: string | null }>;
      expect(items.filter((i) => i.roomId === roomId)).toEqual([]);
    }
    const staffView = await s.app.inject({ method: 'GET', url: '/api/audit', headers: who.staff.headers });
    expect((staffView.json().entries as Array<{ roomId: string }>).some((e) => e.roomId === roomId)).toBe(true);
  });
});
