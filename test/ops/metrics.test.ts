import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { newRoom, newUser, newClientId } from '../helpers/factories.js';
import { connectSocket } from '../helpers/sockets.js';
import { metricSample, pollUntil } from '../helpers/poll.js';

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer();
});
afterAll(async () => {
  await s.close();
});

async function scrape(server = s, headers: Record<string, string> = {}): Promise<string> {
  const res = await server.app.inject({ method: 'GET', url: '/metrics', headers });
  expect(res.statusCode).toBe(200);
  expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
  return res.body;
}

describe('GET /metrics', () => {
  it('has the HTTP latency histogram labelled by route pattern, never the raw URL', async () => {
    await s.app.inject({ method: 'GET', url: '/healthz?secret=abc' });
    await s.app.inject({ method: 'GET', url: '/docs/static/index.css' });
    await s.app.inject({ method: 'GET', url: '/api/rooms/00000000-0000-4000-8000-000000000000/nope' });
    const text = await scrape();
    expect(text).toMatch(/engawa_http_request_duration_seconds_bucket\{le="[^"]+",method="GET",route="\/healthz",status_code="200"\}/);
    expect(text).toContain('route="/docs/static/*"');
    // An unknown path is labelled by whatever pattern caught it (the SPA fallback, or "unmatched").
    expect(text).toMatch(/route="(\/\*|unmatched)",status_code="404"/);
    expect(text).not.toContain('secret=abc');
    expect(text).not.toContain('00000000-0000-4000-8000-000000000000');
    expect(text).not.toContain('index.css');
  });

  it('has the event-loop delay and process metrics', async () => {
    const text = await scrape();
    expect(text).toMatch(/^nodejs_eventloop_lag_p99_seconds \d/m);
    expect(text).toMatch(/^process_resident_memory_bytes \d/m);
  });

  it('counts live Socket.IO connections of this node', async () => {
    const before = metricSample(await scrape(), 'engawa_socketio_connections')!;
    const u = await newUser(s.app);
    const a = await connectSocket(s.url, u.token);
    const b = await connectSocket(s.url, u.token);
    await pollUntil(async () => metricSample(await scrape(), 'engawa_socketio_connections') === before + 2, { timeoutMs: 3_000 });
    a.close();
    b.close();
    await pollUntil(async () => metricSample(await scrape(), 'engawa_socketio_connections') === before, { timeoutMs: 3_000 });
  });

  it('counts open flags by priority from the database', async () => {
    const u = await newUser(s.app);
    const room = await newRoom(s.db, { members: [{ id: u.id }] });
    const msg = await s.db
      .insertInto('messages')
      .values({ room_id: room.id, seq: 1, author_id: u.id, client_id: newClientId(), body: 'x' })
      .returning(['id'])
      .executeTakeFirstOrThrow();
    await s.db
      .insertInto('flags')
      .values([
        { message_id: msg.id, room_id: room.id, reporter_id: null, reason: 'self_harm', priority: 'urgent', status: 'open' },
        { message_id: msg.id, room_id: room.id, reporter_id: u.id, reason: 'spam', priority: 'normal', status: 'dismissed' },
      ])
      .execute();
    const text = await scrape();
    expect(metricSample(text, 'engawa_flags_open{priority="urgent"}')).toBe(1);
    expect(metricSample(text, 'engawa_flags_open{priority="normal"}')).toBe(0);
  });

  it('counts messages sent once each: an idempotent retry with the same clientId does not count', async () => {
    const u = await newUser(s.app);
    const room = await newRoom(s.db, { members: [{ id: u.id }] });
    const before = metricSample(await scrape(), 'engawa_messages_sent_total')!;
    const socket = await connectSocket(s.url, u.token);
    try {
      const payload = { roomId: room.id, body: 'hello', clientId: newClientId() };
      expect(await socket.emitWithAck('message:send', payload)).toMatchObject({ ok: true });
      expect(await socket.emitWithAck('message:send', payload)).toMatchObject({ ok: true });
      expect(await socket.emitWithAck('message:send', { ...payload, clientId: newClientId() })).toMatchObject({ ok: true });
    } finally {
      socket.close();
    }
    expect(metricSample(await scrape(), 'engawa_messages_sent_total')).toBe(before + 2);
  });

  it('is open without METRICS_TOKEN; with it, a scrape needs the bearer token (401 without or wrong)', async () => {
    const guarded = await startTestServer({ METRICS_TOKEN: 'scrape-token-0123456789' });
    try {
      const none = await guarded.app.inject({ method: 'GET', url: '/metrics' });
      expect(none.statusCode).toBe(401);
      expect(none.json()).toEqual({ error: { code: 'UNAUTHENTICATED', message: expect.any(String) } });
      const wrong = await guarded.app.inject({ method: 'GET', url: '/metrics', headers: { authorization: 'Bearer scrape-token-0123456788' } });
      expect(wrong.statusCode).toBe(401);
      // A second app in the same process has its own registry: no "already registered" clash.
      expect(await scrape(guarded, { authorization: 'Bearer scrape-token-0123456789' })).toContain('engawa_messages_sent_total');
    } finally {
      await guarded.close();
    }
  });
});
