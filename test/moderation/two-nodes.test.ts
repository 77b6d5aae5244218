import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { newUser } from '../helpers/factories.js';
import { newClientId, newRoom } from '../helpers/factories.js';
import { connectSocket, recordAll, waitForEvent, type ClientSocket } from '../helpers/sockets.js';
import { eventually } from './fixtures.js';

/**
 * Two nodes on one database, sharing rooms through the Redis adapter when REDIS_URL is given and
 * the Postgres adapter otherwise: a suspension or a room ban decided on node A acts on the user's
 * sockets on node B too.
 */
const adapterEnv: Record<string, string> = process.env.REDIS_URL
  ? { SOCKET_ADAPTER: 'redis', REDIS_URL: process.env.REDIS_URL }
  : { SOCKET_ADAPTER: 'postgres' };

let a: TestServer;
let b: TestServer;
const sockets: ClientSocket[] = [];
beforeAll(async () => {
  a = await startTestServer(adapterEnv);
  b = await startTestServer(adapterEnv, { databaseUrl: a.databaseUrl });
  // Both nodes listening on the shared channel before anything is published.
  await eventually(async () => a.app.adapterStatus?.() === 'up' && b.app.adapterStatus?.() === 'up', 10_000);
});
afterAll(async () => {
  for (const c of sockets) c.close();
  await b?.close();
  await a?.close();
});

describe('site-wide suspension', () => {
  it('disconnects the user’s sockets on both nodes within 1 s and refuses them afterwards', async () => {
    const staff = await newUser(a.app, { role: 'staff' });
    const user = await newUser(a.app);
    const bystander = await newUser(a.app);
    const onA = await connectSocket(a.url, user.token);
    const onB = await connectSocket(b.url, user.token);
    const bystanderOnB = await connectSocket(b.url, bystander.token);
    sockets.push(onA, onB, bystanderOnB);
    const gone = (c: ClientSocket) => new Promise<number>((resolve) => c.once('disconnect', () => resolve(Date.now())));
    const goneA = gone(onA);
    const goneB = gone(onB);

    const started = Date.now();
    const res = await a.app.inject({ method: 'POST', url: `/api/users/${user.id}/suspend`, headers: staff.headers, payload: { reason: 'threats to others' } });
    expect(res.statusCode).toBe(200);
    const within = (p: Promise<number>) =>
      Promise.race([p, new Promise<number>((_, reject) => setTimeout(() => reject(new Error('still connected after 1 s')), 1_000))]);
    const [tA, tB] = await Promise.all([within(goneA), within(goneB)]);
    expect(tA - started).toBeLessThan(1_000);
    expect(tB - started).toBeLessThan(1_000);
    expect(bystanderOnB.connected).toBe(true);

    // Reconnecting is refused on either node; HTTP is 423.
    await expect(connectSocket(b.url, user.token)).rejects.toThrow(/LOCKED|UNAUTHENTICATED/);
    expect((await b.app.inject({ method: 'GET', url: '/api/me', headers: user.headers })).statusCode).toBe(423);
  });

  it('a room ban on node A takes the user’s socket on node B out of the room at once', async () => {
    const mod = await newUser(a.app);
    const member = await newUser(a.app);
    const other = await newUser(a.app);
    const room = await newRoom(a.db, { members: [{ id: mod.id, roomRole: 'moderator' }, { id: member.id }, { id: other.id }] });
    const bannedOnB = await connectSocket(b.url, member.token);
    const otherOnB = await connectSocket(b.url, other.token);
    sockets.push(bannedOnB, otherOnB);
    const told = waitForEvent(bannedOnB, 'moderation:applied', (p: any) => p.action === 'ban');
    const res = await a.app.inject({ method: 'POST', url: `/api/rooms/${room.id}/bans`, headers: mod.headers, payload: { userId: member.id, reason: 'threats' } });
    expect(res.statusCode).toBe(201);
    await told;
    const frames = recordAll(bannedOnB);
    const seen = waitForEvent(otherOnB, 'message:new', (m: any) => m.body === 'after the ban');
    const sent = await a.app.inject({ method: 'POST', url: `/api/rooms/${room.id}/messages`, headers: other.headers, payload: { body: 'after the ban', clientId: newClientId() } });
    expect(sent.statusCode).toBe(201);
    await seen;
    expect(frames).toEqual([]);
  });
});
