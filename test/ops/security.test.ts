import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { io as connect } from 'socket.io-client';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { newUser, type TestUser } from '../helpers/factories.js';

let s: TestServer;
let user: TestUser;
beforeAll(async () => {
  s = await startTestServer({ ALLOWED_ORIGINS: 'https://app.example.org' });
  user = await newUser(s.app);
});
afterAll(async () => {
  await s.close();
});

/** Connects over websocket with the given handshake; resolves 'connected' or the connect_error message. */
function tryConnect(opts: { token?: string; origin?: string; query?: Record<string, string> }): Promise<string> {
  const socket = connect(s.url, {
    auth: opts.token === undefined ? {} : { token: opts.token },
    query: opts.query,
    transports: ['websocket'],
    reconnection: false,
    forceNew: true,
    extraHeaders: opts.origin ? { origin: opts.origin } : undefined,
  });
  return new Promise((resolve) => {
    socket.once('connect', () => {
      socket.close();
      resolve('connected');
    });
    socket.once('connect_error', (err) => {
      socket.close();
      resolve(err.message);
    });
  });
}

describe('security headers', () => {
  it('sends a CSP the SPA works under: own scripts and styles, API and websockets on the same origin', async () => {
    const res = await s.app.inject({ method: 'GET', url: '/healthz' });
    const csp = String(res.headers['content-security-policy']);
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("script-src 'self';");
    expect(csp).toContain("style-src 'self';");
    expect(csp).toContain("connect-src 'self' ws: wss:");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toContain("object-src 'none'");
    expect(csp).not.toContain('unsafe');
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['x-frame-options']).toBe('DENY');
    expect(res.headers['referrer-policy']).toBe('no-referrer');
  });

  it('sends the headers on API errors too', async () => {
    const res = await s.app.inject({ method: 'GET', url: '/api/nope' });
    expect(res.statusCode).toBe(404);
    expect(res.headers['content-security-policy']).toContain("default-src 'self'");
  });
});

describe('Socket.IO handshake', () => {
  it('accepts a client without Origin (native apps, tests) and one from the same origin', async () => {
    expect(await tryConnect({ token: user.token })).toBe('connected');
    expect(await tryConnect({ token: user.token, origin: s.url })).toBe('connected');
  });

  it('accepts an origin listed in ALLOWED_ORIGINS', async () => {
    expect(await tryConnect({ token: user.token, origin: 'https://app.example.org' })).toBe('connected');
  });

  it('refuses a foreign origin, even with a valid token', async () => {
    expect(await tryConnect({ token: user.token, origin: 'https://evil.example.com' })).not.toBe('connected');
    expect(await tryConnect({ token: user.token, origin: 'https://app.example.org.evil.example.com' })).not.toBe('connected');
    expect(await tryConnect({ token: user.token, origin: 'not a url' })).not.toBe('connected');
  });

  it('takes the token only from auth: a token in the query string is refused with UNAUTHENTICATED', async () => {
    expect(await tryConnect({ query: { token: user.token } })).toBe('UNAUTHENTICATED');
    expect(await tryConnect({ query: { auth: user.token, access_token: user.token } })).toBe('UNAUTHENTICATED');
  });
});
