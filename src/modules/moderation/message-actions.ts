import type { FastifyInstance } from 'fastify';
import type { Transaction } from 'kysely';
import type { Database } from '../../db/database.js';
import type { DB, MessageRow } from '../../db/schema.js';
import { conflict, notFound } from '../../errors.js';
import type { Actor } from '../auth/actor.js';
import { writeAudit } from './audit.js';
import { broadcastMessageUpdated } from '../messages/service.js';
import { moderatorMessage } from './message-view.js';
import { assertMayActOn, requireModeration, type ModerationAccess } from './permissions.js';
import type { Message } from './schemas.js';

/** The rank rules applied to a message's author. */
export const assertMayActOnMessage = (db: Database, actor: Actor, access: ModerationAccess, message: Pick<MessageRow, 'author_id'>) =>
  assertMayActOn(db, actor, access, message.author_id);

/** Hides the message inside the caller's transaction and audits it; false when it was already hidden. */
export async function applyHide(trx: Transaction<DB>, actor: Actor, message: MessageRow, reason: string): Promise<boolean> {
  const done = await trx
    .updateTable('messages')
    .set({ hidden_at: new Date(), hidden_by: actor.id, hidden_reason: reason })
    .where('id', '=', message.id)
    .where('hidden_at', 'is', null)
    .where('deleted_at', 'is', null)
    .executeTakeFirst();
  if (done.numUpdatedRows === 0n) return false;
  await writeAudit(trx, { actorId: actor.id, action: 'message_hide', roomId: message.room_id, targetUserId: message.author_id, targetMessageId: message.id, reason });
  return true;
}

/** Deletes (body gone, seq kept) inside the caller's transaction and audits it. */
export async function applyDelete(trx: Transaction<DB>, actor: Actor, message: MessageRow, reason: string | null): Promise<boolean> {
  const done = await trx
    .updateTable('messages')
    .set({ deleted_at: new Date(), body: null })
    .where('id', '=', message.id)
    .where('deleted_at', 'is', null)
    .executeTakeFirst();
  if (done.numUpdatedRows === 0n) return false;
  await writeAudit(trx, { actorId: actor.id, action: 'message_delete', roomId: message.room_id, targetUserId: message.author_id, targetMessageId: message.id, reason });
  return true;
}

/** `message:updated` (moderators full, everyone else redacted when hidden): the messages module's. */
export { broadcastMessageUpdated };

export function broadcastDeleted(app: FastifyInstance, message: Pick<MessageRow, 'id' | 'room_id' | 'seq'>): void {
  app.realtime.toRoom(message.room_id, 'message:deleted', { roomId: message.room_id, id: message.id, seq: message.seq });
}

async function messageToModerate(db: Database, actor: Actor, messageId: string) {
  const message = await db.selectFrom('messages').selectAll().where('id', '=', messageId).executeTakeFirst();
  if (!message) throw notFound('Message not found');
  const access = await requireModeration(db, actor, message.room_id, 'Message not found');
  if (message.deleted_at) throw conflict('This message was deleted');
  await assertMayActOnMessage(db, actor, access, message);
  return message;
}

/** POST /messages/:id/hide (room moderator, staff): hidden for non-moderators; idempotent. */
export async function hideMessage(app: FastifyInstance, actor: Actor, messageId: string, reason: string): Promise<Message> {
  const message = await messageToModerate(app.db, actor, messageId);
  const changed = await app.db.transaction().execute((trx) => applyHide(trx, actor, message, reason));
  if (changed) await broadcastMessageUpdated(app, messageId);
  return moderatorMessage(app.db, messageId);
}

/** POST /messages/:id/unhide (room moderator, staff); idempotent. */
export async function unhideMessage(app: FastifyInstance, actor: Actor, messageId: string, reason: string | undefined): Promise<Message> {
  const message = await messageToModerate(app.db, actor, messageId);
  const changed = await app.db.transaction().execute(async (trx) => {
    const done = await trx
      .updateTable('messages')
      .set({ hidden_at: null, hidden_by: null, hidden_reason: null })
      .where('id', '=', messageId)
      .where('hidden_at', 'is not', null)
      .executeTakeFirst();
    if (done.numUpdatedRows === 0n) return false;
    await writeAudit(trx, {
      actorId: actor.id,
      action: 'message_unhide',
      roomId: message.room_id,
      targetUserId: message.author_id,
      targetMessageId: messageId,
      reason: reason ?? null,
    });
    return true;
  });
  if (changed) await broadcastMessageUpdated(app, messageId);
  return moderatorMessage(app.db, messageId);
}
