import type { FastifyBaseLogger } from 'fastify';
import type { Config } from '../../config.js';
import type { Database } from '../../db/database.js';

/** Creates the first admin from BOOTSTRAP_ADMIN_* when no admin exists yet. Implemented by the auth module. */
export async function bootstrapAdmin(_db: Database, _config: Config, _log: FastifyBaseLogger): Promise<void> {}
