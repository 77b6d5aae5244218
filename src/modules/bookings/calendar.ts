import ical from 'ical-generator';
import type { Database } from '../../db/database.js';
import { forbidden, unauthenticated } from '../../errors.js';
import type { Actor } from '../auth/actor.js';
import { isSuspended } from '../auth/actor.js';
import { isStaff } from '../auth/roles.js';
import { randomSecret, sha256 } from '../auth/tokens.js';
import { selectBookings } from './repository.js';

/** Confirmed bookings this far back stay in the feed. */
const FEED_HISTORY_DAYS = 90;

/**
 * A new calendar feed token for a staff user (256 random bits); only its sha256 is stored, and the
 * previous token stops working at once.
 */
export async function issueCalendarToken(db: Database, actor: Actor): Promise<string> {
  if (!isStaff(actor.role)) throw forbidden('Only staff have a calendar feed');
  const token = randomSecret(32);
  await db.updateTable('users').set({ calendar_token_hash: sha256(token) }).where('id', '=', actor.id).execute();
  return token;
}

const KIND_LABEL = { office: '来談 office consultation', visit: '出張 outreach visit' } as const;

/**
 * The iCalendar feed of the token's staff user: confirmed bookings with kind and member handle.
 * Never the visit address, never the member's note. A wrong, replaced or suspended token → 401.
 */
export async function calendarFeed(db: Database, token: string | undefined): Promise<string> {
  if (!token) throw unauthenticated('A calendar token is required');
  const user = await db
    .selectFrom('users')
    .select(['id', 'role', 'display_name', 'suspended_at', 'suspended_until'])
    .where('calendar_token_hash', '=', sha256(token))
    .executeTakeFirst();
  if (!user || !isStaff(user.role) || isSuspended(user)) throw unauthenticated('This calendar link is not valid');
  const rows = await selectBookings(db)
    .where('b.staff_id', '=', user.id)
    .where('b.status', '=', 'confirmed')
    .where('b.ends_at', '>', new Date(Date.now() - FEED_HISTORY_DAYS * 24 * 60 * 60 * 1000))
    .orderBy('b.starts_at')
    .execute();
  const cal = ical({ name: `Engawa: ${user.display_name}`, prodId: { company: 'Engawa', product: 'bookings', language: 'EN' } });
  for (const row of rows) {
    cal.createEvent({
      id: `${row.id}@engawa`,
      start: row.starts_at,
      end: row.ends_at,
      stamp: row.updated_at,
      summary: `${KIND_LABEL[row.kind]}: ${row.member_handle}`,
      // The slot's published place (staff-written); the member's visit address is never here.
      location: row.location || null,
      description: `Booking ${row.id}`,
    });
  }
  return cal.toString();
}
