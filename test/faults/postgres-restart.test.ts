import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedPostgres, freePort, type EmbeddedDatabase } from '../../src/db/embedded.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { newRoom, newUser } from '../helpers/factories.js';
import { getJson, Member, startNode, tempDataDir, waitFor, type Node } from './cluster.js';

const SENDERS = 5;

// A PostgreSQL of this test's own (never the machine's shared one), stopped and started under load.
let dir: string;
let port: number;
let pg: EmbeddedDatabase | undefined;
let factory: TestServer;
let node: Node;
const members: Member[] = [];

beforeAll(async () => {
  dir = tempDataDir();
  port = await freePort();
  pg = await startEmbeddedPostgres(dir, { port });
  node = await startNode({ DATABASE_URL: pg.url, SOCKET_ADAPTER: 'none' });
  factory = await startTestServer({}, { databaseUrl: pg.url });
}, 240_000);

afterAll(async () => {
  for (const m of members) m.close();
  await node?.stop();
  await factory?.close().catch(() => {});
  await pg?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('PostgreSQL restarted under load', () => {
  it('fails sends clearly, reports 503 on /readyz, recovers without a restart and loses nothing acked', async () => {
    const users = await Promise.all(Array.from({ length: SENDERS }, () => newUser(factory.app)));
    const room = await newRoom(factory.db, { members: users.map((u) => ({ id: u.id })) });
    for (const u of users) members.push(new Member(u.token, room.id, () => [node.url]));
    await Promise.all(members.map((m) => m.connect()));
    expect((await getJson(`${node.url}/readyz`))?.status).toBe(200);

    let stopAt = Infinity;
    // Each member sends until told to stop; a failed send is retried with the same clientId.
    const sending = Promise.all(
      members.map(async (m, i) => {
        for (let k = 0; Date.now() < stopAt && k < 400; k++) {
          await m.send(`message ${k} from member ${i}`, randomUUID(), 200);
          await new Promise((r) => setTimeout(r, 50));
        }
      }),
    );

    await waitFor('traffic before the outage', () => members.every((m) => m.acked.length >= 3), 20_000);
    await pg!.stop();
    const outageFrom = Date.now();
    pg = undefined;
    const refusals = () => members.flatMap((m) => m.refusals).filter((r) => r.at >= outageFrom);
    // Readiness reflects the outage; liveness does not (the process is fine).
    await waitFor('/readyz 503', async () => (await getJson(`${node.url}/readyz`))?.status === 503, 15_000, 100);
    expect(await getJson(`${node.url}/readyz`)).toMatchObject({ status: 503, body: { database: 'down' } });
    expect((await getJson(`${node.url}/healthz`))?.status).toBe(200);
    // Sends fail with a clear, retryable error, never a crash.
    await waitFor('sends refused during the outage', () => refusals().length >= SENDERS, 15_000);
    expect(new Set(refusals().map((r) => r.code))).toEqual(new Set(['UNAVAILABLE']));

    pg = await startEmbeddedPostgres(dir, { port });
    await waitFor('/readyz 200 again', async () => (await getJson(`${node.url}/readyz`))?.status === 200, 20_000, 100);
    const ackedBeforeRecovery = members.reduce((n, m) => n + m.acked.length, 0);
    await waitFor('sends acked again', () => members.reduce((n, m) => n + m.acked.length, 0) >= ackedBeforeRecovery + SENDERS * 3, 20_000);
    stopAt = Date.now();
    await sending;

    expect(node.exitCode()).toBeUndefined();
    expect(members.flatMap((m) => m.failures)).toEqual([]);
    // Nothing acked is lost, nothing is stored twice, the log has no gaps.
    const acked = members.flatMap((m) => m.acked);
    const rows = await factory.db.selectFrom('messages').select(['id', 'seq', 'client_id']).where('room_id', '=', room.id).orderBy('seq').execute();
    expect(rows).toHaveLength(acked.length);
    expect(rows.map((r) => r.seq)).toEqual(rows.map((_, i) => i + 1));
    const byClientId = new Map(rows.map((r) => [r.client_id, r]));
    for (const ack of acked) expect(byClientId.get(ack.clientId), ack.clientId).toMatchObject({ id: ack.id, seq: ack.seq });
  }, 120_000);
});
