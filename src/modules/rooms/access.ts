import type { Kysely } from 'kysely';
import { advisoryXactLock } from '../../db/locks.js';
import type { Database } from '../../db/database.js';
import type { DB, Role, RoomMemberRow, RoomRole, RoomRow } from '../../db/schema.js';
import { forbidden, notFound } from '../../errors.js';
import type { Actor } from '../auth/actor.js';
import { isGlobalModerator, roleRank } from '../auth/roles.js';

export interface RoomAccess {
  room: RoomRow;
  member: RoomMemberRow;
  /** Room moderator, or a global moderator/staff/admin who belongs to the room. */
  isModerator: boolean;
}

export const isRoomModerator = (globalRole: Role, roomRole: RoomRole): boolean =>
  roomRole === 'moderator' || isGlobalModerator(globalRole);

/**
 * Serialises changes to one person's membership of one room (adding them, banning them) until the
 * transaction ends, so a ban can never be overtaken by an add that checked for bans a moment earlier.
 * Call first thing inside the transaction.
 */
export async function lockMembership(trx: Kysely<DB>, roomId: string, userId: string): Promise<void> {
  await advisoryXactLock(trx, `membership:${roomId}:${userId}`);
}

/** The room and the actor's membership, read now. A room the actor is not in does not exist for them (404). */
export async function requireMember(db: Database, actor: Actor, roomId: string): Promise<RoomAccess> {
  const row = await db
    .selectFrom('rooms')
    .innerJoin('room_members', 'room_members.room_id', 'rooms.id')
    .selectAll('rooms')
    .select([
      'room_members.room_id as m_room_id',
      'room_members.user_id as m_user_id',
      'room_members.room_role as m_room_role',
      'room_members.joined_at as m_joined_at',
      'room_members.last_read_seq as m_last_read_seq',
      'room_members.muted_until as m_muted_until',
      'room_members.mute_reason as m_mute_reason',
      'room_members.last_sent_at as m_last_sent_at',
    ])
    .where('rooms.id', '=', roomId)
    .where('room_members.user_id', '=', actor.id)
    .executeTakeFirst();
  if (!row) throw notFound('Room not found');
  const { m_room_id, m_user_id, m_room_role, m_joined_at, m_last_read_seq, m_muted_until, m_mute_reason, m_last_sent_at, ...room } = row;
  const member: RoomMemberRow = {
    room_id: m_room_id,
    user_id: m_user_id,
    room_role: m_room_role,
    joined_at: m_joined_at,
    last_read_seq: m_last_read_seq,
    muted_until: m_muted_until,
    mute_reason: m_mute_reason,
    last_sent_at: m_last_sent_at,
  };
  return { room, member, isModerator: isRoomModerator(actor.role, member.room_role) };
}

/** Like requireMember, and the actor must moderate the room (403 otherwise: they know it exists). */
export async function requireRoomModerator(db: Database, actor: Actor, roomId: string): Promise<RoomAccess> {
  const access = await requireMember(db, actor, roomId);
  if (!access.isModerator) throw forbidden('Only moderators of this room may do this');
  return access;
}

/**
 * A person's standing in a room, for "moderators cannot act on moderators of equal or higher
 * standing": plain member 0, room or global moderator 1, staff 2, admin 3.
 */
export function standing(globalRole: Role, roomRole: RoomRole | null): number {
  return Math.max(roleRank(globalRole), roomRole === 'moderator' ? roleRank('moderator') : 0);
}

export interface RoomStanding {
  id: string;
  role: Role;
  /** null when the user is not in the room. */
  room_role: RoomRole | null;
}

/** A user's global role and role in the room; undefined when there is no such user. */
export async function standingInRoom(db: Database, roomId: string, userId: string): Promise<RoomStanding | undefined> {
  return db
    .selectFrom('users')
    .leftJoin('room_members', (j) => j.onRef('room_members.user_id', '=', 'users.id').on('room_members.room_id', '=', roomId))
    .select(['users.id', 'users.role', 'room_members.room_role'])
    .where('users.id', '=', userId)
    .executeTakeFirst();
}

/**
 * The one rank rule for acting on someone in a room (delete their message, remove, mute, ban):
 * nobody acts on themselves, nor on someone of equal or higher standing (403).
 */
export function assertOutranks(actor: Actor, actorRoomRole: RoomRole | null, target: RoomStanding): void {
  if (target.id === actor.id) throw forbidden('You cannot do this to yourself');
  if (standing(actor.role, actorRoomRole) <= standing(target.role, target.room_role)) {
    throw forbidden('You cannot act on someone of equal or higher standing');
  }
}
