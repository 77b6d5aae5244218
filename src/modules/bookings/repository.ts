import type { ExpressionBuilder, Kysely } from 'kysely';
import type { DB, BookingStatus, SlotKind } from '../../db/schema.js';

/** A booking with what its contract object needs from the slot and the two users. */
export interface BookingRecord {
  id: string;
  slot_id: string;
  staff_id: string;
  member_id: string;
  kind: SlotKind;
  status: BookingStatus;
  starts_at: Date;
  ends_at: Date;
  note: string;
  visit_address_enc: Buffer | null;
  address_erased_at: Date | null;
  cancel_reason: string | null;
  created_at: Date;
  updated_at: Date;
  location: string;
  staff_display_name: string;
  member_handle: string;
  member_display_name: string;
}

export function selectBookings(db: Kysely<DB>) {
  return db
    .selectFrom('bookings as b')
    .innerJoin('slots as s', 's.id', 'b.slot_id')
    .innerJoin('users as st', 'st.id', 'b.staff_id')
    .innerJoin('users as m', 'm.id', 'b.member_id')
    .select([
      'b.id',
      'b.slot_id',
      'b.staff_id',
      'b.member_id',
      'b.kind',
      'b.status',
      'b.starts_at',
      'b.ends_at',
      'b.note',
      'b.visit_address_enc',
      'b.address_erased_at',
      'b.cancel_reason',
      'b.created_at',
      'b.updated_at',
      's.location',
      'st.display_name as staff_display_name',
      'm.handle as member_handle',
      'm.display_name as member_display_name',
    ]);
}

export async function findBooking(db: Kysely<DB>, id: string): Promise<BookingRecord | undefined> {
  return selectBookings(db).where('b.id', '=', id).executeTakeFirst();
}

/** Whether the slot `s` holds an active (requested/confirmed) booking. */
export const slotIsBooked = (eb: ExpressionBuilder<DB & { s: DB['slots'] }, 's'>) =>
  eb.exists(
    eb
      .selectFrom('bookings as b')
      .select('b.id')
      .whereRef('b.slot_id', '=', 's.id')
      .where('b.status', 'in', ['requested', 'confirmed']),
  );

export function selectSlots(db: Kysely<DB>) {
  return db
    .selectFrom('slots as s')
    .innerJoin('users as u', 'u.id', 's.staff_id')
    .select((eb) => [
      's.id',
      's.staff_id',
      's.starts_at',
      's.ends_at',
      's.kinds',
      's.location',
      'u.display_name as staff_display_name',
      slotIsBooked(eb).as('booked'),
    ])
    .where('s.deleted_at', 'is', null);
}

export type SlotRecord = Awaited<ReturnType<ReturnType<typeof selectSlots>['executeTakeFirstOrThrow']>>;
