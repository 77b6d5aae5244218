import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { newUser } from '../helpers/factories.js';
import { invite, PASSWORD, post, register } from './helpers.js';

describe('rate limit on register and login', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer({ AUTH_RATE_LIMIT_PER_MINUTE: '3' });
  });
  afterAll(async () => {
    await s.close();
  });

  it('register and login share one budget per address; over it → 429 RATE_LIMITED with details.retryAfterMs', async () => {
    const login = () => post(s.app, '/api/auth/login', { handle: 'nobody', password: PASSWORD });
    expect((await login()).statusCode).toBe(401);
    expect((await login()).statusCode).toBe(401);
    expect((await post(s.app, '/api/auth/register', { inviteCode: 'x', handle: 'someone', password: PASSWORD })).statusCode).toBe(401);
    for (const res of [await login(), await post(s.app, '/api/auth/register', { inviteCode: 'x', handle: 'someone', password: PASSWORD })]) {
      expect(res.statusCode).toBe(429);
      const { error } = res.json();
      expect(error.code).toBe('RATE_LIMITED');
      expect(error.details.retryAfterMs).toBeGreaterThan(0);
      expect(error.details.retryAfterMs).toBeLessThanOrEqual(60_000);
    }
    // Other routes are not limited by it.
    expect((await s.app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
    expect((await post(s.app, '/api/auth/refresh', { refreshToken: 'x' })).statusCode).toBe(401);
    // PATCH /api/me: a display-name change is not counted (budget spent above); a password change is → 429.
    const user = await newUser(s.app);
    for (let i = 0; i < 5; i++) {
      const res = await s.app.inject({ method: 'PATCH', url: '/api/me', headers: user.headers, payload: { displayName: `name ${i}` } });
      expect(res.statusCode).toBe(200);
    }
    const pw = await s.app.inject({ method: 'PATCH', url: '/api/me', headers: user.headers, payload: { password: { current: 'wrong password', next: 'another calm veranda' } } });
    expect(pw.statusCode).toBe(429);
    expect(pw.json().error.details.retryAfterMs).toBeGreaterThan(0);
  });
});

describe('logs', () => {
  let s: TestServer;
  const lines: string[] = [];
  beforeAll(async () => {
    const stream = new Writable({
      write(chunk, _enc, done) {
        lines.push(String(chunk));
        done();
      },
    });
    s = await startTestServer({ AUTH_RATE_LIMIT_PER_MINUTE: '10000', LOG_LEVEL: 'trace' }, { logStream: stream });
  });
  afterAll(async () => {
    await s.close();
  });

  it('contain no password, access or refresh token, nor invite code, on success or failure', async () => {
    const staff = await newUser(s.app, { role: 'staff' });
    const { code } = await invite(s.app, staff);
    const reg = await register(s.app, code, 'quiet_one');
    expect(reg.statusCode).toBe(201);
    const { accessToken, refreshToken } = reg.json();
    const headers = { authorization: `Bearer ${accessToken}` };
    const login = await post(s.app, '/api/auth/login', { handle: 'quiet_one', password: PASSWORD });
    const refreshed = await post(s.app, '/api/auth/refresh', { refreshToken: login.json().refreshToken });
    await post(s.app, '/api/auth/login', { handle: 'quiet_one', password: 'wrong-password-xyz' });
    await post(s.app, '/api/auth/register', { inviteCode: code, handle: 'q', password: 'short-pw-abc1' }); // 400
    await post(s.app, '/api/auth/register', { inviteCode: code, handle: 'quiet_two', password: PASSWORD }); // 401 used up
    await s.app.inject({ method: 'PATCH', url: '/api/me', headers, payload: { password: { current: PASSWORD, next: 'next-secret-pw-42' } } });
    await post(s.app, '/api/auth/logout', { refreshToken }, headers);
    await s.app.inject({ method: 'GET', url: '/api/me', headers: { authorization: 'Bearer not.a.valid-token' } });

    const log = lines.join('');
    expect(lines.length).toBeGreaterThan(10);
    expect(log).toContain('/api/auth/register'); // the requests were logged, just not their secrets
    const secrets = [
      PASSWORD,
      'wrong-password-xyz',
      'short-pw-abc1',
      'next-secret-pw-42',
      code,
      accessToken,
      refreshToken,
      login.json().accessToken,
      login.json().refreshToken,
      refreshed.json().refreshToken,
      staff.token,
      'not.a.valid-token',
    ];
    for (const secret of secrets) expect(log).not.toContain(secret);
  });
});
