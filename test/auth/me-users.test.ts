import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { newUser, type TestUser } from '../helpers/factories.js';
import { fields, PASSWORD, post, signUp } from './helpers.js';

let s: TestServer;
let staff: TestUser;
beforeAll(async () => {
  s = await startTestServer({ AUTH_RATE_LIMIT_PER_MINUTE: '10000' });
  staff = await newUser(s.app, { role: 'staff' });
});
afterAll(async () => {
  await s.close();
});

const patchMe = (headers: Record<string, string>, payload: unknown) => s.app.inject({ method: 'PATCH', url: '/api/me', headers, payload: payload as object });
const refresh = (refreshToken: string) => post(s.app, '/api/auth/refresh', { refreshToken });

describe('GET /api/me', () => {
  it('200 {user} with no password hash; 401 without a token', async () => {
    const u = await signUp(s.app, staff, 'me_reader');
    const res = await s.app.inject({ method: 'GET', url: '/api/me', headers: u.headers });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ user: u.user });
    expect(res.body).not.toContain('argon2');
    expect((await s.app.inject({ method: 'GET', url: '/api/me' })).statusCode).toBe(401);
  });
});

describe('PATCH /api/me', () => {
  it('changes the display name (trimmed)', async () => {
    const u = await signUp(s.app, staff, 'renamer');
    const res = await patchMe(u.headers, { displayName: '  はな  ' });
    expect(res.statusCode).toBe(200);
    expect(res.json().user).toMatchObject({ id: u.user.id, handle: 'renamer', displayName: 'はな' });
    expect(res.json()).not.toHaveProperty('refreshToken');
  });

  it('a password change with the right current password: new pair here, every other session ended', async () => {
    const u = await signUp(s.app, staff, 'changer');
    const other = (await post(s.app, '/api/auth/login', { handle: 'changer', password: PASSWORD })).json();
    const res = await patchMe(u.headers, { password: { current: PASSWORD, next: 'a brand new secret' } });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body).toMatchObject({ user: { id: u.user.id }, accessToken: expect.any(String), refreshToken: expect.any(String) });
    expect((await refresh(u.refreshToken)).statusCode).toBe(401);
    expect((await refresh(other.refreshToken)).statusCode).toBe(401);
    expect((await refresh(body.refreshToken)).statusCode).toBe(200);
    expect((await post(s.app, '/api/auth/login', { handle: 'changer', password: PASSWORD })).statusCode).toBe(401);
    expect((await post(s.app, '/api/auth/login', { handle: 'changer', password: 'a brand new secret' })).statusCode).toBe(200);
  });

  it('a wrong current password is 400 on password.current and changes nothing (sessions kept)', async () => {
    const u = await signUp(s.app, staff, 'wrong_current');
    const res = await patchMe(u.headers, { displayName: 'new name', password: { current: 'not it at all', next: 'another secret' } });
    expect(res.statusCode).toBe(400);
    expect(fields(res)).toEqual(['password.current']);
    expect((await s.app.inject({ method: 'GET', url: '/api/me', headers: u.headers })).json().user.displayName).toBe('wrong_current');
    expect((await refresh(u.refreshToken)).statusCode).toBe(200);
  });

  it('bad input gets 400 naming the field; 401 without a token', async () => {
    const u = await signUp(s.app, staff, 'bad_patch');
    const cases: Array<[unknown, string]> = [
      [{ displayName: '' }, 'displayName'],
      [{ displayName: '   ' }, 'displayName'],
      [{ displayName: 'x'.repeat(51) }, 'displayName'],
      [{ displayName: 'line\nbreak' }, 'displayName'],
      [{ displayName: 5 }, 'displayName'],
      [{ password: { current: PASSWORD, next: 'short' } }, 'password.next'],
      [{ password: { current: PASSWORD } }, 'password.next'],
      [{ password: { current: PASSWORD, next: 'long enough pw', extra: 1 } }, 'password.extra'],
      [{ handle: 'rename_me' }, 'handle'],
      [{ role: 'admin' }, 'role'],
    ];
    for (const [payload, field] of cases) {
      const res = await patchMe(u.headers, payload);
      expect(res.statusCode, JSON.stringify(payload)).toBe(400);
      expect(fields(res), JSON.stringify(payload)).toContain(field);
    }
    const after = (await s.app.inject({ method: 'GET', url: '/api/me', headers: u.headers })).json().user;
    expect(after).toEqual(u.user);
    expect((await patchMe({}, { displayName: 'x' })).statusCode).toBe(401);
  });
});

describe('GET /api/users', () => {
  it('moderator+ search by handle or display name (case-insensitive, NFKC); member and family get 403', async () => {
    const mod = await newUser(s.app, { role: 'moderator' });
    const target = await signUp(s.app, staff, 'findable_one');
    await patchMe(target.headers, { displayName: 'Sakura Yamada' });
    for (const query of ['FINDABLE', 'ｆｉｎｄａｂｌｅ', 'yamada']) {
      const res = await s.app.inject({ method: 'GET', url: `/api/users?query=${encodeURIComponent(query)}`, headers: mod.headers });
      expect(res.statusCode, query).toBe(200);
      expect(res.json().users.map((x: { id: string }) => x.id), query).toContain(target.user.id);
    }
    const none = await s.app.inject({ method: 'GET', url: '/api/users?query=%25', headers: mod.headers });
    expect(none.json().users).toEqual([]); // '%' is matched literally, not as a wildcard
    for (const role of ['member', 'family'] as const) {
      const u = await newUser(s.app, { role });
      expect((await s.app.inject({ method: 'GET', url: '/api/users?query=a', headers: u.headers })).statusCode).toBe(403);
    }
    expect((await s.app.inject({ method: 'GET', url: '/api/users?query=a' })).statusCode).toBe(401);
  });

  it('at most 20 results; over-long query and unknown parameters are 400', async () => {
    for (let i = 0; i < 22; i++) await newUser(s.app, { handle: `many_${i}` });
    const res = await s.app.inject({ method: 'GET', url: '/api/users?query=many_', headers: staff.headers });
    expect(res.statusCode).toBe(200);
    expect(res.json().users).toHaveLength(20);
    expect(res.json().users[0]).toEqual({ id: expect.any(String), handle: expect.any(String), displayName: expect.any(String), role: 'member', createdAt: expect.any(String) });
    expect((await s.app.inject({ method: 'GET', url: `/api/users?query=${'q'.repeat(51)}`, headers: staff.headers })).statusCode).toBe(400);
    const extra = await s.app.inject({ method: 'GET', url: '/api/users?query=a&role=admin', headers: staff.headers });
    expect(extra.statusCode).toBe(400);
    expect(fields(extra)).toContain('role');
  });
});
