import { sql, type Kysely } from 'kysely';
import type { DB } from './schema.js';

/**
 * Transaction-level advisory locks, named by a string (hashed to PostgreSQL's 64-bit key). They are
 * released when the transaction ends, on every node alike. Key names start with what they guard.
 */
export async function advisoryXactLock(trx: Kysely<DB>, key: string): Promise<void> {
  await sql`select pg_advisory_xact_lock(hashtextextended(${key}, 0))`.execute(trx);
}

/** Like advisoryXactLock, without waiting: false when another transaction holds it. */
export async function tryAdvisoryXactLock(trx: Kysely<DB>, key: string): Promise<boolean> {
  const { rows } = await sql<{ locked: boolean }>`select pg_try_advisory_xact_lock(hashtextextended(${key}, 0)) as locked`.execute(trx);
  return rows[0]?.locked === true;
}
