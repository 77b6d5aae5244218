import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { newRoom, newUser } from '../helpers/factories.js';
import { writeAudit } from '../../src/modules/moderation/audit.js';

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer();
});
afterAll(async () => {
  await s?.close();
});

describe('the audit log is append-only, enforced by the database', () => {
  it('update, delete and truncate fail even as the app’s own database role', async () => {
    const admin = await newUser(s.app, { role: 'admin' });
    await writeAudit(s.db, { actorId: admin.id, action: 'test_entry', reason: 'original' });
    const before = await s.db.selectFrom('audit_log').selectAll().orderBy('id').execute();
    expect(before.length).toBeGreaterThan(0);
    const attempts = [
      sql`update audit_log set reason = 'rewritten'`,
      sql`update audit_log set actor_id = null where action = 'test_entry'`,
      sql`delete from audit_log`,
      sql`delete from audit_log where action = 'test_entry'`,
      sql`truncate audit_log`,
    ];
    for (const attempt of attempts) {
      await expect(attempt.execute(s.db)).rejects.toThrow(/append-only/);
    }
    expect(await s.db.selectFrom('audit_log').selectAll().orderBy('id').execute()).toEqual(before);
  });
});

describe('GET /audit', () => {
  it('newest first, with actor {id, handle}; filters by room and actor; room moderators see only their rooms', async () => {
    const staff = await newUser(s.app, { role: 'staff' });
    const mod = await newUser(s.app);
    const modB = await newUser(s.app);
    const member = await newUser(s.app);
    const target = await newUser(s.app);
    const roomA = await newRoom(s.db, { members: [{ id: mod.id, roomRole: 'moderator' }, { id: member.id }, { id: target.id }] });
    const roomB = await newRoom(s.db, { members: [{ id: modB.id, roomRole: 'moderator' }, { id: target.id }] });
    const mute = (actor: typeof mod, roomId: string, reason: string) =>
      s.app.inject({ method: 'POST', url: `/api/rooms/${roomId}/mutes`, headers: actor.headers, payload: { userId: target.id, minutes: 1, reason } });
    expect((await mute(mod, roomA.id, 'first')).statusCode).toBe(201);
    expect((await mute(modB, roomB.id, 'in B')).statusCode).toBe(201);
    expect((await mute(mod, roomA.id, 'second')).statusCode).toBe(201);

    const res = await s.app.inject({ method: 'GET', url: `/api/audit?roomId=${roomA.id}`, headers: mod.headers });
    expect(res.statusCode).toBe(200);
    expect(res.json().entries).toEqual([
      { id: expect.any(String), actor: { id: mod.id, handle: mod.handle }, action: 'member_mute', roomId: roomA.id, targetUserId: target.id, targetMessageId: null, targetBookingId: null, reason: '1 min: second', createdAt: expect.any(String) },
      { id: expect.any(String), actor: { id: mod.id, handle: mod.handle }, action: 'member_mute', roomId: roomA.id, targetUserId: target.id, targetMessageId: null, targetBookingId: null, reason: '1 min: first', createdAt: expect.any(String) },
    ]);
    // Without roomId a room moderator gets their rooms only.
    const implied = await s.app.inject({ method: 'GET', url: '/api/audit', headers: mod.headers });
    expect(new Set(implied.json().entries.map((e: any) => e.roomId))).toEqual(new Set([roomA.id]));
    // Another room's moderator: 404 for a room they are not in.
    expect((await s.app.inject({ method: 'GET', url: `/api/audit?roomId=${roomA.id}`, headers: modB.headers })).statusCode).toBe(404);
    // Staff: everything, filterable by actor; limit respected.
    const byActor = await s.app.inject({ method: 'GET', url: `/api/audit?actorId=${modB.id}`, headers: staff.headers });
    expect(byActor.json().entries.map((e: any) => e.reason)).toEqual(['1 min: in B']);
    const limited = await s.app.inject({ method: 'GET', url: '/api/audit?limit=1', headers: staff.headers });
    expect(limited.json().entries).toHaveLength(1);
    // A plain member: 403.
    expect((await s.app.inject({ method: 'GET', url: `/api/audit?roomId=${roomA.id}`, headers: member.headers })).statusCode).toBe(403);
  });
});
