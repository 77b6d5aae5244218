import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { newUser, type TestUser } from '../helpers/factories.js';
import { count, fields, invite, PASSWORD, post, register } from './helpers.js';

let s: TestServer;
let staff: TestUser;
beforeAll(async () => {
  s = await startTestServer({ AUTH_RATE_LIMIT_PER_MINUTE: '10000' });
  staff = await newUser(s.app, { role: 'staff' });
});
afterAll(async () => {
  await s.close();
});

/** A code good for many registrations in this file. */
let shared: string;
const code = async () => (shared ??= (await invite(s.app, staff, { maxUses: 100 })).code);

describe('POST /api/auth/register', () => {
  it('201 {user, accessToken, refreshToken}; displayName defaults to the handle; the tokens work', async () => {
    const res = await register(s.app, await code(), 'yori');
    expect(res.statusCode).toBe(201);
    const body = res.json();
    expect(body.user).toEqual({ id: expect.any(String), handle: 'yori', displayName: 'yori', role: 'member', createdAt: expect.any(String) });
    expect(Object.keys(body).sort()).toEqual(['accessToken', 'refreshToken', 'user']);
    const me = await s.app.inject({ method: 'GET', url: '/api/me', headers: { authorization: `Bearer ${body.accessToken}` } });
    expect(me.json().user.id).toBe(body.user.id);
    expect((await post(s.app, '/api/auth/refresh', { refreshToken: body.refreshToken })).statusCode).toBe(200);
    const row = await s.db.selectFrom('users').select(['password_hash', 'handle_key']).where('id', '=', body.user.id).executeTakeFirstOrThrow();
    expect(row.password_hash).toMatch(/^\$argon2id\$/);
    expect(row.handle_key).toBe('yori');
  });

  it('displayName is trimmed', async () => {
    const res = await register(s.app, await code(), 'trimmed', { displayName: '  やまだ  ' });
    expect(res.statusCode).toBe(201);
    expect(res.json().user.displayName).toBe('やまだ');
  });

  it('Japanese handles are allowed: ひきこもり太郎', async () => {
    const res = await register(s.app, await code(), 'ひきこもり太郎');
    expect(res.statusCode).toBe(201);
    expect(res.json().user.handle).toBe('ひきこもり太郎');
  });

  it('NFKC look-alikes and case variants of a taken handle get 409 CONFLICT (Ｙｏｒｉ, YORI; Ｔａｒｏ vs taro)', async () => {
    expect((await register(s.app, await code(), 'taro')).statusCode).toBe(201);
    for (const handle of ['Ｙｏｒｉ', 'YORI', 'Ｔａｒｏ', 'TARO']) {
      const res = await register(s.app, await code(), handle);
      expect(res.statusCode, handle).toBe(409);
      expect(res.json().error.code).toBe('CONFLICT');
    }
  });

  it('a full-width handle is stored in its NFKC form', async () => {
    const res = await register(s.app, await code(), 'Ｈａｎａ１２');
    expect(res.statusCode).toBe(201);
    expect(res.json().user.handle).toBe('Hana12');
  });

  it('bad input gets 400 VALIDATION naming the field; no user, no invite use', async () => {
    const inv = await invite(s.app, staff);
    const users = await count(s.app, 'users');
    const ok = { inviteCode: inv.code, handle: 'fine_handle', password: PASSWORD };
    const cases: Array<[Record<string, unknown>, string, string]> = [
      [{ ...ok, handle: '<script>' }, 'handle', 'markup characters'],
      [{ ...ok, handle: 'a b' }, 'handle', 'a space'],
      [{ ...ok, handle: '    ' }, 'handle', 'only spaces'],
      [{ ...ok, handle: 'tab\there' }, 'handle', 'a control character'],
      [{ ...ok, handle: 'zero\u200bwidth' }, 'handle', 'a zero-width space'],
      [{ ...ok, handle: 'a' }, 'handle', 'one character'],
      [{ ...ok, handle: 'x'.repeat(33) }, 'handle', '33 characters'],
      [{ ...ok, handle: '' }, 'handle', 'empty'],
      [{ ...ok, handle: 42 }, 'handle', 'a number'],
      [{ ...ok, password: 'short12' }, 'password', '7 characters'],
      [{ ...ok, password: 'p'.repeat(257) }, 'password', '257 characters'],
      [{ ...ok, displayName: '   ' }, 'displayName', 'only spaces'],
      [{ ...ok, displayName: 'n'.repeat(51) }, 'displayName', '51 characters'],
      [{ ...ok, displayName: 'bell\u0007' }, 'displayName', 'a control character'],
      [{ ...ok, displayName: 'evil\u202Eevil' }, 'displayName', 'a bidi override'],
      [{ handle: 'fine_handle', password: PASSWORD }, 'inviteCode', 'missing invite code'],
      [{ inviteCode: inv.code, password: PASSWORD }, 'handle', 'missing handle'],
      [{ inviteCode: inv.code, handle: 'fine_handle' }, 'password', 'missing password'],
      [{ ...ok, role: 'admin' }, 'role', 'an unknown field'],
    ];
    for (const [payload, field, what] of cases) {
      const res = await post(s.app, '/api/auth/register', payload);
      expect(res.statusCode, what).toBe(400);
      expect(res.json().error.code, what).toBe('VALIDATION');
      expect(fields(res), what).toContain(field);
    }
    expect(await count(s.app, 'users')).toBe(users);
    expect((await s.db.selectFrom('invites').select('uses').where('id', '=', inv.id).executeTakeFirstOrThrow()).uses).toBe(0);
  });

  it('a non-JSON or malformed body is 400; a body over 1 MiB is 413 PAYLOAD_TOO_LARGE', async () => {
    const malformed = await s.app.inject({ method: 'POST', url: '/api/auth/register', payload: '{"handle":', headers: { 'content-type': 'application/json' } });
    expect(malformed.statusCode).toBe(400);
    expect(malformed.json().error.code).toBe('VALIDATION');
    const users = await count(s.app, 'users');
    const huge = await post(s.app, '/api/auth/register', { inviteCode: await code(), handle: 'huge', password: PASSWORD, displayName: 'x'.repeat(1024 * 1024 + 10) });
    expect(huge.statusCode).toBe(413);
    expect(huge.json().error.code).toBe('PAYLOAD_TOO_LARGE');
    expect(await count(s.app, 'users')).toBe(users);
  });

  it('two registrations of one handle at once: one 201, one 409', async () => {
    const c = await code();
    const [a, b] = await Promise.all([register(s.app, c, 'same_time'), register(s.app, c, 'Same_Time')]);
    expect([a.statusCode, b.statusCode].sort()).toEqual([201, 409]);
    expect(await s.db.selectFrom('users').select('id').where('handle_key', '=', 'same_time').execute()).toHaveLength(1);
  });
});
