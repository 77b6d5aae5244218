import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loggerOptions } from '../../src/logger.js';
import { newUser, type TestUser } from '../helpers/factories.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { act, book, publishSlot } from './helpers.js';

const ADDRESS = '札幌市北区 秘密の住所 9-9-9';
const NOTE = 'my private note';

let s: TestServer;
let staff: TestUser;
let otherStaff: TestUser;
let member: TestUser;

beforeAll(async () => {
  s = await startTestServer();
  [staff, otherStaff, member] = await Promise.all([
    newUser(s.app, { role: 'staff' }),
    newUser(s.app, { role: 'staff' }),
    newUser(s.app, { role: 'member', handle: 'hikari_7' }),
  ]);
});
afterAll(async () => {
  await s.close();
});

const issue = (u: TestUser, host?: string) =>
  s.app.inject({ method: 'POST', url: '/api/me/calendar-token', headers: { ...u.headers, ...(host ? { host } : {}) } });
const feed = (token: string) => s.app.inject({ method: 'GET', url: `/api/bookings/calendar.ics?token=${encodeURIComponent(token)}` });

describe('POST /api/me/calendar-token', () => {
  it('staff get 201 {token, url}: a 256-bit token, an absolute feed URL from the request host, only its hash stored', async () => {
    const res = await issue(staff, 'engawa.example.org');
    expect(res.statusCode).toBe(201);
    expect(res.headers['cache-control']).toBe('no-store');
    const { token, url } = res.json();
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(url).toBe(`http://engawa.example.org/api/bookings/calendar.ics?token=${token}`);
    const row = await s.db.selectFrom('users').select('calendar_token_hash').where('id', '=', staff.id).executeTakeFirstOrThrow();
    expect(row.calendar_token_hash).toBe(createHash('sha256').update(token).digest('hex'));
    expect(row.calendar_token_hash).not.toContain(token);
  });

  it('members, families and moderators → 403; no bearer → 401; a body with fields → 400', async () => {
    for (const role of ['member', 'family', 'moderator'] as const) {
      expect((await issue(await newUser(s.app, { role }))).statusCode).toBe(403);
    }
    expect((await s.app.inject({ method: 'POST', url: '/api/me/calendar-token' })).statusCode).toBe(401);
    const extra = await s.app.inject({ method: 'POST', url: '/api/me/calendar-token', headers: staff.headers, payload: { ttl: 5 } });
    expect(extra.statusCode).toBe(400);
  });
});

describe('GET /api/bookings/calendar.ics', () => {
  it('serves the staff member’s confirmed bookings with kind and handle, never the address or note', async () => {
    const visitSlot = await publishSlot(s, staff, { location: 'North ward' });
    const officeSlot = await publishSlot(s, staff, { location: 'Engawa office' });
    const requestedSlot = await publishSlot(s, staff);
    const othersSlot = await publishSlot(s, otherStaff);
    const visit = (await book(s, member, visitSlot.id, { kind: 'visit', visitAddress: ADDRESS, note: NOTE })).json();
    const office = (await book(s, member, officeSlot.id, { note: NOTE })).json();
    const requested = (await book(s, member, requestedSlot.id)).json();
    const others = (await book(s, member, othersSlot.id)).json();
    for (const [u, b] of [[staff, visit], [staff, office], [otherStaff, others]] as const) {
      expect((await act(s, u, b.id, 'confirm')).statusCode).toBe(200);
    }
    const { token } = (await issue(staff)).json();

    const res = await feed(token);
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/calendar/);
    expect(res.headers['cache-control']).toBe('no-store');
    const ics = res.body;
    expect(ics).toContain('BEGIN:VCALENDAR');
    expect(ics).toContain(`UID:${visit.id}@engawa`);
    expect(ics).toContain(`UID:${office.id}@engawa`);
    expect(ics).not.toContain(requested.id);
    expect(ics).not.toContain(others.id);
    expect(ics).toMatch(/SUMMARY:出張 outreach visit: hikari_7/);
    expect(ics).toMatch(/SUMMARY:来談 office consultation: hikari_7/);
    expect(ics).toContain('LOCATION:Engawa office');
    expect(ics).not.toContain('秘密');
    expect(ics).not.toContain('9-9-9');
    expect(ics).not.toContain(NOTE);
    expect(ics.match(/BEGIN:VEVENT/g)).toHaveLength(2);

    // A cancelled booking leaves the feed.
    await act(s, member, office.id, 'cancel');
    expect((await feed(token)).body).not.toContain(office.id);
  });

  it('a rotated token stops the old feed (401); the new one works; wrong or missing tokens → 401', async () => {
    const first = (await issue(staff)).json().token;
    expect((await feed(first)).statusCode).toBe(200);
    const second = (await issue(staff)).json().token;
    expect(second).not.toBe(first);
    const old = await feed(first);
    expect(old.statusCode).toBe(401);
    expect(old.json().error.code).toBe('UNAUTHENTICATED');
    expect((await feed(second)).statusCode).toBe(200);
    expect((await feed('not-a-real-token')).statusCode).toBe(401);
    expect((await s.app.inject({ method: 'GET', url: '/api/bookings/calendar.ics' })).statusCode).toBe(401);
    expect((await s.app.inject({ method: 'GET', url: `/api/bookings/calendar.ics?token=${second}&x=1` })).statusCode).toBe(400);
    // A bearer token is not a calendar token.
    expect((await s.app.inject({ method: 'GET', url: '/api/bookings/calendar.ics', headers: staff.headers })).statusCode).toBe(401);
  });

  it('a staff member who is suspended or no longer staff loses the feed', async () => {
    const former = await newUser(s.app, { role: 'staff' });
    const { token } = (await issue(former)).json();
    expect((await feed(token)).statusCode).toBe(200);
    await s.db.updateTable('users').set({ role: 'member' }).where('id', '=', former.id).execute();
    expect((await feed(token)).statusCode).toBe(401);
    await s.db.updateTable('users').set({ role: 'staff', suspended_at: new Date() }).where('id', '=', former.id).execute();
    expect((await feed(token)).statusCode).toBe(401);
  });

  it('request logs carry the path without the query string, so the token never reaches a log line', () => {
    const opts = loggerOptions('info') as { serializers: { req: (r: object) => { url: string } } };
    const logged = opts.serializers.req({ id: 'r1', method: 'GET', url: '/api/bookings/calendar.ics?token=SECRET123' });
    expect(logged.url).toBe('/api/bookings/calendar.ics');
    expect(JSON.stringify(logged)).not.toContain('SECRET123');
  });
});
