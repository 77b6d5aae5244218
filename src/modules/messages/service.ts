import type { FastifyInstance } from 'fastify';
import { sql, type CompiledQuery } from 'kysely';
import type { Database } from '../../db/database.js';
import type { DB, MessageRow, Role, RoomMemberRow, RoomRole, RoomRow } from '../../db/schema.js';
import { DomainError, conflict, forbidden, locked, notFound, unauthenticated } from '../../errors.js';
import { isSuspended, type Actor } from '../auth/actor.js';
import type { PublicUser } from '../auth/user.js';
import { writeAudit } from '../moderation/audit.js';
import { handleScreenedMessage } from '../moderation/auto-flag.js';
import { screenBody, screenWith, type FilterEntry, type Screening } from '../moderation/screen.js';
import { assertOutranks, isRoomModerator, requireMember, standingInRoom, type RoomAccess } from '../rooms/access.js';
import { MAX_PAGE, type HistoryQuery, type Message, type SendInput } from './schemas.js';
import { KeyedSerial } from './serial.js';

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

/** Whether the member may write in the room now: archived, locked (non-moderators), muted → 423. */
function assertCanWrite(room: Pick<RoomRow, 'archived' | 'locked'>, member: Pick<RoomMemberRow, 'muted_until' | 'mute_reason'>, isModerator: boolean, now = new Date()): void {
  if (room.archived) throw locked('This room is archived and read-only');
  if (room.locked && !isModerator) throw locked('This room is locked for now');
  if (member.muted_until && member.muted_until > now) {
    throw locked('You are muted in this room for now', { until: member.muted_until.toISOString(), reason: member.mute_reason });
  }
}

/** `block` filter matches refuse the text (400, naming the filter). */
function assertNotBlocked(screening: Screening | null): Screening | null {
  if (screening?.action === 'block') {
    throw new DomainError('VALIDATION', 'This message contains words that are not allowed here', {
      filter: { id: screening.filterId, pattern: screening.pattern },
      fields: [{ field: 'body', message: 'contains a blocked word' }],
    });
  }
  return screening;
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

/** Thrown inside the send transaction when the (author, clientId) row already exists: rolls back the seq. */
class DuplicateSend extends Error {
  constructor(
    readonly actor: Actor,
    readonly isModerator: boolean,
  ) {
    super('duplicate send');
  }
}

const sendQueues = new WeakMap<FastifyInstance, KeyedSerial>();

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
 * the insert's transaction. The broadcast happens only after commit.
 *
 * `who` is the actor (HTTP, already loaded) or just the user id (socket events): either way the user
 * row is read again inside the send's own statement, so a socket send costs one statement fewer.
 */
export async function sendMessage(app: FastifyInstance, who: Actor | string, input: SendInput): Promise<SendResult> {
  const { db } = app;
  const userId = typeof who === 'string' ? who : who.id;
  let queue = sendQueues.get(app);
  if (!queue) sendQueues.set(app, (queue = new KeyedSerial()));
  let sent: Sent;
  try {
    sent = await queue.run(userId, () => insertMessage(app, userId, input));
  } catch (err) {
    if (!(err instanceof DuplicateSend)) throw err;
    const first = await findByClientId(db, err.actor, input);
    if (!first) throw err;
    return { message: toMessage(first, err.actor, err.isModerator), created: false };
  }
  const { row, actor, screening } = sent;
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
  if (row && row.room_id !== input.roomId) throw conflict('This clientId was already used for another room');
  return row;
}

interface Sent {
  row: MessageRow;
  actor: Actor;
  screening: Screening | null;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

interface SendCheck {
  id: string;
  handle: string;
  display_name: string;
  role: Role;
  suspended_at: Date | null;
  suspended_until: Date | null;
  /** null: not a member of the room (or no such room). */
  room_role: RoomRole | null;
  muted_until: Date | null;
  mute_reason: string | null;
  last_sent_at: Date | null;
  archived: boolean | null;
  locked: boolean | null;
  slow_mode_seconds: number | null;
  now: Date;
  reply_ok: boolean;
  filters: FilterEntry[];
  earlier_room: string | null;
  recent_count: number;
  recent_oldest: Date | null;
}

/**
 * One transaction in four round trips: BEGIN with the per-user advisory lock (one simple-protocol
 * query; the key is the user's uuid, checked), one select with everything the rules need, the insert,
 * COMMIT. The lock serialises this user's sends across every node (idempotency, slow mode, rate
 * limit); the select is a separate statement so that its snapshot is taken after the lock is held.
 * The select and the insert are named prepared statements on the pooled client, so PostgreSQL parses
 * and plans them once per connection rather than for every message.
 */
async function insertMessage(app: FastifyInstance, userId: string, input: SendInput): Promise<Sent> {
  if (!UUID.test(userId)) throw unauthenticated('Your session is no longer valid');
  const client = await app.pool.connect();
  let open = false;
  let broken: Error | undefined;
  try {
    open = true;
    await client.query(`begin; select pg_advisory_xact_lock(hashtextextended('send:${userId.toLowerCase()}', 0))`);
    const run = async <R extends object>(name: string, query: CompiledQuery): Promise<R[]> =>
      (await client.query<R>({ name, text: query.sql, values: [...query.parameters] })).rows;
    const sent = await checkAndInsert(run, app, userId, input);
    const done = await client.query('commit');
    open = false;
    if (done.command === 'ROLLBACK') throw new Error('the send transaction was rolled back at commit');
    return sent;
  } finally {
    if (open) {
      await client.query('rollback').catch((err: Error) => {
        broken = err;
      });
    }
    // A client whose rollback failed is in an unknown state: the pool drops it rather than reuse it.
    client.release(broken);
  }
}

type Run = <R extends object>(name: string, query: CompiledQuery) => Promise<R[]>;

async function checkAndInsert(run: Run, app: FastifyInstance, userId: string, input: SendInput): Promise<Sent> {
  const { count, seconds } = app.config.MESSAGE_RATE_LIMIT;
  const recent = sql`select created_at from messages where author_id = ${userId}
    and created_at > now() - make_interval(secs => ${seconds}) order by created_at desc limit ${count}`;
  // The user (gone 401, suspended 423), their membership (row locked: a removal or mute waits for
  // this send) and the room's state, the reply's parent, the word filters (read per message, so a
  // change on any node applies to the next one), an earlier send with this clientId and the user's
  // recent messages, in one round trip.
  const rows = await run<SendCheck>('engawa_send_check', sql`
    select u.id, u.handle, u.display_name, u.role, u.suspended_at, u.suspended_until,
           m.room_role, m.muted_until, m.mute_reason, m.last_sent_at, m.archived, m.locked, m.slow_mode_seconds,
           now() as now,
           (${input.replyTo ?? null}::uuid is null
             or exists (select 1 from messages where id = ${input.replyTo ?? null}::uuid and room_id = ${input.roomId})) as reply_ok,
           (select coalesce(json_agg(json_build_object('id', f.id, 'pattern', f.pattern, 'pattern_key', f.pattern_key, 'action', f.action)
                                     order by f.created_at), '[]'::json) from word_filters f) as filters,
           (select room_id from messages where author_id = ${userId} and client_id = ${input.clientId}) as earlier_room,
           (select count(*)::int from (${recent}) r) as recent_count,
           (select min(created_at) from (${recent}) r) as recent_oldest
      from users u
      left join lateral (
        select rm.room_role, rm.muted_until, rm.mute_reason, rm.last_sent_at, r.archived, r.locked, r.slow_mode_seconds
          from room_members rm join rooms r on r.id = rm.room_id
         where rm.room_id = ${input.roomId} and rm.user_id = u.id
           for update of rm
      ) m on true
     where u.id = ${userId}`.compile(app.db));
  const found = rows[0];
  if (!found) throw unauthenticated('Your session is no longer valid');
  if (isSuspended(found)) throw new DomainError('LOCKED', 'This account is suspended');
  const actor: Actor = { id: found.id, handle: found.handle, displayName: found.display_name, role: found.role };
  if (found.room_role === null) throw notFound('Room not found');
  if (!found.reply_ok) {
    throw new DomainError('VALIDATION', 'replyTo must be a message of this room', {
      fields: [{ field: 'replyTo', message: 'not a message of this room' }],
    });
  }
  const screening = assertNotBlocked(screenWith(found.filters, input.body));
  const { now, earlier_room, recent_count, recent_oldest } = found;
  const isModerator = isRoomModerator(actor.role, found.room_role);
  if (earlier_room === input.roomId) throw new DuplicateSend(actor, isModerator);
  if (earlier_room !== null) throw conflict('This clientId was already used for another room');
  assertCanWrite({ archived: found.archived === true, locked: found.locked === true }, found, isModerator, now);
  const slowMode = found.slow_mode_seconds ?? 0;
  if (!isModerator && slowMode > 0 && found.last_sent_at) {
    const wait = found.last_sent_at.getTime() + slowMode * 1000 - now.getTime();
    if (wait > 0) throw slowedDown(wait, 'This room is in slow mode; please wait a moment');
  }
  if (recent_count >= count && recent_oldest) {
    throw slowedDown(recent_oldest.getTime() + seconds * 1000 - now.getTime(), 'You are sending messages too fast; please wait a moment');
  }

  // One statement takes the room's next seq (its row lock orders the log and is held only from here
  // to commit), stores the message, and touches the sender's membership: the slow-mode clock, and a
  // sender who had read everything before has also read their own message. On a clientId conflict
  // nothing is inserted and the caller rolls the seq back.
  const inserted = await run<MessageRow>('engawa_send_insert', sql`
    with next as (
      update rooms set last_seq = last_seq + 1 where id = ${input.roomId} returning last_seq
    ), touch as (
      update room_members
         set last_sent_at = ${now},
             last_read_seq = case when last_read_seq = (select last_seq from next) - 1 then (select last_seq from next) else last_read_seq end
       where room_id = ${input.roomId} and user_id = ${actor.id}
    )
    insert into messages (room_id, seq, author_id, client_id, body, reply_to)
    select ${input.roomId}::uuid, next.last_seq, ${actor.id}::uuid, ${input.clientId}::uuid, ${input.body}::text, ${input.replyTo ?? null}::uuid from next
    on conflict (author_id, client_id) do nothing
    returning *`.compile(app.db));
  const row = inserted[0];
  if (!row) throw new DuplicateSend(actor, isModerator);
  return { row, actor, screening };
}

function slowedDown(waitMs: number, message: string): DomainError {
  return new DomainError('RATE_LIMITED', message, { retryAfterMs: Math.max(1, Math.ceil(waitMs)) });
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
