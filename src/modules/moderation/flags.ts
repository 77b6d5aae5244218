import type { FastifyInstance } from 'fastify';
import type { Database } from '../../db/database.js';
import type { FlagReason, FlagRow } from '../../db/schema.js';
import { conflict, isUniqueViolation, notFound } from '../../errors.js';
import type { Actor } from '../auth/actor.js';
import { writeAudit } from './audit.js';
import { applyDelete, applyHide, broadcastDeleted, broadcastMessageUpdated, assertMayActOnMessage } from './message-actions.js';
import { moderatorMessage, moderatorMessages } from './message-view.js';
import { readableRooms, requireModeration } from './permissions.js';
import type { CreateFlagInput, Flag, ListFlagsInput, Message, ResolveFlagInput } from './schemas.js';

type FlagWithReporter = FlagRow & { reporter_handle: string | null };

export const toFlag = (row: FlagWithReporter): Flag => ({
  id: row.id,
  messageId: row.message_id,
  roomId: row.room_id,
  reporter: row.reporter_id && row.reporter_handle ? { id: row.reporter_id, handle: row.reporter_handle } : null,
  reason: row.reason,
  note: row.note,
  status: row.status,
  priority: row.priority,
  createdAt: row.created_at.toISOString(),
  resolvedAt: row.resolved_at?.toISOString() ?? null,
  resolvedBy: row.resolved_by,
  resolution: row.resolution,
  resolutionNote: row.resolution_note,
});

function selectFlags(db: Database) {
  return db
    .selectFrom('flags')
    .leftJoin('users as reporter', 'reporter.id', 'flags.reporter_id')
    .selectAll('flags')
    .select('reporter.handle as reporter_handle');
}

async function loadFlag(db: Database, id: string): Promise<Flag> {
  return toFlag(await selectFlags(db).where('flags.id', '=', id).executeTakeFirstOrThrow());
}

/** Every self_harm report and every crisis match is urgent. */
const priorityOf = (reason: FlagReason) => (reason === 'self_harm' ? 'urgent' : 'normal');

/** Sends `flag:new` (with the message, moderator view) to the room's moderators and staff. */
function announceFlag(app: FastifyInstance, flag: Flag, message: Message): void {
  app.realtime.toRoomModeratorsAndStaff(flag.roomId, 'flag:new', { ...flag, message });
}

/**
 * POST /messages/:id/flags: any member of the message's room (others: 404). A deleted message
 * cannot be reported (409: there is nothing left to review). The same reporter again while their
 * flag is open gets that flag back (created: false).
 */
export async function createFlag(app: FastifyInstance, actor: Actor, messageId: string, input: CreateFlagInput): Promise<{ flag: Flag; created: boolean }> {
  const message = await app.db
    .selectFrom('messages')
    .innerJoin('room_members', (j) => j.onRef('room_members.room_id', '=', 'messages.room_id').on('room_members.user_id', '=', actor.id))
    .select(['messages.id', 'messages.room_id', 'messages.deleted_at'])
    .where('messages.id', '=', messageId)
    .executeTakeFirst();
  if (!message) throw notFound('Message not found');
  if (message.deleted_at) throw conflict('This message was deleted');

  const existing = () =>
    selectFlags(app.db)
      .where('flags.message_id', '=', messageId)
      .where('flags.reporter_id', '=', actor.id)
      .where('flags.status', '=', 'open')
      .executeTakeFirst();
  const open = await existing();
  if (open) return { flag: toFlag(open), created: false };
  let id: string;
  try {
    ({ id } = await app.db
      .insertInto('flags')
      .values({
        message_id: messageId,
        room_id: message.room_id,
        reporter_id: actor.id,
        reason: input.reason,
        note: input.note || null,
        priority: priorityOf(input.reason),
      })
      .returning('id')
      .executeTakeFirstOrThrow());
  } catch (err) {
    // A concurrent identical report won the partial unique index: answer with that one.
    const winner = isUniqueViolation(err) ? await existing() : undefined;
    if (winner) return { flag: toFlag(winner), created: false };
    throw err;
  }
  const flag = await loadFlag(app.db, id);
  announceFlag(app, flag, await moderatorMessage(app.db, messageId));
  return { flag, created: true };
}

/**
 * The automatic flag for a message that matched a `flag` or `crisis` word filter (reporter null).
 * At most one open automatic flag per message; returns null when one is already open.
 */
export async function createAutoFlag(
  app: FastifyInstance,
  message: { id: string; roomId: string },
  kind: 'flag' | 'crisis',
  pattern: string,
): Promise<{ flag: Flag; message: Message } | null> {
  const row = await app.db
    .insertInto('flags')
    .values({
      message_id: message.id,
      room_id: message.roomId,
      reporter_id: null,
      reason: kind === 'crisis' ? 'self_harm' : 'other',
      note: `Word filter (${kind}): ${pattern}`,
      priority: kind === 'crisis' ? 'urgent' : 'normal',
    })
    .onConflict((oc) => oc.column('message_id').where('status', '=', 'open').where('reporter_id', 'is', null).doNothing())
    .returning('id')
    .executeTakeFirst();
  if (!row) return null;
  const flag = await loadFlag(app.db, row.id);
  const view = await moderatorMessage(app.db, message.id);
  announceFlag(app, flag, view);
  return { flag, message: view };
}

/** GET /flags: urgent first, then oldest first; each with its message (moderator view). */
export async function listFlags(db: Database, actor: Actor, input: ListFlagsInput): Promise<Array<Flag & { message: Message }>> {
  const rooms = await readableRooms(db, actor, input.roomId);
  let q = selectFlags(db).where('flags.status', '=', input.status);
  if (rooms !== 'all') q = q.where('flags.room_id', 'in', rooms);
  if (input.roomId) q = q.where('flags.room_id', '=', input.roomId);
  const rows = await q
    .orderBy((eb) => eb.case().when('flags.priority', '=', 'urgent').then(0).else(1).end())
    .orderBy('flags.created_at')
    .orderBy('flags.id')
    .limit(input.limit)
    .execute();
  const messages = await moderatorMessages(db, [...new Set(rows.map((r) => r.message_id))]);
  return rows.map((r) => ({ ...toFlag(r), message: messages.get(r.message_id)! }));
}

/**
 * POST /flags/:id/resolve by a moderator of the flag's room or staff/admin (a member of the room
 * who does not moderate it: 403; anyone else: 404). Only open flags (409 otherwise).
 * `dismiss` closes this flag; `hide_message` / `delete_message` act on the message (rank rules
 * apply to its author) and resolve every open flag on it.
 */
export async function resolveFlag(app: FastifyInstance, actor: Actor, flagId: string, input: ResolveFlagInput): Promise<Flag> {
  const flag = await app.db.selectFrom('flags').selectAll().where('id', '=', flagId).executeTakeFirst();
  if (!flag) throw notFound('Flag not found');
  const access = await requireModeration(app.db, actor, flag.room_id, 'Flag not found');
  if (flag.status !== 'open') throw conflict('This flag is already closed');
  const message = await app.db.selectFrom('messages').selectAll().where('id', '=', flag.message_id).executeTakeFirstOrThrow();
  if (input.action !== 'dismiss') {
    if (message.deleted_at) throw conflict('This message was already deleted');
    await assertMayActOnMessage(app.db, actor, access, message);
  }

  const note = input.note || null;
  const changed = await app.db.transaction().execute(async (trx) => {
    let q = trx
      .updateTable('flags')
      .set({
        status: input.action === 'dismiss' ? 'dismissed' : 'resolved',
        resolved_at: new Date(),
        resolved_by: actor.id,
        resolution: input.action,
        resolution_note: note,
      })
      .where('status', '=', 'open');
    q = input.action === 'dismiss' ? q.where('id', '=', flagId) : q.where('message_id', '=', message.id);
    const updated = await q.returning('id').execute();
    if (!updated.some((r) => r.id === flagId)) throw conflict('This flag is already closed');
    let messageChanged = false;
    if (input.action === 'hide_message' && !message.hidden_at) messageChanged = await applyHide(trx, actor, message, note ?? 'flag resolved');
    if (input.action === 'delete_message') messageChanged = await applyDelete(trx, actor, message, note);
    await writeAudit(trx, {
      actorId: actor.id,
      action: input.action === 'dismiss' ? 'flag_dismiss' : 'flag_resolve',
      roomId: flag.room_id,
      targetUserId: message.author_id,
      targetMessageId: message.id,
      reason: [input.action, note].filter(Boolean).join(': '),
    });
    return messageChanged;
  });
  if (changed && input.action === 'hide_message') await broadcastMessageUpdated(app, message.id);
  if (changed && input.action === 'delete_message') broadcastDeleted(app, message);
  return loadFlag(app.db, flagId);
}
