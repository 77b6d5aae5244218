import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './helpers/server.js';
import { newUser } from './helpers/factories.js';
import { connectSocket } from './helpers/sockets.js';

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer();
});
afterAll(async () => {
  await s.close();
});

describe('operations', () => {
  it('GET /healthz answers 200', async () => {
    const res = await s.app.inject({ method: 'GET', url: '/healthz' });
    expect(res.statusCode).toBe(200);
  });

  it('GET /readyz answers 200 with the database up', async () => {
    const res = await s.app.inject({ method: 'GET', url: '/readyz' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ database: 'up' });
  });

  it('an unknown route gets the contract error shape', async () => {
    const res = await s.app.inject({ method: 'GET', url: '/api/nope' });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toEqual({ error: { code: 'NOT_FOUND', message: expect.any(String) } });
  });

  it('a socket with a valid token connects; a bad one gets connect_error UNAUTHENTICATED', async () => {
    const u = await newUser(s.app);
    const ok = await connectSocket(s.url, u.token);
    expect(ok.connected).toBe(true);
    ok.close();
    await expect(connectSocket(s.url, 'garbage')).rejects.toThrow('UNAUTHENTICATED');
  });
});
