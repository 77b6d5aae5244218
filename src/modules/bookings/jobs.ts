import { sql, type Transaction } from 'kysely';
import type { FastifyInstance } from 'fastify';
import type { DB } from '../../db/schema.js';
import { scheduleJob } from '../../jobs.js';
import type { Realtime } from '../../realtime/realtime.js';
import { selectBookings } from './repository.js';
import { toBooking } from './service.js';

/**
 * Erases visit addresses `retentionDays` after the booking ended (declined, cancelled, completed,
 * no-show). A booking left requested/confirmed counts as ended at its end time, so no address
 * outlives its purpose. Returns how many were erased.
 */
export async function eraseExpiredAddresses(trx: Transaction<DB>, retentionDays: number): Promise<number> {
  const rows = await trx
    .updateTable('bookings')
    .set({ visit_address_enc: null, address_erased_at: sql`now()` })
    .where('visit_address_enc', 'is not', null)
    .where(sql<boolean>`coalesce(ended_at, ends_at) <= now() - make_interval(days => ${retentionDays})`)
    .returning('id')
    .execute();
  return rows.length;
}

/**
 * `booking:reminder` to the member and the staff once, within the 24 hours before a confirmed booking.
 * Like `booking:updated`, the payload carries no address. Returns how many were sent.
 */
export async function sendDueReminders(trx: Transaction<DB>, realtime: Realtime): Promise<number> {
  const due = await trx
    .updateTable('bookings')
    .set({ reminder_sent_at: sql`now()` })
    .where('status', '=', 'confirmed')
    .where('reminder_sent_at', 'is', null)
    .where('starts_at', '>', sql<Date>`now()`)
    .where('starts_at', '<=', sql<Date>`now() + interval '24 hours'`)
    .returning('id')
    .execute();
  if (due.length === 0) return 0;
  const rows = await selectBookings(trx).where('b.id', 'in', due.map((d) => d.id)).execute();
  for (const row of rows) realtime.toUsers([row.member_id, row.staff_id], 'booking:reminder', toBooking(row));
  return rows.length;
}

/**
 * Schedules both jobs (each on one node at a time, via scheduleJob's advisory lock). Tests run the
 * exported functions above directly.
 */
export function scheduleBookingJobs(app: FastifyInstance): void {
  scheduleJob(app, 'bookings:erase-addresses', 60 * 60 * 1000, async (trx) => {
    const erased = await eraseExpiredAddresses(trx, app.config.ADDRESS_RETENTION_DAYS);
    if (erased > 0) app.log.info({ erased }, 'visit addresses erased after the retention period');
  });
  scheduleJob(app, 'bookings:reminders', 5 * 60 * 1000, async (trx) => {
    await sendDueReminders(trx, app.realtime);
  });
}
