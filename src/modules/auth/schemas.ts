import { z } from 'zod';
import { roleSchema, userSchema } from './user.js';
import { HANDLE_PATTERN, normaliseHandle } from './handles.js';

const codePoints = (s: string) => [...s].length;
/** C0/C1 controls and the bidirectional overrides that can disguise a name. */
const CONTROL = /[\p{Cc}\u202A-\u202E\u2066-\u2069]/u;

export const handleSchema = z
  .string()
  .overwrite(normaliseHandle)
  .regex(HANDLE_PATTERN, '2 to 32 letters, digits, "_", "." or "-"');

export const passwordSchema = z.string().min(8, 'At least 8 characters').max(256, 'At most 256 characters');

export const displayNameSchema = z
  .string()
  .trim()
  .refine((s) => codePoints(s) >= 1 && codePoints(s) <= 50, '1 to 50 characters')
  .refine((s) => !CONTROL.test(s), 'No control characters');

// ---- requests ----

export const registerBody = z.strictObject({
  inviteCode: z.string().min(1).max(200),
  handle: handleSchema,
  password: passwordSchema,
  displayName: displayNameSchema.optional(),
});
export type RegisterInput = z.infer<typeof registerBody>;

export const loginBody = z.strictObject({
  handle: z.string().min(1).max(200),
  password: z.string().min(1).max(256),
});
export type LoginInput = z.infer<typeof loginBody>;

export const refreshBody = z.strictObject({ refreshToken: z.string().min(1).max(200) });

export const updateMeBody = z.strictObject({
  displayName: displayNameSchema.optional(),
  password: z.strictObject({ current: z.string().min(1).max(256), next: passwordSchema }).optional(),
});
export type UpdateMeInput = z.infer<typeof updateMeBody>;

export const userSearchQuery = z.strictObject({ query: z.string().trim().max(50).optional() });


export const suspendBody = z.strictObject({
  reason: z.string().trim().min(1).max(500),
  until: z.iso.datetime({ offset: true }).optional(),
});
export type SuspendInput = z.infer<typeof suspendBody>;

export const createInviteBody = z.strictObject({
  role: roleSchema,
  roomIds: z.array(z.uuid()).max(50).optional(),
  maxUses: z.number().int().min(1).max(100).default(1),
  expiresInHours: z.number().int().min(1).max(720).default(168),
  note: z.string().trim().max(200).optional(),
});
export type CreateInviteInput = z.infer<typeof createInviteBody>;

// ---- responses ----

export const sessionSchema = z.object({ user: userSchema, accessToken: z.string(), refreshToken: z.string() });
export type Session = z.infer<typeof sessionSchema>;
export const tokenPairSchema = z.object({ accessToken: z.string(), refreshToken: z.string() });
export type TokenPair = z.infer<typeof tokenPairSchema>;

/** `PATCH /api/me`: a password change ends every other session and hands this client a new pair. */
export const updateMeResponse = z.object({ user: userSchema, accessToken: z.string().optional(), refreshToken: z.string().optional() });

export const suspensionSchema = z.object({ reason: z.string(), suspendedAt: z.string(), until: z.string().nullable() });
export const suspendResponse = z.object({ user: userSchema, suspension: suspensionSchema.nullable() });
export type SuspendResult = z.infer<typeof suspendResponse>;

export const inviteSchema = z.object({
  id: z.uuid(),
  role: roleSchema,
  roomIds: z.array(z.uuid()),
  maxUses: z.number().int(),
  uses: z.number().int(),
  expiresAt: z.string(),
  createdAt: z.string(),
  note: z.string().nullable(),
  revokedAt: z.string().nullable(),
  createdBy: z.uuid(),
});
export type Invite = z.infer<typeof inviteSchema>;
/** Only in the answer to `POST /api/invites`: the code is never shown again. */
export const createdInviteSchema = inviteSchema.extend({ code: z.string() });
export type CreatedInvite = z.infer<typeof createdInviteSchema>;
