import type { FastifyBaseLogger } from 'fastify';
import type { Config } from '../../config.js';
import { ConfigError } from '../../config.js';
import type { Database } from '../../db/database.js';
import { advisoryXactLock } from '../../db/locks.js';
import { handleKey, isValidHandle, normaliseHandle } from './handles.js';
import { hashPassword } from './passwords.js';

/**
 * Creates the first admin from BOOTSTRAP_ADMIN_HANDLE / BOOTSTRAP_ADMIN_PASSWORD when no admin
 * exists yet. Safe when several nodes start at once: the check and the insert run under one
 * transaction-level advisory lock, so exactly one admin is created. Returns whether it created one.
 */
export async function bootstrapAdmin(db: Database, config: Config, log: FastifyBaseLogger): Promise<boolean> {
  const handleInput = config.BOOTSTRAP_ADMIN_HANDLE;
  const password = config.BOOTSTRAP_ADMIN_PASSWORD;
  if (!handleInput || !password) return false;
  if (!isValidHandle(handleInput)) {
    throw new ConfigError('Invalid configuration:\n  BOOTSTRAP_ADMIN_HANDLE: 2 to 32 letters, digits, "_", "." or "-"');
  }
  if (password.length > 256) throw new ConfigError('Invalid configuration:\n  BOOTSTRAP_ADMIN_PASSWORD: at most 256 characters');
  const adminExists = async (q: Pick<Database, 'selectFrom'>) =>
    (await q.selectFrom('users').select('id').where('role', '=', 'admin').limit(1).executeTakeFirst()) !== undefined;
  if (await adminExists(db)) return false;

  const handle = normaliseHandle(handleInput);
  const passwordHash = await hashPassword(password);
  const outcome = await db.transaction().execute(async (trx) => {
    // Serialises bootstrap across nodes starting together.
    await advisoryXactLock(trx, 'bootstrap-admin');
    if (await adminExists(trx)) return 'exists' as const;
    const taken = await trx.selectFrom('users').select('id').where('handle_key', '=', handleKey(handle)).executeTakeFirst();
    if (taken) return 'taken' as const;
    await trx
      .insertInto('users')
      .values({ handle, handle_key: handleKey(handle), display_name: handle, role: 'admin', password_hash: passwordHash })
      .execute();
    return 'created' as const;
  });
  if (outcome === 'taken') {
    log.error({ handle }, 'BOOTSTRAP_ADMIN_HANDLE is taken by a non-admin user; no admin was created');
  } else if (outcome === 'created') {
    log.info({ handle }, 'bootstrap admin created; you may now remove BOOTSTRAP_ADMIN_PASSWORD from the environment');
  }
  return outcome === 'created';
}
