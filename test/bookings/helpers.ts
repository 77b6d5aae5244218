import { expect } from 'vitest';
import type { TestServer } from '../helpers/server.js';
import type { TestUser } from '../helpers/factories.js';

const MIN = 60_000;
let nextOffset = 0;

/** An ISO time `minutes` from now. */
export const inMinutes = (minutes: number) => new Date(Date.now() + minutes * MIN).toISOString();

/**
 * Publishes a slot through the API. Each call without `startsInMinutes` takes the next free hour a
 * few days ahead, so slots of one staff member never overlap by accident.
 */
export async function publishSlot(
  s: TestServer,
  staff: TestUser,
  opts: { startsInMinutes?: number; startsAt?: string; minutes?: number; kinds?: Array<'office' | 'visit'>; location?: string } = {},
): Promise<{ id: string; startsAt: string; endsAt: string; [k: string]: unknown }> {
  const start = opts.startsInMinutes ?? 3 * 24 * 60 + 120 * nextOffset++;
  const startsAt = opts.startsAt ?? inMinutes(start);
  const endsAt = new Date(new Date(startsAt).getTime() + (opts.minutes ?? 60) * MIN).toISOString();
  const res = await s.app.inject({
    method: 'POST',
    url: '/api/slots',
    headers: staff.headers,
    payload: {
      startsAt,
      endsAt,
      kinds: opts.kinds ?? ['office', 'visit'],
      location: opts.location ?? 'Engawa office, Sapporo',
    },
  });
  expect(res.statusCode, res.body).toBe(201);
  return res.json();
}

export async function book(
  s: TestServer,
  member: TestUser,
  slotId: string,
  body: { kind?: 'office' | 'visit'; note?: string; visitAddress?: string } = {},
) {
  return s.app.inject({
    method: 'POST',
    url: '/api/bookings',
    headers: member.headers,
    payload: { slotId, kind: body.kind ?? 'office', ...(body.note ? { note: body.note } : {}), ...(body.visitAddress ? { visitAddress: body.visitAddress } : {}) },
  });
}

export async function act(s: TestServer, user: TestUser, bookingId: string, action: string, payload?: object) {
  return s.app.inject({
    method: 'POST',
    url: `/api/bookings/${bookingId}/${action}`,
    headers: user.headers,
    ...(payload ? { payload } : {}),
  });
}

let pastOffset = 0;

/**
 * Moves a booking (and its slot) so that it started `minutesAgo` minutes ago (by default at least
 * 30; each call takes an earlier 2-hour window so moved bookings of one staff never overlap).
 */
export async function moveIntoPast(s: TestServer, bookingId: string, minutesAgo?: number, minutes = 60) {
  const startsAt = new Date(Date.now() - (minutesAgo ?? 30 + 120 * pastOffset++) * MIN);
  const endsAt = new Date(startsAt.getTime() + minutes * MIN);
  const b = await s.db.updateTable('bookings').set({ starts_at: startsAt, ends_at: endsAt }).where('id', '=', bookingId).returning('slot_id').executeTakeFirstOrThrow();
  await s.db.updateTable('slots').set({ starts_at: startsAt, ends_at: endsAt }).where('id', '=', b.slot_id).execute();
}
