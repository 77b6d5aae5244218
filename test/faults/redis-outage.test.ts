import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { newRoom, newUser } from '../helpers/factories.js';
import { getJson, Member, type Node, useTwoNodeCluster, waitFor } from './cluster.js';

const MEMBERS = 8;

const c = useTwoNodeCluster();
const { members } = c;

const adapterOf = async (node: Node) => (await getJson(`${node.url}/readyz`))?.body?.adapter;

describe('Redis stopped for a few seconds with two nodes', () => {
  it('crashes nothing, reports the degraded adapter, and every member ends with the complete log', async () => {
    const [a, b] = c.nodes;
    await waitFor('both adapters up', async () => (await adapterOf(a)) === 'up' && (await adapterOf(b)) === 'up');
    const users = await Promise.all(Array.from({ length: MEMBERS }, () => newUser(c.factory.app)));
    const room = await newRoom(c.factory.db, { members: users.map((u) => ({ id: u.id })) });
    // Half the members on each node; each stays on its node (the nodes stay up).
    users.forEach((u, i) => members.push(new Member(u.token, room.id, () => [c.nodes[i % 2].url])));
    await Promise.all(members.map((m) => m.connect()));

    let stop = false;
    const sending = Promise.all(
      members.map(async (m, i) => {
        for (let k = 0; !stop && k < 500; k++) {
          await m.send(`message ${k} from member ${i}`, randomUUID());
          await new Promise((r) => setTimeout(r, 100 + i * 10));
        }
      }),
    );
    const acked = () => members.reduce((n, m) => n + m.acked.length, 0);
    await waitFor('traffic across both nodes', () => acked() >= 20, 20_000);

    await c.redis.stop();
    const stoppedAt = Date.now();
    await waitFor('both nodes to report the degraded adapter', async () => (await adapterOf(a)) === 'degraded' && (await adapterOf(b)) === 'degraded', 15_000, 100);
    // The database is fine, so the nodes stay ready: this node's members are still served.
    expect((await getJson(`${a.url}/readyz`))?.status).toBe(200);
    const duringOutage = acked();
    const caughtUpBefore = members.reduce((n, m) => n + m.viaCatchUp, 0);
    // Redis stays down for a few seconds of traffic.
    await waitFor('sends acked while Redis is down', () => Date.now() - stoppedAt >= 3_000 && acked() >= duringOutage + 10, 15_000);

    await c.redis.start();
    await waitFor('both adapters up again', async () => (await adapterOf(a)) === 'up' && (await adapterOf(b)) === 'up', 20_000, 100);
    const afterOutage = acked();
    await waitFor('traffic after the outage', () => acked() >= afterOutage + 10, 20_000);
    stop = true;
    await sending;

    expect(c.nodes.map((n) => n.exitCode())).toEqual([undefined, undefined]);
    expect(members.flatMap((m) => m.failures)).toEqual([]);
    const rows = await c.factory.db.selectFrom('messages').select(['id', 'seq']).where('room_id', '=', room.id).orderBy('seq').execute();
    expect(rows).toHaveLength(acked());
    // Messages sent on one node while Redis was down never reached the other node live: members
    // there found the gap by seq and fetched it with room:catchup.
    await waitFor('every member to hold the complete log', () => members.every((m) => m.contiguous === rows.length), 20_000);
    for (const m of members) for (const r of rows) expect(m.seen.get(r.seq)).toBe(r.id);
    expect(members.reduce((n, m) => n + m.viaCatchUp, 0)).toBeGreaterThan(caughtUpBefore);
  }, 120_000);
});
