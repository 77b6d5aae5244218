import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { newUser, type TestUser } from '../helpers/factories.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { connectSocket, recordAll, waitForEvent, type ClientSocket } from '../helpers/sockets.js';
import { eraseExpiredAddresses, sendDueReminders } from '../../src/modules/bookings/jobs.js';
import { act, book, moveIntoPast, publishSlot } from './helpers.js';

const ADDRESS = '北海道札幌市中央区北1条西2丁目 コーポ縁側 203';

let s: TestServer;
let staff: TestUser;
let otherStaff: TestUser;
let admin: TestUser;
let member: TestUser;
let otherMember: TestUser;
let family: TestUser;
let moderator: TestUser;

beforeAll(async () => {
  s = await startTestServer();
  [staff, otherStaff, admin, member, otherMember, family, moderator] = await Promise.all([
    newUser(s.app, { role: 'staff', displayName: 'Sato' }),
    newUser(s.app, { role: 'staff' }),
    newUser(s.app, { role: 'admin' }),
    newUser(s.app, { role: 'member', displayName: 'Hana' }),
    newUser(s.app, { role: 'member' }),
    newUser(s.app, { role: 'family' }),
    newUser(s.app, { role: 'moderator' }),
  ]);
});
afterAll(async () => {
  await s.close();
});

const get = (user: TestUser, url: string) => s.app.inject({ method: 'GET', url, headers: user.headers });
const auditCount = async (actorId: string, bookingId: string) =>
  Number(
    (
      await s.db
        .selectFrom('audit_log')
        .select((eb) => eb.fn.countAll<string>().as('n'))
        .where('action', '=', 'booking_address_read')
        .where('actor_id', '=', actorId)
        .where('target_booking_id', '=', bookingId)
        .executeTakeFirstOrThrow()
    ).n,
  );

/** A booking of `member` with `staff` in the given status, through the API. */
async function bookingIn(status: string, opts: { kind?: 'office' | 'visit' } = {}): Promise<{ id: string; slotId: string }> {
  const slot = await publishSlot(s, staff);
  const res = await book(s, member, slot.id, opts.kind === 'visit' ? { kind: 'visit', visitAddress: ADDRESS } : {});
  expect(res.statusCode, res.body).toBe(201);
  const { id } = res.json();
  const go = async (action: string, payload?: object) => expect((await act(s, staff, id, action, payload)).statusCode).toBe(200);
  if (status === 'declined') await go('decline', { reason: 'No staff available that day' });
  if (status === 'cancelled') expect((await act(s, member, id, 'cancel', {})).statusCode).toBe(200);
  if (['confirmed', 'completed', 'no_show'].includes(status)) await go('confirm');
  if (status === 'completed' || status === 'no_show') {
    await moveIntoPast(s, id);
    await go(status === 'completed' ? 'complete' : 'no-show');
  }
  return { id, slotId: slot.id };
}

describe('POST /api/bookings', () => {
  it('a member books an office slot → 201 requested, no address field, no-store', async () => {
    const slot = await publishSlot(s, staff, { location: 'Engawa office' });
    const res = await book(s, member, slot.id, { note: '初めてです。静かな部屋だと助かります' });
    expect(res.statusCode).toBe(201);
    expect(res.headers['cache-control']).toBe('no-store');
    const b = res.json();
    expect(b).toEqual({
      id: expect.any(String),
      slotId: slot.id,
      kind: 'office',
      status: 'requested',
      startsAt: slot.startsAt,
      endsAt: slot.endsAt,
      staff: { id: staff.id, displayName: 'Sato' },
      member: { id: member.id, handle: member.handle, displayName: 'Hana' },
      note: '初めてです。静かな部屋だと助かります',
      location: 'Engawa office',
      cancelReason: null,
      addressErasedAt: null,
      createdAt: expect.any(String),
      updatedAt: expect.any(String),
    });
    expect('visitAddress' in b).toBe(false);
  });

  it('a family user books a visit with an address → 201 and sees the address; the column holds no plaintext', async () => {
    const slot = await publishSlot(s, staff);
    const res = await book(s, family, slot.id, { kind: 'visit', visitAddress: ADDRESS });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toMatchObject({ kind: 'visit', visitAddress: ADDRESS });
    const row = await s.db.selectFrom('bookings').select(['visit_address_enc']).where('id', '=', res.json().id).executeTakeFirstOrThrow();
    const stored = row.visit_address_enc!;
    expect(Buffer.isBuffer(stored)).toBe(true);
    expect(stored.length).toBe(12 + 16 + Buffer.byteLength(ADDRESS));
    expect(stored.includes(Buffer.from(ADDRESS, 'utf8'))).toBe(false);
    expect(stored.includes(Buffer.from('札幌市', 'utf8'))).toBe(false);
    // Nor as text anywhere in the row.
    const asText = await sql<{ t: string }>`select b::text as t from bookings b where id = ${res.json().id}`.execute(s.db);
    expect(asText.rows[0].t).not.toContain('札幌');
  });

  it('staff, admins and moderators cannot book → 403', async () => {
    const slot = await publishSlot(s, staff);
    for (const u of [staff, admin, moderator]) {
      const res = await book(s, u, slot.id);
      expect(res.statusCode).toBe(403);
    }
  });

  it('refuses bad input with 400 VALIDATION naming the field, and stores nothing', async () => {
    const slot = await publishSlot(s, staff, { kinds: ['office'] });
    const cases: Array<[string, object, string]> = [
      ['visit without an address', { slotId: slot.id, kind: 'visit' }, 'visitAddress'],
      ['office with an address', { slotId: slot.id, kind: 'office', visitAddress: ADDRESS }, 'visitAddress'],
      ['a kind this slot does not offer', { slotId: slot.id, kind: 'visit', visitAddress: ADDRESS }, 'kind'],
      ['an unknown kind', { slotId: slot.id, kind: 'phone' }, 'kind'],
      ['a note over 1000 characters', { slotId: slot.id, kind: 'office', note: 'あ'.repeat(1001) }, 'note'],
      ['an address over 300 characters', { slotId: slot.id, kind: 'visit', visitAddress: 'x'.repeat(301) }, 'visitAddress'],
      ['a blank address', { slotId: slot.id, kind: 'visit', visitAddress: '   ' }, 'visitAddress'],
      ['a slotId that is not a UUID', { slotId: 'abc', kind: 'office' }, 'slotId'],
      ['a missing kind', { slotId: slot.id }, 'kind'],
      ['an extra field', { slotId: slot.id, kind: 'office', status: 'confirmed' }, 'status'],
    ];
    for (const [what, payload, field] of cases) {
      const res = await s.app.inject({ method: 'POST', url: '/api/bookings', headers: member.headers, payload });
      expect(res.statusCode, what).toBe(400);
      expect(res.json().error.code, what).toBe('VALIDATION');
      expect(res.json().error.details.fields.map((f: { field: string }) => f.field), what).toContain(field);
    }
    expect((await s.db.selectFrom('bookings').select('id').where('slot_id', '=', slot.id).execute()).length).toBe(0);
    // The slot is still free: a valid request now succeeds.
    expect((await book(s, member, slot.id, { note: 'あ'.repeat(1000) })).statusCode).toBe(201);
  });

  it('an unknown or withdrawn slot → 404; a slot that has started → 409', async () => {
    expect((await book(s, member, '00000000-0000-4000-8000-000000000000')).statusCode).toBe(404);
    const withdrawn = await publishSlot(s, staff);
    expect((await s.app.inject({ method: 'DELETE', url: `/api/slots/${withdrawn.id}`, headers: staff.headers })).statusCode).toBe(204);
    expect((await book(s, member, withdrawn.id)).statusCode).toBe(404);
    const started = await publishSlot(s, otherStaff, { startsInMinutes: 10 * 24 * 60 });
    await s.db.updateTable('slots').set({ starts_at: new Date(Date.now() - 60_000), ends_at: new Date(Date.now() + 3600_000) }).where('id', '=', started.id).execute();
    const res = await book(s, member, started.id);
    expect(res.statusCode).toBe(409);
    expect(res.json().error.code).toBe('CONFLICT');
  });

  it('50 concurrent requests for one slot → exactly one 201, 49 × 409, one row', async () => {
    const slot = await publishSlot(s, staff);
    const members = await Promise.all(Array.from({ length: 50 }, (_, i) => newUser(s.app, { role: i % 5 === 0 ? 'family' : 'member' })));
    const results = await Promise.all(members.map((m) => book(s, m, slot.id)));
    const codes = results.map((r) => r.statusCode);
    expect(codes.filter((c) => c === 201)).toHaveLength(1);
    expect(codes.filter((c) => c === 409)).toHaveLength(49);
    expect(results.filter((r) => r.statusCode === 409).every((r) => r.json().error.code === 'CONFLICT')).toBe(true);
    const rows = await s.db.selectFrom('bookings').select('id').where('slot_id', '=', slot.id).execute();
    expect(rows).toHaveLength(1);
  });
});

describe('no double booking, enforced by PostgreSQL', () => {
  it('cancelling frees the slot for the next member; a second active booking is refused even by direct SQL', async () => {
    const { id, slotId } = await bookingIn('requested');
    expect((await book(s, otherMember, slotId)).statusCode).toBe(409);
    const slot = await s.db.selectFrom('slots').selectAll().where('id', '=', slotId).executeTakeFirstOrThrow();
    await expect(
      s.db
        .insertInto('bookings')
        .values({ slot_id: slotId, staff_id: staff.id, member_id: otherMember.id, kind: 'office', starts_at: slot.starts_at, ends_at: slot.ends_at })
        .execute(),
    ).rejects.toMatchObject({ code: '23505' });
    expect((await act(s, member, id, 'cancel', {})).statusCode).toBe(200);
    const again = await book(s, otherMember, slotId);
    expect(again.statusCode).toBe(201);
    expect(again.json().status).toBe('requested');
  });

  it('two overlapping confirmed bookings of one staff member cannot both exist, even by direct SQL', async () => {
    const { id } = await bookingIn('confirmed');
    const first = await s.db.selectFrom('bookings').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    // Another (withdrawn) slot of the same staff, so only the bookings' constraint is in play.
    const other = await s.db
      .insertInto('slots')
      .values({ staff_id: staff.id, starts_at: first.starts_at, ends_at: first.ends_at, kinds: ['office'], deleted_at: new Date() })
      .returning('id')
      .executeTakeFirstOrThrow();
    const half = new Date(first.starts_at.getTime() + 30 * 60_000);
    const overlapping = { slot_id: other.id, staff_id: staff.id, member_id: otherMember.id, kind: 'office' as const, starts_at: half, ends_at: new Date(half.getTime() + 3600_000) };
    await expect(s.db.insertInto('bookings').values({ ...overlapping, status: 'confirmed' }).execute()).rejects.toMatchObject({ code: '23P01' });
    // As a request it may exist; confirming it (SQL or API) is refused.
    const req = await s.db.insertInto('bookings').values(overlapping).returning('id').executeTakeFirstOrThrow();
    await expect(s.db.updateTable('bookings').set({ status: 'confirmed' }).where('id', '=', req.id).execute()).rejects.toMatchObject({ code: '23P01' });
    const viaApi = await act(s, staff, req.id, 'confirm');
    expect(viaApi.statusCode).toBe(409);
    expect(viaApi.json().error.code).toBe('CONFLICT');
    expect((await s.db.selectFrom('bookings').select('status').where('id', '=', req.id).executeTakeFirstOrThrow()).status).toBe('requested');
  });

  it('back-to-back confirmed bookings of one staff member are fine', async () => {
    const base = 40 * 24 * 60;
    const a = await publishSlot(s, staff, { startsInMinutes: base, minutes: 60 });
    const b = await publishSlot(s, staff, { startsAt: a.endsAt, minutes: 60 });
    expect(b.startsAt).toBe(a.endsAt);
    const ba = (await book(s, member, a.id)).json();
    const bb = (await book(s, otherMember, b.id)).json();
    expect((await act(s, staff, ba.id, 'confirm')).statusCode).toBe(200);
    expect((await act(s, staff, bb.id, 'confirm')).statusCode).toBe(200);
  });

  it('10 concurrent confirm/cancel requests on one booking: exactly one wins', async () => {
    const { id } = await bookingIn('requested');
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) => (i % 2 === 0 ? act(s, staff, id, 'confirm') : act(s, staff, id, 'decline', { reason: 'busy' }))),
    );
    expect(results.filter((r) => r.statusCode === 200)).toHaveLength(1);
    expect(results.filter((r) => r.statusCode === 409)).toHaveLength(9);
  });
});

describe('lifecycle', () => {
  const actions: Array<[string, string, object | undefined]> = [
    ['confirm', 'confirmed', undefined],
    ['decline', 'declined', { reason: 'Fully booked' }],
    ['cancel', 'cancelled', { reason: 'Staff illness' }],
    ['complete', 'completed', undefined],
    ['no-show', 'no_show', undefined],
  ];
  const allowed: Record<string, string[]> = {
    requested: ['confirm', 'decline', 'cancel'],
    confirmed: ['cancel', 'complete', 'no-show'],
    declined: [],
    cancelled: [],
    completed: [],
    no_show: [],
  };
  for (const [from, ok] of Object.entries(allowed)) {
    for (const [action, to, payload] of actions) {
      const expected = ok.includes(action) ? 200 : 409;
      it(`${from} → ${action}: ${expected}`, async () => {
        const { id } = await bookingIn(from);
        // complete/no-show need a started booking; move it so only the status decides.
        if (action === 'complete' || action === 'no-show') await moveIntoPast(s, id);
        const res = await act(s, staff, id, action, payload);
        expect(res.statusCode, res.body).toBe(expected);
        const row = await s.db.selectFrom('bookings').select(['status', 'ended_at', 'cancel_reason']).where('id', '=', id).executeTakeFirstOrThrow();
        if (expected === 200) {
          expect(res.json().status).toBe(to);
          expect(row.status).toBe(to);
          expect(row.ended_at !== null).toBe(to !== 'confirmed');
          if (payload) expect(res.json().cancelReason).toBe((payload as { reason: string }).reason);
        } else {
          expect(res.json().error.code).toBe('CONFLICT');
          expect(row.status).toBe(from);
        }
      });
    }
  }

  it('complete and no-show before the start → 409; confirm after the end → 409', async () => {
    const { id } = await bookingIn('confirmed');
    expect((await act(s, staff, id, 'complete')).statusCode).toBe(409);
    expect((await act(s, staff, id, 'no-show')).statusCode).toBe(409);
    const req = await bookingIn('requested');
    await moveIntoPast(s, req.id, 30 * 24 * 60, 60);
    const late = await act(s, staff, req.id, 'confirm');
    expect(late.statusCode).toBe(409);
  });

  it('the member, the staff and admins cancel with or without a reason (API.md: cancel {reason?})', async () => {
    const a = await bookingIn('confirmed');
    const byMember = await act(s, member, a.id, 'cancel');
    expect(byMember.statusCode).toBe(200);
    expect(byMember.json()).toMatchObject({ status: 'cancelled', cancelReason: null });

    const b = await bookingIn('requested');
    const noReason = await act(s, staff, b.id, 'cancel', {});
    expect(noReason.statusCode).toBe(200);
    expect(noReason.json()).toMatchObject({ status: 'cancelled', cancelReason: null });
    const b2 = await bookingIn('requested');
    expect((await act(s, admin, b2.id, 'cancel')).statusCode).toBe(200);
    const b3 = await bookingIn('requested');
    const byAdmin = await act(s, admin, b3.id, 'cancel', { reason: 'Office closed' });
    expect(byAdmin.statusCode).toBe(200);
    expect(byAdmin.json().cancelReason).toBe('Office closed');

    const c = await bookingIn('requested');
    const withReason = await act(s, member, c.id, 'cancel', { reason: '体調が悪いので' });
    expect(withReason.json()).toMatchObject({ status: 'cancelled', cancelReason: '体調が悪いので' });
  });

  it('who may do what: members 403 on staff actions, other staff and other members 404, admins allowed', async () => {
    const { id } = await bookingIn('requested');
    for (const action of ['confirm', 'complete', 'no-show']) expect((await act(s, member, id, action)).statusCode).toBe(403);
    expect((await act(s, member, id, 'decline', { reason: 'x' })).statusCode).toBe(403);
    for (const u of [otherStaff, otherMember, moderator]) {
      expect((await act(s, u, id, 'confirm')).statusCode).toBe(404);
      expect((await act(s, u, id, 'cancel', { reason: 'x' })).statusCode).toBe(404);
    }
    expect((await act(s, admin, id, 'confirm')).statusCode).toBe(200);
  });

  it('bad transition input → 400: decline without or with a blank/over-long reason, extra fields, bad ids', async () => {
    const { id } = await bookingIn('requested');
    const cases: Array<[string, string, object | undefined]> = [
      ['decline without a body', `/api/bookings/${id}/decline`, undefined],
      ['decline without a reason', `/api/bookings/${id}/decline`, {}],
      ['decline with a blank reason', `/api/bookings/${id}/decline`, { reason: '  ' }],
      ['decline with a reason over 500', `/api/bookings/${id}/decline`, { reason: 'x'.repeat(501) }],
      ['confirm with an extra field', `/api/bookings/${id}/confirm`, { force: true }],
      ['cancel with an extra field', `/api/bookings/${id}/cancel`, { reason: 'x', notify: false }],
      ['confirm with a bad id', '/api/bookings/nope/confirm', undefined],
    ];
    for (const [what, url, payload] of cases) {
      const res = await s.app.inject({ method: 'POST', url, headers: staff.headers, ...(payload ? { payload } : {}) });
      expect(res.statusCode, what).toBe(400);
      expect(res.json().error.code, what).toBe('VALIDATION');
    }
    expect((await s.db.selectFrom('bookings').select('status').where('id', '=', id).executeTakeFirstOrThrow()).status).toBe('requested');
    expect((await act(s, staff, '00000000-0000-4000-8000-000000000000', 'confirm')).statusCode).toBe(404);
  });
});

describe('who sees which booking and address', () => {
  it('GET /api/bookings/:id: the member, the slot’s staff and admins; others 404', async () => {
    const { id } = await bookingIn('requested', { kind: 'visit' });
    const own = await get(member, `/api/bookings/${id}`);
    expect(own.statusCode).toBe(200);
    expect(own.headers['cache-control']).toBe('no-store');
    expect(own.json().visitAddress).toBe(ADDRESS);
    expect(await auditCount(member.id, id)).toBe(0); // the member's own address is not an audited read

    for (const u of [otherMember, otherStaff, moderator, family]) {
      const res = await get(u, `/api/bookings/${id}`);
      expect(res.statusCode).toBe(404);
      expect(res.body).not.toContain('札幌');
    }

    const byStaff = await get(staff, `/api/bookings/${id}`);
    expect(byStaff.json().visitAddress).toBe(ADDRESS);
    expect(byStaff.headers['cache-control']).toBe('no-store');
    expect(await auditCount(staff.id, id)).toBe(1);
    await get(staff, `/api/bookings/${id}`);
    expect(await auditCount(staff.id, id)).toBe(2);

    const byAdmin = await get(admin, `/api/bookings/${id}`);
    expect(byAdmin.json().visitAddress).toBe(ADDRESS);
    expect(await auditCount(admin.id, id)).toBe(1);
    const entry = await s.db.selectFrom('audit_log').selectAll().where('actor_id', '=', admin.id).where('target_booking_id', '=', id).executeTakeFirstOrThrow();
    expect(entry).toMatchObject({ action: 'booking_address_read', target_user_id: member.id });
  });

  it('GET /api/bookings: own for members, own slots’ for staff, all for admin; each staff read of an address is audited', async () => {
    const visit = await bookingIn('confirmed', { kind: 'visit' });
    const office = await bookingIn('requested');
    const othersSlot = await publishSlot(s, otherStaff);
    const theirs = (await book(s, otherMember, othersSlot.id, { kind: 'visit', visitAddress: '別の住所 1-2-3' })).json();

    const ids = async (u: TestUser, q = '') => (await get(u, `/api/bookings${q}`)).json().bookings.map((b: { id: string }) => b.id);
    const mine = await ids(member);
    expect(mine).toEqual(expect.arrayContaining([visit.id, office.id]));
    expect(mine).not.toContain(theirs.id);
    const otherMembers = await ids(otherMember);
    expect(otherMembers).toContain(theirs.id);
    expect(otherMembers).not.toContain(visit.id);
    expect(await ids(moderator)).toEqual([]);

    const before = await auditCount(staff.id, visit.id);
    const staffList = await get(staff, '/api/bookings');
    expect(staffList.headers['cache-control']).toBe('no-store');
    const listed = staffList.json().bookings;
    expect(listed.map((b: { id: string }) => b.id)).not.toContain(theirs.id);
    expect(listed.find((b: { id: string }) => b.id === visit.id).visitAddress).toBe(ADDRESS);
    expect('visitAddress' in listed.find((b: { id: string }) => b.id === office.id)).toBe(false);
    expect(await auditCount(staff.id, visit.id)).toBe(before + 1);
    expect(await auditCount(staff.id, theirs.id)).toBe(0);

    const all = await ids(admin);
    expect(all).toEqual(expect.arrayContaining([visit.id, office.id, theirs.id]));
    expect(await auditCount(admin.id, theirs.id)).toBeGreaterThanOrEqual(1);

    const confirmed = (await get(member, '/api/bookings?status=confirmed')).json().bookings;
    expect(confirmed.every((b: { status: string }) => b.status === 'confirmed')).toBe(true);
    expect(confirmed.map((b: { id: string }) => b.id)).toContain(visit.id);
    expect((await get(member, '/api/bookings?status=maybe')).statusCode).toBe(400);
    expect((await get(member, '/api/bookings?mine=1')).statusCode).toBe(400);
  });

  it('a staff transition that returns the address is audited too', async () => {
    const { id } = await bookingIn('requested', { kind: 'visit' });
    const before = await auditCount(staff.id, id);
    const res = await act(s, staff, id, 'confirm');
    expect(res.json().visitAddress).toBe(ADDRESS);
    expect(await auditCount(staff.id, id)).toBe(before + 1);
  });
});

describe('events', () => {
  let sockets: ClientSocket[] = [];
  afterAll(() => sockets.forEach((x) => x.close()));

  it('every change emits booking:updated to the member and the staff, without the address; nobody else hears it', async () => {
    const [m, st, other, otherSt] = await Promise.all([member, staff, otherMember, otherStaff].map((u) => connectSocket(s.url, u.token)));
    sockets = [m, st, other, otherSt];
    const heardByOthers = [recordAll(other), recordAll(otherSt)];
    const slot = await publishSlot(s, staff);

    const created = Promise.all([m, st].map((x) => waitForEvent(x, 'booking:updated', (b: { slotId: string }) => b.slotId === slot.id)));
    const res = await book(s, member, slot.id, { kind: 'visit', visitAddress: ADDRESS });
    const id = res.json().id;
    for (const payload of await created) {
      expect(payload).toMatchObject({ id, status: 'requested', kind: 'visit' });
      expect('visitAddress' in payload).toBe(false);
    }

    const confirmed = Promise.all([m, st].map((x) => waitForEvent(x, 'booking:updated', (b: { id: string; status: string }) => b.id === id && b.status === 'confirmed')));
    await act(s, staff, id, 'confirm');
    await confirmed;

    const cancelled = Promise.all([m, st].map((x) => waitForEvent(x, 'booking:updated', (b: { id: string; status: string }) => b.id === id && b.status === 'cancelled')));
    await act(s, member, id, 'cancel');
    await cancelled;

    for (const seen of heardByOthers) expect(seen.filter((e) => e.event.startsWith('booking:'))).toEqual([]);
    const all = JSON.stringify(heardByOthers);
    expect(all).not.toContain('札幌');
  });

  it('the reminder job sends booking:reminder to both, once, the day before a confirmed booking', async () => {
    const [m, st] = await Promise.all([member, staff].map((u) => connectSocket(s.url, u.token)));
    sockets.push(m, st);
    const tomorrow = await publishSlot(s, staff, { startsInMinutes: 20 * 60 });
    const later = await publishSlot(s, staff, { startsInMinutes: 50 * 60 });
    const b1 = (await book(s, member, tomorrow.id)).json();
    const b2 = (await book(s, member, later.id)).json();
    await act(s, staff, b1.id, 'confirm');
    await act(s, staff, b2.id, 'confirm');

    const reminded = Promise.all([m, st].map((x) => waitForEvent(x, 'booking:reminder', (b: { id: string }) => b.id === b1.id)));
    const heard = [recordAll(m), recordAll(st)];
    const sent = await s.db.transaction().execute((trx) => sendDueReminders(trx, s.app.realtime));
    expect(sent).toBeGreaterThanOrEqual(1);
    await reminded;
    const again = await s.db.transaction().execute((trx) => sendDueReminders(trx, s.app.realtime));
    expect(again).toBe(0);
    const row = await s.db.selectFrom('bookings').select(['reminder_sent_at']).where('id', 'in', [b1.id, b2.id]).orderBy('starts_at').execute();
    expect(row[0].reminder_sent_at).not.toBeNull();
    expect(row[1].reminder_sent_at).toBeNull(); // more than a day ahead: not yet
    for (const h of heard) expect(h.filter((e) => e.event === 'booking:reminder' && (e.args[0] as { id: string }).id === b2.id)).toEqual([]);
  });
});

describe('address retention', () => {
  it('the job erases addresses of bookings that ended more than ADDRESS_RETENTION_DAYS ago, and only those', async () => {
    const old = await bookingIn('cancelled', { kind: 'visit' });
    const recent = await bookingIn('declined', { kind: 'visit' });
    const active = await bookingIn('confirmed', { kind: 'visit' });
    await s.db.updateTable('bookings').set({ ended_at: new Date(Date.now() - 31 * 24 * 3600_000) }).where('id', '=', old.id).execute();
    await s.db.updateTable('bookings').set({ ended_at: new Date(Date.now() - 29 * 24 * 3600_000) }).where('id', '=', recent.id).execute();

    const erased = await s.db.transaction().execute((trx) => eraseExpiredAddresses(trx, s.app.config.ADDRESS_RETENTION_DAYS));
    expect(erased).toBe(1);
    const rows = await s.db.selectFrom('bookings').select(['id', 'visit_address_enc', 'address_erased_at']).where('id', 'in', [old.id, recent.id, active.id]).execute();
    const byId = Object.fromEntries(rows.map((r) => [r.id, r]));
    expect(byId[old.id].visit_address_enc).toBeNull();
    expect(byId[old.id].address_erased_at).not.toBeNull();
    expect(byId[recent.id].visit_address_enc).not.toBeNull();
    expect(byId[active.id].visit_address_enc).not.toBeNull();

    const view = (await get(member, `/api/bookings/${old.id}`)).json();
    expect('visitAddress' in view).toBe(false);
    expect(view.addressErasedAt).toEqual(expect.any(String));
    expect((await get(member, `/api/bookings/${recent.id}`)).json().visitAddress).toBe(ADDRESS);
  });
});
