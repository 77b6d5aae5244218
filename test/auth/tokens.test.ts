import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, TEST_JWT_SECRET, type TestServer } from '../helpers/server.js';
import { newUser, type TestUser } from '../helpers/factories.js';
import { count, craftJwt, fields, PASSWORD, post, signUp } from './helpers.js';

let s: TestServer;
let staff: TestUser;
beforeAll(async () => {
  s = await startTestServer({ AUTH_RATE_LIMIT_PER_MINUTE: '10000' });
  staff = await newUser(s.app, { role: 'staff' });
});
afterAll(async () => {
  await s.close();
});

const login = (handle: string, password: string) => post(s.app, '/api/auth/login', { handle, password });
const refresh = (refreshToken: unknown) => post(s.app, '/api/auth/refresh', { refreshToken });
const me = (token: string) => s.app.inject({ method: 'GET', url: '/api/me', headers: { authorization: `Bearer ${token}` } });

describe('POST /api/auth/login', () => {
  it('200 {user, accessToken, refreshToken}; the handle is matched after NFKC and case folding', async () => {
    const u = await signUp(s.app, staff, 'login_ok');
    for (const handle of ['login_ok', 'LOGIN_OK', 'ｌｏｇｉｎ＿ｏｋ']) {
      const res = await login(handle, PASSWORD);
      expect(res.statusCode, handle).toBe(200);
      expect(res.json()).toEqual({ user: u.user, accessToken: expect.any(String), refreshToken: expect.any(String) });
    }
  });

  it('wrong password and unknown handle give the same 401', async () => {
    await signUp(s.app, staff, 'login_wrong');
    const wrong = await login('login_wrong', 'not the password');
    const unknown = await login('nobody_like_this', PASSWORD);
    expect(wrong.statusCode).toBe(401);
    expect(unknown.statusCode).toBe(401);
    expect(wrong.json()).toEqual(unknown.json());
    expect(wrong.json().error.code).toBe('UNAUTHENTICATED');
  });

  it('bad input: missing/empty/over-long/extra fields get 400 naming the field, and issue no token', async () => {
    const tokens = await count(s.app, 'refresh_tokens');
    const cases: Array<[unknown, string]> = [
      [{ password: PASSWORD }, 'handle'],
      [{ handle: 'x' }, 'password'],
      [{ handle: '', password: PASSWORD }, 'handle'],
      [{ handle: 'x', password: 'p'.repeat(257) }, 'password'],
      [{ handle: ['x'], password: PASSWORD }, 'handle'],
      [{ handle: 'x', password: PASSWORD, remember: true }, 'remember'],
    ];
    for (const [payload, field] of cases) {
      const res = await post(s.app, '/api/auth/login', payload);
      expect(res.statusCode).toBe(400);
      expect(fields(res)).toContain(field);
    }
    expect(await count(s.app, 'refresh_tokens')).toBe(tokens);
  });
});

describe('POST /api/auth/refresh', () => {
  it('rotates: a new pair; the old refresh token stops working', async () => {
    const u = await signUp(s.app, staff, 'rotator');
    const first = await refresh(u.refreshToken);
    expect(first.statusCode).toBe(200);
    expect(Object.keys(first.json()).sort()).toEqual(['accessToken', 'refreshToken']);
    expect((await me(first.json().accessToken)).statusCode).toBe(200);
    const second = await refresh(first.json().refreshToken);
    expect(second.statusCode).toBe(200);
    expect((await refresh(first.json().refreshToken)).statusCode).toBe(401);
  });

  it('presenting an already-rotated token revokes the whole family: the newer token also stops working', async () => {
    const u = await signUp(s.app, staff, 'replayed');
    const other = await post(s.app, '/api/auth/login', { handle: 'replayed', password: PASSWORD }); // another device, another family
    const rotated = await refresh(u.refreshToken);
    const newer = rotated.json().refreshToken;
    const replay = await refresh(u.refreshToken);
    expect(replay.statusCode).toBe(401);
    expect(replay.json().error.code).toBe('UNAUTHENTICATED');
    expect((await refresh(newer)).statusCode).toBe(401);
    expect((await refresh(other.json().refreshToken)).statusCode).toBe(200);
  });

  it('unknown or expired tokens are 401; bad input is 400', async () => {
    expect((await refresh('made-up-token')).statusCode).toBe(401);
    const u = await signUp(s.app, staff, 'expiring');
    await s.db.updateTable('refresh_tokens').set({ expires_at: new Date(Date.now() - 1000) }).where('user_id', '=', u.user.id).execute();
    expect((await refresh(u.refreshToken)).statusCode).toBe(401);
    expect((await refresh('')).statusCode).toBe(400);
    expect((await refresh(123)).statusCode).toBe(400);
    expect((await post(s.app, '/api/auth/refresh', {})).statusCode).toBe(400);
    const extra = await post(s.app, '/api/auth/refresh', { refreshToken: 'x', userId: 'y' });
    expect(extra.statusCode).toBe(400);
    expect(fields(extra)).toContain('userId');
  });
});

describe('POST /api/auth/logout', () => {
  it('204 ends that session (idempotently) and leaves others alone', async () => {
    const u = await signUp(s.app, staff, 'leaver');
    const other = (await login('leaver', PASSWORD)).json();
    const out = await post(s.app, '/api/auth/logout', { refreshToken: u.refreshToken }, u.headers);
    expect(out.statusCode).toBe(204);
    expect(out.body).toBe('');
    expect((await refresh(u.refreshToken)).statusCode).toBe(401);
    expect((await post(s.app, '/api/auth/logout', { refreshToken: u.refreshToken }, u.headers)).statusCode).toBe(204);
    expect((await refresh(other.refreshToken)).statusCode).toBe(200);
  });

  it("cannot end someone else's session; needs a bearer token (401) and a refreshToken (400)", async () => {
    const a = await signUp(s.app, staff, 'logout_a');
    const b = await signUp(s.app, staff, 'logout_b');
    expect((await post(s.app, '/api/auth/logout', { refreshToken: b.refreshToken }, a.headers)).statusCode).toBe(204);
    expect((await refresh(b.refreshToken)).statusCode).toBe(200);
    expect((await post(s.app, '/api/auth/logout', { refreshToken: a.refreshToken })).statusCode).toBe(401);
    expect((await post(s.app, '/api/auth/logout', {}, a.headers)).statusCode).toBe(400);
  });
});

describe('access tokens', () => {
  it('live at most 15 minutes and are HS256', async () => {
    const u = await signUp(s.app, staff, 'lifetime');
    const [head, payload] = u.accessToken.split('.').slice(0, 2).map((p) => JSON.parse(Buffer.from(p, 'base64url').toString()));
    expect(head.alg).toBe('HS256');
    expect(payload.exp - payload.iat).toBeLessThanOrEqual(15 * 60);
  });

  it('expired, tampered, alg none, wrong secret and a refresh token used as access token are 401', async () => {
    const u = await signUp(s.app, staff, 'forger');
    const now = Math.floor(Date.now() / 1000);
    const claims = { sub: u.user.id, role: 'admin', iat: now };
    const [h, p, sig] = u.accessToken.split('.');
    const tampered = `${h}.${Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(p, 'base64url').toString()), role: 'admin' })).toString('base64url')}.${sig}`;
    const bad = {
      expired: craftJwt({ ...claims, iat: now - 3600, exp: now - 60 }, TEST_JWT_SECRET),
      tampered,
      algNone: craftJwt({ ...claims, exp: now + 600 }, '', 'none'),
      wrongSecret: craftJwt({ ...claims, exp: now + 600 }, 'another-secret-that-is-long-enough-0123456789'),
      refreshToken: u.refreshToken,
    };
    for (const [what, token] of Object.entries(bad)) {
      const res = await me(token);
      expect(res.statusCode, what).toBe(401);
      expect(res.json().error.code, what).toBe('UNAUTHENTICATED');
    }
    expect((await me(craftJwt({ ...claims, exp: now + 600 }, TEST_JWT_SECRET))).statusCode).toBe(200);
  });
});
