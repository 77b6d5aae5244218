import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { useTwoNodeCluster, waitFor } from './cluster.js';

const MEMBERS = 50;
const MESSAGES_EACH = 8;

const c = useTwoNodeCluster();
const { members } = c;

describe('kill -9 one of two nodes while 50 members send', () => {
  it('keeps every acked message exactly once, and every member ends with the whole log', async () => {
    const [a, b] = c.nodes;
    const { room } = await c.roomWithMembers(MEMBERS);
    // Half start on node A, half on node B.
    await Promise.all(members.map((m, i) => m.connect(i % 2)));

    // Every member sends MESSAGES_EACH messages, one after another, retrying the same clientId.
    const clientIds = members.map(() => Array.from({ length: MESSAGES_EACH }, () => randomUUID()));
    const sending = Promise.all(
      members.map(async (m, i) => {
        for (let k = 0; k < MESSAGES_EACH; k++) {
          await m.send(`message ${k} from member ${i}`, clientIds[i][k]);
          await new Promise((r) => setTimeout(r, 20 + ((i * 7) % 30)));
        }
      }),
    );
    // Kill node A hard once a good part of the traffic has been acked.
    await waitFor('some traffic', () => members.reduce((n, m) => n + m.acked.length, 0) >= (MEMBERS * MESSAGES_EACH) / 4, 60_000, 10);
    a.proc.kill('SIGKILL');
    expect(await a.exited).toBe('SIGKILL');
    await sending;

    // Every send was acked in the end (retries of the same clientId on node B).
    expect(members.flatMap((m) => m.failures)).toEqual([]);
    const acked = members.flatMap((m) => m.acked);
    expect(acked).toHaveLength(MEMBERS * MESSAGES_EACH);

    // In the database exactly once each; the room's log has no gaps.
    const rows = await c.factory.db.selectFrom('messages').select(['id', 'seq', 'client_id']).where('room_id', '=', room.id).orderBy('seq').execute();
    expect(rows).toHaveLength(MEMBERS * MESSAGES_EACH);
    expect(new Set(rows.map((r) => r.client_id)).size).toBe(rows.length);
    expect(rows.map((r) => r.seq)).toEqual(rows.map((_, i) => i + 1));
    const byClientId = new Map(rows.map((r) => [r.client_id, r]));
    for (const ack of acked) expect(byClientId.get(ack.clientId), ack.clientId).toMatchObject({ id: ack.id, seq: ack.seq });

    // Every member, wherever it was, ends with the complete log (live delivery + catch-up on gaps).
    const last = rows.length;
    await waitFor('every member to hold the whole log', () => members.every((m) => m.contiguous === last), 20_000, 50);
    for (const m of members) {
      expect(m.failures).toEqual([]);
      for (const r of rows) expect(m.seen.get(r.seq)).toBe(r.id);
    }
    // Node B carried on: every member is connected there now.
    expect(members.every((m) => m.socket.connected && m.url === b.url)).toBe(true);
    expect(b.exitCode()).toBeUndefined();
  }, 120_000);
});
