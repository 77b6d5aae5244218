import type { FastifyInstance } from 'fastify';
import type pg from 'pg';
import type { MessageRow, Role, RoomRole } from '../../db/schema.js';
import { DomainError, conflict, notFound, unauthenticated } from '../../errors.js';
import { isSuspended, type Actor } from '../auth/actor.js';
import { screenWith, type FilterEntry, type Screening } from '../moderation/screen.js';
import { isRoomModerator } from '../rooms/access.js';
import { assertCanWrite, assertNotBlocked, slowedDown } from './rules.js';
import type { SendInput } from './schemas.js';

/**
 * Group commit of message sends. Every send (HTTP and socket) queues here; up to
 * MESSAGE_SEND_CONCURRENCY transactions per node run at once, each taking every queued send it may
 * (up to MAX_BATCH). Under light load a send is a transaction of its own and starts at once; under
 * heavy load the sends that arrived while the previous transactions ran share one transaction: the
 * same four round trips and one WAL flush serve them all, which is what lets a node keep up with many
 * rooms at once.
 *
 * Nothing about a single send changes: each is checked by the same rules in the same order against
 * rows read after the sender's lock is held, gets the next seq of its room in commit order, and is
 * refused or accepted on its own (one refused send does not fail the others). A batch that fails as a
 * whole (a deadlock with another node, a lost connection) is retried one send at a time.
 */
export const MAX_BATCH = 100;
/** What a send refused because the queue is full (MESSAGE_SEND_QUEUE) is told to wait: a queue's worth of sends takes well under this. */
const BUSY_RETRY_MS = 1_000;
/** The longest a send transaction waits for any lock (PostgreSQL lock_timeout). */
export const LOCK_TIMEOUT_MS = 3_000;

export type SendOutcome =
  | { kind: 'created'; row: MessageRow; actor: Actor; screening: Screening | null }
  /** The (author, clientId) pair was sent before: `row` when it was earlier in the same batch, else looked up. */
  | { kind: 'duplicate'; row: MessageRow | undefined; actor: Actor; isModerator: boolean };

interface Pending {
  userId: string;
  input: SendInput;
  resolve(outcome: SendOutcome): void;
  reject(err: unknown): void;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export class SendBatcher {
  private queue: Pending[] = [];
  /** Users with a send in a running transaction: their later sends wait, so a user's sends keep their order. */
  private readonly busyUsers = new Map<string, number>();
  private inFlight = 0;
  private readonly limits: { maxBatch: number; maxInFlight: number; maxQueued: number };
  /**
   * Connections kept by this queue between transactions (at most one per slot), so a batch starts
   * at once. One that ends or errors while kept is dropped; all go back to the pool when the app closes.
   */
  private readonly kept: pg.PoolClient[] = [];
  private readonly watched = new WeakSet<pg.PoolClient>();
  private readonly dead = new WeakSet<pg.PoolClient>();
  private closed = false;

  constructor(private readonly app: FastifyInstance) {
    // A full queue is refused at once rather than left to grow into seconds of waiting (and into
    // the clients' ack timeouts): under overload the answer is a quick 429 with a wait to retry after.
    this.limits = { maxBatch: MAX_BATCH, maxInFlight: app.config.MESSAGE_SEND_CONCURRENCY, maxQueued: app.config.MESSAGE_SEND_QUEUE };
    app.addHook('onClose', async () => this.close());
  }

  submit(userId: string, input: SendInput): Promise<SendOutcome> {
    if (!UUID.test(userId)) return Promise.reject(unauthenticated('Your session is no longer valid'));
    if (this.queue.length >= this.limits.maxQueued) {
      return Promise.reject(slowedDown(BUSY_RETRY_MS, 'Many messages are being sent right now; please try again in a moment'));
    }
    // Ids in one spelling (uuids are case-insensitive), so a batch groups a room's sends under one key.
    const normal: SendInput = { ...input, roomId: input.roomId.toLowerCase(), clientId: input.clientId.toLowerCase() };
    if (input.replyTo) normal.replyTo = input.replyTo.toLowerCase();
    return new Promise<SendOutcome>((resolve, reject) => {
      this.queue.push({ userId: userId.toLowerCase(), input: normal, resolve, reject });
      this.pump();
      this.app.metrics.sendQueued.set(this.queue.length);
    });
  }

  private pump(): void {
    while (this.inFlight < this.limits.maxInFlight && this.queue.length > 0) {
      const batch = this.take();
      if (batch.length === 0) return; // every queued user has a send running; its end pumps again
      this.inFlight++;
      for (const p of batch) this.busyUsers.set(p.userId, (this.busyUsers.get(p.userId) ?? 0) + 1);
      void this.run(batch);
    }
  }

  /** The batch's transaction is over: its slot and its users are free again; the next batch starts. */
  private finish(batch: Pending[]): void {
    this.inFlight--;
    for (const p of batch) {
      const n = (this.busyUsers.get(p.userId) ?? 1) - 1;
      if (n === 0) this.busyUsers.delete(p.userId);
      else this.busyUsers.set(p.userId, n);
    }
    this.pump();
  }

  /** The queued sends that may go now, in arrival order; a user's later sends never overtake an earlier one. */
  private take(): Pending[] {
    const batch: Pending[] = [];
    const rest: Pending[] = [];
    const held = new Set<string>();
    for (const p of this.queue) {
      if (batch.length < this.limits.maxBatch && !this.busyUsers.has(p.userId) && !held.has(p.userId)) {
        batch.push(p);
      } else {
        rest.push(p);
        held.add(p.userId);
      }
    }
    this.queue = rest;
    this.app.metrics.sendQueued.set(rest.length);
    return batch;
  }

  private async run(batch: Pending[]): Promise<void> {
    let results: Array<SendOutcome | Error> | undefined;
    let failure: unknown;
    try {
      results = await this.transact(batch);
    } catch (err) {
      failure = err;
    }
    if (!results && batch.length > 1 && failedAsBatch(failure)) {
      // The batch failed as a whole: each send again on its own, in order, so one cause fails only its send.
      for (const p of batch) {
        try {
          settle(p, (await this.transact([p]))[0]!);
        } catch (e) {
          p.reject(e);
        }
      }
      this.finish(batch);
      return;
    }
    // The slot is freed before this batch is answered: the next batch's first statement goes out to
    // PostgreSQL (on a connection kept by this queue, without waiting for the pool) while this
    // batch's acks and broadcasts run.
    this.finish(batch);
    batch.forEach((p, i) => (results ? settle(p, results[i]!) : p.reject(failure)));
  }

  private async transact(batch: Pending[]): Promise<Array<SendOutcome | Error>> {
    const client = this.kept.pop() ?? (await this.app.pool.connect());
    const lease: Lease = { broken: undefined };
    try {
      return await sendBatch(this.app, client, batch, lease);
    } catch (err) {
      // Anything but a statement PostgreSQL refused (a lost connection, a timeout) leaves the
      // connection in doubt: it is not kept.
      if (!(err instanceof InsertConflict) && typeof (err as { severity?: unknown }).severity !== 'string') lease.broken ??= err as Error;
      throw err;
    } finally {
      if (lease.broken || this.dead.has(client) || this.closed) {
        // A connection in doubt or gone: the pool drops it rather than reuse it.
        client.release(lease.broken ?? (this.dead.has(client) ? new Error('connection ended') : undefined));
      } else {
        if (!this.watched.has(client)) {
          this.watched.add(client);
          const drop = () => {
            this.dead.add(client);
            const i = this.kept.indexOf(client);
            if (i >= 0) {
              this.kept.splice(i, 1);
              client.release(new Error('connection ended'));
            }
          };
          client.once('end', drop);
          client.once('error', drop);
        }
        this.kept.push(client);
      }
    }
  }

  /** Gives the kept connections back to the pool (before the pool ends). */
  close(): void {
    this.closed = true;
    for (const client of this.kept.splice(0)) client.release();
  }
}

interface Lease {
  /** Set when the connection is in doubt (a failure that was not a refused statement, or a failed rollback). */
  broken: Error | undefined;
}

/**
 * Whether a failed batch is worth retrying one send at a time: a statement the database refused
 * (a deadlock with another node, one sender's lock held elsewhere past LOCK_TIMEOUT_MS, a clientId
 * stored meanwhile, something about one send's values). Not when the database is away (no
 * connection, shutting down, out of resources, statements timing out): every send would fail the
 * same way, one timeout after another.
 */
function failedAsBatch(err: unknown): boolean {
  if (err instanceof InsertConflict) return true;
  const e = err as { severity?: unknown; code?: unknown };
  if (typeof e.severity !== 'string' || typeof e.code !== 'string') return false;
  return !/^(08|53|57|58)/.test(e.code);
}

function settle(p: Pending, result: SendOutcome | Error): void {
  if (result instanceof Error) p.reject(result);
  else p.resolve(result);
}

interface SendCheck {
  i: number;
  /** null: no such user. */
  id: string | null;
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
  /** On the first row only (read once per batch). */
  filters: FilterEntry[] | null;
  earlier_room: string | null;
  recent_count: number;
  recent_oldest: Date | null;
}

/**
 * Per send, in one statement: the user (gone 401, suspended 423), the membership (row locked: a
 * removal or mute waits for this transaction) and the room's state, the reply's parent, an earlier
 * send with this clientId and the user's recent messages; once: the word filters (read per batch, so
 * a change on any node applies to the next send everywhere). A named prepared statement: parsed and
 * planned once per connection.
 */
const CHECK_SQL = `
  select c.i::int as i, u.id, u.handle, u.display_name, u.role, u.suspended_at, u.suspended_until,
         m.room_role, m.muted_until, m.mute_reason, m.last_sent_at, m.archived, m.locked, m.slow_mode_seconds,
         statement_timestamp() as now,
         (c.reply_to is null
           or exists (select 1 from messages x where x.id = c.reply_to and x.room_id = c.room_id)) as reply_ok,
         case when c.i = 1 then
           (select coalesce(json_agg(json_build_object('id', f.id, 'pattern', f.pattern, 'pattern_key', f.pattern_key, 'action', f.action)
                                     order by f.created_at), '[]'::json) from word_filters f)
         end as filters,
         (select x.room_id from messages x where x.author_id = c.user_id and x.client_id = c.client_id) as earlier_room,
         r.recent_count, r.recent_oldest
    from unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::uuid[]) with ordinality as c(user_id, room_id, client_id, reply_to, i)
    left join users u on u.id = c.user_id
    left join lateral (
      select rm.room_role, rm.muted_until, rm.mute_reason, rm.last_sent_at, rr.archived, rr.locked, rr.slow_mode_seconds
        from room_members rm join rooms rr on rr.id = rm.room_id
       where rm.room_id = c.room_id and rm.user_id = u.id
         for update of rm
    ) m on true
    cross join lateral (
      select count(*)::int as recent_count, min(t.created_at) as recent_oldest
        from (select x.created_at from messages x
               where x.author_id = c.user_id and x.created_at > statement_timestamp() - make_interval(secs => $5::int)
               order by x.created_at desc limit $6::int) t
    ) r
   order by c.i`;

/**
 * The accepted sends, in one statement: lock their rooms in id order (so two transactions never wait
 * on each other's rooms in a cycle), take each room's next seqs, store the messages, and touch the
 * senders' memberships (the slow-mode clock; a sender who had read everything before has also read
 * their own messages). A clientId conflict inserts nothing for that send; the caller then rolls the
 * whole transaction back, so no seq is ever skipped.
 *
 * The rooms are locked FOR NO KEY UPDATE, the mode the seq update itself takes: it does not conflict
 * with the KEY SHARE lock a foreign key check takes (a ban, flag, call or new member referencing the
 * room), so such a transaction and a send never wait on each other in a cycle.
 * created_at is the clock after the room's lock is held, so within a room it grows with seq, and the
 * rate limit and slow mode count from when the message was stored, not from when its transaction
 * began (which may have waited for other senders' locks).
 */
const INSERT_SQL = `
  with locked_rooms as materialized (
    select id from rooms where id = any($1::uuid[]) order by id for no key update
  ), counts as (
    select * from unnest($1::uuid[], $2::int[]) as k(room_id, n)
  ), next as (
    update rooms set last_seq = rooms.last_seq + counts.n
      from counts
     where rooms.id = counts.room_id and rooms.id in (select id from locked_rooms)
    returning rooms.id, rooms.last_seq, counts.n
  ), ins as (
    insert into messages (room_id, seq, author_id, client_id, body, reply_to, created_at)
    select v.room_id, next.last_seq - next.n + v.pos, v.author_id, v.client_id, v.body, v.reply_to, clock_timestamp()
      from unnest($3::uuid[], $4::int[], $5::uuid[], $6::uuid[], $7::text[], $8::uuid[])
           as v(room_id, pos, author_id, client_id, body, reply_to)
      join next on next.id = v.room_id
    on conflict (author_id, client_id) do nothing
    returning *
  ), touch as (
    update room_members rm
       set last_sent_at = t.sent_at, last_read_seq = greatest(rm.last_read_seq, t.read_to)
      from (
        select s.room_id, s.author_id, max(s.created_at) as sent_at,
               coalesce(max(s.seq) filter (where s.seq = m0.last_read_seq + s.k), 0) as read_to
          from (select room_id, author_id, seq, created_at, row_number() over (partition by room_id, author_id order by seq) as k from ins) s
          join room_members m0 on m0.room_id = s.room_id and m0.user_id = s.author_id
         group by s.room_id, s.author_id
      ) t
     where rm.room_id = t.room_id and rm.user_id = t.author_id
  )
  select * from ins`;

/** Thrown inside the transaction when a clientId conflict means the batch must be rolled back. */
class InsertConflict extends Error {}

async function sendBatch(app: FastifyInstance, client: pg.PoolClient, batch: Pending[], lease: Lease): Promise<Array<SendOutcome | Error>> {
  app.metrics.sendBatchSize.observe(batch.length);
  let open = false;
  try {
    open = true;
    // BEGIN and the per-user advisory locks in one simple-protocol round trip. The keys are uuids
    // (checked in submit) and are locked in key order, so two batches never wait on each other in a
    // cycle. The check is the next statement, so its snapshot is taken with every lock held. No lock
    // is waited for longer than LOCK_TIMEOUT_MS: a lock held elsewhere for that long (a node stopped
    // mid-transaction) fails this batch, which is then retried one send at a time, so only the sends
    // that need that lock wait for it and are answered UNAVAILABLE (the client retries, same clientId).
    const users = [...new Set(batch.map((p) => p.userId))];
    await client.query(
      `begin; set local lock_timeout = '${LOCK_TIMEOUT_MS}ms'; select pg_advisory_xact_lock(k) from (select hashtextextended('send:' || u, 0) as k from unnest(array['${users.join("','")}']) as u order by 1) s`,
    );
    const results = await checkAndInsert(app, client, batch);
    const done = await client.query('commit');
    open = false;
    if (done.command === 'ROLLBACK') throw new Error('the send transaction was rolled back at commit');
    return results;
  } catch (err) {
    if (err instanceof InsertConflict && batch.length === 1) {
      // Only possible if the (author, clientId) row appeared despite the lock: answer as a repeat.
      return [err.cause as SendOutcome];
    }
    throw err;
  } finally {
    if (open) {
      await client.query('rollback').catch((err: Error) => {
        lease.broken = err;
      });
    }
  }
}

interface Accepted {
  index: number;
  actor: Actor;
  isModerator: boolean;
  screening: Screening | null;
}

async function checkAndInsert(app: FastifyInstance, client: pg.PoolClient, batch: Pending[]): Promise<Array<SendOutcome | Error>> {
  const { count, seconds } = app.config.MESSAGE_RATE_LIMIT;
  const { rows } = await client.query<SendCheck>({
    name: 'engawa_send_check',
    text: CHECK_SQL,
    values: [
      batch.map((p) => p.userId),
      batch.map((p) => p.input.roomId),
      batch.map((p) => p.input.clientId),
      batch.map((p) => p.input.replyTo ?? null),
      seconds,
      count,
    ],
  });
  const filters = rows[0]?.filters ?? [];

  // The rules of each send in arrival order, as if they ran one after another: a send accepted
  // earlier in the batch counts for the rate limit, the slow-mode clock and idempotency of the next.
  const recent = new Map<string, { count: number; oldest: Date | null }>();
  const lastSent = new Map<string, Date | null>();
  const sentHere = new Map<string, { roomId: string; accepted: Accepted }>();
  const decided: Array<Accepted | SendOutcome | Error> = [];
  batch.forEach((p, index) => {
    const found = rows[index];
    try {
      if (!found || found.i !== index + 1) throw new Error('the send check returned rows out of order');
      decided.push(decide(p, index, found));
    } catch (err) {
      decided.push(err as Error);
    }
  });

  function decide(p: Pending, index: number, found: SendCheck): Accepted | SendOutcome {
    const { input } = p;
    if (found.id === null) throw unauthenticated('Your session is no longer valid');
    if (isSuspended(found)) throw new DomainError('LOCKED', 'This account is suspended');
    const actor: Actor = { id: found.id, handle: found.handle, displayName: found.display_name, role: found.role };
    if (found.room_role === null) throw notFound('Room not found');
    if (!found.reply_ok) {
      throw new DomainError('VALIDATION', 'replyTo must be a message of this room', {
        fields: [{ field: 'replyTo', message: 'not a message of this room' }],
      });
    }
    const screening = assertNotBlocked(screenWith(filters, input.body));
    const { now } = found;
    const isModerator = isRoomModerator(actor.role, found.room_role);
    const earlier = sentHere.get(`${p.userId}:${input.clientId}`);
    const earlierRoom = earlier?.roomId ?? found.earlier_room;
    if (earlierRoom === input.roomId) return earlier ? earlier.accepted : { kind: 'duplicate', row: undefined, actor, isModerator };
    if (earlierRoom !== null) throw conflict('This clientId was already used for another room');
    assertCanWrite({ archived: found.archived === true, locked: found.locked === true }, found, isModerator, now);
    const memberKey = `${input.roomId}:${p.userId}`;
    const sentAt = lastSent.has(memberKey) ? lastSent.get(memberKey)! : found.last_sent_at;
    const slowMode = found.slow_mode_seconds ?? 0;
    if (!isModerator && slowMode > 0 && sentAt) {
      const wait = sentAt.getTime() + slowMode * 1000 - now.getTime();
      if (wait > 0) throw slowedDown(wait, 'This room is in slow mode; please wait a moment');
    }
    const mine = recent.get(p.userId) ?? { count: found.recent_count, oldest: found.recent_oldest };
    if (mine.count >= count && mine.oldest) {
      throw slowedDown(mine.oldest.getTime() + seconds * 1000 - now.getTime(), 'You are sending messages too fast; please wait a moment');
    }
    recent.set(p.userId, { count: mine.count + 1, oldest: mine.oldest ?? now });
    lastSent.set(memberKey, now);
    const accepted: Accepted = { index, actor, isModerator, screening };
    sentHere.set(`${p.userId}:${input.clientId}`, { roomId: input.roomId, accepted });
    return accepted;
  }

  // A repeat of an earlier send of this batch holds that send's Accepted (with its index), not its own.
  const accepted = decided.filter((d, i): d is Accepted => !(d instanceof Error) && !('kind' in d) && d.index === i);
  const stored = new Map<string, MessageRow>();
  if (accepted.length > 0) {
    const perRoom = new Map<string, number>();
    const pos = accepted.map((a) => {
      const roomId = batch[a.index]!.input.roomId;
      const n = (perRoom.get(roomId) ?? 0) + 1;
      perRoom.set(roomId, n);
      return n;
    });
    const inputs = accepted.map((a) => batch[a.index]!.input);
    const { rows: inserted } = await client.query<MessageRow>({
      name: 'engawa_send_insert',
      text: INSERT_SQL,
      values: [
        [...perRoom.keys()],
        [...perRoom.values()],
        inputs.map((i) => i.roomId),
        pos,
        accepted.map((a) => a.actor.id),
        inputs.map((i) => i.clientId),
        inputs.map((i) => i.body),
        inputs.map((i) => i.replyTo ?? null),
      ],
    });
    for (const row of inserted) stored.set(`${row.author_id}:${row.client_id}`, row);
    if (inserted.length !== accepted.length) {
      const first = accepted[0]!;
      throw new InsertConflict('a clientId was stored by another transaction', {
        cause: { kind: 'duplicate', row: undefined, actor: first.actor, isModerator: first.isModerator } satisfies SendOutcome,
      });
    }
  }

  const rowOf = (a: Accepted): MessageRow => stored.get(`${a.actor.id}:${batch[a.index]!.input.clientId}`)!;
  return decided.map((d, index) => {
    if (d instanceof Error || 'kind' in d) return d;
    const row = rowOf(d);
    // A repeat of a send accepted earlier in this batch answers with that message.
    if (d.index !== index) return { kind: 'duplicate', row, actor: d.actor, isModerator: d.isModerator };
    return { kind: 'created', row, actor: d.actor, screening: d.screening };
  });
}
