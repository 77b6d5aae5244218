import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { startTestServer, type TestServer } from '../helpers/server.js';

/** Collects every log line the app writes. */
function collector() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      lines.push(String(chunk));
      done();
    },
  });
  return { lines, stream };
}

let s: TestServer;
const logs = collector();
beforeAll(async () => {
  s = await startTestServer({ LOG_LEVEL: 'info' }, { logStream: logs.stream });
});
afterAll(async () => {
  await s.close();
});

describe('error logs carry no user data', () => {
  it('a PostgreSQL error is logged without its detail (the failing key values)', async () => {
    const secretHandle = 'private_handle_zq81';
    await sql`insert into users (handle, handle_key, display_name, role, password_hash) values (${secretHandle}, ${secretHandle}, 'x', 'member', 'x')`.execute(s.db);
    const err = await sql`insert into users (handle, handle_key, display_name, role, password_hash) values (${secretHandle}, ${secretHandle}, 'x', 'member', 'x')`
      .execute(s.db)
      .catch((e: unknown) => e);
    expect((err as { detail?: string }).detail).toContain(secretHandle);
    s.app.log.error({ err }, 'probe');
    const line = logs.lines.find((l) => l.includes('"probe"'));
    expect(line).toBeDefined();
    expect(line).toContain('23505');
    expect(line).not.toContain(secretHandle);
  });
});
