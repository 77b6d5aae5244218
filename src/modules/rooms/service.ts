import type { FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import type { Database } from '../../db/database.js';
import type { RoomMemberRow, RoomRow, UserRow } from '../../db/schema.js';
import { conflict, locked, notFound } from '../../errors.js';
import type { Actor } from '../auth/actor.js';
import { toUser } from '../auth/user.js';
import { endLiveCall } from '../calls/service.js';
import { writeAudit } from '../moderation/audit.js';
import { assertOutranks, isRoomModerator, lockMembership, requireMember, requireRoomModerator, standingInRoom } from './access.js';
import type { AddMemberInput, CreateRoomInput, Member, Room, UpdateRoomInput } from './schemas.js';

type MemberView = Pick<RoomMemberRow, 'room_role' | 'last_read_seq'>;

/** The contract's room object as seen by one member. */
export const toRoom = (room: RoomRow, member: MemberView): Room => ({
  id: room.id,
  name: room.name,
  description: room.description,
  kind: room.kind,
  locked: room.locked,
  slowModeSeconds: room.slow_mode_seconds,
  membersCanStartCalls: room.members_can_start_calls,
  archived: room.archived,
  lastSeq: room.last_seq,
  createdAt: room.created_at.toISOString(),
  myRole: member.room_role,
  unread: Math.max(0, room.last_seq - member.last_read_seq),
});

type MemberUser = Pick<UserRow, 'id' | 'handle' | 'display_name' | 'role' | 'created_at'>;
export const toMember = (m: Pick<RoomMemberRow, 'room_role' | 'joined_at' | 'muted_until'>, user: MemberUser): Member => ({
  user: toUser(user),
  roomRole: m.room_role,
  joinedAt: m.joined_at.toISOString(),
  mutedUntil: m.muted_until && m.muted_until > new Date() ? m.muted_until.toISOString() : null,
});

/** POST /rooms (moderator+ global role, checked by the route): the creator becomes its moderator. */
export async function createRoom(app: FastifyInstance, actor: Actor, input: CreateRoomInput): Promise<Room> {
  const { room, member } = await app.db.transaction().execute(async (trx) => {
    const room = await trx
      .insertInto('rooms')
      .values({
        name: input.name,
        description: input.description ?? '',
        kind: input.kind ?? 'chat',
        slow_mode_seconds: input.slowModeSeconds ?? 0,
        members_can_start_calls: input.membersCanStartCalls ?? false,
        last_seq: 0,
        created_by: actor.id,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    const member = await trx
      .insertInto('room_members')
      .values({ room_id: room.id, user_id: actor.id, room_role: 'moderator', last_read_seq: 0 })
      .returningAll()
      .executeTakeFirstOrThrow();
    return { room, member };
  });
  await app.realtime.joinRoom(actor.id, room.id, true);
  return toRoom(room, member);
}

/** GET /rooms: only the rooms the actor belongs to. */
export async function listRooms(db: Database, actor: Actor): Promise<Room[]> {
  const rows = await db
    .selectFrom('rooms')
    .innerJoin('room_members', 'room_members.room_id', 'rooms.id')
    .selectAll('rooms')
    .select(['room_members.room_role', 'room_members.last_read_seq'])
    .where('room_members.user_id', '=', actor.id)
    .orderBy('rooms.archived')
    .orderBy('rooms.created_at')
    .execute();
  return rows.map((r) => toRoom(r, r));
}

export async function getRoom(db: Database, actor: Actor, roomId: string): Promise<Room> {
  const { room, member } = await requireMember(db, actor, roomId);
  return toRoom(room, member);
}

/**
 * PATCH /rooms/:id (room moderator). `room:updated` carries per-viewer fields (`myRole`, `unread`),
 * so each member is sent their own copy (members with the same view share one emit).
 */
export async function updateRoom(app: FastifyInstance, actor: Actor, roomId: string, input: UpdateRoomInput): Promise<Room> {
  const { member } = await requireRoomModerator(app.db, actor, roomId);
  const values = {
    ...(input.name !== undefined && { name: input.name }),
    ...(input.description !== undefined && { description: input.description }),
    ...(input.locked !== undefined && { locked: input.locked }),
    ...(input.slowModeSeconds !== undefined && { slow_mode_seconds: input.slowModeSeconds }),
    ...(input.membersCanStartCalls !== undefined && { members_can_start_calls: input.membersCanStartCalls }),
    ...(input.archived !== undefined && { archived: input.archived }),
  };
  if (Object.keys(values).length === 0) {
    const room = await app.db.selectFrom('rooms').selectAll().where('id', '=', roomId).executeTakeFirstOrThrow();
    return toRoom(room, member);
  }
  const moderation = (['locked', 'slowModeSeconds', 'archived'] as const).filter((k) => input[k] !== undefined);
  const room = await app.db.transaction().execute(async (trx) => {
    const room = await trx.updateTable('rooms').set(values).where('id', '=', roomId).returningAll().executeTakeFirstOrThrow();
    if (moderation.length > 0) {
      await writeAudit(trx, { actorId: actor.id, action: 'room_update', roomId, reason: moderation.map((k) => `${k}=${input[k]}`).join(', ') });
    }
    return room;
  });
  await broadcastRoomUpdated(app, room);
  // An archived room is read-only: a call still live in it ends now rather than at its expiry.
  if (input.archived === true) await endLiveCall(app, roomId);
  return toRoom(room, member);
}

/** Sends `room:updated` to every member, each with their own `myRole` and `unread`. */
export async function broadcastRoomUpdated(app: FastifyInstance, room: RoomRow): Promise<void> {
  const members = await app.db
    .selectFrom('room_members')
    .select(['user_id', 'room_role', 'last_read_seq'])
    .where('room_id', '=', room.id)
    .execute();
  const groups = new Map<string, { view: MemberView; userIds: string[] }>();
  for (const m of members) {
    const key = `${m.room_role}:${m.last_read_seq}`;
    const group = groups.get(key) ?? { view: m, userIds: [] };
    group.userIds.push(m.user_id);
    groups.set(key, group);
  }
  for (const { view, userIds } of groups.values()) app.realtime.toUsers(userIds, 'room:updated', toRoom(room, view));
}

export async function listMembers(db: Database, actor: Actor, roomId: string): Promise<Member[]> {
  await requireMember(db, actor, roomId);
  const rows = await db
    .selectFrom('room_members')
    .innerJoin('users', 'users.id', 'room_members.user_id')
    .select(['users.id', 'users.handle', 'users.display_name', 'users.role', 'users.created_at'])
    .select(['room_members.room_role', 'room_members.joined_at', 'room_members.muted_until'])
    .where('room_members.room_id', '=', roomId)
    .orderBy('room_members.joined_at')
    .execute();
  return rows.map((r) => toMember(r, r));
}

/** POST /rooms/:id/members (room moderator): 404 unknown user, 409 already in, 423 banned from the room. */
export async function addMember(app: FastifyInstance, actor: Actor, roomId: string, input: AddMemberInput): Promise<Member> {
  await requireRoomModerator(app.db, actor, roomId);
  const user = await app.db
    .selectFrom('users')
    .select(['id', 'handle', 'display_name', 'role', 'created_at'])
    .where('id', '=', input.userId)
    .executeTakeFirst();
  if (!user) throw notFound('User not found');
  const roomRole = input.roomRole ?? 'member';
  // The ban check and the insert hold the membership lock that a ban takes too (no add slips past a ban).
  const row: RoomMemberRow | undefined = await app.db.transaction().execute(async (trx) => {
    await lockMembership(trx, roomId, user.id);
    const ban = await trx
      .selectFrom('room_bans')
      .select('user_id')
      .where('room_id', '=', roomId)
      .where('user_id', '=', user.id)
      .executeTakeFirst();
    if (ban) throw locked('This person is banned from the room');
    return trx
      .insertInto('room_members')
      // A newcomer starts with nothing unread: the history is there to read, not a pile of badges.
      .values({
        room_id: roomId,
        user_id: user.id,
        room_role: roomRole,
        last_read_seq: sql<number>`(select last_seq from rooms where id = ${roomId})`,
      })
      .onConflict((oc) => oc.doNothing())
      .returningAll()
      .executeTakeFirst();
  });
  if (!row) throw conflict('Already a member of this room');
  await app.realtime.joinRoom(user.id, roomId, isRoomModerator(user.role, roomRole));
  // A ban or removal that committed while the sockets were joining must win: its leave may have run first.
  const still = await app.db.selectFrom('room_members').select('user_id').where('room_id', '=', roomId).where('user_id', '=', user.id).executeTakeFirst();
  if (!still) {
    await app.realtime.leaveRoom(user.id, roomId);
    throw conflict('This person left or was removed from the room meanwhile');
  }
  const member = toMember(row, user);
  app.realtime.toRoom(roomId, 'member:joined', { roomId, user: member.user });
  return member;
}

/**
 * DELETE /rooms/:id/members/:userId: a room moderator removes someone of lower standing, or anyone
 * leaves (`me`, or their own id). The user's sockets leave the room on every node before this returns.
 */
export async function removeMember(app: FastifyInstance, actor: Actor, roomId: string, userId: string): Promise<void> {
  const targetId = userId === 'me' ? actor.id : userId;
  if (targetId !== actor.id) {
    const { member } = await requireRoomModerator(app.db, actor, roomId);
    const target = await standingInRoom(app.db, roomId, targetId);
    if (!target?.room_role) throw notFound('Not a member of this room');
    assertOutranks(actor, member.room_role, target);
  } else {
    await requireMember(app.db, actor, roomId);
  }
  await app.db.transaction().execute(async (trx) => {
    const deleted = await trx
      .deleteFrom('room_members')
      .where('room_id', '=', roomId)
      .where('user_id', '=', targetId)
      .returning('user_id')
      .executeTakeFirst();
    if (!deleted) throw notFound('Not a member of this room');
    if (targetId !== actor.id) await writeAudit(trx, { actorId: actor.id, action: 'member_remove', roomId, targetUserId: targetId });
  });
  await app.realtime.leaveRoom(targetId, roomId);
  const payload = { roomId, userId: targetId };
  app.realtime.toRoom(roomId, 'member:left', payload);
  app.realtime.toUser(targetId, 'member:left', payload);
}

/**
 * POST /rooms/:id/read: the marker only moves forward, and never past the room's last seq
 * (a larger seq is clamped to `lastSeq`).
 */
export async function markRead(db: Database, actor: Actor, roomId: string, seq: number): Promise<void> {
  await requireMember(db, actor, roomId);
  await db
    .updateTable('room_members')
    .set({
      last_read_seq: sql<number>`greatest(last_read_seq, least(${seq}::bigint, (select last_seq from rooms where id = ${roomId})))`,
    })
    .where('room_id', '=', roomId)
    .where('user_id', '=', actor.id)
    .execute();
}
