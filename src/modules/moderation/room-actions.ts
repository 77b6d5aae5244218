import type { FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import { conflict, isUniqueViolation, notFound } from '../../errors.js';
import type { Actor } from '../auth/actor.js';
import { lockMembership } from '../rooms/access.js';
import { writeAudit } from './audit.js';
import { assertMayActOn, requireModeration } from './permissions.js';
import type { BanInput, MuteInput } from './schemas.js';

export interface Mute {
  roomId: string;
  userId: string;
  until: string;
  reason: string;
}

export interface Ban {
  roomId: string;
  userId: string;
  reason: string;
  bannedBy: string;
  createdAt: string;
}

/**
 * POST /rooms/:id/mutes: the member can read but not send until `until` (the messages service
 * refuses sends with 423 while muted_until > now, so it lifts by itself). A new mute replaces the
 * old one. The member gets `moderation:applied`.
 */
export async function muteMember(app: FastifyInstance, actor: Actor, roomId: string, input: MuteInput): Promise<Mute> {
  const access = await requireModeration(app.db, actor, roomId);
  await assertMayActOn(app.db, actor, access, input.userId);
  const row = await app.db.transaction().execute(async (trx) => {
    const row = await trx
      .updateTable('room_members')
      .set({ muted_until: sql<Date>`now() + make_interval(mins => ${input.minutes})`, mute_reason: input.reason })
      .where('room_id', '=', roomId)
      .where('user_id', '=', input.userId)
      .returning(['muted_until'])
      .executeTakeFirst();
    if (!row) throw notFound('This person is not a member of the room');
    await writeAudit(trx, { actorId: actor.id, action: 'member_mute', roomId, targetUserId: input.userId, reason: `${input.minutes} min: ${input.reason}` });
    return row;
  });
  const until = row.muted_until!.toISOString();
  app.realtime.toUser(input.userId, 'moderation:applied', { roomId, action: 'mute', until, reason: input.reason });
  return { roomId, userId: input.userId, until, reason: input.reason };
}

/** DELETE /rooms/:id/mutes/:userId: lifts a mute now (204 also when none was in force). */
export async function unmuteMember(app: FastifyInstance, actor: Actor, roomId: string, userId: string): Promise<void> {
  const access = await requireModeration(app.db, actor, roomId);
  await assertMayActOn(app.db, actor, access, userId);
  const lifted = await app.db.transaction().execute(async (trx) => {
    const row = await trx
      .updateTable('room_members')
      .set({ muted_until: null, mute_reason: null })
      .where('room_id', '=', roomId)
      .where('user_id', '=', userId)
      .where('muted_until', '>', sql<Date>`now()`)
      .returning('user_id')
      .executeTakeFirst();
    if (row) await writeAudit(trx, { actorId: actor.id, action: 'member_unmute', roomId, targetUserId: userId });
    return row !== undefined;
  });
  if (lifted) app.realtime.toUser(userId, 'moderation:applied', { roomId, action: 'unmute', reason: 'mute lifted' });
}

/**
 * POST /rooms/:id/bans: records the ban and removes the person from the room (their sockets leave
 * it at once on every node, the room gets `member:left`, they get `moderation:applied`). Someone
 * not (or no longer) in the room can be banned too, so they cannot be added back. 409 when
 * already banned.
 */
export async function banUser(app: FastifyInstance, actor: Actor, roomId: string, input: BanInput): Promise<Ban> {
  const access = await requireModeration(app.db, actor, roomId);
  await assertMayActOn(app.db, actor, access, input.userId);
  const { ban, wasMember } = await app.db
    .transaction()
    .execute(async (trx) => {
      await lockMembership(trx, roomId, input.userId);
      const ban = await trx
        .insertInto('room_bans')
        .values({ room_id: roomId, user_id: input.userId, reason: input.reason, banned_by: actor.id })
        .returningAll()
        .executeTakeFirstOrThrow();
      const removed = await trx.deleteFrom('room_members').where('room_id', '=', roomId).where('user_id', '=', input.userId).executeTakeFirst();
      await writeAudit(trx, { actorId: actor.id, action: 'member_ban', roomId, targetUserId: input.userId, reason: input.reason });
      return { ban, wasMember: removed.numDeletedRows > 0n };
    })
    .catch((err: unknown) => {
      if (isUniqueViolation(err)) throw conflict('This person is already banned from the room');
      throw err;
    });
  await app.realtime.leaveRoom(input.userId, roomId);
  if (wasMember) app.realtime.toRoom(roomId, 'member:left', { roomId, userId: input.userId });
  app.realtime.toUser(input.userId, 'moderation:applied', { roomId, action: 'ban', reason: input.reason });
  return { roomId, userId: ban.user_id, reason: ban.reason, bannedBy: ban.banned_by, createdAt: ban.created_at.toISOString() };
}

/** DELETE /rooms/:id/bans/:userId: lifts the ban (the person is not re-added); 404 when not banned. */
export async function unbanUser(app: FastifyInstance, actor: Actor, roomId: string, userId: string): Promise<void> {
  const access = await requireModeration(app.db, actor, roomId);
  await assertMayActOn(app.db, actor, access, userId);
  await app.db.transaction().execute(async (trx) => {
    const row = await trx.deleteFrom('room_bans').where('room_id', '=', roomId).where('user_id', '=', userId).executeTakeFirst();
    if (row.numDeletedRows === 0n) throw notFound('This person is not banned from the room');
    await writeAudit(trx, { actorId: actor.id, action: 'member_unban', roomId, targetUserId: userId });
  });
}
