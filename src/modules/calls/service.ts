import { sql, type Kysely } from 'kysely';
import type { Config } from '../../config.js';
import type { Database } from '../../db/database.js';
import type { CallRow, DB } from '../../db/schema.js';
import { conflict, forbidden, locked, notFound, pgCode } from '../../errors.js';
import type { Realtime } from '../../realtime/realtime.js';
import type { Actor } from '../auth/actor.js';
import { requireMember, type RoomAccess } from '../rooms/access.js';
import { joinUrl, newMeetingName } from './jitsi.js';
import { toCall, type Call } from './schemas.js';

/** What the call rules need: the database, the live sockets (every node) and the provider settings. */
export interface CallDeps {
  db: Database;
  realtime: Realtime;
  config: Config;
}

/** How long a call lives: CALL_TTL_SECONDS (test-only) when set, else CALL_TTL_MINUTES. */
export const callTtlSeconds = (config: Pick<Config, 'CALL_TTL_MINUTES' | 'CALL_TTL_SECONDS'>): number =>
  config.CALL_TTL_SECONDS ?? config.CALL_TTL_MINUTES * 60;

/** Live = not ended and not past its expiry, by the database clock. Every read uses this. */
async function findLiveCall(db: Kysely<DB>, roomId: string): Promise<CallRow | undefined> {
  return db
    .selectFrom('calls')
    .selectAll()
    .where('room_id', '=', roomId)
    .where('ended_at', 'is', null)
    .where('expires_at', '>', sql<Date>`now()`)
    .executeTakeFirst();
}

/**
 * Ends calls past their expiry (of one room, or all) and tells their rooms. The update is conditional,
 * so when several nodes race for the same call exactly one of them ends it and broadcasts.
 */
export async function expireDueCalls(deps: Pick<CallDeps, 'realtime'>, db: Kysely<DB>, roomId?: string): Promise<CallRow[]> {
  let query = db
    .updateTable('calls')
    .set({ ended_at: sql<Date>`expires_at`, ended_reason: 'expired' })
    .where('ended_at', 'is', null)
    .where('expires_at', '<=', sql<Date>`now()`);
  if (roomId) query = query.where('room_id', '=', roomId);
  const ended = await query.returningAll().execute();
  for (const row of ended) deps.realtime.toRoom(row.room_id, 'call:ended', { roomId: row.room_id, callId: row.id });
  return ended;
}

/** A member of the room who is not banned from it; anyone else does not see the room (404). */
async function requireCallMember(db: Database, actor: Actor, roomId: string): Promise<RoomAccess> {
  const access = await requireMember(db, actor, roomId);
  const banned = await db.selectFrom('room_bans').select('user_id').where('room_id', '=', roomId).where('user_id', '=', actor.id).executeTakeFirst();
  if (banned) throw notFound('Room not found');
  return access;
}

function requireNotMuted(access: RoomAccess): void {
  const until = access.member.muted_until;
  if (!access.isModerator && until && until > new Date()) {
    throw locked('You are muted in this room for now', { until: until.toISOString() });
  }
}

const MAX_START_ATTEMPTS = 3;

/**
 * Starts the room's call, or answers with the one already live (`created: false`). Room moderators may
 * always start one; members only when the room allows it, and not while the room is locked or they are
 * muted. An archived room takes no new calls (423).
 */
export async function startCall(deps: CallDeps, actor: Actor, roomId: string): Promise<{ call: Call; created: boolean }> {
  const access = await requireCallMember(deps.db, actor, roomId);
  if (!access.isModerator && !access.room.members_can_start_calls) throw forbidden('Only moderators of this room may start a call');
  if (access.room.archived) throw locked('This room is archived');
  if (!access.isModerator && access.room.locked) throw locked('This room is locked');
  requireNotMuted(access);

  const ttl = callTtlSeconds(deps.config);
  for (let attempt = 0; attempt < MAX_START_ATTEMPTS; attempt++) {
    const live = await findLiveCall(deps.db, roomId);
    if (live) return { call: toCall(live), created: false };
    // An expired call that the sweep has not ended yet still holds the room's live slot.
    await expireDueCalls(deps, deps.db, roomId);
    try {
      const row = await deps.db
        .insertInto('calls')
        .values({
          room_id: roomId,
          started_by: actor.id,
          meeting_name: newMeetingName(),
          expires_at: sql<Date>`now() + make_interval(secs => ${ttl})`,
        })
        .returningAll()
        .executeTakeFirstOrThrow();
      const call = toCall(row);
      deps.realtime.toRoom(roomId, 'call:started', call);
      return { call, created: true };
    } catch (err) {
      // Another start won the race for the room's one live call: read it on the next attempt.
      const constraint = (err as { constraint?: unknown }).constraint;
      if (pgCode(err) !== '23505' || constraint !== 'calls_one_live_idx') throw err;
    }
  }
  throw conflict('The call was starting and ending at the same time; please try again');
}

/** The live call and a join link made for this member alone (a moderator's link carries moderator rights). */
export async function getCallLink(deps: CallDeps, actor: Actor, roomId: string): Promise<{ call: Call; joinUrl: string }> {
  const access = await requireCallMember(deps.db, actor, roomId);
  requireNotMuted(access);
  const live = await findLiveCall(deps.db, roomId);
  if (!live) throw notFound('No call is live in this room');
  const url = await joinUrl(deps.config, live.meeting_name, {
    user: { id: actor.id, displayName: actor.displayName },
    moderator: access.isModerator,
    callExpiresAt: live.expires_at,
  });
  return { call: toCall(live), joinUrl: url };
}

/** Ends the live call: a room moderator or whoever started it. */
export async function endCall(deps: CallDeps, actor: Actor, roomId: string): Promise<void> {
  const access = await requireCallMember(deps.db, actor, roomId);
  const live = await findLiveCall(deps.db, roomId);
  if (!live) throw notFound('No call is live in this room');
  if (!access.isModerator && live.started_by !== actor.id) throw forbidden('Only a moderator of this room or whoever started the call may end it');
  // By id: the permission above was checked against this call, not whichever may replace it meanwhile.
  const ended = await endLiveCall(deps, roomId, live.id);
  if (!ended) throw notFound('No call is live in this room');
}

/**
 * Ends the room's live call, if any, and broadcasts `call:ended`. No permission check: for the rules
 * above and for other modules (e.g. archiving a room may end its call).
 */
export async function endLiveCall(deps: Pick<CallDeps, 'db' | 'realtime'>, roomId: string, callId?: string): Promise<CallRow | undefined> {
  let query = deps.db
    .updateTable('calls')
    .set({ ended_at: sql<Date>`now()`, ended_reason: 'ended' })
    .where('room_id', '=', roomId)
    .where('ended_at', 'is', null)
    .where('expires_at', '>', sql<Date>`now()`);
  if (callId) query = query.where('id', '=', callId);
  const row = await query.returningAll().executeTakeFirst();
  if (row) deps.realtime.toRoom(roomId, 'call:ended', { roomId, callId: row.id });
  return row;
}
