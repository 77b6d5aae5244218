import { randomUUID } from 'node:crypto';
import { existsSync, rmSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { newRoom, newUser } from '../helpers/factories.js';
import pg from 'pg';
import { connectSocket } from '../helpers/sockets.js';
import { getJson, startNode, tempDataDir, useTwoNodeCluster, waitFor } from './cluster.js';

const MEMBERS = 20;

const c = useTwoNodeCluster();
const { members } = c;

describe('SIGTERM during traffic', () => {
  it('lets in-flight acks complete or fail cleanly, exits 0 within 10 s, and clients carry on on the other node', async () => {
    const [a, b] = c.nodes;
    const { room } = await c.roomWithMembers(MEMBERS);
    // Everyone starts on node A, the one that is stopped.
    await Promise.all(members.map((m) => m.connect(0)));
    expect(members.every((m) => m.url === a.url)).toBe(true);

    let stop = false;
    const sending = Promise.all(
      members.map(async (m, i) => {
        // Back to back: at any moment several sends are in flight on node A.
        for (let k = 0; !stop && k < 500; k++) await m.send(`message ${k} from member ${i}`, randomUUID());
      }),
    );
    await waitFor('steady traffic on node A', () => members.reduce((n, m) => n + m.acked.length, 0) >= 60, 30_000, 10);

    const termAt = Date.now();
    a.proc.kill('SIGTERM');
    expect(await a.exited).toBe(0);
    expect(Date.now() - termAt).toBeLessThan(10_000);

    // Members reconnect to node B and keep sending there.
    const afterExit = members.reduce((n, m) => n + m.acked.length, 0);
    await waitFor('traffic on node B', () => members.reduce((n, m) => n + m.acked.length, 0) >= afterExit + 40, 30_000);
    stop = true;
    await sending;

    expect(members.every((m) => m.url === b.url)).toBe(true);
    expect(members.flatMap((m) => m.failures)).toEqual([]);
    // A refused send says why (retry elsewhere); nothing else went wrong.
    const refused = new Set(members.flatMap((m) => m.refusals.map((r) => r.code)));
    for (const code of refused) expect(code).toBe('UNAVAILABLE');
    // Every acked message is stored exactly once (retries reused their clientId), the log has no gaps,
    // and every member holds all of it.
    const acked = members.flatMap((m) => m.acked);
    const rows = await c.factory.db.selectFrom('messages').select(['id', 'seq', 'client_id']).where('room_id', '=', room.id).orderBy('seq').execute();
    expect(rows).toHaveLength(acked.length);
    expect(rows.map((r) => r.seq)).toEqual(rows.map((_, i) => i + 1));
    const byClientId = new Map(rows.map((r) => [r.client_id, r]));
    for (const ack of acked) expect(byClientId.get(ack.clientId)).toMatchObject({ id: ack.id, seq: ack.seq });
    await waitFor('every member to hold the complete log', () => members.every((m) => m.contiguous === rows.length), 20_000);
  }, 120_000);

  it('waits for acks already in flight: sends blocked in the database when SIGTERM arrives are acked ok', async () => {
    const node = await startNode({ DATABASE_URL: c.database.url, SOCKET_ADAPTER: 'none' });
    const users = await Promise.all(Array.from({ length: 3 }, () => newUser(c.factory.app)));
    const room = await newRoom(c.factory.db, { members: users.map((u) => ({ id: u.id })) });
    const sockets = await Promise.all(users.map((u) => connectSocket(node.url, u.token)));
    // Hold the room row: every send waits inside its transaction (taking the next seq).
    const blocker = new pg.Client({ connectionString: c.database.url });
    await blocker.connect();
    try {
      await blocker.query('begin');
      await blocker.query('select id from rooms where id = $1 for update', [room.id]);
      const inFlight = sockets.map((s, i) => s.timeout(15_000).emitWithAck('message:send', { roomId: room.id, body: `in flight ${i}`, clientId: randomUUID() }));
      await waitFor('the sends to wait on the row lock', async () => {
        const { rows } = await blocker.query(`select count(*)::int as n from pg_locks l join pg_class c on c.oid = l.relation where c.relname = 'rooms' and not l.granted`);
        return rows[0].n >= 1;
      });

      const termAt = Date.now();
      node.proc.kill('SIGTERM');
      // Sends arriving once the drain began are refused cleanly (retry elsewhere). One sent before the
      // signal was handled may still have started: then it is completed and acked like the others.
      const late: Array<Promise<{ ok: boolean; error?: { code: string } }>> = [];
      let refused = false;
      await waitFor('the node to refuse new events', () => {
        const probe = sockets[0].timeout(15_000).emitWithAck('message:send', { roomId: room.id, body: `late ${late.length}`, clientId: randomUUID() });
        late.push(probe);
        probe.then((ack: { ok: boolean; error?: { code: string } }) => (refused ||= !ack.ok && ack.error?.code === 'UNAVAILABLE'), () => {});
        return refused;
      }, 5_000, 100);
      await blocker.query('commit');

      // The sends that had started are completed and acked before the sockets close.
      const acks = await Promise.all(inFlight);
      expect(acks).toEqual(sockets.map(() => expect.objectContaining({ ok: true })));
      const lateAcks = await Promise.all(late);
      for (const ack of lateAcks) expect(ack.ok || ack.error?.code === 'UNAVAILABLE').toBe(true);
      expect(await node.exited).toBe(0);
      expect(Date.now() - termAt).toBeLessThan(10_000);
      const rows = await c.factory.db.selectFrom('messages').select(['body']).where('room_id', '=', room.id).orderBy('seq').execute();
      const lateStored = lateAcks.flatMap((ack, i) => (ack.ok ? [`late ${i}`] : []));
      expect(rows.map((r) => r.body).sort()).toEqual(['in flight 0', 'in flight 1', 'in flight 2', ...lateStored].sort());
    } finally {
      await blocker.end();
      for (const s of sockets) s.close();
      await node.stop();
    }
  }, 60_000);

  it('in embedded mode stops the embedded PostgreSQL too, and exits 0', async () => {
    const dataDir = tempDataDir();
    try {
      const node = await startNode({}, { dataDir });
      expect(await getJson(`${node.url}/readyz`)).toMatchObject({ status: 200, body: { database: 'up' } });
      const pidFile = path.join(dataDir, 'postgres', 'postmaster.pid');
      expect(existsSync(pidFile)).toBe(true);
      const termAt = Date.now();
      node.proc.kill('SIGTERM');
      expect(await node.exited).toBe(0);
      expect(Date.now() - termAt).toBeLessThan(10_000);
      // PostgreSQL removes its pid file when it has shut down cleanly.
      expect(existsSync(pidFile)).toBe(false);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 120_000);
});
