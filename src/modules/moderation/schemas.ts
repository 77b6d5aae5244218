import { z } from 'zod';
import { messageSchema, type Message } from '../messages/schemas.js';

const reasonText = z.string().trim().min(1).max(500);

export const flagReasonSchema = z.enum(['harassment', 'spam', 'self_harm', 'personal_info', 'other']);
export const flagStatusSchema = z.enum(['open', 'resolved', 'dismissed']);
export const filterActionSchema = z.enum(['block', 'flag', 'crisis']);

export const roomUserParams = z.strictObject({ id: z.uuid(), userId: z.uuid() });

export const createFlagBody = z.strictObject({
  reason: flagReasonSchema,
  note: z.string().trim().max(500).optional(),
});
export type CreateFlagInput = z.infer<typeof createFlagBody>;

export const listFlagsQuery = z.strictObject({
  status: flagStatusSchema.default('open'),
  roomId: z.uuid().optional(),
  limit: z.coerce.number().int().min(1).max(200).default(100),
});
export type ListFlagsInput = z.infer<typeof listFlagsQuery>;

export const resolveFlagBody = z.strictObject({
  action: z.enum(['dismiss', 'hide_message', 'delete_message']),
  note: z.string().trim().max(500).optional(),
});
export type ResolveFlagInput = z.infer<typeof resolveFlagBody>;

export const hideBody = z.strictObject({ reason: reasonText });
/** Unhide takes no required field; a reason may be given for the audit log. */
export const unhideBody = z.strictObject({ reason: reasonText.optional() }).nullish();

export const muteBody = z.strictObject({
  userId: z.uuid(),
  minutes: z.number().int().min(1).max(43_200),
  reason: reasonText,
});
export type MuteInput = z.infer<typeof muteBody>;

export const banBody = z.strictObject({ userId: z.uuid(), reason: reasonText });
export type BanInput = z.infer<typeof banBody>;

export const createFilterBody = z.strictObject({
  pattern: z.string().min(1).max(100).refine((s) => s.trim().length > 0, 'pattern must not be blank'),
  action: filterActionSchema,
});
export type CreateFilterInput = z.infer<typeof createFilterBody>;

export const auditQuery = z.strictObject({
  roomId: z.uuid().optional(),
  actorId: z.uuid().optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});
export type AuditQuery = z.infer<typeof auditQuery>;

// ---- Responses ----

export const reporterSchema = z.object({ id: z.uuid(), handle: z.string() }).nullable();

export const flagSchema = z.object({
  id: z.uuid(),
  messageId: z.uuid(),
  roomId: z.uuid(),
  reporter: reporterSchema,
  reason: flagReasonSchema,
  note: z.string().nullable(),
  status: flagStatusSchema,
  priority: z.enum(['normal', 'urgent']),
  createdAt: z.string(),
  resolvedAt: z.string().nullable(),
  resolvedBy: z.uuid().nullable(),
  resolution: z.string().nullable(),
  resolutionNote: z.string().nullable(),
});
export type Flag = z.infer<typeof flagSchema>;

/** The contract's message object (the messages module's schema). */
export { messageSchema, type Message };

export const flagWithMessageSchema = flagSchema.extend({ message: messageSchema });

export const muteSchema = z.object({ roomId: z.uuid(), userId: z.uuid(), until: z.string(), reason: z.string() });
export const banSchema = z.object({ roomId: z.uuid(), userId: z.uuid(), reason: z.string(), bannedBy: z.uuid(), createdAt: z.string() });

export const filterSchema = z.object({
  id: z.uuid(),
  pattern: z.string(),
  action: filterActionSchema,
  builtin: z.boolean(),
  createdBy: z.uuid().nullable(),
  createdAt: z.string(),
});
export type Filter = z.infer<typeof filterSchema>;

export const auditEntrySchema = z.object({
  id: z.uuid(),
  actor: z.object({ id: z.uuid(), handle: z.string() }).nullable(),
  action: z.string(),
  roomId: z.uuid().nullable(),
  targetUserId: z.uuid().nullable(),
  targetMessageId: z.uuid().nullable(),
  targetBookingId: z.uuid().nullable(),
  reason: z.string().nullable(),
  createdAt: z.string(),
});
export type AuditLogEntry = z.infer<typeof auditEntrySchema>;
