import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sweepIntervalMs } from '../../src/modules/calls/jobs.js';
import { newRoom, newUser } from '../helpers/factories.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { connectSocket, recordAll, waitForEvent, type ClientSocket } from '../helpers/sockets.js';

const TTL_SECONDS = 2;

let nodeA: TestServer;
let nodeB: TestServer;
const sockets: ClientSocket[] = [];
beforeAll(async () => {
  // Two nodes on one database, both sweeping, sharing sockets through the Postgres adapter: whichever
  // node ends the call, the member (on node A) hears it once.
  const env = { CALL_TTL_SECONDS: String(TTL_SECONDS), SOCKET_ADAPTER: 'postgres' };
  nodeA = await startTestServer(env);
  nodeB = await startTestServer(env, { databaseUrl: nodeA.databaseUrl });
});
afterAll(async () => {
  for (const socket of sockets) socket.close();
  await nodeB.close();
  await nodeA.close();
});

describe('calls end by themselves at expiresAt', () => {
  it('the sweep runs four times per lifetime, at most every 15 s', () => {
    expect(sweepIntervalMs(180 * 60)).toBe(15_000);
    expect(sweepIntervalMs(TTL_SECONDS)).toBe(500);
    expect(sweepIntervalMs(0.1)).toBe(250);
  });

  it('with no request coming in, the call ends at its expiry: call:ended reaches a member, GET then 404, the row says expired', async () => {
    const mod = await newUser(nodeA.app);
    const member = await newUser(nodeA.app);
    const room = await newRoom(nodeA.db, { members: [{ id: mod.id, roomRole: 'moderator' }, { id: member.id }] });
    const socket = await connectSocket(nodeA.url, member.token);
    sockets.push(socket);
    const seen = recordAll(socket);

    const res = await nodeA.app.inject({ method: 'POST', url: `/api/rooms/${room.id}/call`, headers: mod.headers });
    expect(res.statusCode).toBe(201);
    const call = res.json();
    expect(Date.parse(call.expiresAt) - Date.parse(call.startedAt)).toBe(TTL_SECONDS * 1000);

    const ended = await waitForEvent(socket, 'call:ended', (p: { callId: string }) => p.callId === call.id, 10_000);
    expect(ended).toEqual({ roomId: room.id, callId: call.id });
    expect(Date.now()).toBeGreaterThanOrEqual(Date.parse(call.expiresAt));

    const get = await nodeA.app.inject({ method: 'GET', url: `/api/rooms/${room.id}/call`, headers: member.headers });
    expect(get.statusCode).toBe(404);
    const row = await nodeA.db.selectFrom('calls').selectAll().where('id', '=', call.id).executeTakeFirstOrThrow();
    expect(row.ended_reason).toBe('expired');
    expect(row.ended_at?.toISOString()).toBe(call.expiresAt);

    // A new call can start at once; once its call:started (from node B) has arrived, so would have
    // any second call:ended: there is none.
    const next = waitForEvent<{ roomId: string; id: string }>(socket, 'call:started', (c) => c.roomId === room.id);
    const again = await nodeB.app.inject({ method: 'POST', url: `/api/rooms/${room.id}/call`, headers: mod.headers });
    expect(again.statusCode).toBe(201);
    expect((await next).id).toBe(again.json().id);
    expect(seen.filter((e) => e.event === 'call:ended')).toHaveLength(1);
  });
});
