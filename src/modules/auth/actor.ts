import type { Database } from '../../db/database.js';
import type { Role } from '../../db/schema.js';
import { DomainError, unauthenticated } from '../../errors.js';

/** The signed-in user as loaded from the database for this request or socket event. */
export interface Actor {
  id: string;
  handle: string;
  displayName: string;
  role: Role;
}

export interface AccessClaims {
  sub: string;
  role: Role;
}

/** A suspension is in force when set and not yet past its `until`. */
export function isSuspended(row: { suspended_at: Date | null; suspended_until: Date | null }, now = new Date()): boolean {
  return row.suspended_at !== null && (row.suspended_until === null || row.suspended_until > now);
}

/**
 * Loads the actor behind a verified token from the database: a deleted user is 401,
 * a suspended one 423. The token's claims are never trusted for role or standing.
 */
export async function loadActor(db: Database, userId: string): Promise<Actor> {
  const row = await db
    .selectFrom('users')
    .select(['id', 'handle', 'display_name', 'role', 'suspended_at', 'suspended_until'])
    .where('id', '=', userId)
    .executeTakeFirst();
  if (!row) throw unauthenticated('Your session is no longer valid');
  if (isSuspended(row)) throw new DomainError('LOCKED', 'This account is suspended');
  return { id: row.id, handle: row.handle, displayName: row.display_name, role: row.role };
}
