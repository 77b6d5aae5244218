import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newUser } from '../helpers/factories.js';
import { startTestServer, TEST_DATA_KEY, type TestServer } from '../helpers/server.js';
import { book, publishSlot } from './helpers.js';

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer();
});
afterAll(async () => {
  await s.close();
});

describe('DATA_KEY', () => {
  it('the first start stores an encrypted check value; a second node with the same key starts and reads the addresses', async () => {
    const check = await s.db.selectFrom('data_key_check').selectAll().execute();
    expect(check).toHaveLength(1);
    expect(check[0].value.length).toBeGreaterThan(28);

    const staff = await newUser(s.app, { role: 'staff' });
    const member = await newUser(s.app);
    const slot = await publishSlot(s, staff);
    const { id } = (await book(s, member, slot.id, { kind: 'visit', visitAddress: '小樽市 1-1' })).json();

    const second = await startTestServer({ DATA_KEY: TEST_DATA_KEY }, { databaseUrl: s.databaseUrl });
    try {
      const res = await second.app.inject({ method: 'GET', url: `/api/bookings/${id}`, headers: member.headers });
      expect(res.json().visitAddress).toBe('小樽市 1-1');
    } finally {
      await second.close();
    }
  });

  it('a server started on the same database with another DATA_KEY fails at start, loudly', async () => {
    const otherKey = 'ab'.repeat(32);
    await expect(startTestServer({ DATA_KEY: otherKey }, { databaseUrl: s.databaseUrl })).rejects.toThrow(
      /DATA_KEY does not match the key this database was encrypted with/,
    );
    // The stored check value is untouched: the right key still starts.
    const again = await startTestServer({}, { databaseUrl: s.databaseUrl });
    expect((await again.app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
    await again.close();
  });
});
