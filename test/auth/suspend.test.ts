import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { newUser, type TestUser } from '../helpers/factories.js';
import { connectSocket, waitForEvent } from '../helpers/sockets.js';
import { fields, PASSWORD, post, signUp } from './helpers.js';

let s: TestServer;
let admin: TestUser, staff: TestUser;
beforeAll(async () => {
  s = await startTestServer({ AUTH_RATE_LIMIT_PER_MINUTE: '10000' });
  [admin, staff] = await Promise.all([newUser(s.app, { role: 'admin' }), newUser(s.app, { role: 'staff' })]);
});
afterAll(async () => {
  await s.close();
});

const suspend = (by: { headers: Record<string, string> }, id: string, body: unknown = { reason: 'repeated harassment' }) =>
  post(s.app, `/api/users/${id}/suspend`, body, by.headers);
const unsuspend = (by: { headers: Record<string, string> }, id: string) => post(s.app, `/api/users/${id}/unsuspend`, undefined, by.headers);
const login = (handle: string) => post(s.app, '/api/auth/login', { handle, password: PASSWORD });

describe('POST /api/users/:id/suspend', () => {
  it('200; refresh tokens revoked, the live socket disconnected within 1 s, login 423, access token 423, audited', async () => {
    const u = await signUp(s.app, staff, 'to_suspend');
    const socket = await connectSocket(s.url, u.accessToken);
    const disconnected = waitForEvent(socket, 'disconnect', () => true, 1_000);
    const started = Date.now();
    const res = await suspend(staff, u.user.id);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      user: u.user,
      suspension: { reason: 'repeated harassment', suspendedAt: expect.any(String), until: null },
    });
    await disconnected;
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(socket.connected).toBe(false);

    expect((await post(s.app, '/api/auth/refresh', { refreshToken: u.refreshToken })).statusCode).toBe(401);
    const denied = await login('to_suspend');
    expect(denied.statusCode).toBe(423);
    expect(denied.json().error).toMatchObject({ code: 'LOCKED', message: expect.stringContaining('suspended') });
    expect((await s.app.inject({ method: 'GET', url: '/api/me', headers: u.headers })).statusCode).toBe(423);
    await expect(connectSocket(s.url, u.accessToken)).rejects.toThrow('LOCKED');

    const audit = await s.db.selectFrom('audit_log').selectAll().where('target_user_id', '=', u.user.id).execute();
    expect(audit).toEqual([expect.objectContaining({ actor_id: staff.id, action: 'user_suspend', reason: 'repeated harassment' })]);
  });

  it('until in the future: login 423 names the date; it ends by itself', async () => {
    const u = await signUp(s.app, staff, 'until_later');
    const until = new Date(Date.now() + 3600_000).toISOString();
    const res = await suspend(staff, u.user.id, { reason: 'cool-down', until });
    expect(res.statusCode).toBe(200);
    expect(res.json().suspension.until).toBe(until);
    const denied = await login('until_later');
    expect(denied.statusCode).toBe(423);
    expect(denied.json().error.message).toContain(until);
    await s.db.updateTable('users').set({ suspended_until: new Date(Date.now() - 1000) }).where('id', '=', u.user.id).execute();
    expect((await login('until_later')).statusCode).toBe(200);
  });

  it('a suspended user whose refresh token survived (suspension set directly) gets 423 at refresh', async () => {
    const u = await signUp(s.app, staff, 'direct_suspend');
    await s.db.updateTable('users').set({ suspended_at: new Date() }).where('id', '=', u.user.id).execute();
    const res = await post(s.app, '/api/auth/refresh', { refreshToken: u.refreshToken });
    expect(res.statusCode).toBe(423);
  });

  it('rank rules: not yourself, not equal or higher standing (403); staff may suspend moderators, admin may suspend staff', async () => {
    const otherStaff = await newUser(s.app, { role: 'staff' });
    const otherAdmin = await newUser(s.app, { role: 'admin' });
    const mod = await newUser(s.app, { role: 'moderator' });
    expect((await suspend(staff, staff.id)).statusCode).toBe(403);
    expect((await suspend(staff, otherStaff.id)).statusCode).toBe(403);
    expect((await suspend(staff, admin.id)).statusCode).toBe(403);
    expect((await suspend(admin, admin.id)).statusCode).toBe(403);
    expect((await suspend(admin, otherAdmin.id)).statusCode).toBe(403);
    expect((await suspend(staff, mod.id)).statusCode).toBe(200);
    expect((await suspend(admin, otherStaff.id)).statusCode).toBe(200);
    expect((await unsuspend(staff, otherStaff.id)).statusCode).toBe(403);
  });

  it('moderators and members may not suspend (403); no token 401', async () => {
    const target = await newUser(s.app);
    const mod = await newUser(s.app, { role: 'moderator' });
    const member = await newUser(s.app);
    expect((await suspend(mod, target.id)).statusCode).toBe(403);
    expect((await suspend(member, target.id)).statusCode).toBe(403);
    expect((await post(s.app, `/api/users/${target.id}/suspend`, { reason: 'x' })).statusCode).toBe(401);
  });

  it('bad input: 400 naming the field (until in the past, no reason, non-UUID id, extra field); unknown id 404; nothing changes', async () => {
    const target = await newUser(s.app);
    const cases: Array<[string, unknown, string]> = [
      [target.id, { reason: 'x', until: new Date(Date.now() - 60_000).toISOString() }, 'until'],
      [target.id, { reason: 'x', until: 'tomorrow' }, 'until'],
      [target.id, {}, 'reason'],
      [target.id, { reason: '   ' }, 'reason'],
      [target.id, { reason: 'r'.repeat(501) }, 'reason'],
      [target.id, { reason: 'x', notify: true }, 'notify'],
      ['not-a-uuid', { reason: 'x' }, 'id'],
    ];
    for (const [id, body, field] of cases) {
      const res = await suspend(staff, id, body);
      expect(res.statusCode, JSON.stringify(body)).toBe(400);
      expect(fields(res), JSON.stringify(body)).toContain(field);
    }
    expect((await suspend(staff, '00000000-0000-4000-8000-000000000000')).statusCode).toBe(404);
    const row = await s.db.selectFrom('users').select('suspended_at').where('id', '=', target.id).executeTakeFirstOrThrow();
    expect(row.suspended_at).toBeNull();
  });
});

describe('POST /api/users/:id/unsuspend', () => {
  it('200; login works again; audited; idempotent', async () => {
    const u = await signUp(s.app, staff, 'comes_back');
    await suspend(staff, u.user.id);
    const res = await unsuspend(staff, u.user.id);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ user: u.user, suspension: null });
    expect((await login('comes_back')).statusCode).toBe(200);
    expect((await unsuspend(staff, u.user.id)).statusCode).toBe(200);
    const actions = await s.db.selectFrom('audit_log').select('action').where('target_user_id', '=', u.user.id).orderBy('created_at').execute();
    expect(actions.map((a) => a.action)).toEqual(['user_suspend', 'user_unsuspend']);
  });

  it('non-UUID 400, unknown 404, moderator 403', async () => {
    const mod = await newUser(s.app, { role: 'moderator' });
    const target = await newUser(s.app);
    expect((await unsuspend(staff, 'nope')).statusCode).toBe(400);
    expect((await unsuspend(staff, '00000000-0000-4000-8000-000000000000')).statusCode).toBe(404);
    expect((await unsuspend(mod, target.id)).statusCode).toBe(403);
  });
});
