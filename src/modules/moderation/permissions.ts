import type { Database } from '../../db/database.js';
import type { RoomRole, RoomRow } from '../../db/schema.js';
import { forbidden, notFound } from '../../errors.js';
import type { Actor } from '../auth/actor.js';
import { isGlobalModerator, isStaff } from '../auth/roles.js';
import { assertOutranks, isRoomModerator, standingInRoom } from '../rooms/access.js';

export interface ModerationAccess {
  room: RoomRow;
  /** The actor's role in the room, or null for staff/admin acting on a room they are not in. */
  actorRoomRole: RoomRole | null;
}

/**
 * Who may moderate a room: its moderators (room role, or a global moderator+ who belongs to it),
 * and staff/admin on every room (they already see every room's flags, so its existence is no
 * secret to them). A plain member gets 403; anyone else (non-member, removed, banned) 404.
 */
export async function requireModeration(db: Database, actor: Actor, roomId: string, notFoundMessage = 'Room not found'): Promise<ModerationAccess> {
  // The room and the actor's role in it (null when not a member), in one round trip.
  const row = await db
    .selectFrom('rooms')
    .leftJoin('room_members', (j) => j.onRef('room_members.room_id', '=', 'rooms.id').on('room_members.user_id', '=', actor.id))
    .selectAll('rooms')
    .select('room_members.room_role as actor_room_role')
    .where('rooms.id', '=', roomId)
    .executeTakeFirst();
  if (!row) throw notFound(notFoundMessage);
  const { actor_room_role: roomRole, ...room } = row;
  if (roomRole !== null && isRoomModerator(actor.role, roomRole)) return { room, actorRoomRole: roomRole };
  if (isStaff(actor.role)) return { room, actorRoomRole: roomRole };
  if (roomRole !== null) throw forbidden('Only moderators of this room may do this');
  throw notFound(notFoundMessage);
}

/**
 * Nobody acts on themselves or on someone of equal or higher standing in the room (403).
 * Standing: global role rank, and within the room a room moderator outranks plain members.
 */
export async function assertMayActOn(db: Database, actor: Actor, access: ModerationAccess, targetUserId: string): Promise<void> {
  if (targetUserId === actor.id) throw forbidden('You cannot do this to yourself');
  const target = await standingInRoom(db, access.room.id, targetUserId);
  if (!target) throw notFound('User not found');
  assertOutranks(actor, access.actorRoomRole, target);
}

/**
 * The rooms whose flag queue and audit log the actor may read: 'all' for staff/admin, otherwise
 * the rooms they moderate (possibly none).
 */
export async function moderatedRooms(db: Database, actor: Actor): Promise<'all' | string[]> {
  if (isStaff(actor.role)) return 'all';
  let q = db.selectFrom('room_members').select('room_id').where('user_id', '=', actor.id);
  if (!isGlobalModerator(actor.role)) q = q.where('room_role', '=', 'moderator');
  return (await q.execute()).map((r) => r.room_id);
}

/**
 * For list routes filtered by a room (flags, audit): the room must be one the actor may read
 * (404 when they are not in it, 403 when they are but do not moderate it). Without a room: every
 * room they may read, 403 when that is none.
 */
export async function readableRooms(db: Database, actor: Actor, roomId: string | undefined): Promise<'all' | string[]> {
  if (roomId) {
    await requireModeration(db, actor, roomId);
    return [roomId];
  }
  const rooms = await moderatedRooms(db, actor);
  if (rooms !== 'all' && rooms.length === 0) throw forbidden('Only moderators and staff may do this');
  return rooms;
}
