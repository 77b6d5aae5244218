// Group commit (src/modules/messages/send.ts): sends that arrive while a send transaction runs share
// the next one. Each send must still be judged on its own, as if they ran one after another.
//
// To make a batch on purpose the tests "plug" the node's only send slot (MESSAGE_SEND_CONCURRENCY=1):
// a test connection holds the per-user advisory lock of one sender, that sender's message waits in
// its transaction, the sends under test queue up behind it (read off /metrics), and then the plug is
// pulled. Everything is real: PostgreSQL, the HTTP routes, socket.io-client sockets.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { sql } from 'kysely';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { newClientId, newRoom, newUser, type TestUser } from '../helpers/factories.js';
import { useSockets, type ClientSocket } from '../helpers/sockets.js';
import { metricSample, pollUntil } from '../helpers/poll.js';

const QUEUE = 12;
let s: TestServer;
beforeAll(async () => {
  s = await startTestServer({ MESSAGE_SEND_CONCURRENCY: '1', MESSAGE_SEND_QUEUE: String(QUEUE), MESSAGE_RATE_LIMIT: '3/60' });
});
afterAll(async () => {
  await s.close();
});
const connect = useSockets(() => s);

type Ack = { ok: true; message: any } | { ok: false; error: { code: string; message: string; details?: any } };
const emitSend = (socket: ClientSocket, payload: object): Promise<Ack> =>
  new Promise((resolve) => socket.emit('message:send', payload, (ack: Ack) => resolve(ack)));

async function metric(name: string): Promise<number> {
  return metricSample((await s.app.inject({ method: 'GET', url: '/metrics' })).body, name) ?? 0;
}
const bucket = (le: number) => metric(`engawa_message_send_batch_size_bucket{le="${le}"}`);

/** Resolves once `n` sends wait in the node's queue. */
const queued = (n: number) => pollUntil(async () => (await metric('engawa_message_send_queued')) === n, { what: `${n} queued sends` });

/** Holds `user`'s send lock from outside: their next send blocks the node's only send slot. */
async function plug(user: TestUser, roomId: string): Promise<{ first: Promise<any>; pull: () => Promise<void> }> {
  const client = new pg.Client({ connectionString: s.databaseUrl });
  await client.connect();
  await client.query(`select pg_advisory_lock(hashtextextended('send:' || $1, 0))`, [user.id]);
  const first = s.app.inject({ method: 'POST', url: `/api/rooms/${roomId}/messages`, headers: user.headers, payload: { body: 'plug', clientId: newClientId() } });
  // The plug's own send is in its transaction (waiting for the lock), not in the queue.
  await pollUntil(
    async () =>
      (await client.query(`select count(*)::int as n from pg_locks where locktype = 'advisory' and not granted and database = (select oid from pg_database where datname = current_database())`)).rows[0].n === 1,
  );
  return {
    first,
    pull: async () => {
      await client.query('select pg_advisory_unlock_all()');
      await client.end();
    },
  };
}

const rowsOf = (roomId: string) =>
  s.db.selectFrom('messages').select(['seq', 'author_id', 'client_id', 'body']).where('room_id', '=', roomId).orderBy('seq').execute();

describe('group commit', () => {
  it('sends that share a transaction are each judged on their own; one gap-free log, one broadcast per stored message', async () => {
    const [p, alice, bob, carol, dave, eve] = await Promise.all([0, 1, 2, 3, 4, 5].map(() => newUser(s.app)));
    const room = await newRoom(s.db, { members: [p!, alice!, bob!, carol!, dave!].map((u) => ({ id: u.id })) });
    const other = await newRoom(s.db, { members: [{ id: alice!.id }] });
    await s.db.updateTable('room_members').set({ muted_until: new Date(Date.now() + 3_600_000), mute_reason: 'test' }).where('user_id', '=', carol!.id).execute();
    const sock = Object.fromEntries(await Promise.all(Object.entries({ alice, bob, carol, dave, eve }).map(async ([k, u]) => [k, await connect(u!)] as const)));
    const seenByBob: any[] = [];
    sock.bob!.on('message:new', (m: any) => seenByBob.push(m));
    const batchesOver4 = (await bucket(100)) - (await bucket(4));

    const plugged = await plug(p!, room.id);
    const repeated = newClientId();
    const acks = [
      emitSend(sock.alice!, { roomId: room.id, body: 'a1', clientId: repeated }),
      emitSend(sock.bob!, { roomId: room.id, body: 'b1', clientId: newClientId() }),
      emitSend(sock.carol!, { roomId: room.id, body: 'muted', clientId: newClientId() }),
      emitSend(sock.eve!, { roomId: room.id, body: 'outsider', clientId: newClientId() }),
      emitSend(sock.alice!, { roomId: room.id, body: 'a1 again', clientId: repeated }),
      emitSend(sock.bob!, { roomId: room.id, body: 'reply', clientId: newClientId(), replyTo: '00000000-0000-4000-8000-000000000000' }),
      emitSend(sock.dave!, { roomId: room.id, body: 'd1', clientId: newClientId() }),
      emitSend(sock.alice!, { roomId: other.id, body: 'same clientId, other room', clientId: repeated }),
    ];
    await queued(acks.length);
    await plugged.pull();
    const [a1, b1, muted, outsider, again, reply, d1, otherRoom] = await Promise.all(acks);

    expect((await plugged.first).statusCode).toBe(201);
    expect(a1).toMatchObject({ ok: true, message: { body: 'a1', clientId: repeated } });
    expect(b1).toMatchObject({ ok: true, message: { body: 'b1' } });
    expect(d1).toMatchObject({ ok: true, message: { body: 'd1' } });
    expect(muted).toMatchObject({ ok: false, error: { code: 'LOCKED' } });
    expect(outsider).toMatchObject({ ok: false, error: { code: 'NOT_FOUND' } });
    expect(reply).toMatchObject({ ok: false, error: { code: 'VALIDATION' } });
    expect(otherRoom).toMatchObject({ ok: false, error: { code: 'CONFLICT' } });
    // The repeat answers with the first message itself (its body, not the repeat's).
    expect(again).toEqual(a1);
    // The eight queued sends went in one transaction.
    expect((await bucket(100)) - (await bucket(4))).toBe(batchesOver4 + 1);

    const rows = await rowsOf(room.id);
    expect(rows.map((r) => r.seq)).toEqual([1, 2, 3, 4]);
    expect(rows.map((r) => r.body)).toEqual(['plug', 'a1', 'b1', 'd1']);
    expect(await rowsOf(other.id)).toEqual([]);
    const lastSeq = (await s.db.selectFrom('rooms').select('last_seq').where('id', '=', room.id).executeTakeFirstOrThrow()).last_seq;
    expect(lastSeq).toBe(4);
    await pollUntil(async () => seenByBob.length >= 4);
    expect(seenByBob.map((m) => m.seq)).toEqual([1, 2, 3, 4]);
  });

  it('the rate limit and slow mode count the sends earlier in the same transaction', async () => {
    const [p, alice, bob, mod] = await Promise.all([0, 1, 2, 3].map(() => newUser(s.app)));
    const room = await newRoom(s.db, { members: [{ id: p!.id }, { id: alice!.id }] });
    const slow = await newRoom(s.db, { slowModeSeconds: 60, members: [{ id: p!.id }, { id: bob!.id }, { id: mod!.id, roomRole: 'moderator' }] });
    const [sa, sb, sm] = await Promise.all([connect(alice!), connect(bob!), connect(mod!)]);

    const plugged = await plug(p!, room.id);
    const fast = [1, 2, 3, 4, 5].map((i) => emitSend(sa, { roomId: room.id, body: `fast ${i}`, clientId: newClientId() }));
    const slowSends = [1, 2].map((i) => emitSend(sb, { roomId: slow.id, body: `slow ${i}`, clientId: newClientId() }));
    const modSends = [1, 2].map((i) => emitSend(sm, { roomId: slow.id, body: `mod ${i}`, clientId: newClientId() }));
    await queued(9);
    await plugged.pull();
    await plugged.first;

    // MESSAGE_RATE_LIMIT=3/60: the first three in arrival order, then 429 with a wait.
    const fastAcks = await Promise.all(fast);
    expect(fastAcks.map((a) => a.ok)).toEqual([true, true, true, false, false]);
    for (const a of fastAcks.slice(3)) {
      expect(a).toMatchObject({ ok: false, error: { code: 'RATE_LIMITED' } });
      expect((a as any).error.details.retryAfterMs).toBeGreaterThan(50_000);
    }
    expect((await rowsOf(room.id)).map((r) => r.body)).toEqual(['plug', 'fast 1', 'fast 2', 'fast 3']);

    // Slow mode 60 s: bob's second send waits; the room's moderator is exempt.
    const [s1, s2] = await Promise.all(slowSends);
    expect(s1).toMatchObject({ ok: true });
    expect(s2).toMatchObject({ ok: false, error: { code: 'RATE_LIMITED' } });
    expect((s2 as any).error.details.retryAfterMs).toBeGreaterThan(50_000);
    expect((await Promise.all(modSends)).map((a) => a.ok)).toEqual([true, true]);
    expect((await rowsOf(slow.id)).map((r) => r.body).sort()).toEqual(['mod 1', 'mod 2', 'slow 1']);
  });

  it('a sender who had read everything has read their own messages, up to the first one of someone else', async () => {
    const [p, alice, bob] = await Promise.all([0, 1, 2].map(() => newUser(s.app)));
    const room = await newRoom(s.db, { members: [{ id: p!.id }, { id: alice!.id }, { id: bob!.id }] });
    await s.app.inject({ method: 'POST', url: `/api/rooms/${room.id}/messages`, headers: p!.headers, payload: { body: 'first', clientId: newClientId() } });
    const read = await s.app.inject({ method: 'POST', url: `/api/rooms/${room.id}/read`, headers: alice!.headers, payload: { seq: 1 } });
    expect(read.statusCode).toBe(204);
    const [sa, sb] = await Promise.all([connect(alice!), connect(bob!)]);

    // Arrival order: alice, alice, bob, alice → seqs 3, 4, 5, 6 after the plug's 2.
    const plugged = await plug(p!, room.id);
    const acks = [emitSend(sa, { roomId: room.id, body: 'a', clientId: newClientId() }), emitSend(sa, { roomId: room.id, body: 'b', clientId: newClientId() })];
    await queued(2);
    acks.push(emitSend(sb, { roomId: room.id, body: 'c', clientId: newClientId() }));
    await queued(3);
    acks.push(emitSend(sa, { roomId: room.id, body: 'd', clientId: newClientId() }));
    await queued(4);
    await plugged.pull();
    await plugged.first;
    expect((await Promise.all(acks)).map((a) => (a.ok ? a.message.seq : a.error.code))).toEqual([3, 4, 5, 6]);

    const unread = async (user: TestUser) =>
      ((await s.app.inject({ method: 'GET', url: '/api/rooms', headers: user.headers })).json().rooms as any[]).find((r) => r.id === room.id).unread;
    // alice had read 1, not the plug's 2: her own 3, 4 do not count as read past 2 → still 5 unread (2..6).
    expect(await unread(alice!)).toBe(5);
    // bob had read nothing: his own message does not mark the earlier ones read.
    expect(await unread(bob!)).toBe(6);
    // The plug had read 1 (its own) and sent 2 on top of it: read up to 2.
    expect(await unread(p!)).toBe(4);
  });

  it('a full queue answers 429 at once and stores nothing for the refused sends', async () => {
    const p = await newUser(s.app);
    const senders = await Promise.all(Array.from({ length: QUEUE + 4 }, () => newUser(s.app)));
    const room = await newRoom(s.db, { members: [p, ...senders].map((u) => ({ id: u.id })) });
    const sockets = await Promise.all(senders.map((u) => connect(u)));

    const plugged = await plug(p, room.id);
    const answeredWhilePlugged: Ack[] = [];
    const acks = sockets.map((socket, i) =>
      emitSend(socket, { roomId: room.id, body: `m${i}`, clientId: newClientId() }).then((ack) => {
        answeredWhilePlugged.push(ack);
        return ack;
      }),
    );
    await queued(QUEUE);
    // The four over the bound were refused while the slot was still blocked.
    await pollUntil(async () => answeredWhilePlugged.length === 4);
    const refusedAcks = [...answeredWhilePlugged];
    for (const ack of refusedAcks) {
      expect(ack).toMatchObject({ ok: false, error: { code: 'RATE_LIMITED', details: { retryAfterMs: expect.any(Number) } } });
    }
    await plugged.pull();
    await plugged.first;
    const all = await Promise.all(acks);
    expect(all.filter((a) => a.ok)).toHaveLength(QUEUE);
    const rows = await rowsOf(room.id);
    expect(rows.map((r) => r.seq)).toEqual(Array.from({ length: QUEUE + 1 }, (_, i) => i + 1));
    const refusedBodies = new Set(refusedAcks.map((a) => `m${all.indexOf(a)}`));
    expect(refusedBodies.size).toBe(4);
    expect(rows.filter((r) => refusedBodies.has(r.body!))).toEqual([]);
  });

  it('a transaction the database fails as a whole is retried one send at a time, so only the bad send fails', async () => {
    // A trigger in this test's own database refuses one body, as a statement error would.
    await sql`create or replace function test_refuse_body() returns trigger language plpgsql as $$
      begin
        if new.body = 'the database refuses this' then raise exception 'refused for the test' using errcode = '22023'; end if;
        return new;
      end $$`.execute(s.db);
    await sql`create trigger test_refuse_body before insert on messages for each row execute function test_refuse_body()`.execute(s.db);
    try {
      const [p, alice, carol, dave] = await Promise.all([0, 1, 2, 3].map(() => newUser(s.app)));
      const room = await newRoom(s.db, { members: [p!, alice!, carol!, dave!].map((u) => ({ id: u.id })) });
      const [sa, sc, sd] = await Promise.all([connect(alice!), connect(carol!), connect(dave!)]);
      const singles = await bucket(1);
      const batchesOf3to4 = (await bucket(4)) - (await bucket(2));

      const plugged = await plug(p!, room.id);
      const acks = [
        emitSend(sa, { roomId: room.id, body: 'fine', clientId: newClientId() }),
        emitSend(sc, { roomId: room.id, body: 'the database refuses this', clientId: newClientId() }),
        emitSend(sd, { roomId: room.id, body: 'also fine', clientId: newClientId() }),
      ];
      await queued(3);
      await plugged.pull();
      await plugged.first;
      const [a, c, d] = await Promise.all(acks);
      expect(a).toMatchObject({ ok: true, message: { body: 'fine' } });
      expect(d).toMatchObject({ ok: true, message: { body: 'also fine' } });
      // Neither SQL nor the error's detail reaches the client.
      expect(c).toEqual({ ok: false, error: { code: 'INTERNAL', message: expect.any(String) } });
      expect(JSON.stringify(c)).not.toMatch(/refused for the test|22023/);
      // One transaction of three failed; the plug's and then three single ones ran.
      expect((await bucket(4)) - (await bucket(2))).toBe(batchesOf3to4 + 1);
      expect(await bucket(1)).toBe(singles + 4);
      expect((await rowsOf(room.id)).map((r) => [r.seq, r.body])).toEqual([
        [1, 'plug'],
        [2, 'fine'],
        [3, 'also fine'],
      ]);
    } finally {
      await sql`drop trigger test_refuse_body on messages`.execute(s.db);
    }
  });

  it('a transaction that only references the room (a ban being written) does not hold up a send to it', async () => {
    const [alice, mod, zed] = await Promise.all([0, 1, 2].map(() => newUser(s.app)));
    const room = await newRoom(s.db, { members: [{ id: alice!.id }, { id: mod!.id, roomRole: 'moderator' }, { id: zed!.id }] });
    // A ban's first statement: its foreign key check holds KEY SHARE on the room's row until commit.
    const ban = new pg.Client({ connectionString: s.databaseUrl });
    await ban.connect();
    try {
      await ban.query('begin');
      await ban.query(`insert into room_bans (room_id, user_id, reason, banned_by) values ($1, $2, 'test', $3)`, [room.id, zed!.id, mod!.id]);
      const started = Date.now();
      const res = await s.app.inject({ method: 'POST', url: `/api/rooms/${room.id}/messages`, headers: alice!.headers, payload: { body: 'hello', clientId: newClientId() } });
      expect(res.statusCode).toBe(201);
      expect(res.json().seq).toBe(1);
      // Not after a lock timeout: the send never waited for the ban's transaction.
      expect(Date.now() - started).toBeLessThan(2_000);
    } finally {
      await ban.query('rollback');
      await ban.end();
    }
  });

  it("a sender whose lock is held elsewhere gets UNAVAILABLE after the lock timeout; other senders go on meanwhile", { timeout: 20_000 }, async () => {
    const two = await startTestServer({ MESSAGE_SEND_CONCURRENCY: '2' });
    const holder = new pg.Client({ connectionString: two.databaseUrl });
    try {
      const [stuck, alice] = await Promise.all([newUser(two.app), newUser(two.app)]);
      const room = await newRoom(two.db, { members: [{ id: stuck.id }, { id: alice.id }] });
      // As if another node had stopped in the middle of this user's send transaction.
      await holder.connect();
      await holder.query(`select pg_advisory_lock(hashtextextended('send:' || $1, 0))`, [stuck.id]);
      const clientId = newClientId();
      const post = (user: TestUser, body: string, id = newClientId()) =>
        two.app.inject({ method: 'POST', url: `/api/rooms/${room.id}/messages`, headers: user.headers, payload: { body, clientId: id } });
      const started = Date.now();
      const waiting = post(stuck, 'stuck', clientId);
      const other = await post(alice, 'meanwhile');
      expect(other.statusCode).toBe(201);
      expect(Date.now() - started).toBeLessThan(2_000);
      const refused = await waiting;
      expect(refused.statusCode).toBe(503);
      expect(refused.json().error.code).toBe('UNAVAILABLE');
      expect(Date.now() - started).toBeGreaterThanOrEqual(2_900);
      await holder.query('select pg_advisory_unlock_all()');
      // The retry with the same clientId goes through: the refused attempt stored nothing, used no seq.
      const retried = await post(stuck, 'stuck', clientId);
      expect(retried.statusCode).toBe(201);
      expect(retried.json().seq).toBe(2);
    } finally {
      await holder.end().catch(() => {});
      await two.close();
    }
  });
});
