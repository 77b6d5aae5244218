import { z } from 'zod';
import { publicUserSchema } from '../auth/user.js';

export const slotKindSchema = z.enum(['office', 'visit']);
export type SlotKind = z.infer<typeof slotKindSchema>;
export const bookingStatusSchema = z.enum(['requested', 'confirmed', 'declined', 'cancelled', 'completed', 'no_show']);
export type BookingStatus = z.infer<typeof bookingStatusSchema>;

const isoDateTime = z.iso.datetime({ offset: true });
const reason = z.string().trim().min(1).max(500);

// ---- requests ----

export const createSlotBody = z.strictObject({
  startsAt: isoDateTime,
  endsAt: isoDateTime,
  kinds: z
    .array(slotKindSchema)
    .min(1)
    .max(2)
    .refine((kinds) => new Set(kinds).size === kinds.length, 'kinds must not repeat'),
  location: z.string().max(200).optional(),
});
export type CreateSlotInput = z.infer<typeof createSlotBody>;

export const listSlotsQuery = z.strictObject({
  from: isoDateTime.optional(),
  to: isoDateTime.optional(),
  kind: slotKindSchema.optional(),
});
export type ListSlotsInput = z.infer<typeof listSlotsQuery>;

export const createBookingBody = z.strictObject({
  slotId: z.uuid(),
  kind: slotKindSchema,
  note: z.string().max(1000).optional(),
  visitAddress: z.string().trim().min(1).max(300).optional(),
});
export type CreateBookingInput = z.infer<typeof createBookingBody>;

export const listBookingsQuery = z.strictObject({ status: bookingStatusSchema.optional() });

export const declineBody = z.strictObject({ reason });
/** The member may cancel without a reason; staff and admins must give one (checked in the service). */
export const cancelBody = z.strictObject({ reason: reason.optional() }).nullish();
/** confirm, complete, no-show take no body (an empty object is accepted). */
export const emptyBody = z.strictObject({}).nullish();

export const calendarQuery = z.strictObject({ token: z.string().max(200).optional() });

// ---- responses ----

const staffRef = z.object({ id: z.uuid(), displayName: z.string() });

export const slotSchema = z.object({
  id: z.uuid(),
  staff: staffRef,
  startsAt: z.string(),
  endsAt: z.string(),
  kinds: z.array(slotKindSchema),
  location: z.string(),
  booked: z.boolean(),
});
export type Slot = z.infer<typeof slotSchema>;

export const bookingSchema = z.object({
  id: z.uuid(),
  slotId: z.uuid(),
  kind: slotKindSchema,
  status: bookingStatusSchema,
  startsAt: z.string(),
  endsAt: z.string(),
  staff: staffRef,
  member: publicUserSchema,
  note: z.string(),
  location: z.string(),
  /** Only for kind visit, only to the booking member, the slot's staff and admins; absent once erased. */
  visitAddress: z.string().optional(),
  cancelReason: z.string().nullable(),
  /** Set when the retention job erased the visit address. */
  addressErasedAt: z.string().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type Booking = z.infer<typeof bookingSchema>;

export const calendarTokenSchema = z.object({ token: z.string(), url: z.string() });
