import { parseEnv } from '../config.js';
import { createDatabase } from './database.js';
import { startEmbeddedPostgres } from './embedded.js';
import { migrateToLatest } from './migrate.js';

/** `npm run migrate`: applies pending migrations to DATABASE_URL, or to the embedded database. */
const env = parseEnv(process.env);
const embedded = env.DATABASE_URL ? undefined : await startEmbeddedPostgres(env.DATA_DIR);
const { db } = createDatabase(env.DATABASE_URL ?? embedded!.url, { max: 2 });
try {
  const applied = await migrateToLatest(db);
  console.log(applied.length ? `applied: ${applied.join(', ')}` : 'database is up to date');
} finally {
  await db.destroy();
  await embedded?.stop();
}
