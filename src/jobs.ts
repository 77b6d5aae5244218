import { sql } from 'kysely';
import type { FastifyInstance } from 'fastify';
import type { Transaction } from 'kysely';
import type { DB } from './db/schema.js';

/** Stable 32-bit key for a job name (pg advisory locks take integers). */
function lockKey(name: string): number {
  let h = 0;
  for (const ch of name) h = (Math.imul(h, 31) + ch.charCodeAt(0)) | 0;
  return h;
}

/**
 * Runs `work` every `intervalMs` on this node, but on only one node at a time: each run holds a
 * transaction-level advisory lock, so with several nodes the others skip that tick. Work must be
 * idempotent (it may run again on another node on the next tick). Stops when the app closes.
 */
export function scheduleJob(
  app: FastifyInstance,
  name: string,
  intervalMs: number,
  work: (trx: Transaction<DB>) => Promise<void>,
): { runNow: () => Promise<boolean> } {
  let running = false;
  const runNow = async (): Promise<boolean> => {
    if (running) return false;
    running = true;
    try {
      return await app.db.transaction().execute(async (trx) => {
        const { rows } = await sql<{ locked: boolean }>`select pg_try_advisory_xact_lock(${lockKey(name)}) as locked`.execute(trx);
        if (!rows[0]?.locked) return false;
        await work(trx);
        return true;
      });
    } catch (err) {
      app.log.warn({ err, job: name }, 'background job failed; will retry');
      return false;
    } finally {
      running = false;
    }
  };
  const timer = setInterval(() => void runNow(), intervalMs);
  timer.unref();
  app.addHook('onClose', async () => clearInterval(timer));
  return { runNow };
}
