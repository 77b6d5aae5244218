import closeWithGrace from 'close-with-grace';
import { ConfigError, parseEnv } from './config.js';
import { resolveConfig } from './secrets.js';
import { createDatabase } from './db/database.js';
import { startEmbeddedPostgres, type EmbeddedDatabase } from './db/embedded.js';
import { migrateToLatest } from './db/migrate.js';
import { buildApp } from './app.js';
import { bootstrapAdmin } from './modules/auth/bootstrap.js';

/** Starts everything: config, database (embedded or external), migrations, app, listener, shutdown. */
async function main(): Promise<void> {
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
    await bootstrapAdmin(db, config, app.log);

    closeWithGrace({ delay: 10_000 }, async ({ signal, err }) => {
      if (err) app.log.error({ err }, 'shutting down after an error');
      else app.log.info({ signal }, 'shutting down');
      await app.close();
      await db.destroy();
      await embedded?.stop();
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
