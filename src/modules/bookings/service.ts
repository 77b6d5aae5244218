import { randomUUID } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import type { Database } from '../../db/database.js';
import type { DB } from '../../db/schema.js';
import { DomainError, conflict, forbidden, isExclusionViolation, isUniqueViolation, notFound } from '../../errors.js';
import type { Realtime } from '../../realtime/realtime.js';
import type { Actor } from '../auth/actor.js';
import { writeAudit, type AuditEntry } from '../moderation/audit.js';
import { isStaff } from '../auth/roles.js';
import { decrypt, encrypt } from './crypto.js';
import { findBooking, selectBookings, selectSlots, slotIsBooked, type BookingRecord, type SlotRecord } from './repository.js';
import type { Booking, BookingStatus, CreateBookingInput, CreateSlotInput, ListSlotsInput, Slot, SlotKind } from './schemas.js';

/** What the booking rules need: the database, the address key and the live sockets. */
export interface BookingsContext {
  db: Database;
  dataKey: Buffer;
  realtime: Realtime;
}

export const SLOT_MIN_MINUTES = 15;
export const SLOT_MAX_MINUTES = 240;
/** Slots may be published up to a year ahead. */
export const SLOT_MAX_DAYS_AHEAD = 366;
export const SLOT_LIST_DEFAULT_DAYS = 28;
export const SLOT_LIST_MAX_DAYS = 92;
const LIST_LIMIT = 500;
const ACTIVE: BookingStatus[] = ['requested', 'confirmed'];
const DAY_MS = 24 * 60 * 60 * 1000;

const invalid = (field: string, message: string) =>
  new DomainError('VALIDATION', message, { fields: [{ field, in: 'body', message }] });
const invalidQuery = (field: string, message: string) =>
  new DomainError('VALIDATION', message, { fields: [{ field, in: 'querystring', message }] });

// ---------------------------------------------------------------- slots

function toSlot(row: SlotRecord): Slot {
  return {
    id: row.id,
    staff: { id: row.staff_id, displayName: row.staff_display_name },
    startsAt: row.starts_at.toISOString(),
    endsAt: row.ends_at.toISOString(),
    kinds: row.kinds,
    location: row.location,
    booked: Boolean(row.booked),
  };
}

/** Staff and admins publish a slot: 15..240 minutes, in the future, not overlapping their live slots. */
export async function createSlot(ctx: BookingsContext, actor: Actor, input: CreateSlotInput, now = new Date()): Promise<Slot> {
  if (!isStaff(actor.role)) throw forbidden('Only staff can publish consultation slots');
  const startsAt = new Date(input.startsAt);
  const endsAt = new Date(input.endsAt);
  if (startsAt <= now) throw invalid('startsAt', 'startsAt must be in the future');
  if (startsAt.getTime() - now.getTime() > SLOT_MAX_DAYS_AHEAD * DAY_MS) {
    throw invalid('startsAt', `startsAt must be within ${SLOT_MAX_DAYS_AHEAD} days`);
  }
  if (endsAt <= startsAt) throw invalid('endsAt', 'endsAt must be after startsAt');
  const minutes = (endsAt.getTime() - startsAt.getTime()) / 60_000;
  if (minutes < SLOT_MIN_MINUTES || minutes > SLOT_MAX_MINUTES) {
    throw invalid('endsAt', `A slot lasts ${SLOT_MIN_MINUTES} to ${SLOT_MAX_MINUTES} minutes`);
  }
  let id: string;
  try {
    ({ id } = await ctx.db
      .insertInto('slots')
      .values({ staff_id: actor.id, starts_at: startsAt, ends_at: endsAt, kinds: input.kinds, location: input.location ?? '' })
      .returning('id')
      .executeTakeFirstOrThrow());
  } catch (err) {
    if (isExclusionViolation(err)) throw conflict('This slot overlaps another of your slots');
    throw err;
  }
  return toSlot(await selectSlots(ctx.db).where('s.id', '=', id).executeTakeFirstOrThrow());
}

/**
 * Open future slots in [from, to) (default: the next 4 weeks, at most 92 days), optionally of one
 * kind. Booked slots are left out, except the caller's own (staff see what is booked with them).
 */
export async function listSlots(ctx: BookingsContext, actor: Actor, input: ListSlotsInput, now = new Date()): Promise<Slot[]> {
  const from = input.from ? new Date(input.from) : now;
  const to = input.to ? new Date(input.to) : new Date(from.getTime() + SLOT_LIST_DEFAULT_DAYS * DAY_MS);
  if (to <= from) throw invalidQuery('to', 'to must be after from');
  if (to.getTime() - from.getTime() > SLOT_LIST_MAX_DAYS * DAY_MS) {
    throw invalidQuery('to', `The range may span at most ${SLOT_LIST_MAX_DAYS} days`);
  }
  let q = selectSlots(ctx.db)
    .where('s.starts_at', '>', now)
    .where('s.starts_at', '>=', from)
    .where('s.starts_at', '<', to);
  if (input.kind) q = q.where(sql<boolean>`${input.kind} = any(s.kinds)`);
  // In SQL, before the limit: booked slots of other staff must not use up the 500 rows.
  q = q.where((eb) => eb.or([eb.not(slotIsBooked(eb)), eb('s.staff_id', '=', actor.id)]));
  const rows = await q.orderBy('s.starts_at').orderBy('s.id').limit(LIST_LIMIT).execute();
  return rows.map(toSlot);
}

/** Its staff or an admin withdraws a slot (soft delete); refused while a booking is active on it. */
export async function deleteSlot(ctx: BookingsContext, actor: Actor, slotId: string): Promise<void> {
  await ctx.db.transaction().execute(async (trx) => {
    // FOR UPDATE waits for a booking being made on this slot (it holds FOR SHARE) and blocks new ones.
    const slot = await trx
      .selectFrom('slots')
      .select(['id', 'staff_id'])
      .where('id', '=', slotId)
      .where('deleted_at', 'is', null)
      .forUpdate()
      .executeTakeFirst();
    if (!slot) throw notFound('No such slot');
    if (slot.staff_id !== actor.id && actor.role !== 'admin') throw forbidden('Only the slot’s staff member or an admin can withdraw it');
    const active = await trx
      .selectFrom('bookings')
      .select('id')
      .where('slot_id', '=', slotId)
      .where('status', 'in', ACTIVE)
      .executeTakeFirst();
    if (active) throw conflict('This slot has an active booking; decline or cancel it first');
    await trx.updateTable('slots').set({ deleted_at: sql`now()` }).where('id', '=', slotId).execute();
  });
}

// ---------------------------------------------------------------- booking views and privacy

const canSee = (actor: Actor, row: BookingRecord) =>
  actor.id === row.member_id || actor.id === row.staff_id || actor.role === 'admin';

/** The booking as the contract shows it; `visitAddress` only when given (see `present`). */
export function toBooking(row: BookingRecord, visitAddress?: string): Booking {
  return {
    id: row.id,
    slotId: row.slot_id,
    kind: row.kind,
    status: row.status,
    startsAt: row.starts_at.toISOString(),
    endsAt: row.ends_at.toISOString(),
    staff: { id: row.staff_id, displayName: row.staff_display_name },
    member: { id: row.member_id, handle: row.member_handle, displayName: row.member_display_name },
    note: row.note,
    location: row.location,
    ...(visitAddress === undefined ? {} : { visitAddress }),
    cancelReason: row.cancel_reason,
    addressErasedAt: row.address_erased_at?.toISOString() ?? null,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

/**
 * Bookings as `actor` may see them. The visit address is decrypted only for the booking member,
 * the slot's staff and admins; every copy handed to someone other than the member is audited
 * (`via` names the route), in the same call, before the response leaves.
 */
export async function present(ctx: BookingsContext, actor: Actor, rows: BookingRecord[], via: string): Promise<Booking[]> {
  const audits: AuditEntry[] = [];
  const out = rows.map((row) => {
    if (row.kind !== 'visit' || !row.visit_address_enc || !canSee(actor, row)) return toBooking(row);
    const address = decrypt(ctx.dataKey, row.visit_address_enc, row.id);
    if (actor.id !== row.member_id) {
      audits.push({ actorId: actor.id, action: 'booking_address_read', targetBookingId: row.id, targetUserId: row.member_id, reason: via });
    }
    return toBooking(row, address);
  });
  await writeAudit(ctx.db, audits);
  return out;
}

/**
 * `booking:updated` to the member and the slot's staff. Socket payloads pass through the adapter
 * (Redis, or rows in PostgreSQL with the postgres adapter), so they never carry the address:
 * clients fetch `GET /api/bookings/:id` for it, which is audited.
 */
function emitUpdated(ctx: BookingsContext, row: BookingRecord): void {
  ctx.realtime.toUsers([row.member_id, row.staff_id], 'booking:updated', toBooking(row));
}

async function loadVisible(db: Kysely<DB>, actor: Actor, id: string): Promise<BookingRecord> {
  const row = await findBooking(db, id);
  if (!row || !canSee(actor, row)) throw notFound('No such booking');
  return row;
}

// ---------------------------------------------------------------- bookings

/** A member or family user requests a slot. At most one active booking per slot (a partial unique index). */
export async function createBooking(ctx: BookingsContext, actor: Actor, input: CreateBookingInput, now = new Date()): Promise<Booking> {
  if (actor.role !== 'member' && actor.role !== 'family') throw forbidden('Only members and families book consultations');
  if (input.kind === 'visit' && input.visitAddress === undefined) throw invalid('visitAddress', 'A visit needs an address');
  if (input.kind === 'office' && input.visitAddress !== undefined) throw invalid('visitAddress', 'An office consultation takes no address');
  const id = randomUUID();
  try {
    await ctx.db.transaction().execute(async (trx) => {
      // FOR SHARE: many bookings may race here (the unique index picks one); a slot withdrawal waits.
      const slot = await trx
        .selectFrom('slots')
        .select(['id', 'staff_id', 'starts_at', 'ends_at', 'kinds'])
        .where('id', '=', input.slotId)
        .where('deleted_at', 'is', null)
        .forShare()
        .executeTakeFirst();
      if (!slot) throw notFound('No such slot');
      if (slot.starts_at <= now) throw conflict('This slot has already started');
      if (!slot.kinds.includes(input.kind as SlotKind)) throw invalid('kind', `This slot offers: ${slot.kinds.join(', ')}`);
      await trx
        .insertInto('bookings')
        .values({
          id,
          slot_id: slot.id,
          staff_id: slot.staff_id,
          member_id: actor.id,
          kind: input.kind,
          starts_at: slot.starts_at,
          ends_at: slot.ends_at,
          note: input.note ?? '',
          visit_address_enc: input.visitAddress === undefined ? null : encrypt(ctx.dataKey, input.visitAddress, id),
        })
        .execute();
    });
  } catch (err) {
    if (isUniqueViolation(err)) throw conflict('This slot is already booked');
    throw err;
  }
  const row = (await findBooking(ctx.db, id))!;
  emitUpdated(ctx, row);
  const [booking] = await present(ctx, actor, [row], 'POST /api/bookings');
  return booking;
}

/** A member's own bookings; a staff user's own slots'; every booking for admins (latest start first, at most 500). */
export async function listBookings(ctx: BookingsContext, actor: Actor, input: { status?: BookingStatus }): Promise<Booking[]> {
  let q = selectBookings(ctx.db);
  if (actor.role === 'member' || actor.role === 'family') q = q.where('b.member_id', '=', actor.id);
  else if (actor.role === 'staff') q = q.where('b.staff_id', '=', actor.id);
  else if (actor.role !== 'admin') return [];
  if (input.status) q = q.where('b.status', '=', input.status);
  // Newest first, so the cap never hides upcoming bookings behind old ones.
  const rows = await q.orderBy('b.starts_at', 'desc').orderBy('b.id').limit(LIST_LIMIT).execute();
  return present(ctx, actor, rows, 'GET /api/bookings');
}

/** One booking; 404 when the caller may not see it (another member's, another staff member's). */
export async function getBooking(ctx: BookingsContext, actor: Actor, id: string): Promise<Booking> {
  const row = await loadVisible(ctx.db, actor, id);
  const [booking] = await present(ctx, actor, [row], 'GET /api/bookings/:id');
  return booking;
}

export type Transition = 'confirm' | 'decline' | 'cancel' | 'complete' | 'no_show';

interface TransitionRule {
  from: BookingStatus[];
  to: BookingStatus;
  /** Declined, cancelled, completed and no-show end the booking (the retention clock starts). */
  ends: boolean;
  /** Time condition in SQL terms, checked in the same UPDATE. */
  when?: 'not_ended' | 'started';
}

const RULES: Record<Transition, TransitionRule> = {
  confirm: { from: ['requested'], to: 'confirmed', ends: false, when: 'not_ended' },
  decline: { from: ['requested'], to: 'declined', ends: true },
  cancel: { from: ['requested', 'confirmed'], to: 'cancelled', ends: true },
  complete: { from: ['confirmed'], to: 'completed', ends: true, when: 'started' },
  no_show: { from: ['confirmed'], to: 'no_show', ends: true, when: 'started' },
};

const VERB: Record<Transition, string> = {
  confirm: 'confirmed',
  decline: 'declined',
  cancel: 'cancelled',
  complete: 'completed',
  no_show: 'marked as no-show',
};

/**
 * Moves a booking along its lifecycle with one conditional UPDATE (status in the allowed set), so
 * two racing transitions cannot both win. Confirm also meets the no-overlap exclusion constraint.
 */
export async function transitionBooking(
  ctx: BookingsContext,
  actor: Actor,
  id: string,
  action: Transition,
  reason?: string,
): Promise<Booking> {
  // Visible = the member, the slot's staff or an admin: all of them may cancel; the rest is staff's.
  const row = await loadVisible(ctx.db, actor, id);
  if (action !== 'cancel' && actor.id !== row.staff_id && actor.role !== 'admin') {
    throw forbidden('Only the slot’s staff member or an admin can do this');
  }
  const rule = RULES[action];
  let updated: { id: string } | undefined;
  try {
    let q = ctx.db
      .updateTable('bookings')
      .set({
        status: rule.to,
        updated_at: sql`now()`,
        ...(rule.ends ? { ended_at: sql`now()` } : {}),
        ...(action === 'decline' || action === 'cancel' ? { cancel_reason: reason ?? null } : {}),
      })
      .where('id', '=', id)
      .where('status', 'in', rule.from);
    if (rule.when === 'not_ended') q = q.where('ends_at', '>', sql<Date>`now()`);
    if (rule.when === 'started') q = q.where('starts_at', '<=', sql<Date>`now()`);
    updated = await q.returning('id').executeTakeFirst();
  } catch (err) {
    if (isExclusionViolation(err)) throw conflict('This overlaps another confirmed booking of the same staff member');
    throw err;
  }
  const now = (await findBooking(ctx.db, id))!;
  if (!updated) {
    if (!rule.from.includes(now.status)) throw conflict(`A ${now.status.replace('_', '-')} booking cannot be ${VERB[action]}`);
    if (rule.when === 'started') throw conflict(`A booking can be ${VERB[action]} only once it has started`);
    throw conflict('This booking’s time has already passed');
  }
  emitUpdated(ctx, now);
  const [booking] = await present(ctx, actor, [now], `POST /api/bookings/:id/${action.replace('_', '-')}`);
  return booking;
}
