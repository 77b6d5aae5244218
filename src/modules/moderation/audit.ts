import type { Insertable, Kysely, Transaction } from 'kysely';
import type { AuditLogTable, DB } from '../../db/schema.js';

export type AuditAction =
  | 'message_hide'
  | 'message_unhide'
  | 'message_delete'
  | 'mute'
  | 'unmute'
  | 'ban'
  | 'unban'
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

/**
 * Appends one entry to the audit log. Pass the transaction that makes the change so the entry and
 * the change commit together. The table refuses updates and deletes (trigger in 0003).
 */
export async function writeAudit(db: Kysely<DB> | Transaction<DB>, entry: AuditEntry): Promise<void> {
  const row: Insertable<AuditLogTable> = {
    actor_id: entry.actorId,
    action: entry.action,
    room_id: entry.roomId ?? null,
    target_user_id: entry.targetUserId ?? null,
    target_message_id: entry.targetMessageId ?? null,
    target_booking_id: entry.targetBookingId ?? null,
    reason: entry.reason ?? null,
  };
  await db.insertInto('audit_log').values(row).execute();
}
