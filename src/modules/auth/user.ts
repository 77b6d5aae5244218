import { z } from 'zod';
import type { UserRow } from '../../db/schema.js';

export const roleSchema = z.enum(['member', 'family', 'moderator', 'staff', 'admin']);

/** The contract's user object: never a password hash, never contact data. */
export const userSchema = z.object({
  id: z.uuid(),
  handle: z.string(),
  displayName: z.string(),
  role: roleSchema,
  createdAt: z.string(),
});
export type User = z.infer<typeof userSchema>;

export const toUser = (row: Pick<UserRow, 'id' | 'handle' | 'display_name' | 'role' | 'created_at'>): User => ({
  id: row.id,
  handle: row.handle,
  displayName: row.display_name,
  role: row.role,
  createdAt: row.created_at.toISOString(),
});

/** `{id, handle, displayName}`: how authors and members are shown to others. */
export const publicUserSchema = z.object({ id: z.uuid(), handle: z.string(), displayName: z.string() });
export type PublicUser = z.infer<typeof publicUserSchema>;
