import { z } from 'zod';
import { userSchema } from '../auth/user.js';

/** Text a person typed: no NUL characters (PostgreSQL text cannot hold them). */
export const plainText = (min: number, max: number) =>
  z
    .string()
    .trim()
    .min(min)
    .max(max)
    .refine((s) => !s.includes('\u0000'), 'must not contain NUL characters');

export const roomKindSchema = z.enum(['chat', 'beginners', 'family', 'staff']);
export const roomRoleSchema = z.enum(['member', 'moderator']);

export const roomSchema = z.object({
  id: z.uuid(),
  name: z.string(),
  description: z.string(),
  kind: roomKindSchema,
  locked: z.boolean(),
  slowModeSeconds: z.number().int(),
  membersCanStartCalls: z.boolean(),
  archived: z.boolean(),
  lastSeq: z.number().int(),
  createdAt: z.string(),
  myRole: roomRoleSchema,
  unread: z.number().int(),
});
export type Room = z.infer<typeof roomSchema>;

export const memberSchema = z.object({
  user: userSchema,
  roomRole: roomRoleSchema,
  joinedAt: z.string(),
  mutedUntil: z.string().nullable(),
});
export type Member = z.infer<typeof memberSchema>;

export const memberParams = z.strictObject({ id: z.uuid(), userId: z.union([z.literal('me'), z.uuid()]) });

export const createRoomBody = z.strictObject({
  name: plainText(1, 80),
  description: plainText(0, 500).optional(),
  kind: roomKindSchema.optional(),
  slowModeSeconds: z.number().int().min(0).max(3600).optional(),
  membersCanStartCalls: z.boolean().optional(),
});
export type CreateRoomInput = z.infer<typeof createRoomBody>;

export const updateRoomBody = z.strictObject({
  name: plainText(1, 80).optional(),
  description: plainText(0, 500).optional(),
  locked: z.boolean().optional(),
  slowModeSeconds: z.number().int().min(0).max(3600).optional(),
  membersCanStartCalls: z.boolean().optional(),
  archived: z.boolean().optional(),
});
export type UpdateRoomInput = z.infer<typeof updateRoomBody>;

export const addMemberBody = z.strictObject({ userId: z.uuid(), roomRole: roomRoleSchema.optional() });
export type AddMemberInput = z.infer<typeof addMemberBody>;

export const readMarkerBody = z.strictObject({ seq: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER) });
