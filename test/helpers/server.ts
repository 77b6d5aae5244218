import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';
import type { FastifyInstance } from 'fastify';
import type { DestinationStream } from 'pino';
import { buildApp } from '../../src/app.js';
import { parseEnv } from '../../src/config.js';
import { createDatabase, type Database } from '../../src/db/database.js';
import { resolveConfig } from '../../src/secrets.js';
import { databaseUrl } from './global-setup.js';
import { withDatabase } from './pg.js';

export const TEST_JWT_SECRET = 'test-secret-that-is-long-enough-for-hs256-0123456789';
export const TEST_DATA_KEY = '0'.repeat(63) + '1';

/** A fresh database for one test file, copied from the migrated template. */
export async function createTestDatabase(): Promise<{ url: string; drop: () => Promise<void> }> {
  const adminUrl = inject('pgAdminUrl');
  const name = `engawa_t_${randomBytes(6).toString('hex')}`;
  await withDatabase(adminUrl, (q) => q(`create database ${name} template ${inject('pgTemplate')}`));
  return {
    url: databaseUrl(adminUrl, name),
    drop: () => withDatabase(adminUrl, (q) => q(`drop database if exists ${name} with (force)`)).then(() => undefined),
  };
}

export interface TestServer {
  app: FastifyInstance;
  db: Database;
  /** http://127.0.0.1:PORT */
  url: string;
  databaseUrl: string;
  close(): Promise<void>;
}

/**
 * Builds the real app on a real database and listens on an ephemeral loopback port, so tests use
 * `app.inject` for HTTP and real socket.io-client connections for events.
 * Pass `databaseUrl` to run a second node on the same database.
 */
export async function startTestServer(
  env: Record<string, string> = {},
  opts: { databaseUrl?: string; logStream?: DestinationStream } = {},
): Promise<TestServer> {
  const owned = opts.databaseUrl ? undefined : await createTestDatabase();
  const url = opts.databaseUrl ?? owned!.url;
  const config = resolveConfig(
    parseEnv({
      DATABASE_URL: url,
      JWT_SECRET: TEST_JWT_SECRET,
      DATA_KEY: TEST_DATA_KEY,
      LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
      SOCKET_ADAPTER: 'none',
      ...env,
    }),
  );
  const { db, pool } = createDatabase(url);
  const app = await buildApp({ config, db, pool, logStream: opts.logStream });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = app.server.address() as { port: number };
  return {
    app,
    db,
    url: `http://127.0.0.1:${port}`,
    databaseUrl: url,
    async close() {
      await app.close();
      await db.destroy();
      await owned?.drop();
    },
  };
}
