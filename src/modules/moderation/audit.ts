import type { Insertable, Kysely, Transaction } from 'kysely';
import type { Database } from '../../db/database.js';
import type { AuditLogTable, DB } from '../../db/schema.js';
import type { Actor } from '../auth/actor.js';
import { readableRooms } from './permissions.js';
import type { AuditLogEntry, AuditQuery } from './schemas.js';

/** Audit action names: one convention, snake_case `<object>_<verb>`. */
export type AuditAction =
  | 'message_hide'
  | 'message_unhide'
  | 'message_delete'
  | 'member_mute'
  | 'member_unmute'
  | 'member_ban'
  | 'member_unban'
  | 'member_remove'
  | 'user_suspend'
  | 'user_unsuspend'
  | 'booking_address_read'
  | 'flag_resolve'
  | 'flag_dismiss'
  | 'filter_create'
  | 'filter_delete'
  | 'room_update'
  | (string & {});

export interface AuditEntry {
  actorId: string | null;
  action: AuditAction;
  roomId?: string | null;
  targetUserId?: string | null;
  targetMessageId?: string | null;
  targetBookingId?: string | null;
  reason?: string | null;
}

const toRow = (entry: AuditEntry): Insertable<AuditLogTable> => ({
  actor_id: entry.actorId,
  action: entry.action,
  room_id: entry.roomId ?? null,
  target_user_id: entry.targetUserId ?? null,
  target_message_id: entry.targetMessageId ?? null,
  target_booking_id: entry.targetBookingId ?? null,
  reason: entry.reason ?? null,
});

/**
 * Appends entries to the audit log, in one statement. Pass the transaction that makes the change
 * so the entries and the change commit together. The table refuses updates and deletes (trigger in 0003).
 */
export async function writeAudit(db: Kysely<DB> | Transaction<DB>, entry: AuditEntry | AuditEntry[]): Promise<void> {
  const rows = (Array.isArray(entry) ? entry : [entry]).map(toRow);
  if (rows.length > 0) await db.insertInto('audit_log').values(rows).execute();
}

/**
 * GET /audit, newest first: staff/admin every entry; room moderators only their rooms' entries
 * (a given roomId must be one of them: 404 when not in it, 403 when not moderating it); others 403.
 */
export async function listAudit(db: Database, actor: Actor, input: AuditQuery): Promise<AuditLogEntry[]> {
  const rooms = await readableRooms(db, actor, input.roomId);
  let q = db
    .selectFrom('audit_log')
    .leftJoin('users', 'users.id', 'audit_log.actor_id')
    .selectAll('audit_log')
    .select('users.handle as actor_handle');
  if (rooms !== 'all') q = q.where('audit_log.room_id', 'in', rooms);
  if (input.roomId) q = q.where('audit_log.room_id', '=', input.roomId);
  if (input.actorId) q = q.where('audit_log.actor_id', '=', input.actorId);
  const rows = await q.orderBy('audit_log.created_at', 'desc').orderBy('audit_log.id', 'desc').limit(input.limit).execute();
  return rows.map((r) => ({
    id: r.id,
    actor: r.actor_id && r.actor_handle ? { id: r.actor_id, handle: r.actor_handle } : null,
    action: r.action,
    roomId: r.room_id,
    targetUserId: r.target_user_id,
    targetMessageId: r.target_message_id,
    targetBookingId: r.target_booking_id,
    reason: r.reason,
    createdAt: r.created_at.toISOString(),
  }));
}
