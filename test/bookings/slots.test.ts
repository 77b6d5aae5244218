import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newUser, type TestUser } from '../helpers/factories.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { book, inMinutes, publishSlot } from './helpers.js';

let s: TestServer;
let staff: TestUser;
let otherStaff: TestUser;
let admin: TestUser;
let member: TestUser;
let moderator: TestUser;

beforeAll(async () => {
  s = await startTestServer();
  [staff, otherStaff, admin, member, moderator] = await Promise.all([
    newUser(s.app, { role: 'staff', displayName: 'Sato (staff)' }),
    newUser(s.app, { role: 'staff' }),
    newUser(s.app, { role: 'admin' }),
    newUser(s.app, { role: 'member' }),
    newUser(s.app, { role: 'moderator' }),
  ]);
});
afterAll(async () => {
  await s.close();
});

const post = (user: TestUser, payload: unknown) => s.app.inject({ method: 'POST', url: '/api/slots', headers: user.headers, payload: payload as object });
const list = (user: TestUser, query = '') => s.app.inject({ method: 'GET', url: `/api/slots${query}`, headers: user.headers });

describe('POST /api/slots', () => {
  it('staff publish a slot → 201 slot object, no-store', async () => {
    const startsAt = inMinutes(24 * 60);
    const endsAt = inMinutes(24 * 60 + 45);
    const res = await post(staff, { startsAt, endsAt, kinds: ['office'], location: '札幌市 office' });
    expect(res.statusCode).toBe(201);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.json()).toEqual({
      id: expect.any(String),
      staff: { id: staff.id, displayName: 'Sato (staff)' },
      startsAt,
      endsAt,
      kinds: ['office'],
      location: '札幌市 office',
      booked: false,
    });
  });

  it('location is optional (empty string); admins may publish too', async () => {
    const res = await post(admin, { startsAt: inMinutes(600), endsAt: inMinutes(615), kinds: ['visit', 'office'] });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toMatchObject({ location: '', kinds: ['visit', 'office'] });
  });

  it('members, families and moderators → 403', async () => {
    const family = await newUser(s.app, { role: 'family' });
    for (const u of [member, family, moderator]) {
      const res = await post(u, { startsAt: inMinutes(60), endsAt: inMinutes(120), kinds: ['office'] });
      expect(res.statusCode).toBe(403);
      expect(res.json().error.code).toBe('FORBIDDEN');
    }
  });

  it('without a token → 401', async () => {
    const res = await s.app.inject({ method: 'POST', url: '/api/slots', payload: { startsAt: inMinutes(60), endsAt: inMinutes(120), kinds: ['office'] } });
    expect(res.statusCode).toBe(401);
  });

  const bad: Array<[string, Record<string, unknown>, string]> = [
    ['a start in the past', { startsAt: inMinutes(-60), endsAt: inMinutes(30), kinds: ['office'] }, 'startsAt'],
    ['the end before the start', { startsAt: inMinutes(120), endsAt: inMinutes(60), kinds: ['office'] }, 'endsAt'],
    ['the end equal to the start', { startsAt: inMinutes(120), endsAt: inMinutes(120), kinds: ['office'] }, 'endsAt'],
    ['14 minutes (too short)', { startsAt: inMinutes(120), endsAt: inMinutes(134), kinds: ['office'] }, 'endsAt'],
    ['241 minutes (too long)', { startsAt: inMinutes(120), endsAt: inMinutes(361), kinds: ['office'] }, 'endsAt'],
    ['more than a year ahead', { startsAt: inMinutes(400 * 24 * 60), endsAt: inMinutes(400 * 24 * 60 + 60), kinds: ['office'] }, 'startsAt'],
    ['no kinds', { startsAt: inMinutes(120), endsAt: inMinutes(180), kinds: [] }, 'kinds'],
    ['an unknown kind', { startsAt: inMinutes(120), endsAt: inMinutes(180), kinds: ['phone'] }, 'kinds.0'],
    ['a repeated kind', { startsAt: inMinutes(120), endsAt: inMinutes(180), kinds: ['office', 'office'] }, 'kinds'],
    ['a location over 200 characters', { startsAt: inMinutes(120), endsAt: inMinutes(180), kinds: ['office'], location: 'x'.repeat(201) }, 'location'],
    ['a date that is not ISO-8601', { startsAt: 'tomorrow', endsAt: inMinutes(180), kinds: ['office'] }, 'startsAt'],
    ['a missing endsAt', { startsAt: inMinutes(120), kinds: ['office'] }, 'endsAt'],
    ['an extra field', { startsAt: inMinutes(120), endsAt: inMinutes(180), kinds: ['office'], capacity: 3 }, 'capacity'],
  ];
  for (const [what, payload, field] of bad) {
    it(`${what} → 400 VALIDATION naming ${field}, nothing stored`, async () => {
      const before = await s.db.selectFrom('slots').select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow();
      const res = await post(staff, payload);
      expect(res.statusCode).toBe(400);
      const body = res.json();
      expect(body.error.code).toBe('VALIDATION');
      expect(body.error.details.fields.map((f: { field: string }) => f.field)).toContain(field);
      const after = await s.db.selectFrom('slots').select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow();
      expect(after.n).toBe(before.n);
    });
  }

  it('an overlapping slot of the same staff → 409; back-to-back and other staff are fine', async () => {
    const base = 10 * 24 * 60;
    expect((await post(staff, { startsAt: inMinutes(base), endsAt: inMinutes(base + 60), kinds: ['office'] })).statusCode).toBe(201);
    const overlap = await post(staff, { startsAt: inMinutes(base + 30), endsAt: inMinutes(base + 90), kinds: ['visit'] });
    expect(overlap.statusCode).toBe(409);
    expect(overlap.json().error.code).toBe('CONFLICT');
    expect((await post(staff, { startsAt: inMinutes(base + 60), endsAt: inMinutes(base + 120), kinds: ['office'] })).statusCode).toBe(201);
    expect((await post(otherStaff, { startsAt: inMinutes(base + 30), endsAt: inMinutes(base + 90), kinds: ['office'] })).statusCode).toBe(201);
  });
});

describe('GET /api/slots', () => {
  it('lists open future slots in the range for any signed-in user; booked ones only to their staff', async () => {
    const open = await publishSlot(s, staff, { kinds: ['office'] });
    const visitOnly = await publishSlot(s, staff, { kinds: ['visit'] });
    const booked = await publishSlot(s, staff);
    expect((await book(s, member, booked.id)).statusCode).toBe(201);

    const asMember = (await list(member)).json().slots.map((x: { id: string }) => x.id);
    expect(asMember).toEqual(expect.arrayContaining([open.id, visitOnly.id]));
    expect(asMember).not.toContain(booked.id);
    const asModerator = (await list(moderator)).json().slots.map((x: { id: string }) => x.id);
    expect(asModerator).toContain(open.id);
    expect(asModerator).not.toContain(booked.id);
    const asOtherStaff = (await list(otherStaff)).json().slots.map((x: { id: string }) => x.id);
    expect(asOtherStaff).not.toContain(booked.id);

    const asStaff = (await list(staff)).json().slots;
    expect(asStaff.find((x: { id: string }) => x.id === booked.id)).toMatchObject({ booked: true });
    expect(asStaff.find((x: { id: string }) => x.id === open.id)).toMatchObject({ booked: false });

    const visits = (await list(member, '?kind=visit')).json().slots.map((x: { id: string; kinds: string[] }) => x);
    expect(visits.every((x: { kinds: string[] }) => x.kinds.includes('visit'))).toBe(true);
    expect(visits.map((x: { id: string }) => x.id)).toContain(visitOnly.id);
    expect(visits.map((x: { id: string }) => x.id)).not.toContain(open.id);
  });

  it('from/to select the range; past slots never show', async () => {
    const far = await publishSlot(s, staff, { startsInMinutes: 60 * 24 * 60 });
    const soon = (await list(member)).json().slots.map((x: { id: string }) => x.id);
    expect(soon).not.toContain(far.id); // default: next 4 weeks
    const from = inMinutes(59 * 24 * 60);
    const to = inMinutes(61 * 24 * 60);
    const ranged = await list(member, `?from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`);
    expect(ranged.statusCode).toBe(200);
    expect(ranged.json().slots.map((x: { id: string }) => x.id)).toEqual([far.id]);

    const past = await publishSlot(s, staff);
    await s.db.updateTable('slots').set({ starts_at: new Date(Date.now() - 3600_000), ends_at: new Date(Date.now() - 1800_000) }).where('id', '=', past.id).execute();
    const fromPast = encodeURIComponent(inMinutes(-24 * 60));
    expect((await list(staff, `?from=${fromPast}`)).json().slots.map((x: { id: string }) => x.id)).not.toContain(past.id);
  });

  const badQueries: Array<[string, string, string]> = [
    ['to before from', `?from=${encodeURIComponent(inMinutes(600))}&to=${encodeURIComponent(inMinutes(60))}`, 'to'],
    ['a range over 92 days', `?from=${encodeURIComponent(inMinutes(60))}&to=${encodeURIComponent(inMinutes(93 * 24 * 60 + 60))}`, 'to'],
    ['an unknown kind', '?kind=phone', 'kind'],
    ['a bad date', '?from=yesterday', 'from'],
    ['an unknown parameter', '?staffId=1', 'staffId'],
  ];
  for (const [what, query, field] of badQueries) {
    it(`${what} → 400 VALIDATION naming ${field}`, async () => {
      const res = await list(member, query);
      expect(res.statusCode).toBe(400);
      expect(res.json().error.details.fields.map((f: { field: string }) => f.field)).toContain(field);
    });
  }
});

describe('DELETE /api/slots/:id', () => {
  it('its staff withdraws it → 204, gone from the list, and the time is free again', async () => {
    const slot = await publishSlot(s, staff);
    const res = await s.app.inject({ method: 'DELETE', url: `/api/slots/${slot.id}`, headers: staff.headers });
    expect(res.statusCode).toBe(204);
    expect((await list(member)).json().slots.map((x: { id: string }) => x.id)).not.toContain(slot.id);
    const again = await post(staff, { startsAt: slot.startsAt, endsAt: slot.endsAt, kinds: ['office'] });
    expect(again.statusCode).toBe(201); // the soft-deleted slot no longer blocks the exclusion constraint
    expect((await s.app.inject({ method: 'DELETE', url: `/api/slots/${slot.id}`, headers: staff.headers })).statusCode).toBe(404);
  });

  it('another staff member or a member → 403; an admin may; unknown → 404; bad id → 400', async () => {
    const slot = await publishSlot(s, staff);
    expect((await s.app.inject({ method: 'DELETE', url: `/api/slots/${slot.id}`, headers: otherStaff.headers })).statusCode).toBe(403);
    expect((await s.app.inject({ method: 'DELETE', url: `/api/slots/${slot.id}`, headers: member.headers })).statusCode).toBe(403);
    expect((await s.app.inject({ method: 'DELETE', url: `/api/slots/${slot.id}`, headers: admin.headers })).statusCode).toBe(204);
    expect((await s.app.inject({ method: 'DELETE', url: '/api/slots/00000000-0000-4000-8000-000000000000', headers: admin.headers })).statusCode).toBe(404);
    expect((await s.app.inject({ method: 'DELETE', url: '/api/slots/not-a-uuid', headers: admin.headers })).statusCode).toBe(400);
  });

  it('a slot with an active booking → 409; after the booking is cancelled → 204', async () => {
    const slot = await publishSlot(s, staff);
    const booking = (await book(s, member, slot.id)).json();
    const refused = await s.app.inject({ method: 'DELETE', url: `/api/slots/${slot.id}`, headers: staff.headers });
    expect(refused.statusCode).toBe(409);
    expect((await s.app.inject({ method: 'POST', url: `/api/bookings/${booking.id}/cancel`, headers: member.headers, payload: {} })).statusCode).toBe(200);
    expect((await s.app.inject({ method: 'DELETE', url: `/api/slots/${slot.id}`, headers: staff.headers })).statusCode).toBe(204);
  });
});
