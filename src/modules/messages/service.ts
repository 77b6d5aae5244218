import type { FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import type { Database } from '../../db/database.js';
import type { MessageRow } from '../../db/schema.js';
import { conflict, forbidden, locked, notFound } from '../../errors.js';
import type { Actor } from '../auth/actor.js';
import type { PublicUser } from '../auth/user.js';
import { writeAudit } from '../moderation/audit.js';
import { handleScreenedMessage } from '../moderation/auto-flag.js';
import { screenBody, type Screening } from '../moderation/screen.js';
import { assertOutranks, requireMember, standingInRoom, type RoomAccess } from '../rooms/access.js';
import { MAX_PAGE, type HistoryQuery, type Message, type SendInput } from './schemas.js';
import { assertCanWrite, assertNotBlocked } from './rules.js';

/** The contract's message object. Hidden bodies are shown only to the room's moderators. */
export function toMessage(row: MessageRow, author: PublicUser, viewerIsModerator: boolean): Message {
  const deleted = row.deleted_at !== null;
  const hidden = row.hidden_at !== null;
  return {
    id: row.id,
    roomId: row.room_id,
    seq: row.seq,
    author: { id: author.id, handle: author.handle, displayName: author.displayName },
    body: deleted || (hidden && !viewerIsModerator) ? null : row.body,
    replyTo: row.reply_to,
    clientId: row.client_id,
    createdAt: row.created_at.toISOString(),
    editedAt: row.edited_at?.toISOString() ?? null,
    deleted,
    hidden,
  };
}

type MessageWithAuthor = MessageRow & { author_handle: string; author_display_name: string };
const authorOf = (r: MessageWithAuthor): PublicUser => ({ id: r.author_id, handle: r.author_handle, displayName: r.author_display_name });

/** Messages by id as a moderator of their room sees them (hidden bodies shown); for flags and alerts. */
export async function messagesForModerators(db: Database, ids: string[]): Promise<Map<string, Message>> {
  if (ids.length === 0) return new Map();
  const rows = await selectMessages(db).where('messages.id', 'in', ids).execute();
  return new Map(rows.map((r) => [r.id, toMessage(r, authorOf(r), true)]));
}

function selectMessages(db: Database) {
  return db
    .selectFrom('messages')
    .innerJoin('users', 'users.id', 'messages.author_id')
    .selectAll('messages')
    .select(['users.handle as author_handle', 'users.display_name as author_display_name']);
}

/** A message the actor may read (404 when it does not exist or its room is not theirs). */
async function loadMessageFor(db: Database, actor: Actor, messageId: string): Promise<{ row: MessageWithAuthor; access: RoomAccess }> {
  const row = await selectMessages(db).where('messages.id', '=', messageId).executeTakeFirst();
  if (!row) throw notFound('Message not found');
  const access = await requireMember(db, actor, row.room_id);
  return { row, access };
}

async function screen(db: Database, body: string): Promise<Screening | null> {
  return assertNotBlocked(await screenBody(db, body));
}

async function afterScreening(app: FastifyInstance, row: MessageRow, screening: Screening | null): Promise<void> {
  if (screening?.action !== 'flag' && screening?.action !== 'crisis') return;
  try {
    await handleScreenedMessage(app, { id: row.id, roomId: row.room_id, authorId: row.author_id }, screening);
  } catch (err) {
    app.log.error({ err, messageId: row.id }, 'handling a screened message failed');
  }
}

export interface SendResult {
  message: Message;
  /** false: an earlier send with this clientId answered (HTTP 200, no broadcast). */
  created: boolean;
}

/**
 * The one way a message is sent (HTTP POST and socket `message:send`). Rules in order: the sender's
 * account (401 gone, 423 suspended), membership (404), reply in the same room (400), word filters
 * (400 on block), idempotency on (author, clientId), archived/locked/muted (423), slow mode and the
 * per-user rate limit (429, counted in the database so it holds across nodes), and the seq taken in
 * the insert's transaction (see send.ts: concurrent sends share a transaction). The broadcast happens
 * only after commit.
 *
 * `who` is the actor (HTTP, already loaded) or just the user id (socket events): either way the user
 * row is read again inside the send's own statement.
 */
export async function sendMessage(app: FastifyInstance, who: Actor | string, input: SendInput): Promise<SendResult> {
  const userId = typeof who === 'string' ? who : who.id;
  const outcome = await app.sendBatcher.submit(userId, input);
  if (outcome.kind === 'duplicate') {
    const first = outcome.row ?? (await findByClientId(app.db, outcome.actor, input));
    if (!first) throw new Error('a repeated clientId has no earlier message');
    return { message: toMessage(first, outcome.actor, outcome.isModerator), created: false };
  }
  const { row, actor, screening } = outcome;
  // Everyone in the room gets the same copy: a new message is neither hidden nor deleted.
  const message = toMessage(row, actor, false);
  app.metrics.messagesSent.inc();
  app.realtime.toRoom(row.room_id, 'message:new', message);
  await afterScreening(app, row, screening);
  return { message, created: true };
}

async function findByClientId(db: Database, actor: Actor, input: SendInput): Promise<MessageRow | undefined> {
  const row = await db
    .selectFrom('messages')
    .selectAll()
    .where('author_id', '=', actor.id)
    .where('client_id', '=', input.clientId)
    .executeTakeFirst();
  if (row && row.room_id !== input.roomId.toLowerCase()) throw conflict('This clientId was already used for another room');
  return row;
}

/**
 * History, ascending by seq: `after` and/or `before` bound it; with neither, the newest `limit`.
 * Also the socket `room:catchup` (after = afterSeq, at most 200).
 */
export async function listMessages(db: Database, actor: Actor, roomId: string, q: HistoryQuery): Promise<Message[]> {
  const access = await requireMember(db, actor, roomId);
  const limit = Math.min(q.limit, MAX_PAGE);
  let query = selectMessages(db).where('messages.room_id', '=', roomId);
  if (q.after !== undefined) query = query.where('messages.seq', '>', q.after);
  if (q.before !== undefined) query = query.where('messages.seq', '<', q.before);
  const newestFirst = q.after === undefined;
  const rows = await query.orderBy('messages.seq', newestFirst ? 'desc' : 'asc').limit(limit).execute();
  if (newestFirst) rows.reverse();
  return rows.map((r) => toMessage(r, authorOf(r), access.isModerator));
}

/** Replies to a message, ascending (at most 200). */
export async function listReplies(db: Database, actor: Actor, messageId: string): Promise<Message[]> {
  const { access } = await loadMessageFor(db, actor, messageId);
  const rows = await selectMessages(db).where('messages.reply_to', '=', messageId).orderBy('messages.seq').limit(MAX_PAGE).execute();
  return rows.map((r) => toMessage(r, authorOf(r), access.isModerator));
}

/** PATCH /messages/:id: the author only; not deleted or hidden; same write and filter rules as sending. */
export async function editMessage(app: FastifyInstance, actor: Actor, messageId: string, body: string): Promise<Message> {
  const { row: current, access } = await loadMessageFor(app.db, actor, messageId);
  if (current.author_id !== actor.id) throw forbidden('Only the author can edit a message');
  if (current.deleted_at) throw conflict('This message was deleted');
  if (current.hidden_at) throw conflict('This message was hidden by a moderator');
  assertCanWrite(access.room, access.member, access.isModerator);
  const screening = await screen(app.db, body);
  const row = await app.db
    .updateTable('messages')
    .set({ body, edited_at: sql`now()` })
    .where('id', '=', messageId)
    .where('deleted_at', 'is', null)
    .where('hidden_at', 'is', null)
    .returningAll()
    .executeTakeFirst();
  if (!row) throw conflict('This message was deleted or hidden');
  await broadcastMessageUpdated(app, messageId);
  await afterScreening(app, row, screening);
  return toMessage(row, actor, access.isModerator);
}

/**
 * DELETE /messages/:id: the author, or a moderator of the room acting on someone of lower standing
 * (audited). The seq stays; the body is gone. Deleting twice is a no-op.
 */
export async function deleteMessage(app: FastifyInstance, actor: Actor, messageId: string): Promise<void> {
  const { row, access } = await loadMessageFor(app.db, actor, messageId);
  const byAuthor = row.author_id === actor.id;
  if (!byAuthor) {
    if (!access.isModerator) throw forbidden('Only the author or a moderator can delete this message');
    const author = await standingInRoom(app.db, row.room_id, row.author_id);
    if (!author) throw notFound('Message not found');
    assertOutranks(actor, access.member.room_role, author);
  }
  if (access.room.archived) throw locked('This room is archived and read-only');
  const deleted = await app.db.transaction().execute(async (trx) => {
    const done = await trx
      .updateTable('messages')
      .set({ body: null, deleted_at: sql`now()` })
      .where('id', '=', messageId)
      .where('deleted_at', 'is', null)
      .returning(['id', 'room_id', 'seq'])
      .executeTakeFirst();
    if (done && !byAuthor) {
      await writeAudit(trx, { actorId: actor.id, action: 'message_delete', roomId: row.room_id, targetUserId: row.author_id, targetMessageId: row.id });
    }
    return done;
  });
  if (deleted) app.realtime.toRoom(deleted.room_id, 'message:deleted', { roomId: deleted.room_id, id: deleted.id, seq: deleted.seq });
}

/**
 * Sends `message:updated` for a message as it is now: the full copy to the room's moderators and,
 * when hidden, a redacted copy to everyone else. Used by edits here and hide/unhide in moderation.
 */
export async function broadcastMessageUpdated(app: FastifyInstance, messageId: string): Promise<void> {
  const row = await selectMessages(app.db).where('messages.id', '=', messageId).executeTakeFirst();
  if (!row) return;
  const author = authorOf(row);
  if (row.hidden_at === null) {
    app.realtime.toRoom(row.room_id, 'message:updated', toMessage(row, author, false));
    return;
  }
  app.realtime.toRoomModerators(row.room_id, 'message:updated', toMessage(row, author, true));
  app.realtime.toRoomNonModerators(row.room_id, 'message:updated', toMessage(row, author, false));
}

/** `typing`: only members who could write now may signal it; returns who is typing. */
export async function typingAllowed(db: Database, actor: Actor, roomId: string): Promise<PublicUser> {
  const { room, member, isModerator } = await requireMember(db, actor, roomId);
  assertCanWrite(room, member, isModerator);
  return { id: actor.id, handle: actor.handle, displayName: actor.displayName };
}
