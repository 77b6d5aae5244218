import { sql, type Kysely, type Selectable, type Transaction } from 'kysely';
import type { Database } from '../../db/database.js';
import type { DB, InvitesTable, Role } from '../../db/schema.js';
import { DomainError, forbidden, notFound, unauthenticated } from '../../errors.js';
import type { Actor } from './actor.js';
import { isStaff, roleRank } from './roles.js';
import type { CreateInviteInput, CreatedInvite, Invite } from './schemas.js';
import { randomSecret, sha256 } from './tokens.js';

/** One message for a revoked, expired, used-up or unknown code: the caller learns nothing more. */
export const INVITE_INVALID_MESSAGE = 'This invite code is not valid. Please ask for a new one.';

/** Staff invite member, family and moderator; only admin invites staff (and admin). */
export function mayIssueInvite(actorRole: Role, inviteRole: Role): boolean {
  if (!isStaff(actorRole)) return false;
  if (actorRole === 'admin') return true;
  return roleRank(inviteRole) < roleRank('staff');
}

const toInvite = (row: Selectable<InvitesTable>): Invite => ({
  id: row.id,
  role: row.role,
  roomIds: row.room_ids,
  maxUses: row.max_uses,
  uses: row.uses,
  expiresAt: row.expires_at.toISOString(),
  createdAt: row.created_at.toISOString(),
  note: row.note,
  revokedAt: row.revoked_at?.toISOString() ?? null,
  createdBy: row.created_by,
});

export async function createInvite(db: Database, actor: Actor, input: CreateInviteInput): Promise<CreatedInvite> {
  if (!mayIssueInvite(actor.role, input.role)) {
    throw forbidden(actor.role === 'staff' ? 'Only an admin may invite staff or admins' : 'Only staff and admins may invite');
  }
  const roomIds = [...new Set(input.roomIds ?? [])];
  if (roomIds.length > 0) {
    const found = await db.selectFrom('rooms').select('id').where('id', 'in', roomIds).execute();
    const known = new Set(found.map((r) => r.id));
    const missing = roomIds.filter((id) => !known.has(id));
    if (missing.length > 0) {
      throw new DomainError('VALIDATION', 'Invalid input', {
        fields: [{ field: 'roomIds', in: 'body', message: `Unknown room(s): ${missing.join(', ')}` }],
      });
    }
  }
  const code = randomSecret();
  const row = await db
    .insertInto('invites')
    .values({
      code_hash: sha256(code),
      role: input.role,
      room_ids: roomIds,
      max_uses: input.maxUses,
      expires_at: new Date(Date.now() + input.expiresInHours * 3600 * 1000),
      note: input.note || null,
      created_by: actor.id,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  return { ...toInvite(row), code };
}

export async function listInvites(db: Database, actor: Actor): Promise<Invite[]> {
  if (!isStaff(actor.role)) throw forbidden();
  const rows = await db.selectFrom('invites').selectAll().orderBy('created_at', 'desc').limit(500).execute();
  return rows.map(toInvite);
}

/** Revoking is idempotent. You may revoke an invite you could have issued. */
export async function revokeInvite(db: Database, actor: Actor, id: string): Promise<void> {
  const row = await db.selectFrom('invites').select(['role', 'created_by']).where('id', '=', id).executeTakeFirst();
  if (!row) throw notFound('Invite not found');
  if (!mayIssueInvite(actor.role, row.role) && row.created_by !== actor.id) throw forbidden('Only an admin may revoke this invite');
  await db.updateTable('invites').set({ revoked_at: new Date() }).where('id', '=', id).where('revoked_at', 'is', null).execute();
}

/**
 * Takes one use of a live invite, atomically (row lock of the conditional UPDATE): of five
 * concurrent registrations on a one-use code exactly one gets it. Must run in the registration's
 * transaction so that a failed registration gives the use back.
 */
export async function consumeInvite(trx: Transaction<DB>, code: string): Promise<{ role: Role; roomIds: string[] }> {
  const row = await trx
    .updateTable('invites')
    .set((eb) => ({ uses: eb('uses', '+', 1) }))
    .where('code_hash', '=', sha256(code))
    .where('revoked_at', 'is', null)
    .where('expires_at', '>', new Date())
    .where((eb) => eb('uses', '<', eb.ref('max_uses')))
    .returning(['role', 'room_ids'])
    .executeTakeFirst();
  if (!row) throw unauthenticated(INVITE_INVALID_MESSAGE);
  return { role: row.role, roomIds: row.room_ids };
}

/**
 * Joins the new user to the invite's rooms as `member`, skipping rooms that no longer exist and
 * rooms the user is banned from. Returns the rooms joined. Like a member added by a moderator,
 * the newcomer's read marker starts at the room's current last_seq: old history is not "unread".
 */
export async function joinInviteRooms(trx: Kysely<DB>, userId: string, roomIds: string[]): Promise<string[]> {
  if (roomIds.length === 0) return [];
  const rows = await trx
    .insertInto('room_members')
    .columns(['room_id', 'user_id', 'room_role', 'last_read_seq'])
    .expression((eb) =>
      eb
        .selectFrom('rooms')
        .select(['rooms.id', sql<string>`cast(${userId} as uuid)`.as('user_id'), sql<'member'>`'member'`.as('room_role'), 'rooms.last_seq'])
        .where('rooms.id', 'in', roomIds)
        .where((w) =>
          w.not(
            w.exists(
              w.selectFrom('room_bans').select('room_bans.room_id').whereRef('room_bans.room_id', '=', 'rooms.id').where('room_bans.user_id', '=', userId),
            ),
          ),
        ),
    )
    .onConflict((oc) => oc.doNothing())
    .returning('room_id')
    .execute();
  return rows.map((r) => r.room_id);
}
